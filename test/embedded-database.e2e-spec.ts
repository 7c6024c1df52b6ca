import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/shared/database/embedded-postgres';
import { createTestApp, TestApp } from './helpers/app';
import { registerUser } from './helpers/users';

/** `npm start` without DATABASE_URL: the embedded database in a data folder, migrated on start. */
describe('the embedded default database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'worklane-embedded-'));
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: { DATABASE_URL: '', EMBEDDED_DB_DIR: dataDir, MIGRATIONS_RUN: 'true' },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, migrates and answers /health/ready with no database server configured', async () => {
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    const [{ count }] = await t.dataSource.query(
      `SELECT count(*)::int AS count FROM typeorm_migrations`,
    );
    expect(count).toBeGreaterThan(0);
    expect(t.dataSource.options).toMatchObject({ type: 'postgres' });
  });

  it('serves the API end to end on it', async () => {
    const user = await registerUser(t);
    expect((await t.http().get('/api/v1/me').set(user.auth)).status).toBe(200);
  });

  it('refuses a second process on the same data folder instead of losing commits', async () => {
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/in use by process/);
  });
});
