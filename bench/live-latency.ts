/**
 * Live-event latency: `npm run bench:live` (embedded database) or with DATABASE_URL (a fresh
 * database on that server, dropped after).
 *
 * Starts the built API (production mode) in a child process, opens the org's event stream
 * over loopback and, one at a time, creates BENCH_LIVE_EVENTS tasks (default 1,000). For
 * each it times the mutation → SSE event on the stream's own connection (from sending the
 * POST, and from its 201), and — with a local receiver registered as a webhook — the
 * mutation → first delivery attempt. Prints p50/p99 and writes bench/results/live.json.
 */
import { createServer, IncomingMessage, request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, installSignalHandlers } from './cleanup';
import { Client, postJson, percentile } from './measure';
import { buildIfStale, prepareTarget, ROOT, startApi } from './server';

const log = (message: string) => console.log(`[bench:live] ${message}`);
const EVENTS = Number(process.env.BENCH_LIVE_EVENTS ?? 1000);

/** When each task's event arrived (by task id), and a way to wait for one. */
class Arrivals {
  private readonly at = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  has(id: string): boolean {
    return this.at.has(id);
  }

  record(id: string, at: number): void {
    this.at.set(id, at);
    this.waiting.get(id)?.(at);
  }

  of(id: string): Promise<number> {
    const at = this.at.get(id);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
}

/** The event stream, as a map from task id to the time its task.created arrived. */
function follow(url: string, token: string, arrivals: Arrivals): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (!data) continue;
          const id = JSON.parse(data.slice(6))?.target?.id as string | undefined;
          if (id) arrivals.record(id, at);
        }
      });
      resolve(res);
    });
    req.end();
  });
}

/** A webhook receiver on loopback: the time each task's first attempt arrived. */
async function receiver(arrivals: Arrivals): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const at = performance.now();
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(204).end();
      try {
        const id = JSON.parse(body)?.data?.target?.id as string | undefined;
        if (id && !arrivals.has(id)) arrivals.record(id, at); // the first attempt
      } catch {
        /* not ours */
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, close: () => server.close() };
}

function summary(samples: number[]): { p50_ms: number; p99_ms: number; max_ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted[sorted.length - 1] ?? 0),
  };
}

async function main(): Promise<void> {
  installSignalHandlers();
  const build = buildIfStale();
  if (build.warning) console.error(build.warning);
  const target = await prepareTarget();
  // Development mode: production refuses a loopback webhook target (SSRF rules), and the
  // receiver here is on loopback. Logs stay at warn, as in the other benchmarks.
  const api = await startApi(target, { NODE_ENV: 'development', LOG_FORMAT: 'json' });
  const anonymous: Client = { base: `${api.base}/api/v1` };
  const email = `live-${Date.now()}@bench.test`;
  const { accessToken } = await postJson<{ accessToken: string }>(anonymous, '/auth/register', {
    email,
    password: 'bench password 1',
    name: 'Bench',
  });
  const client: Client = { ...anonymous, token: accessToken };
  const org = await postJson<{ id: string }>(client, '/orgs', { name: 'Live bench' });
  const project = await postJson<{ id: string }>(client, `/orgs/${org.id}/projects`, {
    name: 'Board',
  });

  const sse = new Arrivals();
  const hooks = new Arrivals();
  const stream = await follow(`${client.base}/orgs/${org.id}/events`, accessToken, sse);
  const hook = await receiver(hooks);
  let webhooks = false;
  try {
    await postJson(client, `/orgs/${org.id}/webhooks`, { url: hook.url, events: ['task.created'] });
    webhooks = true;
  } catch (error) {
    log(`no webhook measured: ${String(error).slice(0, 120)}`);
  }

  const fromRequest: number[] = [];
  const fromResponse: number[] = [];
  const toWebhook: number[] = [];
  const path = `/orgs/${org.id}/projects/${project.id}/tasks`;
  const within = <T>(promise: Promise<T>, what: string) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what} did not arrive in 10 s`)), 10_000).unref(),
      ),
    ]);
  log(`${EVENTS} mutations, one at a time${webhooks ? ', with a webhook' : ''}`);
  for (let i = 0; i < EVENTS; i++) {
    const sent = performance.now();
    const task = await postJson<{ id: string }>(client, path, { title: `live ${i}` });
    const answered = performance.now();
    const sseAt = await within(sse.of(task.id), `the event of task ${i}`);
    fromRequest.push(sseAt - sent);
    fromResponse.push(sseAt - answered);
    if (webhooks)
      toWebhook.push((await within(hooks.of(task.id), `the delivery of task ${i}`)) - sent);
  }
  stream.destroy();
  hook.close();

  const result = {
    events: EVENTS,
    database: target.kind,
    sse_latency: { ...summary(fromRequest), from_response: summary(fromResponse) },
    webhook_latency: webhooks ? summary(toWebhook) : null,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', `live-${target.kind}.json`),
    JSON.stringify(result, null, 2),
  );
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
