import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Pool, PoolClient } from 'pg';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import { Env } from '../config/env';
import { isEmbedded } from '../database/embedded';
import { RequestContext } from '../database/request-context';
import type { CronEntry, EnqueueOptions, Task } from './jobs';

/** What a job row holds: the caller's payload, and the attempt for scheduled retries. */
interface Envelope {
  payload: object;
  attempt?: number;
}

/** pg-boss retries a job of a scheduled-retry task natively only when its run was lost. */
const LOST_RUN_RETRIES = 2;
const SCHEDULE_JITTER = 0.2;

/**
 * pg-boss, run the way this app needs it:
 * - its own small pool (not the request pool), whose connections `SET ROLE
 *   worklane_system` on a server — the login role owns nothing (docker/init-roles.sh);
 *   the embedded database shares session settings across connections and is superuser
 *   anyway, so there the role stays;
 * - `migrate: false`: the schema comes from migrations/1763900005000-JobQueue.ts;
 * - enqueueing on the caller's transaction (`send` with a `db` on its EntityManager);
 * - WORKERS polling loops per task; 0 runs no job, no cron and no maintenance.
 */
@Injectable()
export class JobRunner {
  private readonly logger = new Logger('Jobs');
  private readonly workers: number;
  private readonly pollSeconds: number;
  private readonly shutdownMs: number;
  private pool?: Pool;
  private boss?: PgBoss;
  private readonly workerIds = new Map<string, string[]>();
  private readonly abort = new AbortController();
  /** pg-boss's statements in flight (it completes jobs without awaiting them). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping?: Promise<void>;
  private stopRequested = false;
  /** Handlers running now (a fetch on the wire when the stop began may still start one). */
  private readonly running = new Set<Promise<void>>();
  started = false;

  constructor(
    config: ConfigService<Env, true>,
    private readonly dataSource: DataSource,
  ) {
    this.workers = config.get('WORKERS', { infer: true });
    this.pollSeconds = config.get('JOBS_POLL_INTERVAL_MS', { infer: true }) / 1000;
    this.shutdownMs = config.get('JOBS_SHUTDOWN_TIMEOUT_MS', { infer: true });
  }

  async start(tasks: Task[], crons: CronEntry[]): Promise<void> {
    const url = (this.dataSource.options as { url: string }).url;
    const embedded = await isEmbedded(this.dataSource);
    const pool = (this.pool = new Pool({
      connectionString: url,
      // On a server the runner acts as worklane_system from the connection's first statement.
      ...(embedded ? {} : { options: '-c role=worklane_system' }),
      max: Math.min(2 + this.workers, 6),
      application_name: 'worklane-jobs',
      connectionTimeoutMillis: 10_000,
      query_timeout: 60_000,
    }));
    pool.on('error', (error) => this.logger.error(`job pool: ${error.message}`));
    if (!embedded) {
      const [{ role }] = (await pool.query('SELECT current_user AS role')).rows;
      if (role !== 'worklane_system') {
        await pool.end();
        throw new Error(
          'the job runner could not SET ROLE worklane_system: grant that role to the login role',
        );
      }
    }
    await this.startBoss(pool, tasks, crons);
  }

  private async startBoss(pool: Pool, tasks: Task[], crons: CronEntry[]): Promise<void> {
    const runs = this.workers > 0;
    const boss = (this.boss = new PgBoss({
      db: { executeSql: (text, values) => this.track(pool.query(text, values)) },
      migrate: false,
      schedule: runs,
      supervise: runs,
      pollingIntervalSeconds: this.pollSeconds,
    }));
    boss.on('error', (error) => this.logger.error(`pg-boss: ${String(error?.message ?? error)}`));
    await this.ensureQueues(tasks.map(queueOf));
    if (runs) {
      for (const { name, cron, payload } of crons)
        await boss.schedule(name, cron, { payload } satisfies Envelope, { tz: 'UTC' });
      for (const stale of await boss.getSchedules())
        if (!crons.some((c) => c.name === stale.name)) await boss.unschedule(stale.name);
    }
    await boss.start();
    this.started = true;
    if (!runs) {
      this.logger.log('WORKERS=0: this instance enqueues jobs but runs none');
      return;
    }
    for (const task of tasks) {
      const ids: string[] = [];
      for (let i = 0; i < this.workers; i++) {
        ids.push(
          await boss.work<Envelope>(
            task.name,
            { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: this.pollSeconds },
            ([job]) => this.run(task, job),
          ),
        );
      }
      this.workerIds.set(task.name, ids);
    }
    this.logger.log(`running ${tasks.length} tasks with ${this.workers} worker(s) each`);
  }

  /**
   * Creates the queues that are missing and brings the others' settings in line with the
   * code, in one transaction under an advisory lock. pg-boss's own `createQueue` creates a
   * partition with a foreign key to `pgboss.queue`: two instances (or test apps) starting
   * at once deadlock on that table's locks, so creation is serialised here, and a queue
   * that exists costs no DDL at all.
   */
  private async ensureQueues(queues: QueueSettings[]): Promise<void> {
    // Creating a queue attaches a partition to pgboss.job: that DDL can deadlock with
    // another instance's job traffic (not only with its queue creation), so it is retried.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createOrAlignQueues(queues);
      } catch (error) {
        if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
      }
    }
  }

  private async createOrAlignQueues(queues: QueueSettings[]): Promise<void> {
    await this.inTransaction(async (db) => {
      await db.executeSql(`SELECT pg_advisory_xact_lock(hashtext('worklane.jobs.queues'))`, []);
      const { rows } = await db.executeSql(
        `SELECT name, policy, retry_limit AS "retryLimit", retry_delay AS "retryDelay",
                retry_backoff AS "retryBackoff", expire_seconds AS "expireInSeconds"
           FROM pgboss.queue WHERE name = ANY($1::text[])`,
        [queues.map((q) => q.name)],
      );
      const stored = new Map(rows.map((row: QueueSettings) => [row.name, row]));
      for (const queue of queues) {
        const old = stored.get(queue.name);
        if (!old) {
          await db.executeSql(`SELECT pgboss.create_queue($1, $2::json)`, [
            queue.name,
            JSON.stringify(queue),
          ]);
        } else if (JSON.stringify({ ...old }) !== JSON.stringify({ ...queue })) {
          await db.executeSql(
            `UPDATE pgboss.queue SET policy = $2, retry_limit = $3, retry_delay = $4,
                    retry_backoff = $5, expire_seconds = $6, updated_on = now()
              WHERE name = $1`,
            [
              queue.name,
              queue.policy,
              queue.retryLimit,
              queue.retryDelay,
              queue.retryBackoff,
              queue.expireInSeconds,
            ],
          );
        }
      }
    });
  }

  /** Inserts the job through `db` (the caller's transaction). */
  async send(
    db: PgBoss.Db,
    task: Task,
    payload: object,
    options: EnqueueOptions,
    attempt?: number,
  ): Promise<string | null> {
    if (!this.boss) throw new Error(`job ${task.name} enqueued before the job runner started`);
    const maxAttempts = task.options.retrySchedule ? undefined : options.maxAttempts;
    const sendOptions: PgBoss.SendOptions = { db };
    // pg-boss checks every key present, so unset ones must be absent, not undefined.
    if (options.jobId) sendOptions.id = options.jobId;
    if (options.jobKey) sendOptions.singletonKey = options.jobKey;
    if (options.runAt) sendOptions.startAfter = options.runAt;
    if (maxAttempts !== undefined) sendOptions.retryLimit = Math.max(0, maxAttempts - 1);
    const envelope: Envelope = attempt === undefined ? { payload } : { payload, attempt };
    return this.boss.send(task.name, envelope, sendOptions);
  }

  private track<T>(query: Promise<T>): Promise<T> {
    this.inFlight.add(query);
    const settle = () => this.inFlight.delete(query);
    query.then(settle, settle);
    return query;
  }

  /** Wakes this instance's idle workers of a task (a job was just committed for it). */
  wake(name: string): void {
    for (const id of this.workerIds.get(name) ?? []) this.boss?.notifyWorker(id);
  }

  private run(task: Task, job: PgBoss.JobWithMetadata<Envelope>): Promise<void> {
    // A worker that found a job looks for the next one at once instead of sleeping a poll
    // interval: a backlog (a burst of emails) drains at the handlers' pace, not one job
    // per JOBS_POLL_INTERVAL_MS. An empty queue costs one extra fetch.
    if (!this.stopRequested) this.wake(task.name);
    const running = this.runJob(task, job);
    this.running.add(running);
    const settle = () => this.running.delete(running);
    running.then(settle, settle);
    return running;
  }

  private async runJob(task: Task, job: PgBoss.JobWithMetadata<Envelope>): Promise<void> {
    const scheduled = task.options.retrySchedule;
    const attempt = scheduled ? (job.data.attempt ?? 1) : job.retryCount + 1;
    const maxAttempts = scheduled ? scheduled.length + 1 : job.retryLimit + 1;
    try {
      // A context of its own: a job never runs inside the request that enqueued it.
      await RequestContext.run({ requestId: `job:${job.id}` }, () =>
        task.handler(job.data.payload, {
          id: job.id,
          name: job.name,
          attempt,
          maxAttempts,
          signal: this.abort.signal,
        }),
      );
    } catch (error) {
      this.logger.warn(
        `job ${task.name} ${job.id} failed (attempt ${attempt} of ${maxAttempts}): ${String(error)}`,
      );
      if (!scheduled) throw error; // pg-boss retries with backoff, or fails it for good
      await this.closeScheduledAttempt(task, job, attempt, scheduled, error);
    }
  }

  /**
   * A scheduled-retry task failed: in one transaction, the next attempt is enqueued (or,
   * after the last one, the job is marked failed) and this job is closed — so a crash in
   * between neither loses the retry nor doubles it.
   */
  private async closeScheduledAttempt(
    task: Task,
    job: PgBoss.JobWithMetadata<Envelope>,
    attempt: number,
    schedule: readonly number[],
    error: unknown,
  ): Promise<void> {
    const output = { message: error instanceof Error ? error.message : String(error), attempt };
    await this.inTransaction(async (db) => {
      if (attempt > schedule.length) {
        // The last attempt: no native retry either (those are for lost runs).
        await db.executeSql(
          `UPDATE pgboss.job SET retry_limit = retry_count WHERE name = $1 AND id = $2`,
          [task.name, job.id],
        );
        await this.boss!.fail(task.name, job.id, output, { db });
        return;
      }
      const delay = schedule[attempt - 1] * (1 + SCHEDULE_JITTER * (2 * Math.random() - 1));
      const runAt = new Date(Date.now() + delay * 1000);
      await this.send(
        db,
        task,
        job.data.payload,
        { runAt, jobKey: job.singletonKey ?? undefined },
        attempt + 1,
      );
      await this.boss!.complete(task.name, job.id, output, { db });
    });
  }

  private async inTransaction(fn: (db: PgBoss.Db) => Promise<void>): Promise<void> {
    const client: PoolClient = await this.pool!.connect();
    try {
      await client.query('BEGIN');
      await fn({ executeSql: (text, values) => client.query(text, values) });
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Stops polling and cron, lets running jobs finish for JOBS_SHUTDOWN_TIMEOUT_MS, then
   * aborts their signal and fails them back to the queue (pg-boss `failWip`), so another
   * instance retries them; the pool closes once the last statement has answered.
   */
  stop(): Promise<void> {
    this.stopRequested = true;
    return (this.stopping ??= (async () => {
      if (this.boss && this.started) {
        const grace = setTimeout(() => this.abort.abort(), this.shutdownMs);
        try {
          await this.boss.stop({
            graceful: true,
            wait: true,
            close: false,
            timeout: this.shutdownMs,
          });
        } finally {
          clearTimeout(grace);
        }
      }
      this.started = false;
      // A job that finished just before the stop has its completion still on the wire, and
      // a fetch that was may still hand a job to a handler: wait until both are quiet.
      while (this.inFlight.size > 0 || this.running.size > 0) {
        await Promise.allSettled([...this.inFlight, ...this.running]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await this.pool?.end();
    })());
  }
}

/** A queue's settings as pg-boss stores them (`pgboss.queue`), in that column order. */
interface QueueSettings {
  name: string;
  policy: string;
  retryLimit: number;
  retryDelay: number;
  retryBackoff: boolean;
  expireInSeconds: number;
}

function queueOf(task: Task): QueueSettings {
  return {
    name: task.name,
    policy: task.options.policy,
    retryLimit: task.options.retrySchedule ? LOST_RUN_RETRIES : task.options.maxAttempts - 1,
    retryDelay: task.options.retryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: task.options.timeoutSeconds,
  };
}
