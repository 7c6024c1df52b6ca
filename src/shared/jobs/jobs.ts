import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RequestContext } from '../database/request-context';
import { rows } from '../database/sql';
import { JobRunner } from './job-runner';

/** What a handler learns about the job it runs. */
export interface JobContext {
  id: string;
  name: string;
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when a shutdown's grace period runs out: stop, the job will be retried. */
  signal: AbortSignal;
}

export type JobHandler<P> = (payload: P, job: JobContext) => Promise<void> | void;

/**
 * How jobs of one task are retried and bounded. A handler that throws has failed that
 * attempt; one that returns has succeeded. Handlers must be idempotent: a job whose
 * instance died mid-run is run again once its timeout has passed.
 */
export interface TaskOptions {
  /** Attempts in all, the first included, before the job is failed (default 5). */
  maxAttempts?: number;
  /**
   * Exponential backoff with jitter: after the n-th failure the job waits a random time
   * in [base·2^(n-1), base·2^n) seconds (pg-boss's `retryBackoff`). Default 2 s.
   */
  retryDelaySeconds?: number;
  /**
   * A retry schedule of its own instead (webhooks: 5 s, 30 s, 2 min...): the delay before
   * each retry in seconds, each ±20 %; attempts = length + 1. Each retry is a new job
   * (carrying the attempt number), enqueued in the transaction that closes the failed one.
   */
  retrySchedule?: readonly number[];
  /**
   * A run longer than this fails (and is retried) — also how a job held by an instance
   * that died comes back. Default 300 s.
   */
  timeoutSeconds?: number;
  /**
   * pg-boss's queue policy, which gives `jobKey` its meaning: `standard` (default; the
   * key only labels), `short` (at most one waiting job per key: enqueueing another is a
   * no-op), `singleton` (at most one running per key), `stately` (one waiting and one
   * running per key).
   */
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
}

export interface EnqueueOptions {
  /** Not before this time (default: at once, once the transaction commits). */
  runAt?: Date;
  /** Overrides the task's maxAttempts for this job (not for tasks with a retrySchedule). */
  maxAttempts?: number;
  /** pg-boss's singleton key, deduplicating per the task's policy. */
  jobKey?: string;
  /** A uuid of the caller's: enqueueing the same id twice makes one job (the second → null). */
  jobId?: string;
}

export interface Task<P = any> {
  name: string;
  handler: JobHandler<P>;
  options: Required<Omit<TaskOptions, 'retrySchedule'>> & { retrySchedule?: readonly number[] };
}

export interface CronEntry {
  name: string;
  cron: string;
  payload: object;
}

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * The job port: modules register their tasks (and cron schedules) while the app starts —
 * in `onModuleInit` — and enqueue jobs in the transaction of the change that causes
 * them, so a rolled-back change leaves no job and a committed one always has its job.
 * Backed by pg-boss (src/shared/jobs/job-runner.ts).
 */
@Injectable()
export class Jobs implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly tasks = new Map<string, Task>();
  private readonly crons = new Map<string, CronEntry>();

  constructor(private readonly runner: JobRunner) {}

  /** Declares a task and its handler; at most once per name, before the app has started. */
  register<P extends object>(
    name: string,
    handler: JobHandler<P>,
    options: TaskOptions = {},
  ): void {
    if (!NAME.test(name)) throw new Error(`invalid job name ${JSON.stringify(name)}`);
    if (this.tasks.has(name)) throw new Error(`job ${name} is registered twice`);
    if (this.runner.started) throw new Error(`job ${name} registered after the runner started`);
    const schedule = options.retrySchedule;
    if (schedule && (schedule.length === 0 || schedule.some((s) => !(s > 0))))
      throw new Error(`job ${name}: retrySchedule must list positive delays`);
    this.tasks.set(name, {
      name,
      handler: handler as JobHandler<any>,
      options: {
        maxAttempts: schedule ? schedule.length + 1 : (options.maxAttempts ?? 5),
        retryDelaySeconds: options.retryDelaySeconds ?? 2,
        timeoutSeconds: options.timeoutSeconds ?? 300,
        policy: options.policy ?? 'standard',
        retrySchedule: schedule,
      },
    });
  }

  /**
   * Runs a registered task on a cron schedule (UTC, minute resolution). Across instances
   * each slot runs once. Instances with WORKERS=0 leave schedules alone.
   */
  schedule(name: string, cron: string, payload: object = {}): void {
    if (!this.tasks.has(name)) throw new Error(`cron for unregistered job ${name}`);
    if (this.runner.started) throw new Error(`cron ${name} set after the runner started`);
    this.crons.set(name, { name, cron, payload });
  }

  /**
   * Enqueues a job in the transaction `em` belongs to: it exists if and only if that
   * transaction commits. Answers the job id, or null when `jobId`/`jobKey` made it a
   * duplicate. A job enqueued in this instance's current request wakes its workers on
   * commit; other instances find it on their next poll.
   */
  async enqueue<P extends object>(
    em: EntityManager,
    name: string,
    payload: P,
    options: EnqueueOptions = {},
  ): Promise<string | null> {
    const task = this.tasks.get(name);
    if (!task) throw new Error(`enqueue of unregistered job ${name}`);
    const id = await this.runner.send(
      {
        executeSql: async (text, values) => ({
          rows: await rows<Record<string, unknown>>(em, text, values),
        }),
      },
      task,
      payload,
      options,
    );
    if (id === null && !options.jobId && !options.jobKey)
      throw new Error(`job ${name} was not enqueued (is its queue created?)`);
    const transaction = RequestContext.current()?.transaction;
    if (id && transaction?.isOpen && transaction.manager === em)
      transaction.onCommit(() => this.runner.wake(name));
    return id;
  }

  /** Every module has registered its tasks (onModuleInit): create the queues, start. */
  onApplicationBootstrap(): Promise<void> {
    return this.runner.start([...this.tasks.values()], [...this.crons.values()]);
  }

  /** Before the pool closes: running jobs finish (or are released once the grace ends). */
  beforeApplicationShutdown(): Promise<void> {
    return this.runner.stop();
  }
}
