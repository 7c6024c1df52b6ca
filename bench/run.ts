/**
 * Worklane benchmark: `npm run bench` (embedded database) or
 * `DATABASE_URL=postgres://… npm run bench` (a fresh database on that server, dropped after).
 *
 * Starts the built API in a child process, seeds one user / org / project through the API
 * and BENCH_TASKS tasks (default 20,000) straight into the database, then measures over
 * loopback HTTP: the org task list on page 1 and on a deep keyset page, its throughput at
 * BENCH_CONCURRENCY (20), /stats, the CSV export (time and the child's memory), and task
 * creation. Prints a table and writes bench/results.json (one entry per database kind).
 *
 * Knobs: BENCH_TASKS, BENCH_CONCURRENCY, BENCH_DURATION_MS (throughput, default 5000),
 * BENCH_BUILD=auto|always|never (auto: build when dist is older than the sources),
 * BENCH_EXPLAIN=1 (also print EXPLAIN ANALYZE of the list, stats and export queries).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { cleanup, installSignalHandlers, isInterrupted } from './cleanup';
import { Client, getJson, HttpError, Latency, postJson, series, throughput, Throughput } from './measure';
import { cpuMsOf, memoryOf, resetPeakRss } from './proc';
import { Api, buildIfStale, databaseUrlOf, prepareTarget, startApi, Target } from './server';
import { seedTasks, SeedResult } from './seed';

const log = (message: string) => console.log(`[bench] ${message}`);

/** Logs the next phase; a run interrupted by SIGINT / SIGTERM stops here. */
function phase(message: string): void {
  if (isInterrupted()) throw new Error('interrupted');
  log(message);
}

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return value;
}

const TASKS = intEnv('BENCH_TASKS', 20_000, 100, 2_000_000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 20, 1, 200);
const DURATION_MS = intEnv('BENCH_DURATION_MS', 5_000, 500, 60_000);

interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
interface Task {
  id: string;
}

type Sort = 'createdAt' | 'dueDate';

interface ListResult {
  sort: Sort;
  page1: Latency;
  deep: Latency;
  /** Rows before the deep page; its page number at limit=20. */
  deepOffset: number;
  deepPage: number;
  /** The deep cursor, decoded (opaque to clients; its last two values are [sort key, id]). */
  deepKeys: unknown[];
  /** The walk that built the deep cursor: pages of 100 and the time it took. */
  walk: { pages: number; ms: number; perPageMedianMs: number };
}

interface ExportResult {
  runs: Array<{ ms: number; bytes: number; rows: number; firstByteMs: number }>;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssAfterMiB: number;
  hwmReset: boolean;
  hwmBeforeMiB: number;
  hwmAfterMiB: number;
  childCpuMs: number | null;
}

interface PausedExport {
  pauseMs: number;
  rssBeforeMiB: number;
  rssPausedMaxMiB: number;
  rssPausedLastMiB: number;
  bytes: number;
}

interface Results {
  when: string;
  database: string;
  node: string;
  cpus: number;
  memoryGiB: number;
  /** 1-minute load average at the start and the end: other work on the machine skews everything. */
  loadAverage: { start: number; end: number };
  tasks: number;
  build: { built: boolean; ms: number; warning?: string };
  apiStartMs: number;
  seed: SeedResult;
  list: ListResult[];
  /** apiCpuMs / benchCpuMs: CPU time the API process and this process used in the window. */
  throughput: Throughput & { query: string; apiCpuMs: number | null; benchCpuMs: number };
  stats: Latency;
  export: ExportResult;
  exportPausedClient: PausedExport;
  createTask: Latency;
  totalSeconds: number;
}

/** For the report only: the API's cursors are base64url JSON arrays today; anything else is kept as is. */
function decodeCursor(cursor: string): unknown[] {
  try {
    const keys: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(keys) ? keys : [cursor];
  } catch {
    return [cursor];
  }
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? NaN;

// ---------------------------------------------------------------------------------------

async function seedThroughApi(client: Client) {
  const email = `bench-${randomBytes(5).toString('hex')}@example.test`;
  const reg = await postJson<{ user: { id: string }; accessToken: string }>(client, '/api/v1/auth/register', {
    email,
    password: 'correct horse battery staple',
    name: 'Bench User',
  });
  client.token = reg.accessToken;
  const org = await postJson<{ id: string }>(client, '/api/v1/orgs', { name: 'Bench Co' });
  const project = await postJson<{ id: string }>(client, `/api/v1/orgs/${org.id}/projects`, { name: 'Bench project' });
  return { userId: reg.user.id, orgId: org.id, projectId: project.id };
}

/** Walks the list with limit=100 until `offset` rows are behind the cursor (bounded in pages and time). */
async function walkTo(client: Client, listPath: string, offset: number) {
  let cursor: string | null = null;
  let walked = 0;
  let pages = 0;
  const perPage: number[] = [];
  const t0 = performance.now();
  const maxPages = Math.ceil(offset / 100);
  while (walked < offset && pages < maxPages && performance.now() - t0 < 60_000 && !isInterrupted()) {
    const s = performance.now();
    const page: Page<Task> = await getJson<Page<Task>>(
      client,
      `${listPath}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    perPage.push(performance.now() - s);
    pages++;
    walked += page.data.length;
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  if (!cursor) throw new Error(`the list ended after ${walked} rows, before row ${offset}`);
  return { cursor, walked, pages, ms: performance.now() - t0, perPageMedianMs: median(perPage) };
}

async function measureList(client: Client, orgId: string, sort: Sort): Promise<ListResult> {
  const listPath = `/api/v1/orgs/${orgId}/tasks?sort=${sort}`;
  const target = Math.max(100, Math.floor((Math.min(TASKS, 20_000) - 200) / 100) * 100);
  const walk = await walkTo(client, listPath, target);
  log(`  ${sort}: walked ${walk.pages} pages of 100 to row ${walk.walked} in ${(walk.ms / 1000).toFixed(1)} s`);

  const expectFull = async (path: string) => {
    const page = await getJson<Page<Task>>(client, path);
    if (page.data.length !== 20) throw new Error(`${path} answered ${page.data.length} rows, expected 20`);
  };
  const page1Path = `${listPath}&limit=20`;
  const deepPath = `${listPath}&limit=20&cursor=${encodeURIComponent(walk.cursor)}`;
  // Page 1, then the deep page: each series warms up, then up to 200 requests or 5 s.
  const opts = { warmup: 10, max: 200, min: 30, budgetMs: 5_000 };
  const page1 = await series(() => expectFull(page1Path), opts);
  const deep = await series(() => expectFull(deepPath), opts);
  return {
    sort,
    page1,
    deep,
    deepOffset: walk.walked,
    deepPage: walk.walked / 20 + 1,
    deepKeys: decodeCursor(walk.cursor),
    walk: { pages: walk.pages, ms: walk.ms, perPageMedianMs: walk.perPageMedianMs },
  };
}

async function measureExport(api: Api, client: Client, orgId: string, expectedRows: number): Promise<ExportResult> {
  const url = `${client.base}/api/v1/orgs/${orgId}/tasks/export.csv`;
  await new Promise((r) => setTimeout(r, 300)); // let the previous phase's garbage settle
  const before = memoryOf(api.pid)!;
  const hwmReset = resetPeakRss(api.pid);
  const hwmBefore = hwmReset ? memoryOf(api.pid)!.hwmKiB : before.hwmKiB;
  let peak = before.rssKiB;
  const sampler = setInterval(() => {
    const m = memoryOf(api.pid);
    if (m) peak = Math.max(peak, m.rssKiB);
  }, 10);
  const cpu0 = cpuMsOf(api.pid);
  const runs: ExportResult['runs'] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < 3 && performance.now() - t0 < 45_000 && !isInterrupted(); i++) {
      const s = performance.now();
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${client.token}` },
        signal: AbortSignal.timeout(120_000),
      });
      if (!res.ok) throw new HttpError(res.status, await res.text(), 'GET export.csv');
      const reader = res.body!.getReader();
      let bytes = 0;
      let lines = 0;
      let firstByteMs = NaN;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (bytes === 0) firstByteMs = performance.now() - s;
        bytes += value.byteLength;
        for (let j = 0; j < value.length; j++) if (value[j] === 10) lines++;
      }
      const rows = lines - 1; // minus the header
      if (rows !== expectedRows) throw new Error(`export.csv had ${rows} rows, expected ${expectedRows}`);
      runs.push({ ms: performance.now() - s, bytes, rows, firstByteMs });
    }
  } finally {
    clearInterval(sampler);
  }
  const cpu1 = cpuMsOf(api.pid);
  await new Promise((r) => setTimeout(r, 300));
  const after = memoryOf(api.pid)!;
  peak = Math.max(peak, after.rssKiB, hwmReset ? after.hwmKiB : 0);
  return {
    runs,
    rssBeforeMiB: mib(before.rssKiB),
    rssPeakMiB: mib(peak),
    rssAfterMiB: mib(after.rssKiB),
    hwmReset,
    hwmBeforeMiB: mib(hwmBefore),
    hwmAfterMiB: mib(after.hwmKiB),
    childCpuMs: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
  };
}

/**
 * Backpressure check: a client that reads the first chunk of the export and then stops
 * reading for `pauseMs`. A streaming server stops at the socket's buffers, so its RSS
 * levels off; one that buffered the rows would grow by about the size of the CSV.
 */
async function measurePausedExport(api: Api, client: Client, orgId: string, pauseMs = 1_500): Promise<PausedExport> {
  const url = `${client.base}/api/v1/orgs/${orgId}/tasks/export.csv`;
  await new Promise((r) => setTimeout(r, 300));
  const before = memoryOf(api.pid)!.rssKiB;
  const res = await fetch(url, { headers: { authorization: `Bearer ${client.token}` }, signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new HttpError(res.status, await res.text(), 'GET export.csv');
  const reader = res.body!.getReader();
  let bytes = 0;
  const first = await reader.read();
  bytes += first.value?.byteLength ?? 0;
  const during: number[] = [];
  for (let waited = 0; waited < pauseMs && !isInterrupted(); waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    during.push(memoryOf(api.pid)?.rssKiB ?? NaN);
  }
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
  }
  return {
    pauseMs,
    rssBeforeMiB: mib(before),
    rssPausedMaxMiB: mib(Math.max(...during)),
    rssPausedLastMiB: mib(during[during.length - 1] ?? NaN),
    bytes,
  };
}

// ---------------------------------------------------------------------------------------

function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

function report(r: Results): string {
  const rows: string[][] = [['measurement', 'n', 'median ms', 'p95 ms', 'notes']];
  for (const l of r.list) {
    rows.push([`GET /orgs/:id/tasks?limit=20&sort=${l.sort}  page 1`, String(l.page1.n), ms(l.page1.medianMs), ms(l.page1.p95Ms), '']);
    rows.push([
      `GET /orgs/:id/tasks?limit=20&sort=${l.sort}  page ${l.deepPage}`,
      String(l.deep.n),
      ms(l.deep.medianMs),
      ms(l.deep.p95Ms),
      `${l.deepOffset.toLocaleString('en')} rows in; deep/page1 median ×${(l.deep.medianMs / l.page1.medianMs).toFixed(2)}`,
    ]);
  }
  const t = r.throughput;
  rows.push([
    `GET ${t.query}  @ ${t.concurrency} concurrent`,
    String(t.requests),
    ms(t.latency.medianMs),
    ms(t.latency.p95Ms),
    `${Math.round(t.reqPerSec).toLocaleString('en')} req/s over ${t.seconds.toFixed(1)} s, ${t.errors} errors` +
      (t.apiCpuMs !== null
        ? `; API CPU ${Math.round((t.apiCpuMs / 10) / t.seconds)} % (${(t.apiCpuMs / Math.max(1, t.requests)).toFixed(2)} ms/req)`
        : '') +
      `, client CPU ${Math.round((t.benchCpuMs / 10) / t.seconds)} %`,
  ]);
  rows.push(['GET /orgs/:id/stats', String(r.stats.n), ms(r.stats.medianMs), ms(r.stats.p95Ms), '']);
  const e = r.export;
  const exportMs = e.runs.map((x) => x.ms);
  const run0 = e.runs[0];
  rows.push([
    'GET /orgs/:id/tasks/export.csv (all rows)',
    String(e.runs.length),
    ms(median(exportMs)),
    ms(Math.max(...exportMs)),
    run0
      ? `${run0.rows.toLocaleString('en')} rows, ${(run0.bytes / 1048576).toFixed(1)} MiB, ` +
        `${Math.round(run0.rows / (median(exportMs) / 1000)).toLocaleString('en')} rows/s, first byte ${ms(run0.firstByteMs)} ms`
      : '',
  ]);
  rows.push(['POST /orgs/:id/projects/:id/tasks', String(r.createTask.n), ms(r.createTask.medianMs), ms(r.createTask.p95Ms), '']);

  const lines = [
    '',
    `Worklane bench — ${r.database}; ${r.tasks.toLocaleString('en')} tasks; node ${r.node}, ${r.cpus} CPUs, ${r.memoryGiB} GiB; load average ${r.loadAverage.start} → ${r.loadAverage.end}`,
    `build ${r.build.built ? `${(r.build.ms / 1000).toFixed(1)} s` : 'skipped (up to date)'}${r.build.warning ? ` — WARNING: ${r.build.warning}` : ''}; ` +
      `API ready in ${(r.apiStartMs / 1000).toFixed(1)} s; ` +
      `seed ${(r.seed.insertMs / 1000).toFixed(1)} s + VACUUM ANALYZE ${r.seed.vacuum === 'done' ? `${(r.seed.vacuumMs / 1000).toFixed(1)} s` : 'skipped'}` +
      ` (${Object.entries(r.seed.byStatus).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    ...(r.loadAverage.start > r.cpus || r.loadAverage.end > r.cpus
      ? [`WARNING: load average above ${r.cpus} (the CPU count): other work competed for the CPUs; latencies are inflated`]
      : []),
    '',
    table(rows),
    '',
    `export memory (child VmRSS): before ${e.rssBeforeMiB} MiB, peak ${e.rssPeakMiB} MiB (+${(e.rssPeakMiB - e.rssBeforeMiB).toFixed(1)}), ` +
      `after ${e.rssAfterMiB} MiB; CSV ${(((run0?.bytes ?? 0) / 1048576)).toFixed(1)} MiB per run` +
      (e.hwmReset ? `; VmHWM reset before the export → ${e.hwmAfterMiB} MiB after` : `; VmHWM (since start) ${e.hwmBeforeMiB} → ${e.hwmAfterMiB} MiB`) +
      (e.childCpuMs !== null ? `; child CPU ${Math.round(e.childCpuMs)} ms for ${e.runs.length} exports` : ''),
    `export to a client that stops reading for ${r.exportPausedClient.pauseMs / 1000} s after the first chunk: ` +
      `child VmRSS ${r.exportPausedClient.rssBeforeMiB} → at most ${r.exportPausedClient.rssPausedMaxMiB} MiB while paused ` +
      `(+${(r.exportPausedClient.rssPausedMaxMiB - r.exportPausedClient.rssBeforeMiB).toFixed(1)}; ` +
      `the CSV is ${(r.exportPausedClient.bytes / 1048576).toFixed(1)} MiB` +
      (r.exportPausedClient.bytes / 1048576 < 2 * (r.exportPausedClient.rssPausedMaxMiB - r.exportPausedClient.rssBeforeMiB)
        ? ': too small to tell streaming from buffering, try BENCH_TASKS=300000)'
        : ')'),
    ...r.list.map(
      (l) =>
        `deep cursor (${l.sort}): ${l.walk.pages} pages of 100 in ${(l.walk.ms / 1000).toFixed(1)} s (median ${ms(l.walk.perPageMedianMs)} ms per page)`,
    ),
    `total ${r.totalSeconds.toFixed(0)} s`,
    '',
  ];
  return lines.join('\n');
}

function saveResults(r: Results): string {
  const file = join(__dirname, 'results.json');
  let all: Record<string, unknown> = {};
  try {
    if (existsSync(file)) all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    all = {};
  }
  const key = r.database.startsWith('embedded') ? 'embedded' : 'server';
  all[key] = r;
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  return file;
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = Math.round(loadavg()[0]! * 100) / 100;
  installSignalHandlers();
  log(`${TASKS.toLocaleString('en')} tasks, concurrency ${CONCURRENCY}, ${DURATION_MS} ms throughput window`);

  const build = buildIfStale();
  const target: Target = await prepareTarget();
  const database =
    target.kind === 'server'
      ? `PostgreSQL server (${target.databaseName} on ${new URL(target.databaseUrl!).host})`
      : 'embedded PostgreSQL (PGlite, temporary EMBEDDED_DB_DIR)';
  log(`database: ${database}`);
  const api = await startApi(target);
  const client: Client = { base: api.base };

  // 1. Seed: user, org and project through the API; the tasks straight into the database.
  const ids = await seedThroughApi(client);
  const dbUrl = await databaseUrlOf(target, api);
  phase(`seeding ${TASKS.toLocaleString('en')} tasks with SQL…`);
  const seed = await seedTasks(dbUrl, ids, TASKS, target.kind === 'embedded');
  log(
    `seeded in ${(seed.insertMs / 1000).toFixed(1)} s; VACUUM ANALYZE ${seed.vacuum} (${(seed.vacuumMs / 1000).toFixed(1)} s)` +
      (seed.vacuumError ? `: ${seed.vacuumError}` : ''),
  );
  const { orgId, projectId } = ids;

  // 2a. List latency: page 1 vs a deep keyset page, two sorts.
  phase('list latency: page 1 vs deep page…');
  const list: ListResult[] = [];
  for (const sort of ['createdAt', 'dueDate'] as const) list.push(await measureList(client, orgId, sort));

  // 2b. Throughput of page 1 at CONCURRENCY, keep-alive connections.
  phase(`throughput at concurrency ${CONCURRENCY} for ${DURATION_MS} ms…`);
  const query = '/orgs/:id/tasks?limit=20 (page 1, createdAt)';
  const page1Url = `${api.base}/api/v1/orgs/${orgId}/tasks?limit=20`;
  const auth = { authorization: `Bearer ${client.token}` };
  const childCpu0 = cpuMsOf(api.pid);
  const benchCpu0 = process.cpuUsage();
  const tp = await throughput(
    async () => {
      const res = await fetch(page1Url, { headers: auth, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(String(res.status));
    },
    { concurrency: CONCURRENCY, durationMs: DURATION_MS, maxRequests: 200_000 },
  );
  const childCpu1 = cpuMsOf(api.pid);
  const benchCpu = process.cpuUsage(benchCpu0);
  const cpu = {
    apiCpuMs: childCpu0 !== null && childCpu1 !== null ? childCpu1 - childCpu0 : null,
    benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
  };

  // 2c. Stats.
  phase('stats latency…');
  const stats = await series(() => getJson(client, `/api/v1/orgs/${orgId}/stats`), {
    warmup: 3,
    max: 60,
    min: 10,
    budgetMs: 5_000,
  });

  // 2d. CSV export: time and the child's memory.
  phase('CSV export…');
  const exportResult = await measureExport(api, client, orgId, TASKS);
  const exportPaused = await measurePausedExport(api, client, orgId);

  // 2e. Task creation (after the reads, so the lists above saw exactly TASKS rows).
  phase('POST task latency…');
  const createTask = await series(
    (i) =>
      postJson(client, `/api/v1/orgs/${orgId}/projects/${projectId}/tasks`, {
        title: `Bench POST ${i}`,
        priority: (['low', 'medium', 'high', 'urgent'] as const)[Math.abs(i) % 4],
        dueDate: '2030-06-30',
      }),
    { warmup: 5, max: 150, min: 20, budgetMs: 5_000 },
  );

  const results: Results = {
    when: new Date().toISOString(),
    database,
    node: process.version,
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: { start: loadStart, end: Math.round(loadavg()[0]! * 100) / 100 },
    tasks: TASKS,
    build,
    apiStartMs: api.startMs,
    seed,
    list,
    throughput: { ...tp, query, ...cpu },
    stats,
    export: exportResult,
    exportPausedClient: exportPaused,
    createTask,
    totalSeconds: (performance.now() - started) / 1000,
  };
  if (api.child.exitCode !== null) throw new Error(`the API exited (code ${api.child.exitCode}) during the run`);
  phase('done');
  console.log(report(results));
  log(`results written to ${saveResults(results)}`);

  if (process.env.BENCH_EXPLAIN === '1') {
    // Loaded only on demand: it imports the repository's column list from src/.
    const { explainQueries } = await import('./explain');
    const deep = Object.fromEntries(
      list.map((l) => [l.sort, l.deepKeys.slice(-2).map(String) as [string, string]]),
    );
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) as worklane_app:\n\n${await explainQueries(dbUrl, ids, deep)}`);
  }
}

main()
  .then(() => cleanup())
  .then(() => process.exit(isInterrupted() ? 130 : 0))
  .catch(async (error: unknown) => {
    if (isInterrupted()) {
      await cleanup(); // the signal handler is already cleaning up and exits with 130 / 143
      return;
    }
    console.error(`[bench] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup();
    process.exit(1);
  });
