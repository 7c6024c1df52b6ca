import { Client } from 'pg';
import { api, createTestApp, TestApp } from '../helpers/app';
import { createOrg } from '../helpers/orgs';
import { registerUser, SignedInUser } from '../helpers/users';
import { createProject, insertTasks, orgTasksPath, tasksPath } from '../helpers/work';

/**
 * Moving a tenant under load (issue 21, item 4): the largest org gets a shard of its own
 * (`isolate_tenant_to_new_shard`), which then moves to the other worker
 * (`citus_move_shard_placement`), while that org and others keep reading and writing
 * through the API. No 5xx, every acknowledged write there exactly once, nothing else
 * written. Citus only (test:citus); the figures go to the output.
 *
 * `block_writes`: the moving shard's writes wait for the copy (reads go on). The logical
 * mode, which lets writes go on too, needs more background workers than the test cluster
 * gives its nodes (`max_worker_processes` 8: "out of background worker slots", and the
 * split waited for ever).
 */
const onCitus = process.env.WORKLANE_TEST_CITUS ? describe : describe.skip;

interface Figures {
  requests: number;
  byStatus: Record<number, number>;
  latencies: number[];
}

onCitus('moving a tenant under load (Citus)', () => {
  let t: TestApp;
  let admin: Client;

  beforeAll(async () => {
    t = await createTestApp();
    admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
  });

  it('isolates the largest org and moves its shard while it and others work: no 5xx, no lost or doubled write', async () => {
    const orgs: Array<{ id: string; owner: SignedInUser; projectId: string }> = [];
    for (const name of ['Largest', 'Other one', 'Other two']) {
      const owner = await registerUser(t);
      const id = await createOrg(t, owner, name);
      orgs.push({ id, owner, projectId: await createProject(t, id, owner) });
    }
    const [largest] = orgs;
    const seeded = 2_000;
    await insertTasks(
      t,
      largest!.id,
      Array.from({ length: seeded }, (_, i) => ({
        projectId: largest!.projectId,
        title: `seed ${i}`,
        status: 'todo',
        priority: 'medium',
        assigneeId: null,
        dueDate: null,
        createdBy: largest!.owner.id,
      })),
    );

    const figures: Figures = { requests: 0, byStatus: {}, latencies: [] };
    const created = new Map<string, string[]>(orgs.map((o) => [o.id, []]));
    let running = true;
    const errors: string[] = [];
    const timed = async (call: () => PromiseLike<{ status: number; body: any }>) => {
      const started = performance.now();
      const res = await Promise.resolve(call()).catch((error: Error) => {
        errors.push(error.message.split('\n')[0]!);
        return { status: 0, body: null };
      });
      figures.latencies.push(performance.now() - started);
      figures.requests++;
      figures.byStatus[res.status] = (figures.byStatus[res.status] ?? 0) + 1;
      return res;
    };
    const load = orgs.flatMap((org) => [
      (async () => {
        for (let i = 0; running; i++) {
          const res = await timed(() =>
            t
              .http()
              .post(tasksPath(org.id, org.projectId))
              .set(org.owner.auth)
              .send({ title: `during the move ${i}` }),
          );
          if (res.status === 201) created.get(org.id)!.push(res.body.id);
        }
      })(),
      (async () => {
        while (running) {
          await timed(() =>
            t
              .http()
              .get(`${orgTasksPath(org.id)}?limit=20`)
              .set(org.owner.auth),
          );
        }
      })(),
    ]);

    let shard = '';
    let isolated = '';
    let isolateMs = 0;
    let moveMs = 0;
    let from: { nodename: string; nodeport: number } | undefined;
    let to: { nodename: string; nodeport: number } | undefined;
    try {
      [{ shard }] = (
        await admin.query(
          `SELECT shardid AS shard FROM pg_dist_shard
            WHERE logicalrelid = 'tasks'::regclass AND shardid = get_shard_id_for_distribution_column('tasks', $1::uuid)`,
          [largest!.id],
        )
      ).rows;
      const isolating = performance.now();
      [{ isolated }] = (
        await admin.query(
          `SELECT isolate_tenant_to_new_shard('tasks', $1::uuid, 'CASCADE', shard_transfer_mode => 'block_writes') AS isolated`,
          [largest!.id],
        )
      ).rows;
      isolateMs = performance.now() - isolating;
      [from] = (
        await admin.query(`SELECT nodename, nodeport FROM citus_shards WHERE shardid = $1`, [
          isolated,
        ])
      ).rows;
      [to] = (
        await admin.query(
          `SELECT nodename, nodeport FROM pg_dist_node WHERE noderole = 'primary' AND shouldhaveshards AND nodeport <> $1`,
          [from!.nodeport],
        )
      ).rows;
      const moving = performance.now();
      await admin.query(
        `SELECT citus_move_shard_placement($1, $2, $3, $4, $5, shard_transfer_mode => 'block_writes')`,
        [isolated, from!.nodename, from!.nodeport, to!.nodename, to!.nodeport],
      );
      moveMs = performance.now() - moving;

      // A little more load on the moved shard, then stop.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      running = false;
      await Promise.all(load);
    }

    const [now] = (
      await admin.query(`SELECT nodeport FROM citus_shards WHERE shardid = $1`, [isolated])
    ).rows;
    const sorted = [...figures.latencies].sort((a, b) => a - b);
    const pct = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    console.log(
      `[shard move] tasks shard ${shard} → isolated as ${isolated} on :${from!.nodeport} in ${isolateMs.toFixed(0)} ms, ` +
        `moved to :${now.nodeport} in ${moveMs.toFixed(0)} ms; ${figures.requests} requests during it ` +
        `(${JSON.stringify(figures.byStatus)}), p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, ` +
        `max ${sorted[sorted.length - 1]!.toFixed(0)} ms; writes acknowledged: ` +
        orgs.map((o, i) => `org ${i + 1} ${created.get(o.id)!.length}`).join(', '),
    );

    expect(errors).toEqual([]);
    expect(now.nodeport).toBe(to!.nodeport);
    expect(Object.keys(figures.byStatus).filter((s) => Number(s) >= 500)).toEqual([]);
    for (const [index, org] of orgs.entries()) {
      const ids = created.get(org.id)!;
      const stored = await admin.query<{ id: string; n: number }>(
        `SELECT id, count(*) OVER ()::int AS n FROM tasks WHERE org_id = $1 AND title LIKE 'during the move %'`,
        [org.id],
      );
      expect(new Set(ids).size).toBe(ids.length);
      expect(stored.rows.map((r) => r.id).sort()).toEqual([...ids].sort());
      const total = await t
        .http()
        .get(api(`/orgs/${org.id}/stats`))
        .set(org.owner.auth);
      expect(total.status).toBe(200);
      expect(total.body.total).toBe(ids.length + (index === 0 ? seeded : 0));
    }
  }, 300_000);
});
