/**
 * `npm run db:reset -- --yes`: wipes the embedded database's folder and migrates it anew.
 * Only the embedded database (a server's database is yours to drop), only with `--yes`,
 * and never while a process uses it.
 */
import 'reflect-metadata';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { validateEnv } from '../shared/config/env';
import { dataSourceOptions } from '../shared/database/data-source-options';
import {
  EmbeddedDatabaseUnavailable,
  startEmbeddedPostgres,
} from '../shared/database/embedded-postgres';

async function main(argv: string[]): Promise<number> {
  const env = validateEnv(process.env);
  if (env.DATABASE_URL) {
    console.error(
      'db:reset wipes the embedded database only; DATABASE_URL points at a server. ' +
        'Drop and re-create that database yourself, then run `npm run migration:run`.',
    );
    return 1;
  }
  const dataDir = resolve(env.EMBEDDED_DB_DIR);
  if (!argv.includes('--yes')) {
    console.error(
      `This deletes every account, org and task in ${dataDir}. ` +
        'Run `npm run db:reset -- --yes` to go ahead.',
    );
    return 1;
  }
  // Taking the folder's lock first: a running API keeps it, and its data, intact.
  let embedded = existsSync(dataDir) ? await startEmbeddedPostgres({ dataDir }) : undefined;
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });

  embedded = await startEmbeddedPostgres({ dataDir });
  const db = new DataSource(dataSourceOptions(embedded.url, 2));
  try {
    await db.initialize();
    const applied = await db.runMigrations({ transaction: 'each' });
    console.log(`Reset ${dataDir}: an empty database, ${applied.length} migrations applied.`);
  } finally {
    await db.destroy().catch(() => undefined);
    await embedded.stop();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof EmbeddedDatabaseUnavailable;
    console.error(known ? (error as Error).message : error);
    process.exit(1);
  },
);
