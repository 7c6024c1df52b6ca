import type { Response } from 'supertest';
import { api, createTestApp, TestApp } from './helpers/app';
import { addMember, createOrg, Role } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { registerUser, SignedInUser } from './helpers/users';
import { createProject, createTask, taskPath, tasksPath, TaskView } from './helpers/work';

/**
 * Security review, issue 12 items 9, 10 and 11: what a member may still do once they lose
 * their standing, and what concurrent writes leave behind. Concurrency runs need a server:
 * the embedded database serves one transaction at a time.
 */
const onServer = process.env.WORKLANE_TEST_SERVER_URL ? it : it.skip;

interface AuditEntry {
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  metadata: Record<string, any>;
}

describe('integrity under lost standing and concurrent writes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  // ---- helpers -------------------------------------------------------------------------

  /** A fresh org: its owner, and a signed-in user in each of `roles`. */
  async function orgWith<R extends Role>(
    ...roles: R[]
  ): Promise<{ orgId: string; owner: SignedInUser } & Record<R, SignedInUser>> {
    const owner = await registerUser(t, { name: 'Owner' });
    const orgId = await createOrg(t, owner, 'Integrity Co');
    const users = {} as Record<R, SignedInUser>;
    for (const role of roles) {
      users[role] = await registerUser(t, { name: role });
      await addMember(t, orgId, users[role], role);
    }
    return { orgId, owner, ...users };
  }

  async function linkInvite(
    orgId: string,
    by: SignedInUser,
    role: Role,
  ): Promise<{ id: string; token: string }> {
    const res = await t
      .http()
      .post(api(`/orgs/${orgId}/invites`))
      .set(by.auth)
      .send({ role, maxUses: 1000 });
    expectStatus(res, 201);
    return { id: res.body.id, token: res.body.token };
  }

  function accept(user: SignedInUser, token: string): Promise<Response> {
    return t.http().post(api('/invites/accept')).set(user.auth).send({ token });
  }

  function removeMember(orgId: string, by: SignedInUser, userId: string) {
    return t
      .http()
      .delete(api(`/orgs/${orgId}/members/${userId}`))
      .set(by.auth);
  }

  function changeRole(orgId: string, by: SignedInUser, userId: string, role: Role) {
    return t
      .http()
      .patch(api(`/orgs/${orgId}/members/${userId}`))
      .set(by.auth)
      .send({ role });
  }

  async function pendingInviteIds(orgId: string, by: SignedInUser): Promise<string[]> {
    const res = await t
      .http()
      .get(api(`/orgs/${orgId}/invites`))
      .query({ limit: 100 })
      .set(by.auth);
    expectStatus(res, 200);
    return res.body.data.map((i: { id: string }) => i.id);
  }

  async function inviteRow(inviteId: string) {
    const [row] = await t.dataSource.query(
      `SELECT revoked_at IS NOT NULL AS revoked, revoked_reason AS reason, uses FROM invites WHERE id = $1`,
      [inviteId],
    );
    return row as { revoked: boolean; reason: string | null; uses: number };
  }

  async function auditOf(
    orgId: string,
    by: SignedInUser,
    query: Record<string, string>,
  ): Promise<AuditEntry[]> {
    const res = await t
      .http()
      .get(api(`/orgs/${orgId}/audit-log`))
      .query({ limit: 100, ...query })
      .set(by.auth);
    expectStatus(res, 200);
    return res.body.data;
  }

  async function revocationsOf(orgId: string, by: SignedInUser, inviteId: string) {
    return auditOf(orgId, by, { action: 'invite.revoked', targetId: inviteId });
  }

  async function membersOf(orgId: string): Promise<string[]> {
    const found = await t.dataSource.query(`SELECT user_id FROM memberships WHERE org_id = $1`, [
      orgId,
    ]);
    return found.map((r: { user_id: string }) => r.user_id);
  }

  async function activityOf(task: TaskView, by: SignedInUser): Promise<AuditEntry[]> {
    const res = await t
      .http()
      .get(`${taskPath(task.orgId, task.projectId, task.id)}/activity`)
      .query({ limit: 100 })
      .set(by.auth);
    expectStatus(res, 200);
    return res.body.data;
  }

  async function taskRow(taskId: string) {
    const [row] = await t.dataSource.query(
      `SELECT assignee_id AS "assigneeId", version FROM tasks WHERE id = $1`,
      [taskId],
    );
    return row as { assigneeId: string | null; version: number };
  }

  /** Refused at redemption exactly like a revoked invite, and nobody joined. */
  async function expectRefused(orgId: string, user: SignedInUser, token: string) {
    expectProblem(await accept(user, token), 410, 'invite-revoked');
    expect(await membersOf(orgId)).not.toContain(user.id);
  }

  // ---- item 9 ------------------------------------------------------------------------

  describe('invites of a member who loses the right to grant them (item 9)', () => {
    it('removal revokes their pending invites: the removed admin cannot walk back in through their own link', async () => {
      const { orgId, owner, admin } = await orgWith('admin');
      const invite = await linkInvite(orgId, admin, 'admin');
      const ownersInvite = await linkInvite(orgId, owner, 'member');

      expectStatus(await removeMember(orgId, owner, admin.id), 204);

      await expectRefused(orgId, admin, invite.token);
      await expectRefused(orgId, await registerUser(t), invite.token);
      expect(await inviteRow(invite.id)).toMatchObject({
        revoked: true,
        reason: 'creator_removed',
      });
      expect(await pendingInviteIds(orgId, owner)).toEqual([ownersInvite.id]);
      expect(await revocationsOf(orgId, owner, invite.id)).toEqual([
        expect.objectContaining({
          actorId: owner.id,
          targetType: 'invite',
          metadata: { reason: 'creator_removed' },
        }),
      ]);
      // Another creator's invite is untouched.
      expectStatus(await accept(await registerUser(t), ownersInvite.token), 200);
    });

    it('leaving revokes them too, with the leaver as actor', async () => {
      const { orgId, owner, admin } = await orgWith('admin');
      const invite = await linkInvite(orgId, admin, 'admin');

      expectStatus(
        await t
          .http()
          .post(api(`/orgs/${orgId}/leave`))
          .set(admin.auth),
        204,
      );

      await expectRefused(orgId, admin, invite.token);
      expect(await inviteRow(invite.id)).toMatchObject({ revoked: true, reason: 'creator_left' });
      expect(await pendingInviteIds(orgId, owner)).toEqual([]);
      expect(await revocationsOf(orgId, owner, invite.id)).toEqual([
        expect.objectContaining({ actorId: admin.id, metadata: { reason: 'creator_left' } }),
      ]);
    });

    it('demoting an admin to member revokes all of their invites (members may not invite)', async () => {
      const { orgId, owner, admin } = await orgWith('admin');
      const asAdmin = await linkInvite(orgId, admin, 'admin');
      const asMember = await linkInvite(orgId, admin, 'member');

      expectStatus(await changeRole(orgId, owner, admin.id, 'member'), 200);

      for (const invite of [asAdmin, asMember]) {
        await expectRefused(orgId, await registerUser(t), invite.token);
        expect(await inviteRow(invite.id)).toMatchObject({
          revoked: true,
          reason: 'creator_demoted',
        });
        expect(await revocationsOf(orgId, owner, invite.id)).toEqual([
          expect.objectContaining({ actorId: owner.id, metadata: { reason: 'creator_demoted' } }),
        ]);
      }
      expect(await pendingInviteIds(orgId, owner)).toEqual([]);
    });

    it('demoting an owner to admin revokes only the invites as owner; those as admin stay good', async () => {
      const { orgId, owner } = await orgWith();
      const second = await registerUser(t, { name: 'Second owner' });
      await addMember(t, orgId, second, 'owner');
      const asOwner = await linkInvite(orgId, second, 'owner');
      const asAdmin = await linkInvite(orgId, second, 'admin');

      expectStatus(await changeRole(orgId, owner, second.id, 'admin'), 200);

      await expectRefused(orgId, await registerUser(t), asOwner.token);
      expect(await inviteRow(asOwner.id)).toMatchObject({
        revoked: true,
        reason: 'creator_demoted',
      });
      expect(await inviteRow(asAdmin.id)).toMatchObject({ revoked: false, reason: null });
      expect(await pendingInviteIds(orgId, owner)).toEqual([asAdmin.id]);
      expect(await revocationsOf(orgId, owner, asAdmin.id)).toEqual([]);
      const joined = await accept(await registerUser(t), asAdmin.token);
      expectStatus(joined, 200);
      expect(joined.body).toMatchObject({ orgId, role: 'admin' });
    });

    it('redemption checks the creator on its own: demoted or removed behind the API, the invite is refused', async () => {
      const demotedOrg = await orgWith('admin');
      const removedOrg = await orgWith('admin');
      const demoted = await linkInvite(demotedOrg.orgId, demotedOrg.admin, 'admin');
      const removed = await linkInvite(removedOrg.orgId, removedOrg.admin, 'member');
      // Tampering in the database: no revocation runs, the invites still look pending.
      await t.dataSource.query(
        `UPDATE memberships SET role = 'member' WHERE org_id = $1 AND user_id = $2`,
        [demotedOrg.orgId, demotedOrg.admin.id],
      );
      await t.dataSource.query(`DELETE FROM memberships WHERE org_id = $1 AND user_id = $2`, [
        removedOrg.orgId,
        removedOrg.admin.id,
      ]);

      await expectRefused(demotedOrg.orgId, await registerUser(t), demoted.token);
      await expectRefused(removedOrg.orgId, await registerUser(t), removed.token);
      await expectRefused(removedOrg.orgId, removedOrg.admin, removed.token);
      for (const invite of [demoted, removed]) {
        expect(await inviteRow(invite.id)).toMatchObject({ revoked: false, uses: 0 });
      }
    });
  });

  // ---- item 10 -----------------------------------------------------------------------

  describe('deleting an org while its tasks are written (item 10)', () => {
    it('a write after the deletion finds no org (404)', async () => {
      const { orgId, owner } = await orgWith();
      const projectId = await createProject(t, orgId, owner);
      const task = await createTask(t, orgId, projectId, owner);
      expectStatus(
        await t
          .http()
          .delete(api(`/orgs/${orgId}`))
          .set(owner.auth),
        204,
      );
      const writes = [
        t.http().post(tasksPath(orgId, projectId)).set(owner.auth).send({ title: 'late' }),
        t
          .http()
          .patch(taskPath(orgId, projectId, task.id))
          .set(owner.auth)
          .send({ title: 'x' }),
      ];
      for (const res of await Promise.all(writes)) expectProblem(res, 404);
    });

    onServer(
      'either the deletion wins or the writer gets a clean 404/409, never a 500; the org goes',
      async () => {
        const allowed = [200, 201, 204, 404, 409];
        for (let round = 0; round < 5; round++) {
          const { orgId, owner, admin, member } = await orgWith('admin', 'member');
          const projectId = await createProject(t, orgId, owner);
          const tasks = await Promise.all(
            [owner, admin, member].map((by) => createTask(t, orgId, projectId, by)),
          );
          const writers = [owner, admin, member];
          const requests = Array.from({ length: 20 }, (_, i) => {
            const by = writers[i % 3]!;
            if (i % 2 === 0) {
              return t
                .http()
                .post(tasksPath(orgId, projectId))
                .set(by.auth)
                .send({ title: `w${i}`, assigneeId: by.id });
            }
            const task = tasks[i % 3]!;
            return t
              .http()
              .patch(taskPath(orgId, projectId, task.id))
              .set(by.auth)
              .send({ title: `u${i}`, priority: 'high' });
          });
          requests.splice(
            10,
            0,
            t
              .http()
              .delete(api(`/orgs/${orgId}`))
              .set(owner.auth),
          );
          const answers = await Promise.all(requests);
          const statuses = answers.map((r) => r.status);
          expect({ round, statuses }).toEqual({
            round,
            statuses: statuses.map((s) => (allowed.includes(s) ? s : `unexpected ${s}`)),
          });
          expect(answers[10]!.status).toBe(204);
          expectProblem(
            await t
              .http()
              .get(api(`/orgs/${orgId}`))
              .set(owner.auth),
            404,
          );
          const [left] = await t.dataSource.query(
            `SELECT (SELECT count(*) FROM organizations WHERE id = $1)::int AS orgs,
                    (SELECT count(*) FROM tasks WHERE org_id = $1)::int AS tasks`,
            [orgId],
          );
          expect(left).toEqual({ orgs: 0, tasks: 0 });
        }
      },
      120_000,
    );

    onServer(
      'invites redeemed while the org is deleted: joined first or refused cleanly, never a 500',
      async () => {
        for (let round = 0; round < 5; round++) {
          const { orgId, owner } = await orgWith();
          const invite = await linkInvite(orgId, owner, 'member');
          const users = await Promise.all(Array.from({ length: 12 }, () => registerUser(t)));
          const requests = users.map((user) => accept(user, invite.token));
          requests.splice(
            6,
            0,
            t
              .http()
              .delete(api(`/orgs/${orgId}`))
              .set(owner.auth),
          );
          const statuses = (await Promise.all(requests)).map((r) => r.status);
          expect({ round, statuses }).toEqual({
            round,
            statuses: statuses.map((s) =>
              [200, 204, 404, 409].includes(s) ? s : `unexpected ${s}`,
            ),
          });
          expect(statuses[6]).toBe(204);
          expectProblem(
            await t
              .http()
              .get(api(`/orgs/${orgId}`))
              .set(owner.auth),
            404,
          );
        }
      },
      120_000,
    );
  });

  // ---- item 11 -----------------------------------------------------------------------

  describe('removing a member while tasks are assigned to them (item 11)', () => {
    /** The task lost its assignee explicitly: an entry saying so, the version bumped. */
    async function expectUnassignedWithEntry(
      task: TaskView,
      from: string,
      by: SignedInUser,
      versionAfter: number,
    ) {
      expect(await taskRow(task.id)).toEqual({ assigneeId: null, version: versionAfter });
      const activity = await activityOf(task, by);
      expect(activity[0]).toMatchObject({
        action: 'task.assigned',
        metadata: {
          before: { assigneeId: from },
          after: { assigneeId: null },
          reason: 'member_removed',
        },
      });
    }

    it('removal unassigns the task explicitly: assigneeId null, version bumped, a task.assigned entry', async () => {
      const { orgId, owner, member } = await orgWith('member');
      const projectId = await createProject(t, orgId, owner);
      const task = await createTask(t, orgId, projectId, owner);
      const assigned = await t
        .http()
        .patch(taskPath(orgId, projectId, task.id))
        .set(owner.auth)
        .send({ assigneeId: member.id });
      expectStatus(assigned, 200);
      expect(assigned.body).toMatchObject({ assigneeId: member.id, version: task.version + 1 });

      expectStatus(await removeMember(orgId, owner, member.id), 204);

      const res = await t
        .http()
        .get(taskPath(orgId, projectId, task.id))
        .set(owner.auth);
      expectStatus(res, 200);
      expect(res.body).toMatchObject({ assigneeId: null, version: task.version + 2 });
      await expectUnassignedWithEntry(task, member.id, owner, task.version + 2);
    });

    it('leaving does the same, with the leaver as actor', async () => {
      const { orgId, owner, member } = await orgWith('member');
      const projectId = await createProject(t, orgId, owner);
      const task = await createTask(t, orgId, projectId, owner, { assigneeId: member.id });

      expectStatus(
        await t
          .http()
          .post(api(`/orgs/${orgId}/leave`))
          .set(member.auth),
        204,
      );

      await expectUnassignedWithEntry(task, member.id, owner, task.version + 1);
      expect((await activityOf(task, owner))[0]!.actorId).toBe(member.id);
    });

    onServer(
      'an assignment racing a removal: assigned to a member still there, or unassigned with its entry; never a 500',
      async () => {
        for (let round = 0; round < 15; round++) {
          const { orgId, owner, admin, member } = await orgWith('admin', 'member');
          const projectId = await createProject(t, orgId, owner);
          const existing = await createTask(t, orgId, projectId, owner);

          const [patched, created, removed] = await Promise.all([
            t
              .http()
              .patch(taskPath(orgId, projectId, existing.id))
              .set(admin.auth)
              .send({ assigneeId: member.id }),
            t
              .http()
              .post(tasksPath(orgId, projectId))
              .set(owner.auth)
              .send({ title: 'racing', assigneeId: member.id }),
            removeMember(orgId, owner, member.id),
          ]);
          expect({ round, status: removed.status }).toEqual({ round, status: 204 });
          expect(await membersOf(orgId)).not.toContain(member.id);

          // Each write either went first (and its task was then unassigned explicitly) or
          // came second and found no such member (400).
          expect([200, 400]).toContain(patched.status);
          expect([201, 400]).toContain(created.status);
          if (patched.status === 200) {
            await expectUnassignedWithEntry(existing, member.id, owner, existing.version + 2);
          } else {
            expectProblem(patched, 400);
            expect(await taskRow(existing.id)).toEqual({
              assigneeId: null,
              version: existing.version,
            });
          }
          if (created.status === 201) {
            await expectUnassignedWithEntry(created.body, member.id, owner, 2);
          } else {
            expectProblem(created, 400);
          }
          // Nothing in the org is left assigned to someone who is gone.
          const [orphans] = await t.dataSource.query(
            `SELECT count(*)::int AS n FROM tasks t
              WHERE t.org_id = $1 AND t.assignee_id IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM memberships m
                                 WHERE m.org_id = t.org_id AND m.user_id = t.assignee_id)`,
            [orgId],
          );
          expect(orphans.n).toBe(0);
        }
      },
      120_000,
    );
  });
});
