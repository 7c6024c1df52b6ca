import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { UnitOfWork } from '../src/shared/database/unit-of-work';
import { createTestApp, TestApp } from './helpers/app';
import { expectProblem, expectStatus } from './helpers/problems';
import { addMember, createOrgWorld, OrgWorld, Role } from './helpers/orgs';
import { SmtpCapture, startSmtpCapture, tokenFrom } from './helpers/smtp';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

const API = '/api/v1';

interface Entry {
  id: string;
  orgId: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  metadata: Record<string, unknown>;
  requestId: string | null;
  createdAt: string;
}

/** A request id of our own, sent as X-Request-Id. */
function rid(label = 'req'): string {
  return `${label}-${randomBytes(8).toString('hex')}`;
}

describe('audit log', () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  let world: OrgWorld;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, INVITE_THROTTLE_LIMIT: '1000' } });
    world = await createOrgWorld(t);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  // ---- helpers -------------------------------------------------------------------------

  async function newOrg(
    label = 'Audited',
  ): Promise<{ orgId: string; owner: SignedInUser; name: string; requestId: string }> {
    const owner = await registerUser(t, { name: `${label} owner` });
    const name = `${label} ${randomBytes(4).toString('hex')}`;
    const requestId = rid('create-org');
    const res = await t
      .http()
      .post(`${API}/orgs`)
      .set(owner.auth)
      .set('X-Request-Id', requestId)
      .send({ name });
    expectStatus(res, 201);
    expect(res.headers['x-request-id']).toBe(requestId);
    return { orgId: res.body.id, owner, name, requestId };
  }

  function auditLog(orgId: string, by: SignedInUser, query: Record<string, string | number> = {}) {
    return t.http().get(`${API}/orgs/${orgId}/audit-log`).query(query).set(by.auth);
  }

  /** Every entry the filter matches, walking the pages (`limit` per page). */
  async function allEntries(
    orgId: string,
    by: SignedInUser,
    filter: Record<string, string> = {},
    limit = 100,
  ): Promise<{ entries: Entry[]; pages: number }> {
    const entries: Entry[] = [];
    let cursor: string | null = null;
    for (let pages = 1; pages <= 200; pages++) {
      const res: Response = await auditLog(orgId, by, {
        ...filter,
        limit,
        ...(cursor ? { cursor } : {}),
      });
      expectStatus(res, 200);
      expect(res.body.data.length).toBeLessThanOrEqual(limit);
      entries.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (!cursor) return { entries, pages };
    }
    throw new Error('pagination did not end');
  }

  /** The entries the request with this id caused, as the API lists them, sorted by action. */
  async function entriesOf(
    orgId: string,
    owner: SignedInUser,
    requestId: string,
  ): Promise<Entry[]> {
    const { entries } = await allEntries(orgId, owner);
    return entries
      .filter((e) => e.requestId === requestId)
      .sort((a, b) => a.action.localeCompare(b.action));
  }

  function entry(orgId: string, requestId: string, fields: Partial<Entry>): Entry {
    return {
      id: expect.any(String),
      orgId,
      requestId,
      createdAt: expect.any(String),
      ...fields,
    } as Entry;
  }

  async function linkInvite(
    orgId: string,
    by: SignedInUser,
    role: Role = 'member',
    maxUses = 1,
    requestId = rid(),
  ) {
    const res = await t
      .http()
      .post(`${API}/orgs/${orgId}/invites`)
      .set(by.auth)
      .set('X-Request-Id', requestId)
      .send({ role, maxUses });
    expectStatus(res, 201);
    return { id: res.body.id as string, token: res.body.token as string, requestId };
  }

  async function emailInvite(
    orgId: string,
    by: SignedInUser,
    email: string,
    role: Role = 'member',
    requestId = rid(),
  ) {
    // Invitations only: a registered address also gets a verification email.
    const isInvite = (m: { to: string[]; subject: string }) =>
      m.to.includes(email) && /invited to join/.test(m.subject);
    const before = smtp.messages.filter(isInvite).length;
    const res = await t
      .http()
      .post(`${API}/orgs/${orgId}/invites`)
      .set(by.auth)
      .set('X-Request-Id', requestId)
      .send({ email, role });
    expectStatus(res, 201);
    const mail = await smtp.waitFor(
      (m) => isInvite(m) && smtp.messages.filter(isInvite).indexOf(m) >= before,
    );
    return { id: res.body.id as string, token: tokenFrom(mail), requestId };
  }

  // Who may read it: test/permissions (the permission matrix).

  describe('GET /orgs/:orgId/audit-log', () => {
    it.each(['owner', 'admin'] as const)('answers %s every entry in full', async (caller) => {
      const res = await t
        .http()
        .get(`${API}/orgs/${world.orgId}/audit-log`)
        .set(world[caller].auth);
      expectStatus(res, 200);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
      expect(res.body.data.length).toBeGreaterThan(0);
      for (const e of res.body.data) {
        expect(e).toEqual({
          id: expect.any(String),
          orgId: world.orgId,
          actorId: expect.any(String),
          action: expect.any(String),
          targetType: expect.any(String),
          targetId: expect.any(String),
          metadata: expect.any(Object),
          requestId: expect.any(String),
          createdAt: expect.any(String),
        });
      }
    });
  });

  // ---- one entry per action -------------------------------------------------------------

  describe('entries of each action', () => {
    it('org.created and member.joined (via org_created), with the X-Request-Id of the request', async () => {
      const { orgId, owner, name, requestId } = await newOrg('Created');
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'member.joined',
          actorId: owner.id,
          targetType: 'user',
          targetId: owner.id,
          metadata: { role: 'owner', via: 'org_created' },
        }),
        entry(orgId, requestId, {
          action: 'org.created',
          actorId: owner.id,
          targetType: 'organization',
          targetId: orgId,
          metadata: { after: { name } },
        }),
      ]);
    });

    it('records the generated request id when the client sends none', async () => {
      const owner = await registerUser(t);
      const res = await t.http().post(`${API}/orgs`).set(owner.auth).send({ name: 'No header' });
      expectStatus(res, 201);
      const requestId = res.headers['x-request-id'];
      expect(requestId).toEqual(expect.any(String));
      const { entries } = await allEntries(res.body.id, owner);
      expect(entries.map((e) => e.requestId)).toEqual([requestId, requestId]);
    });

    it('org.renamed with the names before and after', async () => {
      const { orgId, owner, name } = await newOrg('Renamed');
      const requestId = rid('rename');
      const res = await t
        .http()
        .patch(`${API}/orgs/${orgId}`)
        .set(owner.auth)
        .set('X-Request-Id', requestId)
        .send({ name: 'Brand New Name' });
      expectStatus(res, 200);
      expect(res.headers['x-request-id']).toBe(requestId);
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'org.renamed',
          actorId: owner.id,
          targetType: 'organization',
          targetId: orgId,
          metadata: { before: { name }, after: { name: 'Brand New Name' } },
        }),
      ]);
    });

    it('member.role_changed with the roles before and after', async () => {
      const { orgId, owner } = await newOrg('Role change');
      const member = await registerUser(t);
      await addMember(t, orgId, member, 'member');
      const requestId = rid('promote');
      const res = await t
        .http()
        .patch(`${API}/orgs/${orgId}/members/${member.id}`)
        .set(owner.auth)
        .set('X-Request-Id', requestId)
        .send({ role: 'admin' });
      expectStatus(res, 200);
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'member.role_changed',
          actorId: owner.id,
          targetType: 'user',
          targetId: member.id,
          metadata: { before: { role: 'member' }, after: { role: 'admin' } },
        }),
      ]);
    });

    it('member.removed with the removed role, the remover as actor', async () => {
      const { orgId, owner } = await newOrg('Removal');
      const [admin, viewer] = await Promise.all([registerUser(t), registerUser(t)]);
      await addMember(t, orgId, admin!, 'admin');
      await addMember(t, orgId, viewer!, 'viewer');
      const requestId = rid('remove');
      const res = await t
        .http()
        .delete(`${API}/orgs/${orgId}/members/${viewer!.id}`)
        .set(admin!.auth)
        .set('X-Request-Id', requestId);
      expectStatus(res, 204);
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'member.removed',
          actorId: admin!.id,
          targetType: 'user',
          targetId: viewer!.id,
          metadata: { before: { role: 'viewer' } },
        }),
      ]);
    });

    it('member.left with the role the leaver had', async () => {
      const { orgId, owner } = await newOrg('Leaving');
      const member = await registerUser(t);
      await addMember(t, orgId, member, 'member');
      const requestId = rid('leave');
      const res = await t
        .http()
        .post(`${API}/orgs/${orgId}/leave`)
        .set(member.auth)
        .set('X-Request-Id', requestId);
      expectStatus(res, 204);
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'member.left',
          actorId: member.id,
          targetType: 'user',
          targetId: member.id,
          metadata: { before: { role: 'member' } },
        }),
      ]);
    });

    it('invite.created for an email invite', async () => {
      const { orgId, owner } = await newOrg('Email invite');
      const email = uniqueEmail('audited');
      const invite = await emailInvite(orgId, owner, email, 'viewer');
      expect(await entriesOf(orgId, owner, invite.requestId)).toEqual([
        entry(orgId, invite.requestId, {
          action: 'invite.created',
          actorId: owner.id,
          targetType: 'invite',
          targetId: invite.id,
          metadata: { kind: 'email', email, role: 'viewer', maxUses: 1 },
        }),
      ]);
      // The secret never reaches the audit log.
      expect(JSON.stringify(await allEntries(orgId, owner))).not.toContain(invite.token);
    });

    it('invite.created for a link invite, by an admin', async () => {
      const { orgId, owner } = await newOrg('Link invite');
      const admin = await registerUser(t);
      await addMember(t, orgId, admin, 'admin');
      const invite = await linkInvite(orgId, admin, 'member', 3);
      expect(await entriesOf(orgId, owner, invite.requestId)).toEqual([
        entry(orgId, invite.requestId, {
          action: 'invite.created',
          actorId: admin.id,
          targetType: 'invite',
          targetId: invite.id,
          metadata: { kind: 'link', email: null, role: 'member', maxUses: 3 },
        }),
      ]);
      expect(JSON.stringify(await allEntries(orgId, owner))).not.toContain(invite.token);
    });

    it("invite.revoked with reason 'revoked'", async () => {
      const { orgId, owner } = await newOrg('Revoked');
      const invite = await linkInvite(orgId, owner);
      const requestId = rid('revoke');
      const res = await t
        .http()
        .delete(`${API}/orgs/${orgId}/invites/${invite.id}`)
        .set(owner.auth)
        .set('X-Request-Id', requestId);
      expectStatus(res, 204);
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'invite.revoked',
          actorId: owner.id,
          targetType: 'invite',
          targetId: invite.id,
          metadata: { reason: 'revoked' },
        }),
      ]);
    });

    it("invite.revoked with reason 'replaced' when a second email invite replaces the first", async () => {
      const { orgId, owner } = await newOrg('Replaced');
      const email = uniqueEmail('replaced');
      const first = await emailInvite(orgId, owner, email, 'member');
      const second = await emailInvite(orgId, owner, email, 'admin');
      expect(await entriesOf(orgId, owner, second.requestId)).toEqual([
        entry(orgId, second.requestId, {
          action: 'invite.created',
          actorId: owner.id,
          targetType: 'invite',
          targetId: second.id,
          metadata: { kind: 'email', email, role: 'admin', maxUses: 1 },
        }),
        entry(orgId, second.requestId, {
          action: 'invite.revoked',
          actorId: owner.id,
          targetType: 'invite',
          targetId: first.id,
          metadata: { reason: 'replaced' },
        }),
      ]);
    });

    it('invite.accepted and member.joined (via invite), the accepting user as actor', async () => {
      const { orgId, owner } = await newOrg('Accepted');
      const email = uniqueEmail('accepter');
      const invitee = await registerUser(t, { email });
      const invite = await emailInvite(orgId, owner, email, 'viewer');
      const requestId = rid('accept');
      const res = await t
        .http()
        .post(`${API}/invites/accept`)
        .set(invitee.auth)
        .set('X-Request-Id', requestId)
        .send({ token: invite.token });
      expectStatus(res, 200);
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'invite.accepted',
          actorId: invitee.id,
          targetType: 'invite',
          targetId: invite.id,
          metadata: { userId: invitee.id, role: 'viewer' },
        }),
        entry(orgId, requestId, {
          action: 'member.joined',
          actorId: invitee.id,
          targetType: 'user',
          targetId: invitee.id,
          metadata: { role: 'viewer', via: 'invite' },
        }),
      ]);
    });

    it('invite.accepted and member.joined when an invite is used at sign-up', async () => {
      const { orgId, owner } = await newOrg('Signup');
      const invite = await linkInvite(orgId, owner, 'member', 2);
      const requestId = rid('register');
      const res = await t
        .http()
        .post(`${API}/auth/register`)
        .set('X-Request-Id', requestId)
        .send({
          email: uniqueEmail('signup'),
          password: 'correct horse battery',
          name: 'New',
          inviteToken: invite.token,
        });
      expectStatus(res, 201);
      const userId = res.body.user.id;
      expect(await entriesOf(orgId, owner, requestId)).toEqual([
        entry(orgId, requestId, {
          action: 'invite.accepted',
          actorId: userId,
          targetType: 'invite',
          targetId: invite.id,
          metadata: { userId, role: 'member' },
        }),
        entry(orgId, requestId, {
          action: 'member.joined',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { role: 'member', via: 'invite' },
        }),
      ]);
    });

    it('refused actions leave no entry', async () => {
      const { orgId, owner } = await newOrg('Refused');
      const member = await registerUser(t);
      await addMember(t, orgId, member, 'member');
      const attempts: Array<[string, number, (requestId: string) => Promise<Response>]> = [
        // The last owner may not leave…
        [
          'last-owner-leaves',
          409,
          (id) =>
            t.http().post(`${API}/orgs/${orgId}/leave`).set(owner.auth).set('X-Request-Id', id),
        ],
        // …nor demote themself…
        [
          'last-owner-demotes-self',
          409,
          (id) =>
            t
              .http()
              .patch(`${API}/orgs/${orgId}/members/${owner.id}`)
              .set(owner.auth)
              .set('X-Request-Id', id)
              .send({ role: 'admin' }),
        ],
        // …and a member may not rename the org.
        [
          'member-renames',
          403,
          (id) =>
            t
              .http()
              .patch(`${API}/orgs/${orgId}`)
              .set(member.auth)
              .set('X-Request-Id', id)
              .send({ name: 'Nope' }),
        ],
      ];
      for (const [label, status, send] of attempts) {
        const requestId = rid(label);
        expectProblem(await send(requestId), status);
        expect(await entriesOf(orgId, owner, requestId)).toEqual([]);
      }
      const { entries } = await allEntries(orgId, owner);
      expect(entries.map((e) => e.action).sort()).toEqual(['member.joined', 'org.created']);
    });
  });

  // ---- filters and pagination -----------------------------------------------------------

  describe('filters and keyset pagination', () => {
    let orgId: string;
    let owner: SignedInUser;
    let admin: SignedInUser;
    let inviteByAdmin: string;
    let inviteByOwner: string;
    let everything: Entry[];

    /** What happened in the org, newest first (the two entries of its creation share a request). */
    const expectedOrder = () => [
      `invite.revoked:${inviteByAdmin}`,
      `invite.created:${inviteByOwner}`,
      `invite.created:${inviteByAdmin}`,
      `org.renamed:${orgId}`,
      expect.stringMatching(new RegExp(`^(org\\.created:${orgId}|member\\.joined:${owner.id})$`)),
      expect.stringMatching(new RegExp(`^(org\\.created:${orgId}|member\\.joined:${owner.id})$`)),
    ];
    const key = (e: Entry) => `${e.action}:${e.targetId}`;

    /**
     * Moves the audit table's identity just below the next power of ten, so this org's
     * entries are numbered across a change in digit count (…98, …99, 1000…): an ordering
     * or a cursor that compares those numbers as text shows up, whatever ran before.
     */
    async function bumpAuditSequence(): Promise<void> {
      const [{ n }] = await t.dataSource.query(
        `SELECT nextval(pg_get_serial_sequence('audit_log', 'seq'))::text AS n`,
      );
      const next = 10 ** String(Number(n) + 3).length;
      await t.dataSource.query(`SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), $1)`, [
        next - 3,
      ]);
    }

    async function straddlesDigitBoundary(): Promise<boolean> {
      const [row] = await t.dataSource.query(
        `SELECT length(min(seq)::text) <> length(max(seq)::text) AS straddles FROM audit_log WHERE org_id = $1`,
        [orgId],
      );
      return row.straddles;
    }

    beforeAll(async () => {
      // Concurrent test files share the sequence: retry until the numbering straddles.
      for (let attempt = 0; attempt < 5; attempt++) {
        await bumpAuditSequence();
        ({ orgId, owner } = await newOrg('Filtered'));
        admin = await registerUser(t);
        await addMember(t, orgId, admin, 'admin');
        expectStatus(
          await t.http().patch(`${API}/orgs/${orgId}`).set(owner.auth).send({ name: 'Filtered 2' }),
          200,
        );
        inviteByAdmin = (await linkInvite(orgId, admin, 'viewer')).id;
        inviteByOwner = (await linkInvite(orgId, owner, 'member')).id;
        expectStatus(
          await t.http().delete(`${API}/orgs/${orgId}/invites/${inviteByAdmin}`).set(admin.auth),
          204,
        );
        if (await straddlesDigitBoundary()) break;
      }
      everything = (await allEntries(orgId, owner)).entries;
    });

    it('lists every entry of the org newest first', () => {
      expect(everything.map(key)).toEqual(expectedOrder());
      for (let i = 1; i < everything.length; i++) {
        expect(Date.parse(everything[i - 1]!.createdAt)).toBeGreaterThanOrEqual(
          Date.parse(everything[i]!.createdAt),
        );
      }
    });

    it('walks all entries with limit=2, newest first, without duplicates or gaps', async () => {
      const { entries, pages } = await allEntries(orgId, owner, {}, 2);
      expect(entries.map(key)).toEqual(expectedOrder());
      expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
      expect(pages).toBe(3);
    });

    it('paginates a filtered list too', async () => {
      const { entries, pages } = await allEntries(orgId, owner, { targetType: 'invite' }, 1);
      expect(entries.map(key)).toEqual(expectedOrder().slice(0, 3));
      expect(pages).toBe(3);
    });

    it.each([
      [
        'action',
        () => ({ action: 'invite.created' }),
        (e: Entry) => e.action === 'invite.created',
        2,
      ],
      ['actorId', () => ({ actorId: admin.id }), (e: Entry) => e.actorId === admin.id, 2],
      ['targetType', () => ({ targetType: 'invite' }), (e: Entry) => e.targetType === 'invite', 3],
      [
        'targetType=organization',
        () => ({ targetType: 'organization' }),
        (e: Entry) => e.targetType === 'organization',
        2,
      ],
      [
        'targetId',
        () => ({ targetId: inviteByAdmin }),
        (e: Entry) => e.targetId === inviteByAdmin,
        2,
      ],
      [
        'action + actorId',
        () => ({ action: 'invite.created', actorId: owner.id }),
        (e: Entry) => e.action === 'invite.created' && e.actorId === owner.id,
        1,
      ],
    ] as Array<[string, () => Record<string, string>, (e: Entry) => boolean, number]>)(
      'filters by %s',
      async (_what, filter, matches, count) => {
        const { entries } = await allEntries(orgId, owner, filter());
        // Which entries (the order is the business of the tests above).
        const ids = (list: Entry[]) => list.map((e) => e.id).sort();
        expect(ids(entries)).toEqual(ids(everything.filter(matches)));
        expect(entries).toHaveLength(count);
      },
    );

    it('the owner-created invite is found by its targetId', async () => {
      const { entries } = await allEntries(orgId, owner, { targetId: inviteByOwner });
      expect(entries).toEqual([
        expect.objectContaining({ action: 'invite.created', actorId: owner.id }),
      ]);
    });

    it('filters by since and until', async () => {
      const past = '2000-01-01T00:00:00.000Z';
      const future = '2999-01-01T00:00:00.000Z';
      expect((await allEntries(orgId, owner, { since: past })).entries).toHaveLength(
        everything.length,
      );
      expect((await allEntries(orgId, owner, { since: future })).entries).toEqual([]);
      expect((await allEntries(orgId, owner, { until: future })).entries).toHaveLength(
        everything.length,
      );
      expect((await allEntries(orgId, owner, { until: past })).entries).toEqual([]);
      expect((await allEntries(orgId, owner, { since: past, until: future })).entries).toHaveLength(
        everything.length,
      );

      // Around one entry's time: nothing outside the bound, everything strictly inside.
      const pivot = everything.find((e) => e.action === 'org.renamed')!.createdAt;
      const at = Date.parse(pivot);
      const since = (await allEntries(orgId, owner, { since: pivot })).entries;
      expect(since.every((e) => Date.parse(e.createdAt) >= at)).toBe(true);
      expect(since.map((e) => e.id)).toEqual(
        expect.arrayContaining(
          everything.filter((e) => Date.parse(e.createdAt) > at).map((e) => e.id),
        ),
      );
      const until = (await allEntries(orgId, owner, { until: pivot })).entries;
      expect(until.every((e) => Date.parse(e.createdAt) <= at)).toBe(true);
      expect(until.map((e) => e.id)).toEqual(
        expect.arrayContaining(
          everything.filter((e) => Date.parse(e.createdAt) < at).map((e) => e.id),
        ),
      );
    });

    it.each([
      ['since=not-a-date', { since: 'not-a-date' }],
      ['until=yesterday', { until: 'yesterday' }],
      ['since=2024-13-45', { since: '2024-13-45' }],
      ['actorId=not-a-uuid', { actorId: 'not-a-uuid' }],
      ['limit=0', { limit: '0' }],
      ['limit=101', { limit: '101' }],
      ['limit=abc', { limit: 'abc' }],
      ['a malformed cursor', { cursor: '%%%not-a-cursor' }],
    ])('answers 400 to %s', async (_what, query) => {
      const res = await auditLog(orgId, owner, query);
      expectProblem(res, 400);
    });
  });

  // ---- tenant isolation -----------------------------------------------------------------

  describe('tenant isolation', () => {
    it("never shows an entry of org B in org A's log, whatever the filter", async () => {
      // Activity in org B, by its owner.
      const renameB = rid('rename-b');
      expectStatus(
        await t
          .http()
          .patch(`${API}/orgs/${world.otherOrgId}`)
          .set(world.stranger.auth)
          .set('X-Request-Id', renameB)
          .send({ name: 'Other Co renamed' }),
        200,
      );
      const inviteB = await linkInvite(world.otherOrgId, world.stranger, 'member');
      // And some in org A.
      await linkInvite(world.orgId, world.owner, 'viewer');

      const a = (await allEntries(world.orgId, world.owner)).entries;
      const b = (await allEntries(world.otherOrgId, world.stranger)).entries;
      expect(a.length).toBeGreaterThan(0);
      expect(b.map((e) => e.requestId)).toEqual(
        expect.arrayContaining([renameB, inviteB.requestId]),
      );
      expect(a.every((e) => e.orgId === world.orgId)).toBe(true);
      expect(b.every((e) => e.orgId === world.otherOrgId)).toBe(true);
      const idsOfB = new Set(b.map((e) => e.id));
      expect(a.filter((e) => idsOfB.has(e.id))).toEqual([]);

      const filters: Array<Record<string, string>> = [
        { actorId: world.stranger.id },
        { targetId: world.otherOrgId },
        { targetId: inviteB.id },
        { action: 'org.renamed', actorId: world.stranger.id },
      ];
      for (const filter of filters) {
        expect((await allEntries(world.orgId, world.owner, filter)).entries).toEqual([]);
      }
    });
  });

  // ---- append-only ----------------------------------------------------------------------

  describe('the database roles may only INSERT and SELECT audit rows', () => {
    async function snapshot(orgId: string) {
      return t.dataSource.query(
        `SELECT id, action, metadata FROM audit_log WHERE org_id = $1 ORDER BY id`,
        [orgId],
      );
    }

    it.each([
      ['UPDATE', `UPDATE audit_log SET action = $1`, ['x']],
      ['DELETE', `DELETE FROM audit_log`, []],
    ])('worklane_app: %s is denied', async (_verb, sql, params) => {
      const { orgId, owner } = await newOrg('Append only');
      const before = await snapshot(orgId);
      expect(before.length).toBeGreaterThan(0);
      const uow = t.app.get(UnitOfWork);

      const visible = await uow.transaction(
        { role: 'worklane_app', orgId, userId: owner.id },
        (em) => em.query(`SELECT id FROM audit_log`),
      );
      expect(visible).toHaveLength(before.length);

      await expect(
        uow.transaction({ role: 'worklane_app', orgId, userId: owner.id }, (em) =>
          em.query(sql, params),
        ),
      ).rejects.toThrow(/permission denied/);
      await expect(
        uow.transaction({ role: 'worklane_system' }, (em) => em.query(sql, params)),
      ).rejects.toThrow(/permission denied/);
      expect(await snapshot(orgId)).toEqual(before);
    });
  });
});
