import { randomBytes } from 'node:crypto';
import { createTestApp, TestApp } from './helpers/app';
import { createOrg, OrgWorld } from './helpers/orgs';
import { registerUser, SignedInUser } from './helpers/users';

/**
 * Idempotency-Key on the POST creates (orgs, projects, tasks, invites): the same key and body
 * by the same user replays the first response (status and body) with `Idempotent-Replayed: true`
 * and makes no second row; the same key with another body → 422 `idempotency-key-reused`.
 */

const PROBLEM = /application\/problem\+json/;
const api = (path: string) => `/api/v1${path}`;

/**
 * Fixture and check SQL runs inside a transaction: the embedded database (PGlite behind a
 * socket server) keeps a connection's protocol messages together only inside one, and a
 * parameterised statement outside one can interleave with the other test worker's traffic
 * ("unnamed prepared statement does not exist"). For the same reason the org world is made
 * here rather than with createOrgWorld (whose addMember INSERT runs outside a transaction).
 */
const dbQuery = (t: TestApp, sql: string, params: unknown[] = []): Promise<any> =>
  t.dataSource.transaction((em) => em.query(sql, params));

async function newWorld(t: TestApp): Promise<OrgWorld> {
  const [owner, admin, member, viewer, outsider, stranger] = await Promise.all(
    ['owner', 'admin', 'member', 'viewer', 'outsider', 'stranger'].map((name) =>
      registerUser(t, { name }),
    ),
  );
  const orgId = await createOrg(t, owner!, 'Acme');
  const otherOrgId = await createOrg(t, stranger!, 'Other Co');
  for (const [user, role] of [
    [admin!, 'admin'],
    [member!, 'member'],
    [viewer!, 'viewer'],
  ] as const) {
    await dbQuery(t, `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)`, [
      orgId,
      user.id,
      role,
    ]);
  }
  return {
    orgId,
    owner: owner!,
    admin: admin!,
    member: member!,
    viewer: viewer!,
    outsider: outsider!,
    stranger: stranger!,
    otherOrgId,
  };
}
const newKey = (label = 'k') => `${label}-${randomBytes(8).toString('hex')}`;

async function createProject(
  t: TestApp,
  orgId: string,
  owner: SignedInUser,
  name: string,
): Promise<string> {
  const res = await t
    .http()
    .post(api(`/orgs/${orgId}/projects`))
    .set(owner.auth)
    .send({ name });
  if (res.status !== 201)
    throw new Error(`create project failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function count(t: TestApp, sql: string, params: unknown[]): Promise<number> {
  const [{ n }] = await dbQuery(t, `SELECT count(*)::int AS n FROM ${sql}`, params);
  return n;
}

describe('idempotency keys', () => {
  let t: TestApp;
  let w: OrgWorld;
  let projectId: string;

  beforeAll(async () => {
    t = await createTestApp();
    w = await newWorld(t);
    projectId = await createProject(t, w.orgId, w.owner, 'Idempotent');
  });
  afterAll(() => t.close());

  const tasksPath = () => api(`/orgs/${w.orgId}/projects/${projectId}/tasks`);
  const tasksTitled = (title: string) =>
    count(t, `tasks WHERE org_id = $1 AND title = $2`, [w.orgId, title]);

  describe('POST …/tasks', () => {
    it('same key and body twice → the same 201 and body, replayed the second time, one row', async () => {
      const key = newKey('task');
      const body = {
        title: 'Pay the invoice',
        priority: 'high',
        dueDate: '2030-01-31',
        assigneeId: w.member.id,
      };
      const first = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).not.toBe('true');

      const second = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);

      expect(await tasksTitled('Pay the invoice')).toBe(1);
      expect(
        await count(
          t,
          `audit_log WHERE org_id = $1 AND action = 'task.created' AND target_id = $2`,
          [w.orgId, first.body.id],
        ),
      ).toBe(1);
    });

    it('replays as often as asked, always the first response', async () => {
      const key = newKey('task');
      const body = { title: 'Replay me thrice' };
      const first = await t
        .http()
        .post(tasksPath())
        .set(w.member.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        const again = await t
          .http()
          .post(tasksPath())
          .set(w.member.auth)
          .set('Idempotency-Key', key)
          .send(body);
        expect(again.status).toBe(201);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.body).toEqual(first.body);
      }
      expect(await tasksTitled('Replay me thrice')).toBe(1);
    });

    it('replays the first response even after the task changed', async () => {
      const key = newKey('task');
      const body = { title: 'Changes later' };
      const first = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      const patched = await t
        .http()
        .patch(`${tasksPath()}/${first.body.id}`)
        .set(w.owner.auth)
        .send({ status: 'in_progress' });
      expect(patched.status).toBe(200);

      const replay = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      expect(await tasksTitled('Changes later')).toBe(1);
    });

    it('same key with a different body → 422 idempotency-key-reused, nothing created', async () => {
      const key = newKey('task');
      const first = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send({ title: 'Original' });
      expect(first.status).toBe(201);

      const reused = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send({ title: 'Something else' });
      expect(reused.status).toBe(422);
      expect(reused.headers['content-type']).toMatch(PROBLEM);
      expect(reused.body.type).toMatch(/idempotency-key-reused$/);
      expect(await tasksTitled('Something else')).toBe(0);

      // A changed field other than the title counts as a different body too.
      const tweaked = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send({ title: 'Original', priority: 'urgent' });
      expect(tweaked.status).toBe(422);
      expect(tweaked.body.type).toMatch(/idempotency-key-reused$/);

      // The key still replays its own request.
      const replay = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send({ title: 'Original' });
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(first.body);
      expect(await tasksTitled('Original')).toBe(1);
    });

    it('different users may use the same key independently', async () => {
      const key = newKey('shared');
      const body = { title: 'Same key, two people' };
      const byOwner = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      const byAdmin = await t
        .http()
        .post(tasksPath())
        .set(w.admin.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(byOwner.status).toBe(201);
      expect(byAdmin.status).toBe(201);
      expect(byAdmin.headers['idempotent-replayed']).not.toBe('true');
      expect(byAdmin.body.id).not.toBe(byOwner.body.id);
      expect(byAdmin.body.createdBy).toBe(w.admin.id);
      expect(await tasksTitled('Same key, two people')).toBe(2);

      // …and with a different body: no 422 for someone else's key.
      const byMember = await t
        .http()
        .post(tasksPath())
        .set(w.member.auth)
        .set('Idempotency-Key', key)
        .send({ title: 'Member, same key' });
      expect(byMember.status).toBe(201);
      expect(byMember.headers['idempotent-replayed']).not.toBe('true');

      // Each still replays their own.
      const ownerAgain = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(ownerAgain.status).toBe(201);
      expect(ownerAgain.body).toEqual(byOwner.body);
      expect(await tasksTitled('Same key, two people')).toBe(2);
    });

    it('concurrent duplicates (same key and body) → all the same 201 body, one row', async () => {
      const key = newKey('race');
      const body = { title: 'Raced create' };
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          t.http().post(tasksPath()).set(w.owner.auth).set('Idempotency-Key', key).send(body),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      for (const r of results) expect(r.body).toEqual(results[0]!.body);
      expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(4);
      expect(await tasksTitled('Raced create')).toBe(1);
    });

    it('a key older than 24 h is not replayed: the POST creates anew', async () => {
      const key = newKey('old');
      const body = { title: 'Yesterday and today' };
      const first = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      await dbQuery(
        t,
        `UPDATE idempotency_keys SET created_at = created_at - interval '25 hours' WHERE user_id = $1 AND key = $2`,
        [w.owner.id, key],
      );
      const later = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(later.status).toBe(201);
      expect(later.headers['idempotent-replayed']).not.toBe('true');
      expect(later.body.id).not.toBe(first.body.id);
      expect(await tasksTitled('Yesterday and today')).toBe(2);
    });

    it('without a key, or with different keys, each POST creates a task', async () => {
      const body = { title: 'Not idempotent' };
      for (let i = 0; i < 2; i++) {
        const res = await t.http().post(tasksPath()).set(w.owner.auth).send(body);
        expect(res.status).toBe(201);
        expect(res.headers['idempotent-replayed']).not.toBe('true');
      }
      for (let i = 0; i < 2; i++) {
        const res = await t
          .http()
          .post(tasksPath())
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
      const first = await t
        .http()
        .post(api('/orgs'))
        .set(w.outsider.auth)
        .set('Idempotency-Key', key)
        .send({ name });
      expect(first.status).toBe(201);
      const second = await t
        .http()
        .post(api('/orgs'))
        .set(w.outsider.auth)
        .set('Idempotency-Key', key)
        .send({ name });
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await count(t, `organizations WHERE name = $1`, [name])).toBe(1);
      expect(
        await count(t, `memberships m JOIN organizations o ON o.id = m.org_id WHERE o.name = $1`, [
          name,
        ]),
      ).toBe(1);

      const reused = await t
        .http()
        .post(api('/orgs'))
        .set(w.outsider.auth)
        .set('Idempotency-Key', key)
        .send({ name: `${name} II` });
      expect(reused.status).toBe(422);
      expect(reused.body.type).toMatch(/idempotency-key-reused$/);
      expect(await count(t, `organizations WHERE name = $1`, [`${name} II`])).toBe(0);
    });

    it('POST /orgs/:orgId/projects: same key and body → the same 201 (not 409 name taken), one project', async () => {
      const key = newKey('project');
      const body = { name: 'Idempotent roadmap', description: 'Q3' };
      const path = api(`/orgs/${w.orgId}/projects`);
      const first = await t
        .http()
        .post(path)
        .set(w.admin.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      const second = await t
        .http()
        .post(path)
        .set(w.admin.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await count(t, `projects WHERE org_id = $1 AND name = $2`, [w.orgId, body.name])).toBe(
        1,
      );

      const reused = await t
        .http()
        .post(path)
        .set(w.admin.auth)
        .set('Idempotency-Key', key)
        .send({ name: 'Another roadmap' });
      expect(reused.status).toBe(422);
      expect(reused.body.type).toMatch(/idempotency-key-reused$/);
      expect(
        await count(t, `projects WHERE org_id = $1 AND name = $2`, [w.orgId, 'Another roadmap']),
      ).toBe(0);
    });

    it('POST /orgs/:orgId/invites (link): same key and body → the same invite and token, one invite', async () => {
      const orgId = await createOrg(t, w.owner, 'Invites idem');
      const key = newKey('invite');
      const body = { role: 'member', maxUses: 5 };
      const path = api(`/orgs/${orgId}/invites`);
      const first = await t
        .http()
        .post(path)
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      expect(first.body.token).toEqual(expect.any(String));
      const second = await t
        .http()
        .post(path)
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await count(t, `invites WHERE org_id = $1`, [orgId])).toBe(1);

      const reused = await t
        .http()
        .post(path)
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send({ role: 'viewer', maxUses: 5 });
      expect(reused.status).toBe(422);
      expect(reused.body.type).toMatch(/idempotency-key-reused$/);
      expect(await count(t, `invites WHERE org_id = $1`, [orgId])).toBe(1);
    });
  });

  describe('the key itself', () => {
    it('an empty key → 400, nothing created', async () => {
      const res = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', '')
        .send({ title: 'Empty key' });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(await tasksTitled('Empty key')).toBe(0);
    });

    it('a key over 200 characters → 400, nothing created (on every create)', async () => {
      const long = 'k'.repeat(201);
      const task = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', long)
        .send({ title: 'Long key' });
      expect(task.status).toBe(400);
      expect(task.headers['content-type']).toMatch(PROBLEM);
      expect(await tasksTitled('Long key')).toBe(0);

      const org = await t
        .http()
        .post(api('/orgs'))
        .set(w.outsider.auth)
        .set('Idempotency-Key', long)
        .send({ name: 'Long key org' });
      expect(org.status).toBe(400);
      const project = await t
        .http()
        .post(api(`/orgs/${w.orgId}/projects`))
        .set(w.owner.auth)
        .set('Idempotency-Key', long)
        .send({ name: 'Long key project' });
      expect(project.status).toBe(400);
      const invite = await t
        .http()
        .post(api(`/orgs/${w.orgId}/invites`))
        .set(w.owner.auth)
        .set('Idempotency-Key', long)
        .send({ role: 'member', maxUses: 1 });
      expect(invite.status).toBe(400);
      expect(await count(t, `organizations WHERE name = 'Long key org'`, [])).toBe(0);
      expect(await count(t, `projects WHERE name = 'Long key project'`, [])).toBe(0);
    });

    it('a key of exactly 200 characters is accepted and replays', async () => {
      const key = `${randomBytes(8).toString('hex')}${'x'.repeat(184)}`;
      expect(key).toHaveLength(200);
      const body = { title: 'Longest key' };
      const first = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(first.status).toBe(201);
      const second = await t
        .http()
        .post(tasksPath())
        .set(w.owner.auth)
        .set('Idempotency-Key', key)
        .send(body);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      expect(await tasksTitled('Longest key')).toBe(1);
    });
  });
});
