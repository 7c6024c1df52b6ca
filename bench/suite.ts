/**
 * `npm run bench [-- --scale large] [-- --window 15 --warmup 3]`: the API against its limit.
 *
 * Starts the API (production build) and, beside it, the raw server (bench/raw/raw-server.ts:
 * node:http + pg doing the same secured work in one round trip) on one fresh database of a
 * PostgreSQL server — DATABASE_URL's, or the local one at postgres://postgres@127.0.0.1:5432
 * when unset (a fresh `worklane_bench_*` database, dropped after). Seeds the world by SQL
 * (bench/raw/world.ts), checks for every scenario that both answer the same status, body
 * and headers (apart from date and x-request-id), then loads both with autocannon at 50
 * connections in interleaved windows API, raw, API, raw. Also: stats unloaded, the export
 * (rows/s, RSS growth), round trips per request through a counting proxy (a second pair of
 * servers, so the proxy costs the throughput windows nothing), and bench:live's SSE and
 * webhook latency. Writes bench/results/latest.md and latest.json.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { cleanup, installSignalHandlers, isInterrupted, onCleanup } from './cleanup';
import { cpuMsOf, memoryOf, resetPeakRss } from './proc';
import { Api, buildIfStale, freePort, prepareTarget, ROOT, startApi } from './server';
import { PgProxy } from './raw/pg-proxy';
import { accessToken, ids, membersOf, Scale, SCALES, seedWorld } from './raw/world';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: object) => Promise<AutocannonResult>;
interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  '2xx': number;
}

const log = (message: string) => console.log(`[bench] ${message}`);
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const SCALE: Scale = SCALES[(arg('scale') ?? process.env.BENCH_SCALE ?? 'small') as Scale['name']];
if (!SCALE) throw new Error('--scale small|large');
const WINDOW_S = Number(arg('window') ?? process.env.BENCH_WINDOW_S ?? (SCALE.name === 'large' ? 15 : 5));
const WARMUP_S = Number(arg('warmup') ?? process.env.BENCH_WARMUP_S ?? (SCALE.name === 'large' ? 3 : 2));
const CONNECTIONS = Number(arg('connections') ?? process.env.BENCH_CONNECTIONS ?? 50);
const ONLY = (arg('only') ?? process.env.BENCH_ONLY)?.split(',');
const LIVE_EVENTS = Number(process.env.BENCH_LIVE_EVENTS ?? 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);

// ---------------------------------------------------------------------------------------

interface Server {
  name: 'api' | 'raw';
  base: string;
  pid: number;
}

async function startRaw(databaseUrl: string, secret: string): Promise<Server & { child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'raw', 'raw-server.ts')], {
    cwd: ROOT,
    // The API's write limits as the bench sets them (server.ts).
    env: { ...process.env, DATABASE_URL: databaseUrl, JWT_SECRET: secret, PORT: String(port), NODE_ENV: 'production', WRITE_LIMIT_PER_USER: '1000000000', WRITE_LIMIT_PER_ORG: '1000000000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onCleanup('stop the raw server', async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => (c.toString().includes('listening') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`the raw server exited (${code})`)));
    setTimeout(() => reject(new Error('the raw server did not start in 60 s')), 60_000).unref();
  });
  return { name: 'raw', base: `http://127.0.0.1:${port}`, pid: child.pid!, child };
}

// ---------------------------------------------------------------------------------------
// Scenarios: each a list of requests spread over orgs and users, cycled through
// ---------------------------------------------------------------------------------------

interface Req {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  token: string;
  body?: string;
}
interface Scenario {
  name: string;
  requests: Req[];
  /** Volatile fields a write answers differently on each call: masked in the identity check. */
  write?: boolean;
}

function scenarios(secret: string, deepCursor: string, sample: { id: string; o: number; p: number; creator: number }[]): Scenario[] {
  const tokens = new Map<number, string>();
  const token = (u: number) => tokens.get(u) ?? (tokens.set(u, accessToken(secret, u)), tokens.get(u)!);
  const orgsSpread = Array.from({ length: Math.min(SCALE.orgs, 500) }, (_, i) => 1 + ((i * 7919) % SCALE.orgs));
  const anyMember = (o: number, i: number) => membersOf(SCALE, o)[i % membersOf(SCALE, o).length]!;
  const api = '/api/v1/orgs';
  const large = ids.org(1);
  const statuses = ['todo', 'in_progress', 'done', 'blocked'];
  return [
    { name: 'list_first_page', requests: orgsSpread.map((o, i) => ({ method: 'GET', path: `${api}/${ids.org(o)}/tasks?limit=50`, token: token(anyMember(o, i)) })) },
    {
      name: 'list_page_1000',
      requests: membersOf(SCALE, 1).map((u) => ({ method: 'GET', path: `${api}/${large}/tasks?limit=50&cursor=${deepCursor}`, token: token(u) })),
    },
    {
      name: 'my_tasks',
      requests: orgsSpread.map((o, i) => ({ method: 'GET', path: `${api}/${ids.org(o)}/tasks?assigneeId=me&limit=50`, token: token(anyMember(o, i + 2)) })),
    },
    {
      name: 'get_task',
      requests: sample.map((t, i) => ({ method: 'GET', path: `${api}/${ids.org(t.o)}/projects/${ids.project(t.o, t.p)}/tasks/${t.id}`, token: token(anyMember(t.o, i)) })),
    },
    {
      name: 'create_task',
      write: true,
      requests: orgsSpread.map((o, i) => ({
        method: 'POST',
        path: `${api}/${ids.org(o)}/projects/${ids.project(o, 1 + (i % 2))}/tasks`,
        token: token(membersOf(SCALE, o)[2 + (i % (membersOf(SCALE, o).length - 2))]!),
        body: JSON.stringify({ title: `Bench created ${i}`, priority: 'high', dueDate: '2030-06-30' }),
      })),
    },
    {
      name: 'update_status',
      write: true,
      // Owners may change any task; each pass over the sample moves every task to another status.
      requests: [0, 1, 2, 3].flatMap((pass) =>
        sample.map((t, i) => ({
          method: 'PATCH' as const,
          path: `${api}/${ids.org(t.o)}/projects/${ids.project(t.o, t.p)}/tasks/${t.id}`,
          token: token(membersOf(SCALE, t.o)[0]!),
          body: JSON.stringify({ status: statuses[(i + pass) % 4] }),
        })),
      ),
    },
    { name: 'stats_large_org', requests: membersOf(SCALE, 1).map((u) => ({ method: 'GET', path: `${api}/${large}/stats`, token: token(u) })) },
    {
      name: 'board',
      requests: orgsSpread.map((o, i) => ({ method: 'GET', path: `${api}/${ids.org(o)}/projects/${ids.project(o, 1 + (i % 2))}/board`, token: token(anyMember(o, i)) })),
    },
  ];
}

// ---------------------------------------------------------------------------------------

async function call(base: string, r: Req) {
  const res = await fetch(base + r.path, {
    method: r.method,
    headers: { authorization: `Bearer ${r.token}`, ...(r.body ? { 'content-type': 'application/json' } : {}) },
    body: r.body,
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  return { status: res.status, body, headers };
}

const VOLATILE = /"(id|createdAt|updatedAt|completedAt|rank|version|status)":("[^"]*"|\d+|null)/g;

/** Same status, body and headers (apart from date and x-request-id): else the bench stops. */
async function checkIdentical(s: Scenario, api: Server, raw: Server): Promise<void> {
  // A write runs twice on the same target (a create into the same column; a status change
  // of the same task, to another status): only what must differ is masked.
  const first = s.requests[0]!;
  const again = s.name === 'update_status' ? { ...first, body: JSON.stringify({ status: JSON.parse(first.body!).status === 'blocked' ? 'done' : 'blocked' }) } : first;
  const pairs: Array<[Req, Req]> = s.write ? [[first, again]] : [[first, first], [s.requests[1]!, s.requests[1]!]];
  for (const [ra, rr] of pairs) {
    const a = await call(api.base, ra);
    const b = await call(raw.base, rr);
    const mask = (x: string) => (s.write ? x.replace(VOLATILE, '"$1":"…"') : x);
    const skip = new Set(['date', 'x-request-id', ...(s.write ? ['content-length', 'etag', 'ratelimit'] : [])]);
    const hs = (h: Record<string, string>) => JSON.stringify(Object.entries(h).filter(([k]) => !skip.has(k)).sort());
    const problems: string[] = [];
    if (a.status !== b.status) problems.push(`status ${a.status} vs ${b.status}`);
    if (mask(a.body) !== mask(b.body)) problems.push(`body differs:\n  api ${a.body.slice(0, 600)}\n  raw ${b.body.slice(0, 600)}`);
    if (hs(a.headers) !== hs(b.headers)) problems.push(`headers differ:\n  api ${hs(a.headers)}\n  raw ${hs(b.headers)}`);
    if (a.status >= 300) problems.push(`the API answered ${a.status}: ${a.body.slice(0, 300)}`);
    if (problems.length) throw new Error(`${s.name}: the raw server's answer is not the API's:\n${problems.join('\n')}`);
  }
}

interface Window {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerReq: number | null;
  requests: number;
  failures: number;
}

async function load(server: Server, s: Scenario, seconds: number): Promise<Window> {
  let i = Math.floor(Math.random() * s.requests.length);
  const cpu0 = cpuMsOf(server.pid);
  const result = await autocannon({
    url: server.base,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        setupRequest: (req: object) => {
          const r = s.requests[i++ % s.requests.length]!;
          return {
            ...req,
            method: r.method,
            path: r.path,
            headers: { authorization: `Bearer ${r.token}`, ...(r.body ? { 'content-type': 'application/json' } : {}) },
            body: r.body,
          };
        },
      },
    ],
  });
  const cpu1 = cpuMsOf(server.pid);
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuUsPerReq: cpu0 !== null && cpu1 !== null && ok > 0 ? ((cpu1 - cpu0) * 1000) / ok : null,
    requests: ok,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function unloadedP50(server: Server, s: Scenario, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const t0 = performance.now();
    const r = await call(server.base, s.requests[i % s.requests.length]!);
    if (r.status !== 200) throw new Error(`${s.name} on ${server.name}: ${r.status}`);
    if (i >= 3) times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function exportRun(server: Server, path: string, token: string, rows: number) {
  await sleep(300);
  const before = memoryOf(server.pid)!.rssKiB;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(server.pid)?.rssKiB ?? 0)), 20);
  const t0 = performance.now();
  const res = await fetch(server.base + path, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(600_000) });
  if (!res.ok) throw new Error(`export on ${server.name}: ${res.status} ${await res.text()}`);
  let lines = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let j = 0; j < value.length; j++) if (value[j] === 10) lines++;
  }
  const ms = performance.now() - t0;
  clearInterval(sampler);
  if (lines - 1 !== rows) throw new Error(`export on ${server.name}: ${lines - 1} rows, expected ${rows}`);
  return { rowsPerS: rows / (ms / 1000), rssDeltaMb: (peak - before) / 1024 };
}

async function roundTrips(proxy: PgProxy, server: Server, s: Scenario, n: number): Promise<number> {
  for (let i = 0; i < 5; i++) await call(server.base, s.requests[i % s.requests.length]!); // statements prepared
  // What the server sends on its own meanwhile (the API's job runner polls): measured idle, subtracted.
  await sleep(200);
  const b0 = proxy.count;
  const tb = performance.now();
  await sleep(2_000);
  const idlePerMs = (proxy.count - b0) / (performance.now() - tb);
  const c0 = proxy.count;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call(server.base, s.requests[(i + 7) % s.requests.length]!);
  const background = idlePerMs * (performance.now() - t0);
  return Math.max(0, (proxy.count - c0 - background) / n);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  installSignalHandlers();
  const load0 = loadavg()[0]!;
  process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  log(`scale ${SCALE.name}: ${SCALE.orgs} orgs, ${SCALE.users} users, ${SCALE.tasks.toLocaleString('en')} tasks (large org ${SCALE.largeOrgTasks.toLocaleString('en')}); windows ${WARMUP_S} s warm-up + 2 × ${WINDOW_S} s per server, ${CONNECTIONS} connections`);
  const build = buildIfStale();
  const target = await prepareTarget();
  const secret = randomBytes(32).toString('hex');
  // The production log level (info): what the API costs as deployed.
  const api = await startApi(target, { JWT_SECRET: secret, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' });
  const dbUrl = target.databaseUrl!;

  log('seeding…');
  const seed = await seedWorld(dbUrl, SCALE, log);
  const db = new Client({ connectionString: dbUrl });
  db.on('error', () => undefined);
  await db.connect();
  onCleanup('close the bench connection', () => db.end());
  // The deep page: the keyset of the row just before `deepOffset` in the list order, as the API encodes it.
  const deep = await db.query<{ key: string; id: string }>(
    `SELECT created_at::text AS key, id FROM tasks WHERE org_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1`,
    [ids.org(1), SCALE.deepOffset - 1],
  );
  const deepCursor = Buffer.from(JSON.stringify(['createdAt:desc', deep.rows[0]!.key, deep.rows[0]!.id])).toString('base64url');
  const sample = (
    await db.query<{ id: string; o: number; p: number; creator: number }>(
      `SELECT t.id, o.n AS o, CASE WHEN t.project_id = md5('p' || o.n || '-1')::uuid THEN 1 ELSE 2 END AS p, 0 AS creator
         FROM generate_series(1, $1::int) o(n)
         CROSS JOIN LATERAL (SELECT id, project_id FROM tasks WHERE org_id = md5('o' || o.n)::uuid LIMIT 8) t`,
      [SCALE.orgs],
    )
  ).rows;

  const raw = await startRaw(dbUrl, secret);
  const servers: Server[] = [{ name: 'api', base: api.base, pid: api.pid }, raw];
  log(`raw server on ${raw.base} (pid ${raw.pid})`);
  const all = scenarios(secret, deepCursor, sample).filter((s) => !ONLY || ONLY.includes(s.name));

  log('checking that the raw server answers what the API answers…');
  for (const s of all) await checkIdentical(s, servers[0]!, raw);
  log('identical: status, bodies and headers of every scenario');

  const results: Array<Record<string, unknown>> = [];
  resetPeakRss(api.pid);
  let apiPeakKiB = 0;
  const rssSampler = setInterval(() => (apiPeakKiB = Math.max(apiPeakKiB, memoryOf(api.pid)?.rssKiB ?? 0)), 250);
  for (const s of all) {
    if (isInterrupted()) throw new Error('interrupted');
    const t0 = performance.now();
    const windows: Record<'api' | 'raw', Window[]> = { api: [], raw: [] };
    for (const server of servers) await load(server, s, WARMUP_S);
    for (let round = 0; round < 2; round++) for (const server of servers) windows[server.name].push(await load(server, s, WINDOW_S));
    if (api.child.exitCode !== null || api.child.signalCode !== null)
      throw new Error(`the API exited (${api.child.exitCode ?? api.child.signalCode}) during ${s.name}:\n${api.tail.slice(-40).join('\n')}`);
    if (raw.child.exitCode !== null) throw new Error(`the raw server exited (${raw.child.exitCode}) during ${s.name}`);
    const a = windows.api;
    const r = windows.raw;
    const entry: Record<string, unknown> = {
      name: s.name,
      api_rps: round(mean(a.map((w) => w.rps))),
      raw_rps: round(mean(r.map((w) => w.rps))),
      ratio: round(mean(a.map((w) => w.rps)) / mean(r.map((w) => w.rps)), 2),
      p50_ms: round(mean(a.map((w) => w.p50)), 2),
      p99_ms: round(mean(a.map((w) => w.p99)), 2),
      raw_p99_ms: round(mean(r.map((w) => w.p99)), 2),
      api_cpu_us: round(mean(a.map((w) => w.cpuUsPerReq ?? NaN)), 0),
      raw_cpu_us: round(mean(r.map((w) => w.cpuUsPerReq ?? NaN)), 0),
      windows: { api: a.map((w) => round(w.rps)), raw: r.map((w) => round(w.rps)) },
      failures: { api: a.reduce((n, w) => n + w.failures, 0), raw: r.reduce((n, w) => n + w.failures, 0) },
    };
    if (s.name === 'stats_large_org') {
      entry.unloaded_p50_ms = round(await unloadedP50(servers[0]!, s, 15), 1);
      entry.raw_unloaded_p50_ms = round(await unloadedP50(raw, s, 15), 1);
    }
    results.push(entry);
    log(`${s.name}: API ${entry.api_rps} req/s, raw ${entry.raw_rps} (×${entry.ratio}); p99 ${entry.p99_ms} vs ${entry.raw_p99_ms} ms; CPU ${entry.api_cpu_us} vs ${entry.raw_cpu_us} µs/req (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  clearInterval(rssSampler);
  const hwm = memoryOf(api.pid)?.hwmKiB ?? 0;

  log('export of the large org, one download at a time…');
  const exportPath = `/api/v1/orgs/${ids.org(1)}/tasks/export.csv`;
  const owner = accessToken(secret, membersOf(SCALE, 1)[0]!);
  const exportRows = Number((await db.query(`SELECT count(*) FROM tasks WHERE org_id = $1`, [ids.org(1)])).rows[0].count);
  const ex: Record<'api' | 'raw', Array<{ rowsPerS: number; rssDeltaMb: number }>> = { api: [], raw: [] };
  for (let i = 0; i < 2; i++) for (const server of servers) ex[server.name].push(await exportRun(server, exportPath, owner, exportRows));

  log('round trips per request (a second API and raw server, each behind its own counting proxy)…');
  const pg = new URL(dbUrl);
  const behindProxy = async () => {
    const proxy = new PgProxy(pg.hostname, Number(pg.port || 5432));
    const port = await proxy.listen();
    onCleanup('close a proxy', () => proxy.close());
    const url = new URL(dbUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    return { proxy, url: url.toString() };
  };
  const apiProxy = await behindProxy();
  const rawProxy = await behindProxy();
  const api2 = await startApi({ ...target, databaseUrl: apiProxy.url }, { JWT_SECRET: secret, MIGRATIONS_RUN: 'false', LOG_LEVEL: 'warn' });
  const raw2 = await startRaw(rawProxy.url, secret);
  await sleep(1_000); // the API's start-up queries are behind it
  for (const s of all) {
    const entry = results.find((e) => e.name === s.name)!;
    entry.round_trips = {
      api: round(await roundTrips(apiProxy.proxy, { name: 'api', base: api2.base, pid: api2.pid }, s, 60), 1),
      raw: round(await roundTrips(rawProxy.proxy, raw2, s, 60), 1),
    };
  }

  let live: Record<string, unknown> | null = null;
  if (LIVE_EVENTS > 0) {
    log(`SSE and webhook latency (bench:live, ${LIVE_EVENTS} events)…`);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'live-latency.ts')], {
        cwd: ROOT,
        env: { ...process.env, BENCH_LIVE_EVENTS: String(LIVE_EVENTS), BENCH_BUILD: 'never' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.once('exit', resolve);
    });
    if (code === 0) live = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'live-server.json'), 'utf8')) as Record<string, unknown>;
    else log(`bench:live failed (${code}): no latency figures`);
  }
  if (live) {
    const sse = live.sse_latency as { p50_ms: number; p99_ms: number };
    const hook = live.webhook_latency as { p50_ms: number; p99_ms: number } | null;
    results.push({ name: 'sse_latency', p50_ms: sse.p50_ms, p99_ms: sse.p99_ms, events: LIVE_EVENTS });
    if (hook) results.push({ name: 'webhook_latency', p50_ms: hook.p50_ms, p99_ms: hook.p99_ms, events: LIVE_EVENTS });
  }

  const out = {
    when: new Date().toISOString(),
    scale: { ...SCALE },
    windows: { warmup_s: WARMUP_S, window_s: WINDOW_S, connections: CONNECTIONS, order: 'api, raw, api, raw' },
    scenarios: results,
    export: {
      rows: exportRows,
      rows_per_s: round(mean(ex.api.map((x) => x.rowsPerS)), 0),
      raw_rows_per_s: round(mean(ex.raw.map((x) => x.rowsPerS)), 0),
      ratio: round(mean(ex.api.map((x) => x.rowsPerS)) / mean(ex.raw.map((x) => x.rowsPerS)), 2),
      rss_delta_mb: round(Math.max(...ex.api.map((x) => x.rssDeltaMb))),
      raw_rss_delta_mb: round(Math.max(...ex.raw.map((x) => x.rssDeltaMb))),
    },
    rss_mb: round(Math.max(apiPeakKiB, hwm) / 1024),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      postgres: (await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v,
      load_average: { start: round(load0, 2), end: round(loadavg()[0]!, 2) },
    },
    build,
    seed: { seconds: round(seed.seedMs / 1000), vacuum_analyze_seconds: round(seed.vacuumMs / 1000) },
    total_seconds: round((performance.now() - started) / 1000, 0),
  };
  const md = markdown(out);
  console.log(`\n${md}`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), JSON.stringify(out, null, 2) + '\n');
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), md);
  log(`written bench/results/latest.md and latest.json in ${out.total_seconds} s`);
  void (api as Api);
}

function markdown(out: {
  scale: Scale;
  windows: { warmup_s: number; window_s: number; connections: number };
  scenarios: Array<Record<string, unknown>>;
  export: Record<string, unknown>;
  rss_mb: number | null;
  machine: Record<string, unknown>;
  seed: Record<string, unknown>;
  total_seconds: number | null;
  when: string;
}): string {
  const f = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'number' ? v.toLocaleString('en') : String(v));
  const rows = out.scenarios
    .filter((s) => s.api_rps !== undefined)
    .map((s) => {
      const rt = s.round_trips as { api: number; raw: number } | undefined;
      return `| ${s.name} | ${f(s.api_rps)} | ${f(s.raw_rps)} | ${f(s.ratio)} | ${f(s.p50_ms)} | ${f(s.p99_ms)} / ${f(s.raw_p99_ms)} | ${f(s.api_cpu_us)} / ${f(s.raw_cpu_us)} | ${rt ? `${f(rt.api)} / ${f(rt.raw)}` : '—'} |`;
    });
  const stats = out.scenarios.find((s) => s.name === 'stats_large_org');
  const lat = out.scenarios.filter((s) => s.api_rps === undefined);
  const m = out.machine as { cpus: number; node: string; postgres: string; load_average: { start: number; end: number } };
  return [
    `Worklane bench — ${out.when}; scale ${out.scale.name}: ${out.scale.orgs.toLocaleString('en')} orgs, ${out.scale.users.toLocaleString('en')} users, ${out.scale.tasks.toLocaleString('en')} tasks (large org ${out.scale.largeOrgTasks.toLocaleString('en')}); ` +
      `${out.windows.connections} connections, windows API, raw, API, raw of ${out.windows.window_s} s after ${out.windows.warmup_s} s warm-up; ` +
      `${m.cpus} CPUs, node ${m.node}, PostgreSQL ${m.postgres}; load average ${m.load_average.start} → ${m.load_average.end}`,
    '',
    '| scenario | API req/s | raw req/s | API÷raw | API p50 ms | p99 ms API / raw | CPU µs/req API / raw | DB round trips API / raw |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    stats ? `stats_large_org unloaded: API ${f(stats.unloaded_p50_ms)} ms, raw ${f(stats.raw_unloaded_p50_ms)} ms (p50 of 15).` : '',
    `export_large_org (${f(out.export.rows)} rows, one at a time): API ${f(out.export.rows_per_s)} rows/s, raw COPY ${f(out.export.raw_rows_per_s)} rows/s (×${f(out.export.ratio)}); RSS growth API ${f(out.export.rss_delta_mb)} MB, raw ${f(out.export.raw_rss_delta_mb)} MB.`,
    ...lat.map((s) => `${s.name}: p50 ${f(s.p50_ms)} ms, p99 ${f(s.p99_ms)} ms over ${f(s.events)} events.`),
    `API peak RSS under load: ${f(out.rss_mb)} MB. Seed ${f(out.seed.seconds)} s + VACUUM ANALYZE ${f(out.seed.vacuum_analyze_seconds)} s; whole run ${f(out.total_seconds)} s.`,
    '',
  ].join('\n');
}

main()
  .then(() => cleanup())
  .then(() => process.exit(isInterrupted() ? 130 : 0))
  .catch(async (error: unknown) => {
    console.error(`[bench] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup();
    process.exit(1);
  });
