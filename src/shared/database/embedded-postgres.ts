import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface EmbeddedPostgres {
  /** A `postgres://` URL for the ordinary `pg` driver. */
  readonly url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Data folder; omitted → an in-memory database that vanishes on stop (tests). */
  dataDir?: string;
  /** Must exceed every pool that will connect: PGlite's socket server drops extra connections. */
  maxConnections?: number;
}

/**
 * The embedded database cannot start for a reason its user can fix: the folder is in use
 * by another process, or holds data this version cannot open. The message says what to
 * do; the process prints it without a stack trace.
 */
export class EmbeddedDatabaseUnavailable extends Error {
  override readonly name = 'EmbeddedDatabaseUnavailable';
}

/**
 * Starts PGlite (PostgreSQL in WASM) in a worker thread and serves it on a loopback port,
 * so the app talks to it with `pg` exactly as it talks to a server. PGlite runs one
 * connection's transaction at a time: correct, serial, meant for development and tests.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  const releaseLock = dataDir ? lockDataDir(dataDir) : () => undefined;
  const worker = new Worker(join(__dirname, 'embedded-postgres.worker.cjs'), {
    workerData: { dataDir, maxConnections: options.maxConnections ?? 100 },
  });

  let conn: string;
  try {
    conn = await new Promise<string>((ready, fail) => {
      worker.once('error', fail);
      worker.once('exit', (code) =>
        fail(new Error(`embedded PostgreSQL exited with code ${code}`)),
      );
      worker.on('message', (message: { type: string; conn?: string; message?: string }) => {
        if (message.type === 'ready') ready(message.conn!);
        if (message.type === 'error')
          fail(new Error(`embedded PostgreSQL failed: ${message.message}`));
      });
    });
  } catch (error) {
    await worker.terminate();
    releaseLock();
    if (!dataDir) throw error;
    throw new EmbeddedDatabaseUnavailable(
      `The embedded database in ${dataDir} could not be opened (${(error as Error).message}). ` +
        'If it was written by another version of Worklane, move the folder away, or wipe it ' +
        'with `npm run db:reset -- --yes`.',
    );
  }
  worker.removeAllListeners('exit');
  worker.unref();

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((done) => {
      const timer = setTimeout(() => void worker.terminate().then(() => done()), 5000);
      worker.on('message', (message: { type: string }) => {
        if (message.type !== 'stopped') return;
        clearTimeout(timer);
        void worker.terminate().then(() => done());
      });
      worker.postMessage('stop');
    }).finally(releaseLock));

  return { url: `postgres://postgres@${conn}/postgres`, stop };
}

/**
 * PGlite does not lock its folder, and two processes on one folder silently lose commits,
 * so we take a pid lock ourselves (stale locks of dead processes are taken over).
 */
const lockedHere = new Set<string>();

function lockDataDir(dataDir: string): () => void {
  if (lockedHere.has(dataDir)) throw inUse(dataDir, process.pid);
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'worklane.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      lockedHere.add(dataDir);
      return () => {
        lockedHere.delete(dataDir);
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8'));
      // Our own pid in a lock we did not take is stale (e.g. pid 1 in a restarted container).
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw inUse(dataDir, owner);
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the embedded database at ${dataDir}`);
}

function inUse(dataDir: string, pid: number): EmbeddedDatabaseUnavailable {
  return new EmbeddedDatabaseUnavailable(
    `The embedded database in ${dataDir} is in use by process ${pid}: stop that process, ` +
      'or point EMBEDDED_DB_DIR at another folder. (It serves one process at a time.)',
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
