import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { onCleanup } from './cleanup';
import { listeningPorts } from './proc';

export const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

const log = (message: string) => console.log(`[bench] ${message}`);

// ---------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export interface BuildInfo {
  built: boolean;
  ms: number;
  warning?: string;
}

/**
 * `nest build` when dist/src/main.js is missing or older than the sources (BENCH_BUILD=always
 * forces it, BENCH_BUILD=never skips it). A failed build with an older dist present is a
 * loud warning, not an error: others may be mid-edit; the run then measures the older build.
 */
export function buildIfStale(): BuildInfo {
  const mode = process.env.BENCH_BUILD ?? 'auto';
  const sources = [
    'src',
    'migrations',
    'ormconfig.ts',
    'tsconfig.json',
    'tsconfig.build.json',
    'nest-cli.json',
    'package.json',
  ];
  const newestSource = Math.max(...sources.map((p) => newestMtime(join(ROOT, p))));
  const builtAt = existsSync(MAIN) ? statSync(MAIN).mtimeMs : 0;
  const stale = builtAt < newestSource;
  if (mode === 'never' || (mode !== 'always' && !stale)) {
    if (!builtAt) throw new Error(`${MAIN} is missing and BENCH_BUILD=never`);
    log(`dist is up to date${stale ? ' (stale, but BENCH_BUILD=never)' : ''}: not building`);
    return {
      built: false,
      ms: 0,
      warning: stale ? 'dist older than src (BENCH_BUILD=never)' : undefined,
    };
  }
  log(`building (nest build)${builtAt ? ': dist is older than the sources' : ''}…`);
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  const ms = Date.now() - started;
  if (result.status === 0 && existsSync(MAIN)) {
    log(`built in ${(ms / 1000).toFixed(1)} s`);
    return { built: true, ms };
  }
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
    .trim()
    .split('\n')
    .slice(-30)
    .join('\n');
  if (!existsSync(MAIN))
    throw new Error(`nest build failed and there is no dist to fall back on:\n${output}`);
  const warning = 'nest build FAILED: measuring the previous dist build';
  console.error(`[bench] WARNING: ${warning}\n${output}`);
  return { built: false, ms, warning };
}

// ---------------------------------------------------------------------------------------
// Database: a fresh database on the server, or a temporary embedded data folder
// ---------------------------------------------------------------------------------------

export interface Target {
  kind: 'server' | 'embedded';
  /** DATABASE_URL for the child (server), or undefined (embedded). */
  databaseUrl?: string;
  /** The database name on the server, for the report. */
  databaseName?: string;
  /** Embedded: the temporary EMBEDDED_DB_DIR. */
  embeddedDir?: string;
  /** Scratch folder (child cwd, mail dir, embedded data). */
  workDir: string;
}

export async function prepareTarget(): Promise<Target> {
  const workDir = mkdtempSync(join(tmpdir(), 'worklane-bench-'));
  onCleanup('remove the temporary folder', () => rmSync(workDir, { recursive: true, force: true }));

  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    return { kind: 'embedded', embeddedDir: join(workDir, 'pglite'), workDir };
  }
  const name = `worklane_bench_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  onCleanup(`drop database ${name}`, async () => {
    const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      log(`dropped database ${name}`);
    } finally {
      await client.end();
    }
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { kind: 'server', databaseUrl: url.toString(), databaseName: name, workDir };
}

// ---------------------------------------------------------------------------------------
// The API in a child process
// ---------------------------------------------------------------------------------------

export interface Api {
  child: ChildProcess;
  pid: number;
  port: number;
  base: string;
  startMs: number;
  /** The last lines the child wrote (stdout and stderr). */
  tail: string[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Destroys global fetch's dispatcher (Node's bundled undici Agent): every socket closes. */
async function closeFetchConnections(): Promise<void> {
  const dispatcher = (globalThis as Record<symbol, unknown>)[
    Symbol.for('undici.globalDispatcher.1')
  ] as { destroy?: () => Promise<void> } | undefined;
  await dispatcher?.destroy?.().catch(() => undefined);
}

export async function startApi(
  target: Target,
  overrides: Record<string, string> = {},
): Promise<Api> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing of the caller's configuration leaks in: the child's cwd is the scratch folder
  // (so no .env is read) and the settings that matter are set here.
  for (const key of ['DATABASE_URL', 'SMTP_URL', 'EMBEDDED_DB_DIR', 'DB_POOL_SIZE', 'NODE_OPTIONS'])
    delete env[key];
  Object.assign(env, {
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    HOST: '127.0.0.1',
    PORT: String(port),
    MIGRATIONS_RUN: 'true',
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '4',
    AUTH_THROTTLE_LIMIT: '1000000',
    WRITE_LIMIT_PER_USER: '1000000000',
    WRITE_LIMIT_PER_ORG: '1000000000',
    INVITE_THROTTLE_LIMIT: '1000000',
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    MAIL_DIR: join(target.workDir, 'mail'),
    APP_URL: `http://127.0.0.1:${port}`,
    ...(target.databaseUrl
      ? { DATABASE_URL: target.databaseUrl }
      : { EMBEDDED_DB_DIR: target.embeddedDir! }),
    ...overrides,
  });

  const started = Date.now();
  // BENCH_NODE_ARGS: extra node flags for the API, e.g. --cpu-prof to profile it.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    cwd: target.workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const warnings = { shown: 0, stopping: false };
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 200) tail.shift();
      // pino lines at warn (40) and above are worth seeing, a few of them.
      if (!warnings.stopping && /"level":(4|5|6)0/.test(line) && warnings.shown++ < 10)
        console.error(`[api] ${line.slice(0, 400)}`);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  onCleanup('stop the API', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Close our keep-alive connections first: the API's graceful close waits for every
    // connection that was busy when it began (up to Fastify's 72 s keepAliveTimeout), so
    // an interrupted run would otherwise always hit the SIGKILL below.
    warnings.stopping = true;
    await Promise.race([closeFetchConnections(), sleep(2_000)]);
    child.kill('SIGTERM'); // graceful: closes the pool, stops the embedded database
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      console.error('[bench] the API did not stop within 10 s: SIGKILL');
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(3_000)]);
    }
  });

  const api: Api = {
    child,
    pid: child.pid!,
    port,
    base: `http://127.0.0.1:${port}`,
    startMs: 0,
    tail,
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `the API exited with code ${child.exitCode} while starting:\n${tail.slice(-30).join('\n')}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`the API was not ready within 90 s:\n${tail.slice(-30).join('\n')}`);
    try {
      const res = await fetch(`${api.base}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  api.startMs = Date.now() - started;
  log(`API ready on ${api.base} (pid ${api.pid}) after ${(api.startMs / 1000).toFixed(1)} s`);
  return api;
}

/**
 * The `pg` URL of the database the child uses. On the embedded database that is the
 * PGlite socket server inside the child, on a loopback port of its own: the child listens
 * on exactly two ports, the API's and that one.
 */
export async function databaseUrlOf(target: Target, api: Api): Promise<string> {
  if (target.databaseUrl) return target.databaseUrl;
  const candidates = listeningPorts(api.pid).filter((p) => p !== api.port);
  for (const port of candidates) {
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const client = new Client({
      connectionString: url,
      connectionTimeoutMillis: 5_000,
      query_timeout: 10_000,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return url;
    } catch {
      // not a PostgreSQL port
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(
    `could not find the embedded database's port among the API's listening ports ${candidates.join(', ')}`,
  );
}
