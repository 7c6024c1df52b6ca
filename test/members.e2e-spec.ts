import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { api, createTestApp, TestApp } from './helpers/app';
import { addMember, createOrg, createOrgWorld, getOrg, OrgWorld, Role } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import { registerUser, SignedInUser } from './helpers/users';

const MALFORMED_IDS = ['not-a-uuid', '12345', '00000000-0000-0000-0000-00000000000g'];

interface MemberView {
  userId: string;
  name: string;
  email: string;
  role: Role;
  joinedAt: string;
}

function memberOf(user: SignedInUser, role: Role): MemberView {
  return {
    userId: user.id,
    name: user.name,
    email: user.email,
    role,
    joinedAt: expect.any(String),
  };
}

describe('members: /orgs/:orgId/members and /orgs/:orgId/leave', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const memberPath = (orgId: string, userId: string) => api(`/orgs/${orgId}/members/${userId}`);
  const patchRole = (orgId: string, by: SignedInUser, target: string, role: string) =>
    t.http().patch(memberPath(orgId, target)).set(by.auth).send({ role });
  const remove = (orgId: string, by: SignedInUser, target: string) =>
    t.http().delete(memberPath(orgId, target)).set(by.auth);
  const leave = (orgId: string, by: SignedInUser) =>
    t
      .http()
      .post(api(`/orgs/${orgId}/leave`))
      .set(by.auth);

  /** The members of the org as `by` sees them, every page (limit 100). */
  async function members(orgId: string, by: SignedInUser): Promise<MemberView[]> {
    const res = await t
      .http()
      .get(api(`/orgs/${orgId}/members`))
      .query({ limit: 100 })
      .set(by.auth);
    expectStatus(res, 200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.data;
  }

  /** `userId → role`, as the table owner sees it (RLS bypassed): the ground truth. */
  async function rolesInDb(orgId: string): Promise<Record<string, string>> {
    const rows: Array<{ user_id: string; role: string }> = await t.dataSource.query(
      `SELECT user_id, role FROM memberships WHERE org_id = $1`,
      [orgId],
    );
    return Object.fromEntries(rows.map((r) => [r.user_id, r.role]));
  }

  async function rolesViaApi(orgId: string, by: SignedInUser): Promise<Record<string, string>> {
    return Object.fromEntries((await members(orgId, by)).map((m) => [m.userId, m.role]));
  }

  function worldRoles(world: OrgWorld): Record<string, string> {
    return {
      [world.owner.id]: 'owner',
      [world.admin.id]: 'admin',
      [world.member.id]: 'member',
      [world.viewer.id]: 'viewer',
    };
  }

  /**
   * One world for the cases that change nothing (refused calls and reads), built on first
   * use and shared by them; a case that changes the org builds its own.
   */
  let unchangedWorld: Promise<OrgWorld> | undefined;
  const sharedWorld = () => (unchangedWorld ??= createOrgWorld(t));

  /** A world plus one more plain member (`target`), so no matrix caller acts on itself. */
  async function worldWithTarget(): Promise<OrgWorld & { target: SignedInUser }> {
    const world = await createOrgWorld(t);
    const target = await registerUser(t, { name: 'target' });
    await addMember(t, world.orgId, target, 'member');
    return { ...world, target };
  }

  // Who may call each route: test/permissions (the permission matrix). Here: what an allowed call does.
  describe('allowed calls', () => {
    it.each(['owner', 'admin'] as const)(
      'PATCH …/members/:userId as %s: a member becomes a viewer, nothing else changes',
      async (caller) => {
        const world = await worldWithTarget();
        const res = await t
          .http()
          .patch(memberPath(world.orgId, world.target.id))
          .set(world[caller].auth)
          .send({ role: 'viewer' });
        expectStatus(res, 200);
        expect(res.body).toEqual(memberOf(world.target, 'viewer'));
        expect(Number.isNaN(Date.parse(res.body.joinedAt))).toBe(false);
        expect(await rolesViaApi(world.orgId, world.owner)).toEqual({
          ...worldRoles(world),
          [world.target.id]: 'viewer',
        });
      },
    );

    it.each(['owner', 'admin'] as const)(
      'DELETE …/members/:userId as %s: the member loses access, nobody else does',
      async (caller) => {
        const world = await worldWithTarget();
        const res = await t
          .http()
          .delete(memberPath(world.orgId, world.target.id))
          .set(world[caller].auth);
        expectStatus(res, 204);
        expectProblem(await getOrg(t, world.orgId, world.target), 404);
        expect(await rolesViaApi(world.orgId, world.owner)).toEqual(worldRoles(world));
      },
    );

    it.each(['admin', 'member', 'viewer'] as const)(
      'POST …/leave as %s: the leaver loses access, nobody else does',
      async (caller) => {
        const world = await createOrgWorld(t);
        const res = await t
          .http()
          .post(api(`/orgs/${world.orgId}/leave`))
          .set(world[caller].auth);
        expectStatus(res, 204);
        expectProblem(await getOrg(t, world.orgId, world[caller]), 404);
        const roles = worldRoles(world);
        delete roles[world[caller].id];
        expect(await rolesViaApi(world.orgId, world.owner)).toEqual(roles);
      },
    );

    it('POST …/leave as the only owner: 409 last-owner-required, nothing changes', async () => {
      const world = await sharedWorld();
      const res = await t
        .http()
        .post(api(`/orgs/${world.orgId}/leave`))
        .set(world.owner.auth);
      expectProblem(res, 409, 'last-owner-required');
      expect(await rolesViaApi(world.orgId, world.owner)).toEqual(worldRoles(world));
    });
  });

  describe('GET /orgs/:orgId/members', () => {
    it('lists exactly the members, with userId, name, email, role and joinedAt', async () => {
      const world = await sharedWorld();
      const list = await members(world.orgId, world.viewer);
      expect(list).toHaveLength(4);
      for (const m of list) {
        expect(Object.keys(m).sort()).toEqual(['email', 'joinedAt', 'name', 'role', 'userId']);
        expect(Number.isNaN(Date.parse(m.joinedAt))).toBe(false);
      }
      const ids = list.map((m) => m.userId);
      expect(ids).not.toContain(world.outsider.id);
      expect(ids).not.toContain(world.stranger.id);
      expect(list.find((m) => m.userId === world.admin.id)).toEqual(memberOf(world.admin, 'admin'));
      expect(JSON.stringify(list)).not.toMatch(/password|hash/i);
    });

    it('paginates with limit=1 and the cursor: every member once, ending with nextCursor null', async () => {
      const world = await createOrgWorld(t);
      const extra = await Promise.all([1, 2, 3].map(() => registerUser(t)));
      for (const user of extra) await addMember(t, world.orgId, user, 'viewer');
      const expectedIds = [world.owner, world.admin, world.member, world.viewer, ...extra]
        .map((u) => u.id)
        .sort();

      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: Record<string, string | number> =
            cursor === null ? { limit } : { limit, cursor };
          const res: Response = await t
            .http()
            .get(api(`/orgs/${world.orgId}/members`))
            .query(query)
            .set(world.member.auth);
          expectStatus(res, 200);
          expect(res.body.data.length).toBeLessThanOrEqual(limit);
          expect(res.body.nextCursor === null || typeof res.body.nextCursor === 'string').toBe(
            true,
          );
          seen.push(...res.body.data.map((m: MemberView) => m.userId));
          cursor = res.body.nextCursor;
          if (++pages > 20) throw new Error('pagination did not end');
        } while (cursor !== null);
        expect(new Set(seen).size).toBe(seen.length);
        expect([...seen].sort()).toEqual(expectedIds);
      }
    });

    it('answers 400 to a malformed cursor and to a limit outside 1..100', async () => {
      const world = await sharedWorld();
      const path = api(`/orgs/${world.orgId}/members`);
      for (const cursor of [
        'not-a-cursor',
        '%%%',
        Buffer.from('{"nonsense":true}').toString('base64url'),
      ]) {
        expectProblem(await t.http().get(path).query({ cursor }).set(world.owner.auth), 400);
      }
      for (const limit of ['0', '101', 'abc']) {
        expectProblem(await t.http().get(path).query({ limit }).set(world.owner.auth), 400);
      }
    });

    it('answers 404 for an unknown or malformed org id', async () => {
      const user = await registerUser(t);
      for (const id of [randomUUID(), ...MALFORMED_IDS]) {
        expectProblem(
          await t
            .http()
            .get(api(`/orgs/${id}/members`))
            .set(user.auth),
          404,
        );
      }
    });
  });

  describe('PATCH /orgs/:orgId/members/:userId', () => {
    it('lets an admin move people among admin, member and viewer', async () => {
      const world = await createOrgWorld(t);
      const admin2 = await registerUser(t, { name: 'admin2' });
      await addMember(t, world.orgId, admin2, 'admin');

      const promoted = await patchRole(world.orgId, world.admin, world.member.id, 'admin');
      expectStatus(promoted, 200);
      expect(promoted.body).toEqual(memberOf(world.member, 'admin'));
      expectStatus(await patchRole(world.orgId, world.admin, world.viewer.id, 'member'), 200);
      expectStatus(await patchRole(world.orgId, world.admin, admin2.id, 'viewer'), 200);

      expect(await rolesViaApi(world.orgId, world.owner)).toEqual({
        [world.owner.id]: 'owner',
        [world.admin.id]: 'admin',
        [world.member.id]: 'admin',
        [world.viewer.id]: 'member',
        [admin2.id]: 'viewer',
      });
    });

    it('answers 403 to an admin changing an owner (even with two owners), and changes nothing', async () => {
      const world = await createOrgWorld(t);
      const coOwner = await registerUser(t, { name: 'co-owner' });
      await addMember(t, world.orgId, coOwner, 'owner');
      for (const target of [world.owner, coOwner]) {
        for (const role of ['admin', 'member', 'viewer', 'owner']) {
          expectProblem(await patchRole(world.orgId, world.admin, target.id, role), 403);
        }
      }
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual({
        ...worldRoles(world),
        [coOwner.id]: 'owner',
      });
    });

    it('answers 403 to an admin granting owner, to others or to themself, and changes nothing', async () => {
      const world = await sharedWorld();
      for (const target of [world.member, world.viewer, world.admin]) {
        expectProblem(await patchRole(world.orgId, world.admin, target.id, 'owner'), 403);
      }
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
    });

    it('lets an owner make any change, including to and from owner while another owner remains', async () => {
      const world = await createOrgWorld(t);
      expectStatus(await patchRole(world.orgId, world.owner, world.member.id, 'owner'), 200);
      expectStatus(await patchRole(world.orgId, world.owner, world.admin.id, 'viewer'), 200);
      expectStatus(await patchRole(world.orgId, world.owner, world.viewer.id, 'admin'), 200);
      const demoted = await patchRole(world.orgId, world.owner, world.member.id, 'member');
      expectStatus(demoted, 200);
      expect(demoted.body).toEqual(memberOf(world.member, 'member'));
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual({
        [world.owner.id]: 'owner',
        [world.admin.id]: 'viewer',
        [world.member.id]: 'member',
        [world.viewer.id]: 'admin',
      });
    });

    it.each(['member', 'viewer'] as const)(
      'answers 403 to a %s, on others and on themself, and changes nothing',
      async (role) => {
        const world = await sharedWorld();
        const caller = world[role];
        for (const target of [world.owner, world.admin, world.member, world.viewer]) {
          for (const newRole of ['admin', 'member', 'viewer', 'owner']) {
            if (target === caller && newRole === role) continue;
            expectProblem(await patchRole(world.orgId, caller, target.id, newRole), 403);
          }
        }
        expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
      },
    );

    it.each(['admin', 'member', 'viewer'])(
      'answers 409 last-owner-required when the only owner demotes themself to %s',
      async (role) => {
        const world = await sharedWorld();
        const res = await patchRole(world.orgId, world.owner, world.owner.id, role);
        expectProblem(res, 409, 'last-owner-required');
        expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
        expect((await getOrg(t, world.orgId, world.owner)).body.role).toBe('owner');
      },
    );

    it('hands ownership over: the owner promotes a member to owner, then demotes themself', async () => {
      const world = await createOrgWorld(t);
      const promoted = await patchRole(world.orgId, world.owner, world.member.id, 'owner');
      expectStatus(promoted, 200);
      expect(promoted.body).toEqual(memberOf(world.member, 'owner'));
      const stepDown = await patchRole(world.orgId, world.owner, world.owner.id, 'admin');
      expectStatus(stepDown, 200);
      expect(stepDown.body).toEqual(memberOf(world.owner, 'admin'));

      expect(await rolesDbAndApi(world.orgId, world.member)).toEqual({
        ...worldRoles(world),
        [world.owner.id]: 'admin',
        [world.member.id]: 'owner',
      });
      // The new owner is now the last one; the former owner is an admin and cannot touch them.
      expectProblem(
        await patchRole(world.orgId, world.member, world.member.id, 'admin'),
        409,
        'last-owner-required',
      );
      expectProblem(await patchRole(world.orgId, world.owner, world.member.id, 'admin'), 403);
      expect((await getOrg(t, world.orgId, world.owner)).body.role).toBe('admin');
      expect((await getOrg(t, world.orgId, world.member)).body.role).toBe('owner');
    });

    it('answers 404 to an unknown or malformed target user id', async () => {
      const world = await sharedWorld();
      for (const id of [randomUUID(), ...MALFORMED_IDS]) {
        expectProblem(await patchRole(world.orgId, world.owner, id, 'viewer'), 404);
        expectProblem(await patchRole(world.orgId, world.admin, id, 'viewer'), 404);
      }
    });

    it('answers 404 when the target is a member of another org (or of none), and leaves them alone', async () => {
      const world = await sharedWorld();
      for (const target of [world.stranger, world.outsider]) {
        const res = await patchRole(world.orgId, world.owner, target.id, 'viewer');
        expectProblem(res, 404);
        expect(JSON.stringify(res.body)).not.toContain(target.email);
      }
      // And the other way round: the stranger, owner of their org, cannot reach our members through it.
      expectProblem(
        await patchRole(world.otherOrgId, world.stranger, world.member.id, 'admin'),
        404,
      );

      expect((await getOrg(t, world.otherOrgId, world.stranger)).body.role).toBe('owner');
      expectProblem(await getOrg(t, world.orgId, world.stranger), 404);
      expectProblem(await getOrg(t, world.orgId, world.outsider), 404);
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
      expect(await rolesInDb(world.otherOrgId)).toEqual({ [world.stranger.id]: 'owner' });
    });

    it('answers 404 on an org id that is unknown or malformed', async () => {
      const world = await sharedWorld();
      for (const orgId of [randomUUID(), ...MALFORMED_IDS]) {
        expectProblem(await patchRole(orgId, world.owner, world.member.id, 'viewer'), 404);
      }
    });

    it.each([
      { label: 'an unknown role', body: { role: 'superadmin' }, fields: ['role'] },
      { label: 'a missing role', body: {}, fields: ['role'] },
      { label: 'a role that is not a string', body: { role: 1 }, fields: ['role'] },
      {
        label: 'an unknown field',
        body: { role: 'viewer', orgId: randomUUID() },
        fields: ['orgId'],
      },
    ])('answers 400 naming the field to $label, and changes nothing', async ({ body, fields }) => {
      const world = await sharedWorld();
      const res = await t
        .http()
        .patch(memberPath(world.orgId, world.member.id))
        .set(world.owner.auth)
        .send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(fields);
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
    });
  });

  describe('DELETE /orgs/:orgId/members/:userId', () => {
    it('lets an admin remove an admin, a member and a viewer', async () => {
      const world = await createOrgWorld(t);
      const admin2 = await registerUser(t, { name: 'admin2' });
      await addMember(t, world.orgId, admin2, 'admin');
      for (const target of [admin2, world.member, world.viewer]) {
        const res = await remove(world.orgId, world.admin, target.id);
        expectStatus(res, 204);
        expect(res.text ?? '').toBe('');
      }
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual({
        [world.owner.id]: 'owner',
        [world.admin.id]: 'admin',
      });
    });

    it('answers 403 to an admin removing an owner (even with two owners), and changes nothing', async () => {
      const world = await createOrgWorld(t);
      const coOwner = await registerUser(t, { name: 'co-owner' });
      await addMember(t, world.orgId, coOwner, 'owner');
      expectProblem(await remove(world.orgId, world.admin, world.owner.id), 403);
      expectProblem(await remove(world.orgId, world.admin, coOwner.id), 403);
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual({
        ...worldRoles(world),
        [coOwner.id]: 'owner',
      });
    });

    it.each(['member', 'viewer'] as const)(
      'answers 403 to a %s removing anyone, and changes nothing',
      async (role) => {
        const world = await sharedWorld();
        const caller = world[role];
        for (const target of [world.owner, world.admin, world.member, world.viewer]) {
          if (target === caller) continue;
          expectProblem(await remove(world.orgId, caller, target.id), 403);
        }
        expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
      },
    );

    it('lets an owner remove another owner and anyone else', async () => {
      const world = await createOrgWorld(t);
      const coOwner = await registerUser(t, { name: 'co-owner' });
      await addMember(t, world.orgId, coOwner, 'owner');
      for (const target of [coOwner, world.admin, world.member]) {
        expectStatus(await remove(world.orgId, world.owner, target.id), 204);
      }
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual({
        [world.owner.id]: 'owner',
        [world.viewer.id]: 'viewer',
      });
      expectProblem(await getOrg(t, world.orgId, coOwner), 404);
    });

    it('lets an owner remove themself while another owner remains', async () => {
      const world = await createOrgWorld(t);
      const coOwner = await registerUser(t, { name: 'co-owner' });
      await addMember(t, world.orgId, coOwner, 'owner');
      expectStatus(await remove(world.orgId, world.owner, world.owner.id), 204);
      expectProblem(await getOrg(t, world.orgId, world.owner), 404);
      const roles = worldRoles(world);
      delete roles[world.owner.id];
      expect(await rolesDbAndApi(world.orgId, coOwner)).toEqual({
        ...roles,
        [coOwner.id]: 'owner',
      });
    });

    it('answers 409 last-owner-required when the only owner removes themself', async () => {
      const world = await sharedWorld();
      expectProblem(
        await remove(world.orgId, world.owner, world.owner.id),
        409,
        'last-owner-required',
      );
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
    });

    it('answers 404 to an unknown or malformed target, and to a user of another org or of none', async () => {
      const world = await sharedWorld();
      for (const id of [randomUUID(), ...MALFORMED_IDS, world.stranger.id, world.outsider.id]) {
        expectProblem(await remove(world.orgId, world.owner, id), 404);
      }
      expectProblem(await remove(world.otherOrgId, world.stranger, world.member.id), 404);
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
      expect(await rolesInDb(world.otherOrgId)).toEqual({ [world.stranger.id]: 'owner' });
    });

    it('answers 404 to a second removal of the same member', async () => {
      const world = await createOrgWorld(t);
      expectStatus(await remove(world.orgId, world.owner, world.member.id), 204);
      expectProblem(await remove(world.orgId, world.owner, world.member.id), 404);
    });
  });

  describe('POST /orgs/:orgId/leave', () => {
    it('lets an owner leave while another owner remains; the remaining owner then cannot', async () => {
      const world = await createOrgWorld(t);
      const coOwner = await registerUser(t, { name: 'co-owner' });
      await addMember(t, world.orgId, coOwner, 'owner');
      const res = await leave(world.orgId, world.owner);
      expectStatus(res, 204);
      expect(res.text ?? '').toBe('');
      expectProblem(await getOrg(t, world.orgId, world.owner), 404);
      expectProblem(await leave(world.orgId, coOwner), 409, 'last-owner-required');
      const roles = worldRoles(world);
      delete roles[world.owner.id];
      expect(await rolesDbAndApi(world.orgId, coOwner)).toEqual({
        ...roles,
        [coOwner.id]: 'owner',
      });
    });

    it('answers 409 last-owner-required to the only owner and keeps every membership', async () => {
      const world = await sharedWorld();
      const res = await leave(world.orgId, world.owner);
      expectProblem(res, 409, 'last-owner-required');
      expect(await rolesDbAndApi(world.orgId, world.owner)).toEqual(worldRoles(world));
    });

    it('removes the leaver from the list and from their GET /orgs, leaving their other orgs', async () => {
      const world = await createOrgWorld(t);
      const own = await createOrg(t, world.member, 'Member Co');
      expectStatus(await leave(world.orgId, world.member), 204);
      const list = await t.http().get(api('/orgs')).set(world.member.auth);
      expectStatus(list, 200);
      expect(list.body.data.map((o: { id: string }) => o.id)).toEqual([own]);
      expect((await members(world.orgId, world.owner)).map((m) => m.userId)).not.toContain(
        world.member.id,
      );
      expectProblem(await leave(world.orgId, world.member), 404);
    });

    it('answers 404 for an unknown or malformed org id', async () => {
      const user = await registerUser(t);
      await createOrg(t, user, 'Mine');
      for (const id of [randomUUID(), ...MALFORMED_IDS]) {
        expectProblem(await leave(id, user), 404);
      }
    });
  });

  describe('roles are read per request', () => {
    it('an admin demoted to viewer gets 403 on their very next PATCH with the same token', async () => {
      const world = await createOrgWorld(t);
      expectStatus(await patchRole(world.orgId, world.admin, world.viewer.id, 'member'), 200);
      expectStatus(await patchRole(world.orgId, world.owner, world.admin.id, 'viewer'), 200);
      expectProblem(await patchRole(world.orgId, world.admin, world.viewer.id, 'viewer'), 403);
      expectProblem(await remove(world.orgId, world.admin, world.member.id), 403);
      expect((await getOrg(t, world.orgId, world.admin)).body.role).toBe('viewer');
      expect((await rolesDbAndApi(world.orgId, world.owner))[world.viewer.id]).toBe('member');
    });

    it('a viewer promoted to admin may change roles on their very next request', async () => {
      const world = await createOrgWorld(t);
      expectProblem(await patchRole(world.orgId, world.viewer, world.member.id, 'viewer'), 403);
      expectStatus(await patchRole(world.orgId, world.owner, world.viewer.id, 'admin'), 200);
      expectStatus(await patchRole(world.orgId, world.viewer, world.member.id, 'viewer'), 200);
    });

    it('a removed member gets 404 on their very next request', async () => {
      const world = await createOrgWorld(t);
      expectStatus(await getOrg(t, world.orgId, world.member), 200);
      expectStatus(await remove(world.orgId, world.owner, world.member.id), 204);
      expectProblem(await getOrg(t, world.orgId, world.member), 404);
      expectProblem(
        await t
          .http()
          .get(api(`/orgs/${world.orgId}/members`))
          .set(world.member.auth),
        404,
      );
      expectProblem(await leave(world.orgId, world.member), 404);
      const list = await t.http().get(api('/orgs')).set(world.member.auth);
      expectStatus(list, 200);
      expect(list.body.data).toEqual([]);
    });

    it('a removed admin cannot act on the org any more', async () => {
      const world = await createOrgWorld(t);
      expectStatus(await remove(world.orgId, world.owner, world.admin.id), 204);
      expectProblem(await patchRole(world.orgId, world.admin, world.viewer.id, 'member'), 404);
      expectProblem(await remove(world.orgId, world.admin, world.viewer.id), 404);
      expectProblem(
        await t
          .http()
          .patch(api(`/orgs/${world.orgId}`))
          .set(world.admin.auth)
          .send({ name: 'X' }),
        404,
      );
      expect((await rolesDbAndApi(world.orgId, world.owner))[world.viewer.id]).toBe('viewer');
    });
  });

  describe('concurrency: never zero owners', () => {
    async function twoOwnerOrg(): Promise<{ orgId: string; a: SignedInUser; b: SignedInUser }> {
      const [a, b] = await Promise.all([
        registerUser(t, { name: 'owner A' }),
        registerUser(t, { name: 'owner B' }),
      ]);
      const orgId = await createOrg(t, a, 'Duo');
      await addMember(t, orgId, b, 'owner');
      return { orgId, a, b };
    }

    /** Exactly one owner, in the database and as the API lists it. */
    async function expectExactlyOneOwner(
      orgId: string,
      a: SignedInUser,
      b: SignedInUser,
    ): Promise<void> {
      const db = await rolesInDb(orgId);
      expect(Object.values(db).filter((r) => r === 'owner')).toHaveLength(1);
      const stillMember = db[a.id] !== undefined ? a : b;
      expect(await rolesViaApi(orgId, stillMember)).toEqual(db);
    }

    /*
     * Mutual demotion. When the two transactions overlap, the loser is refused with 409
     * last-owner-required (the contract's case). But "at the same time" cannot be forced: when
     * the loser's request starts after the winner's commit, which is always so on the embedded
     * database (PGlite runs one transaction at a time) and now and then on a server, the loser
     * is by then an admin acting on an owner, and the implementation answers that 403 first.
     * Both refusals keep the invariant checked here: one winner, exactly one owner left.
     */
    it.each([1, 2, 3, 4, 5])(
      'the only two owners demoting each other at once: one 200, the other refused, one owner left (run %i)',
      async () => {
        const { orgId, a, b } = await twoOwnerOrg();
        const results = await Promise.all([
          patchRole(orgId, a, b.id, 'admin'),
          patchRole(orgId, b, a.id, 'admin'),
        ]);
        const statuses = results.map((r) => r.status).sort();
        expect([
          [200, 403],
          [200, 409],
        ]).toContainEqual(statuses);
        const loser = results.find((r) => r.status !== 200)!;
        expectProblem(
          loser,
          loser.status,
          loser.status === 409 ? 'last-owner-required' : undefined,
        );
        await expectExactlyOneOwner(orgId, a, b);
        expect(Object.values(await rolesInDb(orgId)).sort()).toEqual(['admin', 'owner']);
      },
    );

    /* Each owner demotes only themself: whatever the interleaving, the second one is the last owner. */
    it.each([1, 2, 3, 4, 5])(
      'the only two owners stepping down at once: one 200, one 409 last-owner-required, one owner left (run %i)',
      async () => {
        const { orgId, a, b } = await twoOwnerOrg();
        const results = await Promise.all([
          patchRole(orgId, a, a.id, 'member'),
          patchRole(orgId, b, b.id, 'member'),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
        expectProblem(
          results.find((r) => r.status === 409)!,
          409,
          'last-owner-required',
        );
        await expectExactlyOneOwner(orgId, a, b);
        expect(Object.values(await rolesInDb(orgId)).sort()).toEqual(['member', 'owner']);
      },
    );

    it.each([1, 2, 3])(
      'the only two owners leaving at once: one 204, one 409 last-owner-required, one owner left (run %i)',
      async () => {
        const { orgId, a, b } = await twoOwnerOrg();
        const results = await Promise.all([leave(orgId, a), leave(orgId, b)]);
        expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
        expectProblem(
          results.find((r) => r.status === 409)!,
          409,
          'last-owner-required',
        );
        await expectExactlyOneOwner(orgId, a, b);
        expect(Object.keys(await rolesInDb(orgId))).toHaveLength(1);
      },
    );
  });

  /** Roles via the API (as `by`), checked against the database, so both must agree. */
  async function rolesDbAndApi(orgId: string, by: SignedInUser): Promise<Record<string, string>> {
    const viaApi = await rolesViaApi(orgId, by);
    expect(viaApi).toEqual(await rolesInDb(orgId));
    return viaApi;
  }
});
