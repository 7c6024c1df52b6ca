import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { UnitOfWork } from '../src/shared/database/unit-of-work';
import { Jobs } from '../src/shared/jobs/jobs';
import { api, createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { PROBLEM } from './helpers/problems';
import {
  startThrowawayPostgres,
  throwawayAvailable,
  ThrowawayPostgres,
} from './helpers/throwaway-postgres';
import { registerUser, SignedInUser } from './helpers/users';
import { createProject } from './helpers/work';

/**
 * The database goes away while requests flow, and comes back: the API answers 503
 * problem+json within a bounded time (no hanging request), readiness goes 503, and it
 * recovers without a restart; nothing it acknowledged is missing, and no job is lost or
 * run twice. The database is a cluster of this test's own (initdb/pg_ctl), so it can be
 * stopped; where the server's binaries are absent, the test says so and is skipped. It
 * does not depend on the run's database, so it runs once, in the server run.
 */
// Not in the Citus run: the cluster is not the database this test stops (its own is).
const runs =
  throwawayAvailable && !!process.env.WORKLANE_TEST_SERVER_URL && !process.env.WORKLANE_TEST_CITUS;
if (!throwawayAvailable) console.warn('[faults] no PostgreSQL binaries: the fault test is skipped');
const maybe = runs ? describe : describe.skip;

const FAULT_JOB = `test.fault-${randomBytes(4).toString('hex')}`;
const jobRuns = new Map<string, number>();

@Injectable()
class FaultTasks implements OnModuleInit {
  constructor(private readonly jobs: Jobs) {}
  onModuleInit(): void {
    this.jobs.register<{ marker: string }>(FAULT_JOB, ({ marker }) => {
      jobRuns.set(marker, (jobRuns.get(marker) ?? 0) + 1);
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

maybe('when the database goes away and comes back', () => {
  let pg: ThrowawayPostgres;
  let t: TestApp;
  let owner: SignedInUser;
  let orgId: string;
  let projectId: string;

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
    t = await createTestApp({
      env: {
        DATABASE_URL: pg.url,
        MIGRATIONS_RUN: 'true',
        WORKERS: '1',
        JOBS_POLL_INTERVAL_MS: '500',
      },
      extra: { providers: [FaultTasks] },
    });
    owner = await registerUser(t);
    orgId = await createOrg(t, owner);
    projectId = await createProject(t, orgId, owner);
  }, 120_000);
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    pg?.destroy();
  });

  it('answers 503 fast while it is down, recovers by itself, and loses nothing acknowledged', async () => {
    const markers = Array.from(
      { length: 10 },
      (_, i) => `fault-${i}-${randomBytes(3).toString('hex')}`,
    );
    // Jobs due while the database is down.
    await t.app.get(UnitOfWork).transaction({ role: 'worklane_app' }, async (em) => {
      for (const marker of markers) {
        await t.app
          .get(Jobs)
          .enqueue(em, FAULT_JOB, { marker }, { runAt: new Date(Date.now() + 1500) });
      }
    });

    const answers: Array<{ status: number; ms: number; problem: boolean; retryAfter?: string }> =
      [];
    const acknowledged: string[] = [];
    let flowing = true;
    const flow = (async () => {
      for (let i = 0; flowing; i++) {
        const started = Date.now();
        const res = await t
          .http()
          .post(api(`/orgs/${orgId}/projects/${projectId}/tasks`))
          .set(owner.auth)
          .send({ title: `flow ${i}` });
        answers.push({
          status: res.status,
          ms: Date.now() - started,
          problem: PROBLEM.test(String(res.headers['content-type'])),
          retryAfter: res.headers['retry-after'],
        });
        if (res.status === 201) acknowledged.push(res.body.id);
        else await sleep(100);
      }
    })();

    await sleep(700);
    pg.stop();
    await sleep(1500);
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(503);
    await sleep(1500);
    const duringOutage = answers.length;
    pg.start();
    const deadline = Date.now() + 30_000;
    while ((await t.http().get('/health/ready')).status !== 200) {
      if (Date.now() > deadline) throw new Error('the API did not see the database come back');
      await sleep(200);
    }
    await sleep(1000);
    flowing = false;
    await flow;

    const failed = answers.filter((a) => a.status !== 201);
    expect(failed.length).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(duringOutage); // it went on after the outage
    for (const a of failed) {
      expect(a.status).toBe(503);
      expect(a.problem).toBe(true);
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    // No request hung: the slowest answer is bounded by the pool's connection timeout.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(12_000);
    expect(answers[answers.length - 1]!.status).toBe(201);

    const db = new Client({ connectionString: pg.url });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT id FROM tasks WHERE id = ANY($1::uuid[])`, [
        acknowledged,
      ]);
      expect(rows).toHaveLength(acknowledged.length);
    } finally {
      await db.end();
    }

    // Every job due during the outage runs, once.
    const jobsDeadline = Date.now() + 30_000;
    while (markers.some((m) => !jobRuns.has(m)) && Date.now() < jobsDeadline) await sleep(200);
    expect(markers.map((m) => jobRuns.get(m))).toEqual(markers.map(() => 1));
    console.log(
      `[faults] ${answers.length} writes: ${acknowledged.length} acknowledged, ${failed.length} refused with 503; ` +
        `slowest answer ${Math.max(...answers.map((a) => a.ms))} ms; ${markers.length} jobs due in the outage ran once each`,
    );
  }, 120_000);
});
