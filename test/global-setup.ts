import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/shared/database/data-source-options';
import { startEmbeddedPostgres } from '../src/shared/database/embedded-postgres';

/**
 * Each run gets a database of its own, migrated once: a fresh database on the server at
 * DATABASE_URL (dropped afterwards), or else a fresh in-memory embedded PostgreSQL.
 * WORKLANE_TEST_DATABASE_URL names a database prepared by whoever runs the tests (a Citus
 * cluster's database must be made on every node: test/citus/run.sh), used as it is and
 * left for them to drop. Test workers inherit the URL through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const prepared = process.env.WORKLANE_TEST_DATABASE_URL;
  const serverUrl = prepared || process.env.DATABASE_URL;
  let url: string;
  if (prepared) {
    url = prepared;
  } else if (serverUrl) {
    const name = `worklane_test_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const target = new URL(serverUrl);
    target.pathname = `/${name}`;
    url = target.toString();
    (globalThis as any).__worklaneTeardown = async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    };
  } else {
    const embedded = await startEmbeddedPostgres({ maxConnections: 200 });
    url = embedded.url;
    (globalThis as any).__worklaneTeardown = () => embedded.stop();
  }

  const dataSource = new DataSource(dataSourceOptions(url, 1));
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();

  process.env.WORKLANE_TEST_SERVER_URL = serverUrl ?? '';
  process.env.DATABASE_URL = url;
  const where = serverUrl
    ? `PostgreSQL server (${new URL(url).pathname.slice(1)})`
    : 'embedded PostgreSQL';
  console.log(`\n[worklane] tests run on the ${where}; migrated in ${Date.now() - started} ms`);
}
