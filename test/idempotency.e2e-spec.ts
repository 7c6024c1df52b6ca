import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { keyDigest } from '../src/shared/http/idempotency.interceptor';
import { IdempotencyKeyPurge } from '../src/shared/maintenance/idempotency-key-purge';
import { api, createTestApp, TestApp } from './helpers/app';
import { createOrg, createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, PROBLEM } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import { countRows, createProject, projectsPath, tasksPath } from './helpers/work';

/**
 * Idempotency-Key on the POST creates (orgs, projects, tasks, invites): the same key and body
 * by the same user replays the first response (status and body) with `Idempotent-Replayed: true`
 * and makes no second row; the same key with another body → 422 `idempotency-key-reused`.
 */

const newKey = (label = 'k') => `${label}-${randomBytes(8).toString('hex')}`;

/** The same 201 as `first`, replayed. */
function expectReplayOf(res: Response, first: Response): void {
  expect(res.status).toBe(201);
  expect(res.headers['idempotent-replayed']).toBe('true');
  expect(res.body).toEqual(first.body);
  // Headers describing the created resource are repeated too (a task's ETag).
  expect(res.headers['etag']).toBe(first.headers['etag']);
}

const expectKeyReused = (res: Response) => expectProblem(res, 422, 'idempotency-key-reused');

describe('idempotency keys', () => {
  let t: TestApp;
  let w: OrgWorld;
  let projectId: string;

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    projectId = await createProject(t, w.orgId, w.owner, 'Idempotent');
  });
  afterAll(() => t.close());

  const tasks = () => tasksPath(w.orgId, projectId);
  const tasksTitled = (title: string) =>
    countRows(t, `tasks WHERE org_id = $1 AND title = $2`, [w.orgId, title]);
  /** POST `body` to `path` as `by` with this Idempotency-Key. */
  const postWithKey = (path: string, by: SignedInUser, key: string, body: object) =>
    t.http().post(path).set(by.auth).set('Idempotency-Key', key).send(body);

  describe('POST …/tasks', () => {
    it('same key and body twice → the same 201 and body, replayed the second time, one row', async () => {
      const key = newKey('task');
      const body = {
        title: 'Pay the invoice',
        priority: 'high',
        dueDate: '2030-01-31',
        assigneeId: w.member.id,
      };
      const first = await postWithKey(tasks(), w.owner, key, body);
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).not.toBe('true');

      const second = await postWithKey(tasks(), w.owner, key, body);
      expectReplayOf(second, first);

      expect(await tasksTitled('Pay the invoice')).toBe(1);
      expect(
        await countRows(
          t,
          `audit_log WHERE org_id = $1 AND action = 'task.created' AND target_id = $2`,
          [w.orgId, first.body.id],
        ),
      ).toBe(1);
    });

    it('replays as often as asked, always the first response', async () => {
      const key = newKey('task');
      const body = { title: 'Replay me thrice' };
      const first = await postWithKey(tasks(), w.member, key, body);
      expect(first.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        const again = await postWithKey(tasks(), w.member, key, body);
        expectReplayOf(again, first);
      }
      expect(await tasksTitled('Replay me thrice')).toBe(1);
    });

    it('replays the first response even after the task changed', async () => {
      const key = newKey('task');
      const body = { title: 'Changes later' };
      const first = await postWithKey(tasks(), w.owner, key, body);
      expect(first.status).toBe(201);
      const patched = await t
        .http()
        .patch(`${tasks()}/${first.body.id}`)
        .set(w.owner.auth)
        .send({ status: 'in_progress' });
      expect(patched.status).toBe(200);

      const replay = await postWithKey(tasks(), w.owner, key, body);
      expectReplayOf(replay, first);
      expect(await tasksTitled('Changes later')).toBe(1);
    });

    it('same key with a different body → 422 idempotency-key-reused, nothing created', async () => {
      const key = newKey('task');
      const first = await postWithKey(tasks(), w.owner, key, { title: 'Original' });
      expect(first.status).toBe(201);

      const reused = await postWithKey(tasks(), w.owner, key, { title: 'Something else' });
      expectKeyReused(reused);
      expect(await tasksTitled('Something else')).toBe(0);

      // A changed field other than the title counts as a different body too.
      const tweaked = await postWithKey(tasks(), w.owner, key, {
        title: 'Original',
        priority: 'urgent',
      });
      expectKeyReused(tweaked);

      // The key still replays its own request.
      const replay = await postWithKey(tasks(), w.owner, key, { title: 'Original' });
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(first.body);
      expect(await tasksTitled('Original')).toBe(1);
    });

    it('different users may use the same key independently', async () => {
      const key = newKey('shared');
      const body = { title: 'Same key, two people' };
      const byOwner = await postWithKey(tasks(), w.owner, key, body);
      const byAdmin = await postWithKey(tasks(), w.admin, key, body);
      expect(byOwner.status).toBe(201);
      expect(byAdmin.status).toBe(201);
      expect(byAdmin.headers['idempotent-replayed']).not.toBe('true');
      expect(byAdmin.body.id).not.toBe(byOwner.body.id);
      expect(byAdmin.body.createdBy).toBe(w.admin.id);
      expect(await tasksTitled('Same key, two people')).toBe(2);

      // …and with a different body: no 422 for someone else's key.
      const byMember = await postWithKey(tasks(), w.member, key, { title: 'Member, same key' });
      expect(byMember.status).toBe(201);
      expect(byMember.headers['idempotent-replayed']).not.toBe('true');

      // Each still replays their own.
      const ownerAgain = await postWithKey(tasks(), w.owner, key, body);
      expect(ownerAgain.status).toBe(201);
      expect(ownerAgain.body).toEqual(byOwner.body);
      expect(await tasksTitled('Same key, two people')).toBe(2);
    });

    it('concurrent duplicates (same key and body) → all the same 201 body, one row', async () => {
      const key = newKey('race');
      const body = { title: 'Raced create' };
      const results = await Promise.all(
        Array.from({ length: 5 }, () => postWithKey(tasks(), w.owner, key, body)),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      for (const r of results) expect(r.body).toEqual(results[0]!.body);
      expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
      expect(await tasksTitled('Raced create')).toBe(1);
    });

    it('a key older than 24 h is not replayed: the POST creates anew', async () => {
      const key = newKey('old');
      const body = { title: 'Yesterday and today' };
      const first = await postWithKey(tasks(), w.owner, key, body);
      expect(first.status).toBe(201);
      await t.dataSource.query(
        // A time from here, not `created_at - interval …`: Citus runs this on the shard,
        // where it takes no STABLE expression over a column.
        `UPDATE idempotency_keys SET created_at = $3 WHERE user_id = $1 AND key_digest = $2`,
        [w.owner.id, keyDigest(w.owner.id, key), new Date(Date.now() - 25 * 3600_000)],
      );
      const later = await postWithKey(tasks(), w.owner, key, body);
      expect(later.status).toBe(201);
      expect(later.headers['idempotent-replayed']).not.toBe('true');
      expect(later.body.id).not.toBe(first.body.id);
      expect(await tasksTitled('Yesterday and today')).toBe(2);
    });

    it('without a key, or with different keys, each POST creates a task', async () => {
      const body = { title: 'Not idempotent' };
      for (let i = 0; i < 2; i++) {
        const res = await t.http().post(tasks()).set(w.owner.auth).send(body);
        expect(res.status).toBe(201);
        expect(res.headers['idempotent-replayed']).not.toBe('true');
      }
      for (let i = 0; i < 2; i++) {
        const res = await t
          .http()
          .post(tasks())
          .set(w.owner.auth)
          .set('Idempotency-Key', newKey())
          .send(body);
        expect(res.status).toBe(201);
        expect(res.headers['idempotent-replayed']).not.toBe('true');
      }
      expect(await tasksTitled('Not idempotent')).toBe(4);
    });
  });

  describe('other creates', () => {
    it('POST /orgs: same key and body → the same org, replayed, one org and one membership', async () => {
      const key = newKey('org');
      const name = `Idem Org ${randomBytes(3).toString('hex')}`;
      const first = await postWithKey(api('/orgs'), w.outsider, key, { name });
      expect(first.status).toBe(201);
      const second = await postWithKey(api('/orgs'), w.outsider, key, { name });
      expectReplayOf(second, first);
      expect(await countRows(t, `organizations WHERE name = $1`, [name])).toBe(1);
      expect(
        await countRows(
          t,
          `memberships m JOIN organizations o ON o.id = m.org_id WHERE o.name = $1`,
          [name],
        ),
      ).toBe(1);

      const reused = await postWithKey(api('/orgs'), w.outsider, key, { name: `${name} II` });
      expectKeyReused(reused);
      expect(await countRows(t, `organizations WHERE name = $1`, [`${name} II`])).toBe(0);
    });

    it('POST /orgs/:orgId/projects: same key and body → the same 201 (not 409 name taken), one project', async () => {
      const key = newKey('project');
      const body = { name: 'Idempotent roadmap', description: 'Q3' };
      const path = projectsPath(w.orgId);
      const first = await postWithKey(path, w.admin, key, body);
      expect(first.status).toBe(201);
      const second = await postWithKey(path, w.admin, key, body);
      expectReplayOf(second, first);
      expect(
        await countRows(t, `projects WHERE org_id = $1 AND name = $2`, [w.orgId, body.name]),
      ).toBe(1);

      const reused = await postWithKey(path, w.admin, key, { name: 'Another roadmap' });
      expectKeyReused(reused);
      expect(
        await countRows(t, `projects WHERE org_id = $1 AND name = $2`, [
          w.orgId,
          'Another roadmap',
        ]),
      ).toBe(0);
    });

    it('POST /orgs/:orgId/invites (link): same key and body → the same invite and token, one invite', async () => {
      const orgId = await createOrg(t, w.owner, 'Invites idem');
      const key = newKey('invite');
      const body = { role: 'member', maxUses: 5 };
      const path = api(`/orgs/${orgId}/invites`);
      const first = await postWithKey(path, w.owner, key, body);
      expect(first.status).toBe(201);
      expect(first.body.token).toEqual(expect.any(String));
      const second = await postWithKey(path, w.owner, key, body);
      expectReplayOf(second, first);
      expect(await countRows(t, `invites WHERE org_id = $1`, [orgId])).toBe(1);

      const reused = await postWithKey(path, w.owner, key, { role: 'viewer', maxUses: 5 });
      expectKeyReused(reused);
      expect(await countRows(t, `invites WHERE org_id = $1`, [orgId])).toBe(1);
    });
  });

  describe('at rest', () => {
    const keyRows = (userId: string, key: string) =>
      t.dataSource.query(
        `SELECT k::text AS row FROM idempotency_keys k WHERE user_id = $1 AND key_digest = $2`,
        [userId, keyDigest(userId, key)],
      ) as Promise<Array<{ row: string }>>;

    it('a link invite token is nowhere in idempotency_keys, yet the replay returns it', async () => {
      const orgId = await createOrg(t, w.owner, 'Invites at rest');
      const key = newKey('secret');
      const path = api(`/orgs/${orgId}/invites`);
      const body = { role: 'member', maxUses: 3 };
      const first = await postWithKey(path, w.owner, key, body);
      expect(first.status).toBe(201);
      const token: string = first.body.token;
      expect(token).toEqual(expect.any(String));

      // Read as the table owner: the whole stored row, every column, as text.
      const stored = await keyRows(w.owner.id, key);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.row).not.toContain(token);
      expect(stored[0]!.row).not.toContain(first.body.id);
      expect(stored[0]!.row).not.toContain(key);
      const [all] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM idempotency_keys k WHERE k::text LIKE '%' || $1 || '%'`,
        [token],
      );
      expect(all.n).toBe(0);

      const replay = await postWithKey(path, w.owner, key, body);
      expectReplayOf(replay, first);
      expect(replay.body.token).toBe(token);
    });

    it("another user's key of the same name cannot decrypt the replay", async () => {
      const key = newKey('cross');
      const body = { title: 'Mine alone' };
      const first = await postWithKey(tasks(), w.owner, key, body);
      expect(first.status).toBe(201);
      const other = await postWithKey(tasks(), w.admin, key, body);
      expect(other.status).toBe(201);
      expect(other.headers['idempotent-replayed']).not.toBe('true');
      expect(other.body.id).not.toBe(first.body.id);
    });

    it('the purge job removes keys past their 24 h window and keeps fresh ones', async () => {
      const oldKey = newKey('stale');
      const freshKey = newKey('fresh');
      expect((await postWithKey(tasks(), w.owner, oldKey, { title: 'Stale key' })).status).toBe(
        201,
      );
      expect((await postWithKey(tasks(), w.owner, freshKey, { title: 'Fresh key' })).status).toBe(
        201,
      );
      await t.dataSource.query(
        `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1 AND key_digest = $2`,
        [w.owner.id, keyDigest(w.owner.id, oldKey)],
      );

      const purged = await t.app.get(IdempotencyKeyPurge).purge();
      expect(purged).toBeGreaterThanOrEqual(1);
      expect(await keyRows(w.owner.id, oldKey)).toEqual([]);
      expect(await keyRows(w.owner.id, freshKey)).toHaveLength(1);
    });
  });

  describe('the key itself', () => {
    it('an empty key → 400, nothing created', async () => {
      const res = await postWithKey(tasks(), w.owner, '', { title: 'Empty key' });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(await tasksTitled('Empty key')).toBe(0);
    });

    it('a key over 200 characters → 400, nothing created (on every create)', async () => {
      const long = 'k'.repeat(201);
      const task = await postWithKey(tasks(), w.owner, long, { title: 'Long key' });
      expect(task.status).toBe(400);
      expect(task.headers['content-type']).toMatch(PROBLEM);
      expect(await tasksTitled('Long key')).toBe(0);

      const org = await postWithKey(api('/orgs'), w.outsider, long, { name: 'Long key org' });
      expect(org.status).toBe(400);
      const project = await postWithKey(projectsPath(w.orgId), w.owner, long, {
        name: 'Long key project',
      });
      expect(project.status).toBe(400);
      const invite = await postWithKey(api(`/orgs/${w.orgId}/invites`), w.owner, long, {
        role: 'member',
        maxUses: 1,
      });
      expect(invite.status).toBe(400);
      expect(await countRows(t, `organizations WHERE name = 'Long key org'`, [])).toBe(0);
      expect(await countRows(t, `projects WHERE name = 'Long key project'`, [])).toBe(0);
    });

    it('a key of exactly 200 characters is accepted and replays', async () => {
      const key = `${randomBytes(8).toString('hex')}${'x'.repeat(184)}`;
      expect(key).toHaveLength(200);
      const body = { title: 'Longest key' };
      const first = await postWithKey(tasks(), w.owner, key, body);
      expect(first.status).toBe(201);
      const second = await postWithKey(tasks(), w.owner, key, body);
      expectReplayOf(second, first);
      expect(await tasksTitled('Longest key')).toBe(1);
    });
  });
});
