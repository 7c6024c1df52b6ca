// temporary profiling harness (not committed)
import { request, Agent } from 'node:http';
import { installSignalHandlers, cleanup } from './cleanup';
import { prepareTarget, startApi } from './server';
import { seedTasks } from './seed';
import { cpuMsOf } from './proc';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function call(port: number, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any; headers: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { const text = Buffer.concat(chunks).toString(); let parsed: any = text; try { parsed = JSON.parse(text); } catch {} resolve({ status: res.statusCode!, body: parsed, headers: res.headers }); });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

async function load(port: number, seconds: number, conns: number, make: () => [string, string, unknown?], token: string) {
  const end = Date.now() + seconds * 1000; let n = 0; const lat: number[] = []; let bad = 0;
  await Promise.all(Array.from({ length: conns }, async () => {
    while (Date.now() < end) { const [m, p, b] = make(); const t = performance.now(); const r = await call(port, m, p, token, b); lat.push(performance.now() - t); if (r.status >= 300) { if (bad++ < 3) console.log(r.status, JSON.stringify(r.body).slice(0, 200)); } n++; }
  }));
  lat.sort((a, b) => a - b);
  return { rps: n / seconds, p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)], bad };
}

async function main() {
  installSignalHandlers();
  const target = await prepareTarget();
  if (process.env.PROF_SQL) { const { Client } = require('pg'); const c = new Client({ connectionString: process.env.DATABASE_URL }); await c.connect(); await c.query(`ALTER DATABASE ${target.databaseName} SET log_statement = 'all'`); await c.end(); }
  const api = await startApi(target, { LOG_LEVEL: process.env.PROF_LOG ?? 'info' });
  const reg = await call(api.port, 'POST', '/api/v1/auth/register', undefined, { email: 'p@example.com', password: 'correct-horse-battery', name: 'P' });
  const token = reg.body.accessToken; const userId = reg.body.user.id;
  const org = await call(api.port, 'POST', '/api/v1/orgs', token, { name: 'Prof' });
  const orgId = org.body.id;
  const project = await call(api.port, 'POST', `/api/v1/orgs/${orgId}/projects`, token, { name: 'P1' });
  const projectId = project.body.id;
  await seedTasks(target.databaseUrl!, { orgId, projectId, userId }, 20000, false);
  let scen = process.env.PROF_SCEN ?? 'list';
  const ids: string[] = (await call(api.port, 'GET', `/api/v1/orgs/${orgId}/tasks?limit=100`, token)).body.data.map((t: any) => t.id);
  const make = (): [string, string, unknown?] =>
    (scen = process.env.PROF_SCEN ?? scen) === 'list' ? ['GET', `/api/v1/orgs/${orgId}/tasks?limit=50`]
    : scen === 'get' ? ['GET', `/api/v1/orgs/${orgId}/projects/${projectId}/tasks/${ids[Math.floor(Math.random() * ids.length)]}`]
    : scen === 'create' ? ['POST', `/api/v1/orgs/${orgId}/projects/${projectId}/tasks`, { title: 'x' }]
    : ['PATCH', `/api/v1/orgs/${orgId}/projects/${projectId}/tasks/${ids[Math.floor(Math.random() * ids.length)]}`, { status: Math.random() < 0.5 ? 'done' : 'todo' }];
  if (process.env.PROF_SQL) { for (const sc of ['list','get','create','update']) { process.env.PROF_SCEN = sc; console.log('MARK', sc); const { Client } = require('pg'); const c = new Client({ connectionString: process.env.DATABASE_URL }); await c.connect(); await c.query(`SELECT 'MARK ${sc}'`); await c.end(); const [m,p,b] = make(); const r = await call(api.port, m, p, token, b); console.log(sc, r.status); } agent.destroy(); await cleanup(); return; }
  await load(api.port, 3, 50, make, token);
  const c0 = cpuMsOf(api.pid);
  const r = await load(api.port, Number(process.env.PROF_SECS ?? 10), 50, make, token);
  const c1 = cpuMsOf(api.pid);
  const n = r.rps * Number(process.env.PROF_SECS ?? 10);
  console.log(JSON.stringify({ scen, ...r, cpu_us: c0 != null && c1 != null ? ((c1 - c0) * 1000) / n : null }));
  agent.destroy();
  await cleanup();
}
main().catch(async (e) => { console.error(e); await cleanup(); process.exit(1); });
