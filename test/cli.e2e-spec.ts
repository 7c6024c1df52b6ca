import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EmbeddedDatabaseUnavailable,
  startEmbeddedPostgres,
} from '../src/shared/database/embedded-postgres';

/** Runs one of src/cli/*.ts as `npm run` would, on the embedded database in `dataDir`. */
function runCli(script: string, args: string[], dataDir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_DB_DIR: dataDir };
  delete env.DATABASE_URL;
  return spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, '../src/cli', script), ...args],
    { env, encoding: 'utf8', timeout: 150_000 },
  );
}

// Each CLI run compiles and starts a PGlite of its own: on a loaded 2-core machine, a minute.
jest.setTimeout(180_000);

describe('the embedded data folder: db:reset and clear start-up errors', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'worklane-cli-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('db:reset asks for --yes, then wipes and migrates the folder', () => {
    const dataDir = join(root, 'reset');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'leftover'), 'old data');

    const asked = runCli('db-reset.ts', [], dataDir);
    expect(asked.status).toBe(1);
    expect(asked.stderr).toMatch(/db:reset -- --yes/);

    const reset = runCli('db-reset.ts', ['--yes'], dataDir);
    expect(reset.stderr).toBe('');
    expect(reset.status).toBe(0);
    expect(reset.stdout).toMatch(/an empty database, \d+ migrations applied/);
  });

  it('db:reset leaves a folder in use alone and says who holds it', async () => {
    const dataDir = join(root, 'busy');
    const running = await startEmbeddedPostgres({ dataDir });
    try {
      const reset = runCli('db-reset.ts', ['--yes'], dataDir);
      expect(reset.status).toBe(1);
      expect(reset.stderr).toMatch(
        new RegExp(`in use by process ${process.pid}: stop that process`),
      );
      expect(reset.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    } finally {
      await running.stop();
    }
  });

  it('a folder it cannot open is a clear error that names the way out', async () => {
    const dataDir = join(root, 'foreign');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'PG_VERSION'), '99\n');
    const failure = startEmbeddedPostgres({ dataDir });
    await expect(failure).rejects.toBeInstanceOf(EmbeddedDatabaseUnavailable);
    await expect(failure).rejects.toThrow(/could not be opened.*db:reset -- --yes/s);
  });
});
