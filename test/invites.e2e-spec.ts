import { randomBytes, randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { createTestApp, TestApp } from './helpers/app';
import { expectProblem, expectStatus } from './helpers/problems';
import { createOrg, createOrgWorld, OrgWorld, Role } from './helpers/orgs';
import {
  acceptLinkFrom,
  CapturedMail,
  SmtpCapture,
  startSmtpCapture,
  tokenFrom,
} from './helpers/smtp';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';
import { countRows } from './helpers/work';

const API = '/api/v1';
const APP_URL = 'http://app.worklane.test';
// `<orgId>.<32 random bytes>`: the org is named, so redemption reads that org's invites only.
const TOKEN = /^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/;
const HOUR = 3_600_000;

describe('invites', () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  let world: OrgWorld;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({
      env: { SMTP_URL: smtp.url, APP_URL, INVITE_TTL_HOURS: '168', INVITE_THROTTLE_LIMIT: '1000' },
    });
    world = await createOrgWorld(t);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  // ---- helpers -------------------------------------------------------------------------

  async function newOrg(
    label = 'Org',
  ): Promise<{ orgId: string; owner: SignedInUser; name: string }> {
    const owner = await registerUser(t, { name: `${label} owner` });
    const name = `${label} ${randomBytes(4).toString('hex')}`;
    const orgId = await createOrg(t, owner, name);
    return { orgId, owner, name };
  }

  function postInvite(orgId: string, by: { auth: Record<string, string> } | null, body: object) {
    return t
      .http()
      .post(`${API}/orgs/${orgId}/invites`)
      .set(by ? by.auth : {})
      .send(body);
  }

  function accept(user: SignedInUser | null, token: string) {
    return t
      .http()
      .post(`${API}/invites/accept`)
      .set(user ? user.auth : {})
      .send({ token });
  }

  /** Invitation emails only (a registered user also gets a verification email). */
  const isInvite = (m: CapturedMail) => /invited to join/.test(m.subject);

  function mailsTo(email: string): CapturedMail[] {
    return smtp.messages.filter((m) => m.to.includes(email.toLowerCase()) && isInvite(m));
  }

  /** Sends an email invite (expecting 201) and returns it with the token of the mail it caused. */
  async function emailInvite(
    orgId: string,
    by: SignedInUser,
    email: string,
    role: Role = 'member',
  ): Promise<{ invite: Record<string, any>; token: string; mail: CapturedMail }> {
    const before = mailsTo(email).length;
    const res = await postInvite(orgId, by, { email, role });
    expectStatus(res, 201);
    const mail = await smtp.waitFor(
      (m) =>
        m.to.includes(email.toLowerCase()) && isInvite(m) && mailsTo(email).indexOf(m) >= before,
    );
    return { invite: res.body, token: tokenFrom(mail), mail };
  }

  async function linkInvite(
    orgId: string,
    by: SignedInUser,
    role: Role = 'member',
    maxUses = 1,
  ): Promise<{ invite: Record<string, any>; token: string }> {
    const res = await postInvite(orgId, by, { role, maxUses });
    expectStatus(res, 201);
    return { invite: res.body, token: res.body.token };
  }

  /** Every pending invite of the org, walking the pages. */
  async function listAll(orgId: string, by: SignedInUser): Promise<Array<Record<string, any>>> {
    const all: Array<Record<string, any>> = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const res: Response = await t
        .http()
        .get(`${API}/orgs/${orgId}/invites`)
        .query(cursor ? { limit: 100, cursor } : { limit: 100 })
        .set(by.auth);
      expectStatus(res, 200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (!cursor) return all;
    }
    throw new Error('pagination did not end');
  }

  async function roleIn(orgId: string, user: SignedInUser): Promise<string | 404> {
    const res = await t.http().get(`${API}/orgs/${orgId}`).set(user.auth);
    if (res.status === 404) return 404;
    expectStatus(res, 200);
    return res.body.role;
  }

  async function inviteRows(orgId: string): Promise<number> {
    return countRows(t, `invites WHERE org_id = $1`, [orgId]);
  }

  // Who may manage invites: test/permissions (the permission matrix).

  // ---- POST /orgs/:orgId/invites --------------------------------------------------------

  describe('POST /orgs/:orgId/invites', () => {
    it.each(['owner', 'admin'] as const)('makes a link invite as %s', async (caller) => {
      const before = await inviteRows(world.orgId);
      const res = await t
        .http()
        .post(`${API}/orgs/${world.orgId}/invites`)
        .set(world[caller].auth)
        .send({ role: 'member', maxUses: 1 });
      expectStatus(res, 201);
      expect(res.body).toMatchObject({
        kind: 'link',
        role: 'member',
        createdBy: world[caller].id,
      });
      expect(await inviteRows(world.orgId)).toBe(before + 1);
    });

    it('creates an email invite (201, no token) and mails the accept link to the invited address', async () => {
      const { orgId, owner, name } = await newOrg('Mailed Org');
      const email = uniqueEmail('invitee');
      const res = await postInvite(orgId, owner, { email, role: 'admin' });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.any(String),
        kind: 'email',
        email,
        role: 'admin',
        maxUses: 1,
        uses: 0,
        expiresAt: expect.any(String),
        createdAt: expect.any(String),
        createdBy: owner.id,
        // Queued with the invite, sent after commit: the answer never waits for SMTP.
        delivery: { status: 'queued', attempts: 0, lastError: null, sentAt: null },
      });
      // Default expiry: INVITE_TTL_HOURS = 168 (7 days).
      const ttl = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
      expect(Math.abs(ttl - 168 * HOUR)).toBeLessThan(60_000);

      const mail = await smtp.waitFor((m) => m.to.includes(email) && isInvite(m));
      expect(mail.to).toEqual([email]);
      expect(mail.subject).toContain(name);
      const token = tokenFrom(mail);
      expect(token).toMatch(TOKEN);
      expect(acceptLinkFrom(mail)).toBe(`${APP_URL}/invites/accept?token=${token}`);
      expect(JSON.stringify(res.body)).not.toContain(token);
    });

    it('creates a link invite that returns its token and url once, and honours expiresInHours', async () => {
      const { orgId, owner } = await newOrg('Link Org');
      const res = await postInvite(orgId, owner, {
        role: 'viewer',
        maxUses: 5,
        expiresInHours: 48,
      });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.any(String),
        kind: 'link',
        email: null,
        role: 'viewer',
        maxUses: 5,
        uses: 0,
        expiresAt: expect.any(String),
        createdAt: expect.any(String),
        createdBy: owner.id,
        delivery: null,
        token: expect.stringMatching(TOKEN),
        url: expect.any(String),
      });
      expect(res.body.url).toContain(`token=${res.body.token}`);
      expect(res.body.url.startsWith(APP_URL)).toBe(true);
      const ttl = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
      expect(Math.abs(ttl - 48 * HOUR)).toBeLessThan(60_000);

      const listed = await listAll(orgId, owner);
      expect(listed).toEqual([
        expect.objectContaining({ id: res.body.id, kind: 'link', maxUses: 5, uses: 0 }),
      ]);
      expect(listed[0]).not.toHaveProperty('token');
      expect(JSON.stringify(listed)).not.toContain(res.body.token);
    });

    it.each([
      ['a malformed email', { email: 'not-an-email', role: 'member' }, 'email'],
      ['an unknown role', { email: 'someone@example.test', role: 'superuser' }, 'role'],
      ['a missing role', { email: 'someone@example.test' }, 'role'],
      ['maxUses 0', { role: 'member', maxUses: 0 }, 'maxUses'],
      ['maxUses 1001', { role: 'member', maxUses: 1001 }, 'maxUses'],
      ['expiresInHours 0', { role: 'member', maxUses: 1, expiresInHours: 0 }, 'expiresInHours'],
      ['expiresInHours 721', { role: 'member', maxUses: 1, expiresInHours: 721 }, 'expiresInHours'],
      ['an unknown field', { role: 'member', maxUses: 1, orgId: randomUUID() }, 'orgId'],
    ])('answers 400 to %s and creates nothing', async (_what, body, field) => {
      const before = await inviteRows(world.orgId);
      const res = await postInvite(world.orgId, world.owner, body);
      expectProblem(res, 400);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await inviteRows(world.orgId)).toBe(before);
    });

    it('lets only an owner invite as owner: admin → 403, owner → 201 and the invitee becomes owner', async () => {
      const { orgId, owner } = await newOrg('Owner Invite');
      const admin = await registerUser(t);
      await t.dataSource.query(
        `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')`,
        [orgId, admin.id],
      );
      const before = await inviteRows(orgId);
      expectProblem(await postInvite(orgId, admin, { role: 'owner', maxUses: 1 }), 403);
      expectProblem(
        await postInvite(orgId, admin, { email: uniqueEmail('would-be-owner'), role: 'owner' }),
        403,
      );
      expect(await inviteRows(orgId)).toBe(before);

      // An admin may still invite the roles below owner.
      expectStatus(await postInvite(orgId, admin, { role: 'admin', maxUses: 1 }), 201);

      const { token } = await linkInvite(orgId, owner, 'owner');
      const invitee = await registerUser(t);
      const accepted = await accept(invitee, token);
      expectStatus(accepted, 200);
      expect(accepted.body.role).toBe('owner');
      expect(await roleIn(orgId, invitee)).toBe('owner');
    });

    it('answers 409 already-member to an email that belongs to a member, and mails nothing', async () => {
      const before = await inviteRows(world.orgId);
      const res = await postInvite(world.orgId, world.owner, {
        email: world.member.email,
        role: 'admin',
      });
      expectProblem(res, 409, 'already-member');
      expect(await inviteRows(world.orgId)).toBe(before);
      expect(mailsTo(world.member.email)).toEqual([]);
      expect(await roleIn(world.orgId, world.member)).toBe('member');
    });

    it('replaces a pending email invite to the same address: the first token is revoked, the second works', async () => {
      const { orgId, owner } = await newOrg('Replace');
      const email = uniqueEmail('twice');
      const first = await emailInvite(orgId, owner, email, 'viewer');
      const second = await emailInvite(orgId, owner, email, 'member');
      expect(second.token).not.toBe(first.token);
      expect(second.invite.id).not.toBe(first.invite.id);

      const pending = await listAll(orgId, owner);
      expect(pending.filter((i) => i.email === email)).toEqual([
        expect.objectContaining({ id: second.invite.id, email, role: 'member' }),
      ]);

      const invitee = await registerUser(t, { email });
      expectProblem(await accept(invitee, first.token), 410, 'invite-revoked');
      const ok = await accept(invitee, second.token);
      expectStatus(ok, 200);
      expect(ok.body.role).toBe('member');
      expect(await roleIn(orgId, invitee)).toBe('member');
    });
  });

  // ---- GET /orgs/:orgId/invites ---------------------------------------------------------

  describe('GET /orgs/:orgId/invites', () => {
    it.each(['owner', 'admin'] as const)('lists pending invites in full to %s', async (caller) => {
      await linkInvite(world.orgId, world.owner, 'viewer');
      const res = await t.http().get(`${API}/orgs/${world.orgId}/invites`).set(world[caller].auth);
      expectStatus(res, 200);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'nextCursor']);
      expect(res.body.nextCursor === null || typeof res.body.nextCursor === 'string').toBe(true);
      expect(res.body.data.length).toBeGreaterThan(0);
      for (const invite of res.body.data) {
        expect(invite).toEqual({
          id: expect.any(String),
          kind: expect.stringMatching(/^(email|link)$/),
          email: invite.kind === 'email' ? expect.any(String) : null,
          role: expect.stringMatching(/^(owner|admin|member|viewer)$/),
          maxUses: expect.any(Number),
          uses: expect.any(Number),
          expiresAt: expect.any(String),
          createdAt: expect.any(String),
          createdBy: expect.any(String),
          delivery:
            invite.kind === 'email'
              ? {
                  status: expect.stringMatching(/^(queued|sent|failed)$/),
                  attempts: expect.any(Number),
                  lastError: invite.delivery.lastError,
                  sentAt: invite.delivery.sentAt,
                }
              : null,
        });
      }
    });

    it('lists only pending invites: not revoked, not used up, not expired', async () => {
      const { orgId, owner } = await newOrg('Pending');
      const pending = await linkInvite(orgId, owner, 'member', 3);
      const revoked = await linkInvite(orgId, owner, 'member');
      const expired = await emailInvite(orgId, owner, uniqueEmail('expired'));
      const usedUp = await linkInvite(orgId, owner, 'member', 1);

      expectStatus(
        await t.http().delete(`${API}/orgs/${orgId}/invites/${revoked.invite.id}`).set(owner.auth),
        204,
      );
      await t.dataSource.query(
        `UPDATE invites SET expires_at = now() - interval '1 minute' WHERE id = $1`,
        [expired.invite.id],
      );
      expectStatus(await accept(await registerUser(t), usedUp.token), 200);
      // A partly used link invite is still pending.
      expectStatus(await accept(await registerUser(t), pending.token), 200);

      const listed = await listAll(orgId, owner);
      expect(listed.map((i) => i.id)).toEqual([pending.invite.id]);
      expect(listed[0]).toMatchObject({ uses: 1, maxUses: 3 });
    });

    it('paginates with limit and an opaque cursor, without duplicates', async () => {
      const { orgId, owner } = await newOrg('Pages');
      const created = [];
      for (let i = 0; i < 3; i++)
        created.push((await linkInvite(orgId, owner, 'member')).invite.id);

      const first = await t.http().get(`${API}/orgs/${orgId}/invites?limit=2`).set(owner.auth);
      expectStatus(first, 200);
      expect(first.body.data).toHaveLength(2);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await t
        .http()
        .get(`${API}/orgs/${orgId}/invites`)
        .query({ limit: 2, cursor: first.body.nextCursor })
        .set(owner.auth);
      expectStatus(second, 200);
      expect(second.body.data).toHaveLength(1);
      expect(second.body.nextCursor).toBeNull();
      const ids = [...first.body.data, ...second.body.data].map((i: { id: string }) => i.id);
      expect(new Set(ids).size).toBe(3);
      expect([...ids].sort()).toEqual([...created].sort());
    });

    it.each([
      ['limit=0', { limit: '0' }],
      ['limit=101', { limit: '101' }],
      ['a malformed cursor', { cursor: 'not-a-cursor!!' }],
    ])('answers 400 to %s', async (_what, query) => {
      const res = await t
        .http()
        .get(`${API}/orgs/${world.orgId}/invites`)
        .query(query)
        .set(world.owner.auth);
      expectProblem(res, 400);
    });
  });

  // ---- DELETE /orgs/:orgId/invites/:inviteId --------------------------------------------

  describe('DELETE /orgs/:orgId/invites/:inviteId', () => {
    it.each(['owner', 'admin'] as const)('revokes an invite as %s', async (caller) => {
      const { invite, token } = await linkInvite(world.orgId, world.owner, 'member');
      const res = await t
        .http()
        .delete(`${API}/orgs/${world.orgId}/invites/${invite.id}`)
        .set(world[caller].auth);
      const pendingIds = async () => (await listAll(world.orgId, world.owner)).map((i) => i.id);
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expect(await pendingIds()).not.toContain(invite.id);
      expectProblem(await accept(await registerUser(t), token), 410, 'invite-revoked');
    });

    it('answers 404 to an unknown invite id', async () => {
      const res = await t
        .http()
        .delete(`${API}/orgs/${world.orgId}/invites/${randomUUID()}`)
        .set(world.owner.auth);
      expectProblem(res, 404);
    });

    it('revokes: the mailed link then answers 410 invite-revoked', async () => {
      const { orgId, owner } = await newOrg('Revoke');
      const email = uniqueEmail('revoked');
      const { invite, token } = await emailInvite(orgId, owner, email);
      const res = await t
        .http()
        .delete(`${API}/orgs/${orgId}/invites/${invite.id}`)
        .set(owner.auth);
      expectStatus(res, 204);
      const invitee = await registerUser(t, { email });
      expectProblem(await accept(invitee, token), 410, 'invite-revoked');
      expect(await roleIn(orgId, invitee)).toBe(404);
    });
  });

  // ---- POST /invites/accept -------------------------------------------------------------

  describe('POST /invites/accept', () => {
    it('lifecycle: mailed invite → accept by the invited user → member with the invite role', async () => {
      const { orgId, owner, name } = await newOrg('Lifecycle');
      const email = uniqueEmail('joiner');
      const invitee = await registerUser(t, { email });
      const { invite, token, mail } = await emailInvite(orgId, owner, email, 'member');
      expect(mail.to).toEqual([email]);
      expect(mail.subject).toContain(name);
      expect(acceptLinkFrom(mail)).toBe(`${APP_URL}/invites/accept?token=${token}`);

      expect(await roleIn(orgId, invitee)).toBe(404);
      const res = await accept(invitee, token);
      expectStatus(res, 200);
      expect(res.body).toEqual({
        orgId,
        orgName: name,
        role: 'member',
        joinedAt: expect.any(String),
      });

      const org = await t.http().get(`${API}/orgs/${orgId}`).set(invitee.auth);
      expectStatus(org, 200);
      expect(org.body).toMatchObject({ id: orgId, name, role: 'member' });
      const members = await t.http().get(`${API}/orgs/${orgId}/members`).set(owner.auth);
      expectStatus(members, 200);
      expect(members.body.data).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ userId: invitee.id, email, role: 'member' }),
        ]),
      );
      // Used up: no longer pending.
      expect((await listAll(orgId, owner)).map((i) => i.id)).not.toContain(invite.id);
    });

    it('answers 404 invite-not-found to an unknown token', async () => {
      const user = await registerUser(t);
      expectProblem(
        await accept(user, randomBytes(32).toString('base64url')),
        404,
        'invite-not-found',
      );
    });

    it('answers 401 to an anonymous caller and 400 to a missing token', async () => {
      const { token } = await linkInvite(world.orgId, world.owner);
      expectProblem(await accept(null, token), 401);
      const user = await registerUser(t);
      expectProblem(await t.http().post(`${API}/invites/accept`).set(user.auth).send({}), 400);
      // Neither attempt spent the invite.
      expectStatus(await accept(user, token), 200);
    });

    it('answers 410 invite-expired once the invite has expired', async () => {
      const { orgId, owner } = await newOrg('Expiry');
      const email = uniqueEmail('late');
      const invitee = await registerUser(t, { email });
      const { invite, token } = await emailInvite(orgId, owner, email);
      await t.dataSource.query(
        `UPDATE invites SET expires_at = now() - interval '1 minute' WHERE id = $1`,
        [invite.id],
      );
      expectProblem(await accept(invitee, token), 410, 'invite-expired');
      expect(await roleIn(orgId, invitee)).toBe(404);
    });

    it('answers 409 when the same single-use invite is accepted a second time', async () => {
      const { orgId, owner } = await newOrg('Reuse');
      const email = uniqueEmail('again');
      const invitee = await registerUser(t, { email });
      const { token } = await emailInvite(orgId, owner, email);
      expectStatus(await accept(invitee, token), 200);
      const again = await accept(invitee, token);
      expectProblem(again, 409);
      expect(again.body.type).toMatch(/\/(invite-used-up|already-member)$/);
      expect(await roleIn(orgId, invitee)).toBe('member');
    });

    it('answers 403 invite-email-mismatch to a user whose email is not the invited one', async () => {
      const { orgId, owner } = await newOrg('Mismatch');
      const email = uniqueEmail('rightful');
      const { token } = await emailInvite(orgId, owner, email, 'admin');
      const other = await registerUser(t);
      expectProblem(await accept(other, token), 403, 'invite-email-mismatch');
      expect(await roleIn(orgId, other)).toBe(404);

      // The failed attempt did not spend the invite.
      const rightful = await registerUser(t, { email });
      expectStatus(await accept(rightful, token), 200);
      expect(await roleIn(orgId, rightful)).toBe('admin');
    });

    it('lets N different users use a link invite with maxUses N, and answers the next 409 invite-used-up', async () => {
      const { orgId, owner } = await newOrg('Link');
      const { invite, token } = await linkInvite(orgId, owner, 'viewer', 2);
      const [a, b, c] = await Promise.all([registerUser(t), registerUser(t), registerUser(t)]);
      for (const user of [a!, b!]) {
        const res = await accept(user, token);
        expectStatus(res, 200);
        expect(res.body).toMatchObject({ orgId, role: 'viewer' });
      }
      expectProblem(await accept(c!, token), 409, 'invite-used-up');
      expect(await roleIn(orgId, a!)).toBe('viewer');
      expect(await roleIn(orgId, b!)).toBe('viewer');
      expect(await roleIn(orgId, c!)).toBe(404);
      expect((await listAll(orgId, owner)).map((i) => i.id)).not.toContain(invite.id);
    });

    it('answers 409 already-member to a member, without changing their role or spending the invite', async () => {
      const { invite, token } = await linkInvite(world.orgId, world.owner, 'admin', 1);
      expectProblem(await accept(world.member, token), 409, 'already-member');
      expect(await roleIn(world.orgId, world.member)).toBe('member');
      const pending = await listAll(world.orgId, world.owner);
      expect(pending).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: invite.id, uses: 0 })]),
      );
      const newcomer = await registerUser(t);
      expectStatus(await accept(newcomer, token), 200);
      expect(await roleIn(world.orgId, newcomer)).toBe('admin');
    });

    it('is race-safe: 20 concurrent accepts of a single-use invite → one 200, nineteen 409, one membership', async () => {
      const { orgId, owner } = await newOrg('Race');
      const email = uniqueEmail('racer');
      const invitee = await registerUser(t, { email });
      const { token } = await emailInvite(orgId, owner, email);

      const results = await Promise.all(Array.from({ length: 20 }, () => accept(invitee, token)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      for (const res of results.filter((r) => r.status === 409)) {
        expect(res.body.type).toMatch(/\/(invite-used-up|already-member)$/);
      }
      const [row] = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM memberships WHERE org_id = $1 AND user_id = $2`,
        [orgId, invitee.id],
      );
      expect(row.n).toBe(1);
      const [invite] = await t.dataSource.query(
        `SELECT uses FROM invites WHERE org_id = $1 AND email = $2`,
        [orgId, email],
      );
      expect(invite.uses).toBe(1);
    });
  });

  // ---- POST /auth/register with inviteToken ---------------------------------------------

  describe('POST /auth/register with inviteToken', () => {
    function register(email: string, inviteToken: string) {
      return t
        .http()
        .post(`${API}/auth/register`)
        .send({ email, password: 'correct horse battery', name: 'Invited', inviteToken });
    }
    async function canLogIn(email: string): Promise<number> {
      const res = await t
        .http()
        .post(`${API}/auth/login`)
        .send({ email, password: 'correct horse battery' });
      return res.status;
    }

    it('creates the account and makes it a member with the role of the mailed invite', async () => {
      const { orgId, owner, name } = await newOrg('Signup');
      const email = uniqueEmail('signup');
      const { token } = await emailInvite(orgId, owner, email, 'viewer');
      const res = await register(email, token);
      expectStatus(res, 201);
      expect(res.body.user).toMatchObject({ email, name: 'Invited' });
      const org = await t
        .http()
        .get(`${API}/orgs/${orgId}`)
        .set('Authorization', `Bearer ${res.body.accessToken}`);
      expectStatus(org, 200);
      expect(org.body).toMatchObject({ id: orgId, name, role: 'viewer' });
    });

    it('accepts a link invite token too', async () => {
      const { orgId, owner } = await newOrg('Signup link');
      const { token } = await linkInvite(orgId, owner, 'admin', 2);
      const res = await register(uniqueEmail('linked'), token);
      expectStatus(res, 201);
      const org = await t
        .http()
        .get(`${API}/orgs/${orgId}`)
        .set('Authorization', `Bearer ${res.body.accessToken}`);
      expect(org.body.role).toBe('admin');
    });

    const failures: Array<[string, number, string, (email: string) => Promise<string>]> = [
      [
        'an unknown token',
        404,
        'invite-not-found',
        async () => randomBytes(32).toString('base64url'),
      ],
      [
        'an invite mailed to another address',
        403,
        'invite-email-mismatch',
        async () =>
          (await emailInvite(world.orgId, world.owner, uniqueEmail('someone-else'))).token,
      ],
      [
        'an expired invite',
        410,
        'invite-expired',
        async (email) => {
          const { invite, token } = await emailInvite(world.orgId, world.owner, email);
          await t.dataSource.query(
            `UPDATE invites SET expires_at = now() - interval '1 minute' WHERE id = $1`,
            [invite.id],
          );
          return token;
        },
      ],
      [
        'a revoked invite',
        410,
        'invite-revoked',
        async (email) => {
          const { invite, token } = await emailInvite(world.orgId, world.owner, email);
          expectStatus(
            await t
              .http()
              .delete(`${API}/orgs/${world.orgId}/invites/${invite.id}`)
              .set(world.owner.auth),
            204,
          );
          return token;
        },
      ],
      [
        'a used-up link invite',
        409,
        'invite-used-up',
        async () => {
          const { token } = await linkInvite(world.orgId, world.owner, 'member', 1);
          expectStatus(await accept(await registerUser(t), token), 200);
          return token;
        },
      ],
    ];

    it.each(failures)(
      'refuses %s (%i %s) and creates no user',
      async (_what, status, code, tokenFor) => {
        const email = uniqueEmail('refused');
        const token = await tokenFor(email);
        const res = await register(email, token);
        expectProblem(res, status, code);
        expect(await canLogIn(email)).toBe(401);
        const users = await t.dataSource.query(`SELECT id FROM users WHERE email = $1`, [email]);
        expect(users).toEqual([]);
      },
    );
  });

  // ---- tenant isolation -----------------------------------------------------------------

  describe('tenant isolation', () => {
    it("hides org A's invites from the owner of org B: list and revoke answer 404", async () => {
      const { invite } = await linkInvite(world.orgId, world.owner, 'member');
      const list = await t
        .http()
        .get(`${API}/orgs/${world.orgId}/invites`)
        .set(world.stranger.auth);
      expectProblem(list, 404);
      expect(JSON.stringify(list.body)).not.toContain(invite.id);

      const revoke = await t
        .http()
        .delete(`${API}/orgs/${world.orgId}/invites/${invite.id}`)
        .set(world.stranger.auth);
      expectProblem(revoke, 404);
      expect((await listAll(world.orgId, world.owner)).map((i) => i.id)).toContain(invite.id);
    });

    it("answers 404 when B's owner revokes an invite of org A through org B's path, and the invite stays pending", async () => {
      const { invite, token } = await linkInvite(world.orgId, world.owner, 'member');
      const res = await t
        .http()
        .delete(`${API}/orgs/${world.otherOrgId}/invites/${invite.id}`)
        .set(world.stranger.auth);
      expectProblem(res, 404);
      expect((await listAll(world.orgId, world.owner)).map((i) => i.id)).toContain(invite.id);
      const [row] = await t.dataSource.query(`SELECT revoked_at FROM invites WHERE id = $1`, [
        invite.id,
      ]);
      expect(row.revoked_at).toBeNull();
      const other = await t
        .http()
        .get(`${API}/orgs/${world.otherOrgId}/invites`)
        .set(world.stranger.auth);
      expectStatus(other, 200);
      expect(other.body.data.map((i: { id: string }) => i.id)).not.toContain(invite.id);
      // Still usable in org A.
      const joiner = await registerUser(t);
      expectStatus(await accept(joiner, token), 200);
      expect(await roleIn(world.orgId, joiner)).toBe('member');
    });
  });

  describe('under concurrency', () => {
    it('two invites to one address at once: both 201, one pending invite left, the other revoked', async () => {
      const world = await createOrgWorld(t);
      const email = uniqueEmail('twice');
      const results = await Promise.all(
        [world.owner, world.admin].map((by) =>
          t
            .http()
            .post(`/api/v1/orgs/${world.orgId}/invites`)
            .set(by.auth)
            .send({ email, role: 'member' }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([201, 201]);
      const rows = await t.dataSource.query(
        `SELECT revoked_at IS NULL AS live FROM invites WHERE org_id = $1 AND email = $2`,
        [world.orgId, email],
      );
      expect(rows.map((r: { live: boolean }) => r.live).sort()).toEqual([false, true]);
    });

    it('one user redeeming two link invites of one org at once: one 200, one 409 already-member', async () => {
      const world = await createOrgWorld(t);
      const codes = await Promise.all(
        [1, 2].map(() =>
          t
            .http()
            .post(`/api/v1/orgs/${world.orgId}/invites`)
            .set(world.owner.auth)
            .send({ role: 'viewer', maxUses: 5 }),
        ),
      );
      const joiner = await registerUser(t);
      const results = await Promise.all(
        codes.map((c) =>
          t.http().post('/api/v1/invites/accept').set(joiner.auth).send({ token: c.body.token }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)!.body.type).toMatch(/already-member$/);
    });
  });
});
