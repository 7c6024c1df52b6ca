import { api, createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { expectStatus } from './helpers/problems';
import { registerUser, SignedInUser } from './helpers/users';
import { createProject, createTask, taskPath } from './helpers/work';

/**
 * Correctness under load: optimistic concurrency holds with a thousand conflicting
 * writers, and many orgs working at once never see one another's ids.
 */
describe('under load', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  /** Runs `n` jobs, `width` at a time. */
  async function inWaves<T>(
    n: number,
    width: number,
    job: (i: number) => Promise<T>,
  ): Promise<T[]> {
    const results: T[] = new Array(n);
    let next = 0;
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < n) {
          const i = next++;
          results[i] = await job(i);
        }
      }),
    );
    return results;
  }

  it('applies each of 1,000 conflicting If-Match updates once or answers 412: version and audit agree', async () => {
    const owner = await registerUser(t);
    const orgId = await createOrg(t, owner);
    const projectId = await createProject(t, orgId, owner);
    const task = await createTask(t, orgId, projectId, owner, { title: 'contended' });
    const path = taskPath(orgId, projectId, task.id);

    const statuses = await inWaves(1000, 50, async (i) => {
      const seen = await t.http().get(path).set(owner.auth);
      expectStatus(seen, 200);
      const res = await t
        .http()
        .patch(path)
        .set(owner.auth)
        .set('If-Match', seen.headers.etag)
        .send({ title: `writer ${i}` });
      return res.status;
    });

    const applied = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 412)).toEqual([]);
    expect(applied).toBeGreaterThan(0);
    const final = await t.http().get(path).set(owner.auth);
    expect(final.body.version).toBe(task.version + applied);
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE org_id = $1 AND target_id = $2 AND action = 'task.updated'`,
      [orgId, task.id],
    );
    expect(n).toBe(applied);
    console.log(
      `[load] 1,000 conflicting updates: ${applied} applied, ${1000 - applied} answered 412`,
    );
  }, 180_000);

  it('never shows an org another org’s ids while many orgs work at once', async () => {
    const tenants: Array<{
      owner: SignedInUser;
      orgId: string;
      projectId: string;
      ids: Set<string>;
    }> = [];
    for (let i = 0; i < 8; i++) {
      const owner = await registerUser(t);
      const orgId = await createOrg(t, owner, `Load ${i}`);
      const projectId = await createProject(t, orgId, owner);
      tenants.push({ owner, orgId, projectId, ids: new Set([orgId, projectId, owner.id]) });
    }
    const bodies = await inWaves(400, 40, async (i) => {
      const me = tenants[i % tenants.length]!;
      const base = api(`/orgs/${me.orgId}`);
      const res =
        i % 3 === 0
          ? await t
              .http()
              .post(`${base}/projects/${me.projectId}/tasks`)
              .set(me.owner.auth)
              .send({ title: `t${i}` })
          : i % 3 === 1
            ? await t.http().get(`${base}/tasks?limit=50`).set(me.owner.auth)
            : await t.http().get(`${base}/stats`).set(me.owner.auth);
      expect([200, 201]).toContain(res.status);
      if (res.status === 201) me.ids.add(res.body.id);
      return { tenant: me, text: res.text };
    });
    for (const { tenant, text } of bodies) {
      for (const other of tenants) {
        if (other === tenant) continue;
        for (const id of other.ids) expect(text).not.toContain(id);
      }
    }
  }, 180_000);
});
