import { randomBytes, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { api, createTestApp, TestApp } from './helpers/app';
import { addMember, Caller, createOrg, createOrgWorld, getOrg, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import { registerUser } from './helpers/users';
import { countRows } from './helpers/work';
const MALFORMED_IDS = [
  'not-a-uuid',
  '12345',
  '00000000-0000-0000-0000-00000000000g',
  encodeURIComponent("1' OR '1'='1"),
];

function expectIsoDate(value: unknown): void {
  expect(typeof value).toBe('string');
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

function expectOrg(body: unknown, expected: { id?: string; name: string; role: string }): void {
  expect(body).toEqual({
    id: expected.id ?? expect.any(String),
    name: expected.name,
    role: expected.role,
    createdAt: expect.any(String),
    updatedAt: expect.any(String),
  });
  const org = body as { createdAt: string; updatedAt: string };
  expectIsoDate(org.createdAt);
  expectIsoDate(org.updatedAt);
  expect(Date.parse(org.updatedAt)).toBeGreaterThanOrEqual(Date.parse(org.createdAt));
}

function withoutInstance(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'instance'));
}

describe('organizations: /orgs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** The org, as its owner reads it, is exactly as `before` read it. */
  async function expectOrgAsBefore(world: OrgWorld, before: Response): Promise<void> {
    const after = await getOrg(t, world.orgId, world.owner);
    expectStatus(after, 200);
    expect(after.body).toEqual(before.body);
  }

  /** Walks every page of a list; fails if a page is malformed or the walk does not end. */
  async function listAll(
    path: string,
    auth: Record<string, string>,
    limit: number,
  ): Promise<{ items: Array<Record<string, any>>; pages: number }> {
    const items: Array<Record<string, any>> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string | number> =
        cursor === null ? { limit } : { limit, cursor };
      const res: Response = await t.http().get(api(path)).query(query).set(auth);
      expectStatus(res, 200);
      expect(Array.isArray(res.body.data)).toBe(true);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      expect(res.body.nextCursor === null || typeof res.body.nextCursor === 'string').toBe(true);
      items.push(...res.body.data);
      cursor = res.body.nextCursor;
      pages++;
      if (pages > 50) throw new Error(`pagination of ${path} did not end after 50 pages`);
    } while (cursor !== null);
    return { items, pages };
  }

  /**
   * One world for the cases that change nothing (refused renames and deletions), built on
   * first use and shared by them; a case that changes the org builds its own.
   */
  let unchangedWorld: Promise<OrgWorld> | undefined;
  const sharedWorld = () => (unchangedWorld ??= createOrgWorld(t));

  // Who may call each route: test/permissions (the permission matrix). Here: what an allowed call does.
  describe('allowed calls', () => {
    let world: OrgWorld;
    beforeAll(async () => {
      world = await createOrgWorld(t);
    });

    it.each(['owner', 'outsider', 'stranger'] as const)(
      'POST /orgs as %s: the caller owns the new org',
      async (caller) => {
        const name = `Created by ${caller}`;
        const res = await t.http().post(api('/orgs')).set(world[caller].auth).send({ name });
        expectStatus(res, 201);
        expectOrg(res.body, { name, role: 'owner' });
        const read = await getOrg(t, res.body.id, world[caller]);
        expectStatus(read, 200);
        expectOrg(read.body, { id: res.body.id, name, role: 'owner' });
      },
    );

    const lists: Array<[Exclude<Caller, 'anonymous'>, 'world' | 'other' | 'none']> = [
      ['owner', 'world'],
      ['admin', 'world'],
      ['member', 'world'],
      ['viewer', 'world'],
      ['outsider', 'none'],
      ['stranger', 'other'],
    ];
    it.each(lists)('GET /orgs as %s lists only their own orgs', async (caller, orgs) => {
      const fresh = await createOrgWorld(t);
      const res = await t.http().get(api('/orgs')).set(fresh[caller].auth);
      expectStatus(res, 200);
      expect(res.body.nextCursor).toBeNull();
      const want =
        orgs === 'world'
          ? [{ id: fresh.orgId, name: 'Acme', role: caller }]
          : orgs === 'other'
            ? [{ id: fresh.otherOrgId, name: 'Other Co', role: 'owner' }]
            : [];
      expect(res.body.data).toHaveLength(want.length);
      want.forEach((org, i) => expectOrg(res.body.data[i], org));
    });

    it.each(['owner', 'admin', 'member', 'viewer'] as const)(
      'GET /orgs/:orgId as %s shows the caller their own role',
      async (caller) => {
        const res = await getOrg(t, world.orgId, world[caller]);
        expectStatus(res, 200);
        expectOrg(res.body, { id: world.orgId, name: 'Acme', role: caller });
      },
    );

    it.each(['owner', 'admin'] as const)('PATCH /orgs/:orgId as %s renames it', async (caller) => {
      const fresh = await createOrgWorld(t);
      const name = `Renamed by ${caller}`;
      const res = await t
        .http()
        .patch(api(`/orgs/${fresh.orgId}`))
        .set(fresh[caller].auth)
        .send({ name });
      expectStatus(res, 200);
      expectOrg(res.body, { id: fresh.orgId, name, role: caller });
      expect((await getOrg(t, fresh.orgId, fresh.owner)).body.name).toBe(name);
    });

    it('DELETE /orgs/:orgId as the owner deletes it, and only it', async () => {
      const fresh = await createOrgWorld(t);
      const res = await t
        .http()
        .delete(api(`/orgs/${fresh.orgId}`))
        .set(fresh.owner.auth);
      expectStatus(res, 204);
      expect(res.text ?? '').toBe('');
      expectStatus(await getOrg(t, fresh.orgId, fresh.owner), 404);
      expectStatus(await getOrg(t, fresh.otherOrgId, fresh.stranger), 200);
    });
  });

  describe('POST /orgs', () => {
    it('makes the creator the owner, trims the name and answers the org', async () => {
      const user = await registerUser(t);
      const res = await t.http().post(api('/orgs')).set(user.auth).send({ name: '  Acme Corp  ' });
      expectStatus(res, 201);
      expectOrg(res.body, { name: 'Acme Corp', role: 'owner' });

      const read = await getOrg(t, res.body.id, user);
      expectStatus(read, 200);
      expectOrg(read.body, { id: res.body.id, name: 'Acme Corp', role: 'owner' });

      const members = await t
        .http()
        .get(api(`/orgs/${res.body.id}/members`))
        .set(user.auth);
      expectStatus(members, 200);
      expect(members.body.data).toEqual([
        {
          userId: user.id,
          name: user.name,
          email: user.email,
          role: 'owner',
          joinedAt: expect.any(String),
        },
      ]);
    });

    it('accepts a name of exactly 100 characters', async () => {
      const user = await registerUser(t);
      const name = 'x'.repeat(100);
      const res = await t.http().post(api('/orgs')).set(user.auth).send({ name });
      expectStatus(res, 201);
      expect(res.body.name).toBe(name);
    });

    it.each([
      { label: 'an empty name', body: { name: '' }, fields: ['name'] },
      { label: 'a 101-character name', body: { name: 'x'.repeat(101) }, fields: ['name'] },
      { label: 'a missing name', body: {}, fields: ['name'] },
      { label: 'a name that is not a string', body: { name: 42 }, fields: ['name'] },
      { label: 'an unknown field', body: { name: 'Fine', plan: 'enterprise' }, fields: ['plan'] },
      { label: 'a client-chosen id', body: { name: 'Fine', id: randomUUID() }, fields: ['id'] },
    ])('answers 400 naming the field to $label, and creates nothing', async ({ body, fields }) => {
      const user = await registerUser(t);
      const res = await t.http().post(api('/orgs')).set(user.auth).send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(fields);
      const list = await t.http().get(api('/orgs')).set(user.auth);
      expectStatus(list, 200);
      expect(list.body.data).toEqual([]);
    });

    it('answers 400 to a name that is only blanks (1..100 characters once trimmed)', async () => {
      const user = await registerUser(t);
      const res = await t.http().post(api('/orgs')).set(user.auth).send({ name: '    ' });
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(['name']);
      expect((await t.http().get(api('/orgs')).set(user.auth)).body.data).toEqual([]);
    });
  });

  describe('GET /orgs', () => {
    it("lists only the orgs of the caller, each with the caller's role", async () => {
      const [user, other] = await Promise.all([registerUser(t), registerUser(t)]);
      const alpha = await createOrg(t, user, 'Alpha');
      const beta = await createOrg(t, user, 'Beta');
      const gamma = await createOrg(t, other, 'Gamma');
      await addMember(t, gamma, user, 'viewer');
      const delta = await createOrg(t, other, 'Delta');
      const epsilon = await createOrg(t, other, 'Epsilon');
      await addMember(t, epsilon, user, 'admin');

      const res = await t.http().get(api('/orgs')).set(user.auth);
      expectStatus(res, 200);
      expect(res.body.nextCursor).toBeNull();
      for (const org of res.body.data) expectOrg(org, org);
      const seen = res.body.data
        .map((o: { id: string; name: string; role: string }) => `${o.id}:${o.name}:${o.role}`)
        .sort();
      expect(seen).toEqual(
        [
          `${alpha}:Alpha:owner`,
          `${beta}:Beta:owner`,
          `${gamma}:Gamma:viewer`,
          `${epsilon}:Epsilon:admin`,
        ].sort(),
      );
      expect(res.body.data.map((o: { id: string }) => o.id)).not.toContain(delta);
    });

    it('paginates with limit=1 and the cursor: every org once, ending with nextCursor null', async () => {
      const user = await registerUser(t);
      const ids: string[] = [];
      for (const name of ['One', 'Two', 'Three', 'Four']) ids.push(await createOrg(t, user, name));

      const first = await t.http().get(api('/orgs')).query({ limit: 1 }).set(user.auth);
      expectStatus(first, 200);
      expect(first.body.data).toHaveLength(1);
      expect(typeof first.body.nextCursor).toBe('string');

      const { items } = await listAll('/orgs', user.auth, 1);
      const seen = items.map((o) => o.id as string);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual([...ids].sort());
      for (const org of items) expect(org.role).toBe('owner');
    });

    it('pages of 2 cover the same orgs as one page of 100', async () => {
      const user = await registerUser(t);
      for (const name of ['A', 'B', 'C', 'D', 'E']) await createOrg(t, user, name);
      const all = await t.http().get(api('/orgs')).query({ limit: 100 }).set(user.auth);
      expectStatus(all, 200);
      expect(all.body.data).toHaveLength(5);
      expect(all.body.nextCursor).toBeNull();
      const { items } = await listAll('/orgs', user.auth, 2);
      expect(items.map((o) => o.id)).toEqual(all.body.data.map((o: { id: string }) => o.id));
    });

    it('answers 20 orgs per page by default', async () => {
      const user = await registerUser(t);
      for (let i = 0; i < 21; i++) await createOrg(t, user, `Org ${i}`);
      const res = await t.http().get(api('/orgs')).set(user.auth);
      expectStatus(res, 200);
      expect(res.body.data).toHaveLength(20);
      expect(typeof res.body.nextCursor).toBe('string');
      const rest = await t
        .http()
        .get(api('/orgs'))
        .query({ cursor: res.body.nextCursor })
        .set(user.auth);
      expectStatus(rest, 200);
      expect(rest.body.data).toHaveLength(1);
      expect(rest.body.nextCursor).toBeNull();
    });

    it.each([
      { label: 'plain text', cursor: 'not-a-cursor' },
      { label: 'not base64', cursor: '%%%' },
      {
        label: 'base64 of the wrong JSON',
        cursor: Buffer.from('{"nonsense":true}').toString('base64url'),
      },
      { label: '300 characters', cursor: 'x'.repeat(300) },
    ])('answers 400 to a malformed cursor ($label)', async ({ cursor }) => {
      const user = await registerUser(t);
      await createOrg(t, user, 'Cursor Co');
      const res = await t.http().get(api('/orgs')).query({ cursor }).set(user.auth);
      expectProblem(res, 400);
    });

    it.each(['0', '101', '-1', 'abc', '1.5'])('answers 400 to limit=%s (1..100)', async (limit) => {
      const user = await registerUser(t);
      const res = await t.http().get(api('/orgs')).query({ limit }).set(user.auth);
      expectProblem(res, 400);
    });

    it('does not accept a cursor from another caller as a way to see their orgs', async () => {
      const [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
      for (const name of ['A1', 'A2', 'A3']) await createOrg(t, alice, name);
      const bobOrg = await createOrg(t, bob, 'B1');
      const page = await t.http().get(api('/orgs')).query({ limit: 1 }).set(alice.auth);
      expectStatus(page, 200);
      const res = await t
        .http()
        .get(api('/orgs'))
        .query({ limit: 100, cursor: page.body.nextCursor })
        .set(bob.auth);
      // Either refused or bob's own list; never alice's orgs.
      if (res.status === 200) {
        for (const org of res.body.data) expect(org.id).toBe(bobOrg);
      } else {
        expectProblem(res, 400);
      }
    });
  });

  describe('cross-tenant probes', () => {
    it.each([
      { method: 'get' as const, body: undefined },
      { method: 'patch' as const, body: { name: 'Hijacked' } },
      { method: 'delete' as const, body: undefined },
    ])(
      '$method answers 404 to the owner of another org, with no org data, exactly like an unknown id',
      async ({ method, body }) => {
        const [owner, stranger] = await Promise.all([registerUser(t), registerUser(t)]);
        const secret = `Secret ${randomBytes(6).toString('hex')}`;
        const orgId = await createOrg(t, owner, secret);
        await createOrg(t, stranger, 'Stranger Co');

        const send = (id: string) => {
          const req = t
            .http()
            [method](api(`/orgs/${id}`))
            .set(stranger.auth);
          return body === undefined ? req : req.send(body);
        };
        const probe = await send(orgId);
        expectProblem(probe, 404);
        const text = JSON.stringify(withoutInstance(probe.body));
        expect(text).not.toContain(secret);
        expect(text).not.toContain(orgId);
        expect(text).not.toContain(owner.email);
        expect(Object.keys(probe.body).sort()).toEqual(
          expect.arrayContaining(['detail', 'status', 'title', 'type']),
        );
        for (const key of ['id', 'name', 'role', 'createdAt', 'updatedAt'])
          expect(probe.body[key]).toBeUndefined();

        const unknown = await send(randomUUID());
        expectProblem(unknown, 404);
        expect(withoutInstance(probe.body)).toEqual(withoutInstance(unknown.body));

        const after = await getOrg(t, orgId, owner);
        expectStatus(after, 200);
        expect(after.body.name).toBe(secret);
      },
    );

    it.each([
      ...MALFORMED_IDS.map((id) => ({
        label: `the malformed org id ${id} (not 400)`,
        id,
        ownOrg: true,
      })),
      { label: 'an unknown org id', id: randomUUID(), ownOrg: false },
    ])('answers 404 to $label on GET, PATCH and DELETE', async ({ id, ownOrg }) => {
      const user = await registerUser(t);
      if (ownOrg) await createOrg(t, user, 'Mine');
      expectProblem(
        await t
          .http()
          .get(api(`/orgs/${id}`))
          .set(user.auth),
        404,
      );
      expectProblem(
        await t
          .http()
          .patch(api(`/orgs/${id}`))
          .set(user.auth)
          .send({ name: 'New' }),
        404,
      );
      expectProblem(
        await t
          .http()
          .delete(api(`/orgs/${id}`))
          .set(user.auth),
        404,
      );
    });

    it('answers 401, not 404, to an anonymous caller on an unknown org', async () => {
      expectProblem(await t.http().get(api(`/orgs/${randomUUID()}`)), 401);
    });
  });

  describe('PATCH /orgs/:orgId', () => {
    it('renames the org, trims the name and keeps createdAt', async () => {
      const world = await createOrgWorld(t);
      const before = await getOrg(t, world.orgId, world.owner);
      const res = await t
        .http()
        .patch(api(`/orgs/${world.orgId}`))
        .set(world.owner.auth)
        .send({ name: '  Acme 2  ' });
      expectStatus(res, 200);
      expectOrg(res.body, { id: world.orgId, name: 'Acme 2', role: 'owner' });
      expect(res.body.createdAt).toBe(before.body.createdAt);
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(
        Date.parse(before.body.updatedAt),
      );
      // Every member sees the new name, with their own role.
      const asViewer = await getOrg(t, world.orgId, world.viewer);
      expectOrg(asViewer.body, { id: world.orgId, name: 'Acme 2', role: 'viewer' });
    });

    it.each([
      { label: 'an empty name', body: { name: '' }, fields: ['name'] },
      { label: 'a blank name', body: { name: '   ' }, fields: ['name'] },
      { label: 'a 101-character name', body: { name: 'y'.repeat(101) }, fields: ['name'] },
      {
        label: 'an unknown field',
        body: { name: 'Fine', ownerId: randomUUID() },
        fields: ['ownerId'],
      },
    ])('answers 400 naming the field to $label, and changes nothing', async ({ body, fields }) => {
      const world = await sharedWorld();
      const res = await t
        .http()
        .patch(api(`/orgs/${world.orgId}`))
        .set(world.owner.auth)
        .send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(fields);
      expect((await getOrg(t, world.orgId, world.owner)).body.name).toBe('Acme');
    });

    it.each(['member', 'viewer'] as const)(
      'answers 403 when the %s renames it, and changes nothing',
      async (role) => {
        const world = await sharedWorld();
        const before = await getOrg(t, world.orgId, world.owner);
        const res = await t
          .http()
          .patch(api(`/orgs/${world.orgId}`))
          .set(world[role].auth)
          .send({ name: 'Taken over' });
        expectProblem(res, 403);
        await expectOrgAsBefore(world, before);
      },
    );
  });

  describe('DELETE /orgs/:orgId', () => {
    it('removes the org: former members get 404, it leaves their lists, its memberships are gone', async () => {
      const world = await createOrgWorld(t);
      const res = await t
        .http()
        .delete(api(`/orgs/${world.orgId}`))
        .set(world.owner.auth);
      expectStatus(res, 204);

      for (const role of ['owner', 'admin', 'member', 'viewer'] as const) {
        const user = world[role];
        expectProblem(await getOrg(t, world.orgId, user), 404);
        expectProblem(
          await t
            .http()
            .get(api(`/orgs/${world.orgId}/members`))
            .set(user.auth),
          404,
        );
        const list = await t.http().get(api('/orgs')).set(user.auth);
        expectStatus(list, 200);
        expect(list.body.data.map((o: { id: string }) => o.id)).not.toContain(world.orgId);
      }
      expectProblem(
        await t
          .http()
          .patch(api(`/orgs/${world.orgId}`))
          .set(world.owner.auth)
          .send({ name: 'Zombie' }),
        404,
      );
      expectProblem(
        await t
          .http()
          .delete(api(`/orgs/${world.orgId}`))
          .set(world.owner.auth),
        404,
      );

      expect(await countRows(t, `memberships WHERE org_id = $1`, [world.orgId])).toBe(0);
      expect(await countRows(t, `organizations WHERE id = $1`, [world.orgId])).toBe(0);

      // Another org is untouched.
      const other = await getOrg(t, world.otherOrgId, world.stranger);
      expectOrg(other.body, { id: world.otherOrgId, name: 'Other Co', role: 'owner' });
    });

    it('removes the invites and audit entries of the org too, and only of that org', async () => {
      const world = await createOrgWorld(t);
      const invite = await t
        .http()
        .post(api(`/orgs/${world.orgId}/invites`))
        .set(world.owner.auth)
        .send({ role: 'member', maxUses: 5 });
      expectStatus(invite, 201);
      const count = (table: 'invites' | 'audit_log', orgId: string): Promise<number> =>
        countRows(t, `${table} WHERE org_id = $1`, [orgId]);
      expect(await count('invites', world.orgId)).toBe(1);
      expect(await count('audit_log', world.orgId)).toBeGreaterThan(0);
      const otherAudit = await count('audit_log', world.otherOrgId);
      expect(otherAudit).toBeGreaterThan(0);

      expectStatus(
        await t
          .http()
          .delete(api(`/orgs/${world.orgId}`))
          .set(world.owner.auth),
        204,
      );
      expect(await count('invites', world.orgId)).toBe(0);
      expect(await count('audit_log', world.orgId)).toBe(0);
      expect(await count('audit_log', world.otherOrgId)).toBe(otherAudit);
    });

    it('leaves the other orgs of a former member alone', async () => {
      const world = await createOrgWorld(t);
      const second = await createOrg(t, world.owner, 'Second');
      await addMember(t, second, world.member, 'admin');
      expectStatus(
        await t
          .http()
          .delete(api(`/orgs/${world.orgId}`))
          .set(world.owner.auth),
        204,
      );
      const read = await getOrg(t, second, world.member);
      expectStatus(read, 200);
      expectOrg(read.body, { id: second, name: 'Second', role: 'admin' });
      const list = await t.http().get(api('/orgs')).set(world.owner.auth);
      expect(list.body.data.map((o: { id: string }) => o.id)).toEqual([second]);
    });

    it.each(['admin', 'member', 'viewer'] as const)(
      'answers 403 when the %s deletes it, and changes nothing (org and members intact)',
      async (role) => {
        const world = await sharedWorld();
        const before = await getOrg(t, world.orgId, world.owner);
        const res = await t
          .http()
          .delete(api(`/orgs/${world.orgId}`))
          .set(world[role].auth);
        expectProblem(res, 403);
        await expectOrgAsBefore(world, before);
        const members = await t
          .http()
          .get(api(`/orgs/${world.orgId}/members`))
          .set(world.owner.auth);
        expectStatus(members, 200);
        expect(members.body.data).toHaveLength(4);
        expectStatus(await getOrg(t, world.orgId, world[role]), 200);
      },
    );
  });
});
