import { isInterrupted } from './cleanup';

/** HTTP helpers over Node's global fetch (undici: keep-alive by default), 127.0.0.1 only. */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} → ${status}: ${body.slice(0, 500)}`);
  }
}

export interface Client {
  base: string;
  token?: string;
}

function headers(client: Client, json: boolean): Record<string, string> {
  return {
    ...(client.token ? { authorization: `Bearer ${client.token}` } : {}),
    ...(json ? { 'content-type': 'application/json' } : {}),
  };
}

export async function getJson<T>(client: Client, path: string): Promise<T> {
  const res = await fetch(client.base + path, { headers: headers(client, false), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text, `GET ${path}`);
  return JSON.parse(text) as T;
}

export async function postJson<T>(client: Client, path: string, body: unknown): Promise<T> {
  const res = await fetch(client.base + path, {
    method: 'POST',
    headers: headers(client, true),
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text, `POST ${path}`);
  return JSON.parse(text) as T;
}

// ---------------------------------------------------------------------------------------
// Latency series and throughput
// ---------------------------------------------------------------------------------------

export interface Latency {
  n: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    medianMs: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    minMs: sorted[0] ?? NaN,
    maxMs: sorted[sorted.length - 1] ?? NaN,
    meanMs: mean,
  };
}

/**
 * Runs `op` sequentially: `warmup` unmeasured calls, then up to `max` measured ones or
 * until `budgetMs` has passed (at least `min` when time allows), whichever comes first.
 */
export async function series(
  op: (i: number) => Promise<unknown>,
  opts: { warmup?: number; max: number; min?: number; budgetMs: number },
): Promise<Latency> {
  for (let i = 0; i < (opts.warmup ?? 0) && !isInterrupted(); i++) await op(-1 - i);
  const samples: number[] = [];
  const deadline = performance.now() + opts.budgetMs;
  for (let i = 0; i < opts.max && !isInterrupted(); i++) {
    if (performance.now() > deadline && samples.length >= (opts.min ?? 1)) break;
    if (performance.now() > deadline + opts.budgetMs) break; // hard stop: twice the budget
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

export interface Throughput {
  concurrency: number;
  seconds: number;
  requests: number;
  errors: number;
  reqPerSec: number;
  latency: Latency;
}

/**
 * `concurrency` workers call `op` back to back for `durationMs` or until `maxRequests`
 * have started, whichever comes first. Errors are counted, not thrown.
 */
export async function throughput(
  op: () => Promise<void>,
  opts: { concurrency: number; durationMs: number; maxRequests: number },
): Promise<Throughput> {
  let started = 0;
  let errors = 0;
  const samples: number[] = [];
  const t0 = performance.now();
  const end = t0 + opts.durationMs;
  const worker = async () => {
    while (performance.now() < end && started < opts.maxRequests && !isInterrupted()) {
      started++;
      const s = performance.now();
      try {
        await op();
        samples.push(performance.now() - s);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    concurrency: opts.concurrency,
    seconds,
    requests: samples.length,
    errors,
    reqPerSec: samples.length / seconds,
    latency: summarize(samples),
  };
}
