import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { UnitOfWork } from '../src/shared/database/unit-of-work';
import { JobContext, Jobs } from '../src/shared/jobs/jobs';
import {
  IDEMPOTENCY_PURGE_CRON,
  IDEMPOTENCY_PURGE_JOB,
} from '../src/shared/maintenance/idempotency-key-purge';
import { OUTBOX_PRUNE_CRON, OUTBOX_PRUNE_JOB } from '../src/shared/maintenance/outbox-retention';
import { api, createTestApp, TestApp } from './helpers/app';
import { registerUser } from './helpers/users';

/**
 * The job runner (pg-boss) end to end: jobs enqueued in a change's transaction, run by
 * the app's own workers, retried, scheduled and stopped as the app runs them.
 */

// Queue names of this run only: other test files' apps share the database and run workers.
const RUN = randomBytes(4).toString('hex');
const ECHO = `test.echo-${RUN}`;
const FLAKY = `test.flaky-${RUN}`;
const SCHEDULED = `test.scheduled-${RUN}`;
const DOOMED = `test.doomed-${RUN}`;
const SLOW = `test.slow-${RUN}`;
const STUCK = `test.stuck-${RUN}`;

interface Run {
  app: string;
  marker: string;
  attempt: number;
  at: number;
}
/** What every app of this process ran (apps share the process, so one log). */
const runs: Run[] = [];
const ranOf = (marker: string) => runs.filter((r) => r.marker === marker);
/** Releases the slow job. */
let releaseSlow: () => void = () => undefined;
let slowStarted: Promise<void>;
let slowStartedNow: () => void = () => undefined;
let stuckSignal: AbortSignal | undefined;
let stuckStartedNow: () => void = () => undefined;
let stuckStarted: Promise<void>;

const APP_TAG = 'TEST_APP_TAG';

@Injectable()
class TestTasks implements OnModuleInit {
  constructor(
    private readonly jobs: Jobs,
    @Inject(APP_TAG) private readonly tag: string,
  ) {}

  onModuleInit(): void {
    const record = (p: { marker: string }, job: JobContext) =>
      runs.push({ app: this.tag, marker: p.marker, attempt: job.attempt, at: Date.now() });
    this.jobs.register<{ marker: string }>(ECHO, (p, job) => void record(p, job));
    // Fails its first two attempts; exponential backoff from a 1 s base.
    this.jobs.register<{ marker: string }>(
      FLAKY,
      (p, job) => {
        record(p, job);
        if (job.attempt < 3) throw new Error(`flaky attempt ${job.attempt}`);
      },
      { maxAttempts: 4, retryDelaySeconds: 1 },
    );
    this.jobs.register<{ marker: string }>(
      SCHEDULED,
      (p, job) => {
        record(p, job);
        if (job.attempt < 3) throw new Error(`scheduled attempt ${job.attempt}`);
      },
      { retrySchedule: [1, 2] },
    );
    this.jobs.register<{ marker: string }>(
      DOOMED,
      (p, job) => {
        record(p, job);
        throw new Error('never works');
      },
      { retrySchedule: [1] },
    );
    if (this.tag === 'racer') {
      for (let i = 0; i < 5; i++) this.jobs.register(`test.race-${RUN}-${i}`, () => undefined);
    }
    if (this.tag !== 'stopper') return;
    this.jobs.register<{ marker: string }>(SLOW, async (p, job) => {
      slowStartedNow();
      await new Promise<void>((resolve) => (releaseSlow = resolve));
      record(p, job);
    });
    this.jobs.register<{ marker: string }>(STUCK, async (p, job) => {
      stuckSignal = job.signal;
      stuckStartedNow();
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      throw new Error('aborted by shutdown');
    });
  }
}

const withTasks = (tag: string) => ({
  extra: { providers: [{ provide: APP_TAG, useValue: tag }, TestTasks] },
});

/** Waits for a condition the jobs bring about (bounded, not a timing assertion). */
async function eventually<T>(
  probe: () => Promise<T> | T,
  ok: (value: T) => boolean = Boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const marker = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
const onServer = process.env.WORKLANE_TEST_SERVER_URL ? it : it.skip;

describe('the job runner', () => {
  let t: TestApp;
  let jobs: Jobs;
  let uow: UnitOfWork;

  beforeAll(async () => {
    t = await createTestApp({
      env: { WORKERS: '2', JOBS_POLL_INTERVAL_MS: '500', JOBS_SHUTDOWN_TIMEOUT_MS: '2000' },
      ...withTasks('main'),
    });
    jobs = t.app.get(Jobs);
    uow = t.app.get(UnitOfWork);
  });
  afterAll(() => t?.close());

  /** The job rows (live or archived) whose payload carries this marker. */
  const jobRows = (m: string) =>
    t.dataSource.query(
      `SELECT id, name, state, retry_count, data->>'attempt' AS attempt FROM (
         SELECT id, name, state, retry_count, data FROM pgboss.job
         UNION ALL SELECT id, name, state, retry_count, data FROM pgboss.archive) j
        WHERE data->'payload'->>'marker' = $1 ORDER BY (data->>'attempt')::int NULLS FIRST`,
      [m],
    ) as Promise<
      Array<{
        id: string;
        name: string;
        state: string;
        retry_count: number;
        attempt: string | null;
      }>
    >;
  const statesOf = async (m: string) => (await jobRows(m)).map((r) => r.state);

  it('runs a job enqueued in a transaction that commits, once', async () => {
    const m = marker('commit');
    await uow.transaction({ role: 'worklane_app' }, (em) => jobs.enqueue(em, ECHO, { marker: m }));
    expect(
      await eventually(
        () => statesOf(m),
        (s) => s[0] === 'completed',
      ),
    ).toEqual(['completed']);
    expect(ranOf(m)).toHaveLength(1);
  });

  it('never runs a job whose transaction rolled back', async () => {
    const rolledBack = marker('rollback');
    await expect(
      uow.transaction({ role: 'worklane_app' }, async (em) => {
        await jobs.enqueue(em, ECHO, { marker: rolledBack });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    // A job enqueued after it runs; the rolled-back one was never written.
    const after = marker('after');
    await uow.transaction({ role: 'worklane_app' }, (em) =>
      jobs.enqueue(em, ECHO, { marker: after }),
    );
    await eventually(
      () => statesOf(after),
      (s) => s[0] === 'completed',
    );
    expect(await jobRows(rolledBack)).toEqual([]);
    expect(ranOf(rolledBack)).toEqual([]);
  });

  it('deduplicates by job id: the same id enqueued twice is one job', async () => {
    const m = marker('dedupe');
    const jobId = randomUUID();
    const ids = await uow.transaction({ role: 'worklane_app' }, async (em) => [
      await jobs.enqueue(em, ECHO, { marker: m }, { jobId }),
      await jobs.enqueue(em, ECHO, { marker: m }, { jobId }),
    ]);
    expect(ids).toEqual([jobId, null]);
    await eventually(
      () => statesOf(m),
      (s) => s[0] === 'completed',
    );
    expect(ranOf(m)).toHaveLength(1);
  });

  it('retries a failing job with exponential backoff, then it succeeds', async () => {
    const m = marker('flaky');
    await uow.transaction({ role: 'worklane_app' }, (em) => jobs.enqueue(em, FLAKY, { marker: m }));
    await eventually(
      () => statesOf(m),
      (s) => s[0] === 'completed',
    );
    const attempts = ranOf(m);
    expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3]);
    const [row] = await jobRows(m);
    expect(row).toMatchObject({ state: 'completed', retry_count: 2 });
    // The n-th retry waits at least base·2^(n-1): 1 s, then 2 s (the jitter only adds).
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(1000);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(2000);
  });

  it('retries on a schedule of its own (±20 %), each retry a job of the same payload', async () => {
    const m = marker('scheduled');
    await uow.transaction({ role: 'worklane_app' }, (em) =>
      jobs.enqueue(em, SCHEDULED, { marker: m }),
    );
    await eventually(
      () => statesOf(m),
      (s) => s.length === 3 && s[2] === 'completed',
    );
    const attempts = ranOf(m);
    expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect((await jobRows(m)).map((r) => [r.attempt, r.state])).toEqual([
      [null, 'completed'],
      ['2', 'completed'],
      ['3', 'completed'],
    ]);
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(800);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(1600);
  });

  it('fails a scheduled job for good after its last retry', async () => {
    const m = marker('doomed');
    await uow.transaction({ role: 'worklane_app' }, (em) =>
      jobs.enqueue(em, DOOMED, { marker: m }),
    );
    const states = await eventually(
      () => statesOf(m),
      (s) => s[1] === 'failed',
    );
    expect(states).toEqual(['completed', 'failed']);
    expect(ranOf(m).map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('refuses to enqueue an unregistered job', async () => {
    await expect(
      uow.transaction({ role: 'worklane_app' }, (em) => jobs.enqueue(em, 'test.nobody', {})),
    ).rejects.toThrow(/unregistered/);
  });

  describe('the maintenance schedules', () => {
    it('are registered as cron schedules', async () => {
      const schedules = await t.dataSource.query(
        `SELECT name, cron, timezone FROM pgboss.schedule WHERE name = ANY($1) ORDER BY name`,
        [[IDEMPOTENCY_PURGE_JOB, OUTBOX_PRUNE_JOB]],
      );
      expect(schedules).toEqual(
        [
          { name: IDEMPOTENCY_PURGE_JOB, cron: IDEMPOTENCY_PURGE_CRON, timezone: 'UTC' },
          { name: OUTBOX_PRUNE_JOB, cron: OUTBOX_PRUNE_CRON, timezone: 'UTC' },
        ].sort((a, b) => a.name.localeCompare(b.name)),
      );
    });

    it('delete expired idempotency keys and outbox events past retention, keep the rest', async () => {
      const user = await registerUser(t);
      for (const key of ['stale-key', 'fresh-key']) {
        const res = await t
          .http()
          .post(api('/orgs'))
          .set(user.auth)
          .set('Idempotency-Key', `${key}-${RUN}`)
          .send({ name: key });
        expect(res.status).toBe(201);
      }
      await t.dataSource.query(
        `UPDATE idempotency_keys SET created_at = now() - interval '25 hours'
          WHERE user_id = $1 AND created_at = (SELECT min(created_at) FROM idempotency_keys WHERE user_id = $1)`,
        [user.id],
      );
      const [old, kept] = [marker('old-event'), marker('kept-event')];
      await t.dataSource.query(
        `INSERT INTO outbox_events (org_id, position, type, payload, occurred_at) VALUES
           ($3, 1, 'test.aged', jsonb_build_object('marker', $1::text), now() - interval '8 days'),
           ($3, 2, 'test.aged', jsonb_build_object('marker', $2::text), now() - interval '6 days')`,
        [old, kept, randomUUID()],
      );
      const keysOf = async () =>
        Number(
          (
            await t.dataSource.query(`SELECT count(*) FROM idempotency_keys WHERE user_id = $1`, [
              user.id,
            ])
          )[0].count,
        );
      const eventsOf = async (m: string) =>
        Number(
          (
            await t.dataSource.query(
              `SELECT count(*) FROM outbox_events WHERE payload->>'marker' = $1`,
              [m],
            )
          )[0].count,
        );
      expect([await keysOf(), await eventsOf(old), await eventsOf(kept)]).toEqual([2, 1, 1]);

      // What the cron does in its slot: enqueue each maintenance job.
      const ids = await uow.transaction({ role: 'worklane_system' }, async (em) => [
        await jobs.enqueue(em, IDEMPOTENCY_PURGE_JOB, {}),
        await jobs.enqueue(em, OUTBOX_PRUNE_JOB, {}),
      ]);
      const done = () =>
        t.dataSource.query(
          `SELECT state FROM pgboss.job WHERE id = ANY($1::uuid[])
           UNION ALL SELECT state FROM pgboss.archive WHERE id = ANY($1::uuid[])`,
          [ids],
        ) as Promise<Array<{ state: string }>>;
      await eventually(done, (s) => s.length === 2 && s.every((r) => r.state === 'completed'));
      expect([await keysOf(), await eventsOf(old), await eventsOf(kept)]).toEqual([1, 0, 1]);
    });
  });

  onServer(
    'two instances on one database never run one job twice',
    async () => {
      const other = await createTestApp(withTasks('other'));
      try {
        const markers = Array.from({ length: 60 }, (_, i) => marker(`pair-${i}`));
        await uow.transaction({ role: 'worklane_app' }, async (em) => {
          for (const m of markers) await jobs.enqueue(em, ECHO, { marker: m });
        });
        await eventually(
          () =>
            t.dataSource.query(
              `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'
               AND data->'payload'->>'marker' = ANY($2)`,
              [ECHO, markers],
            ),
          (r) => r[0].n === markers.length,
        );
        const ran = runs.filter((r) => markers.includes(r.marker));
        expect(ran).toHaveLength(markers.length);
        expect(new Set(ran.map((r) => r.marker)).size).toBe(markers.length);
      } finally {
        await other.close();
      }
    },
    60_000,
  );

  onServer(
    'instances that start at the same moment create their new queues once, without a deadlock',
    async () => {
      const racers = await Promise.all([1, 2, 3].map(() => createTestApp(withTasks('racer'))));
      try {
        const [{ n }] = await t.dataSource.query(
          `SELECT count(*)::int AS n FROM pgboss.queue WHERE name LIKE $1`,
          [`test.race-${RUN}-%`],
        );
        expect(n).toBe(5);
      } finally {
        await Promise.all(racers.map((r) => r.close()));
      }
    },
    60_000,
  );

  describe('graceful stop', () => {
    it('lets a running job finish before the app closes', async () => {
      slowStarted = new Promise((resolve) => (slowStartedNow = resolve));
      const stopper = await createTestApp(withTasks('stopper'));
      const m = marker('slow');
      await stopper.app
        .get(UnitOfWork)
        .transaction({ role: 'worklane_app' }, (em) =>
          stopper.app.get(Jobs).enqueue(em, SLOW, { marker: m }),
        );
      await slowStarted;
      let closed = false;
      const closing = stopper.close().then(() => (closed = true));
      // The app is stopping and waits for the job: release it, then it may close.
      await new Promise((resolve) => setImmediate(resolve));
      expect(closed).toBe(false);
      releaseSlow();
      await closing;
      expect(ranOf(m)).toHaveLength(1);
      expect(await statesOf(m)).toEqual(['completed']);
    });

    it('releases a job that outlives the grace period, for another instance to retry', async () => {
      stuckStarted = new Promise((resolve) => (stuckStartedNow = resolve));
      const stopper = await createTestApp(withTasks('stopper'));
      const m = marker('stuck');
      await stopper.app
        .get(UnitOfWork)
        .transaction({ role: 'worklane_app' }, (em) =>
          stopper.app.get(Jobs).enqueue(em, STUCK, { marker: m }),
        );
      await stuckStarted;
      await stopper.close();
      expect(stuckSignal?.aborted).toBe(true);
      const [row] = await jobRows(m);
      expect(row.state).toBe('retry');
    });
  });
});
