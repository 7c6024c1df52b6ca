import { randomBytes } from 'node:crypto';
import { api, createTestApp, TestApp } from './helpers/app';
import { addMember, createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { CapturedMail, SmtpCapture, startSmtpCapture, tokenFrom } from './helpers/smtp';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

/**
 * Queued email (issue 15) through a real SMTP conversation: an invite is made at once
 * whatever the mail server does; its email goes out after commit, retried, once; its
 * delivery state is visible; a resend issues a new token.
 *
 * Retries here follow MAIL_RETRY_SCHEDULE=1,1,1,1 (five attempts about a second apart).
 */
const SERVER = !!process.env.WORKLANE_TEST_SERVER_URL;
const ENV = {
  MAIL_RETRY_SCHEDULE: '1,1,1,1',
  JOBS_POLL_INTERVAL_MS: '500',
  MAIL_THROTTLE_LIMIT: '3',
  APP_URL: 'https://app.worklane.test',
};

describe('mail delivery', () => {
  let t: TestApp;
  let smtp: SmtpCapture;
  let world: OrgWorld;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { ...ENV, SMTP_URL: smtp.url } });
    world = await createOrgWorld(t);
    // The world's verification emails go out first, so that each test meets an idle server.
    for (const user of Object.values(world).filter((v) => typeof v === 'object')) {
      await smtp.waitFor((m) => m.to.includes((user as SignedInUser).email), 10_000);
    }
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  afterEach(() => smtp.behave({ refuse: 0, delayMs: 0 }));

  const isInvite = (m: CapturedMail) => /invited to join/.test(m.subject);
  const invitesTo = (email: string) =>
    smtp.messages.filter((m) => m.to.includes(email) && isInvite(m));

  function invite(by: SignedInUser, body: Record<string, unknown>, orgId = world.orgId) {
    return t
      .http()
      .post(api(`/orgs/${orgId}/invites`))
      .set(by.auth)
      .send(body);
  }

  function resend(inviteId: string, headers: Record<string, string>, orgId = world.orgId) {
    return t
      .http()
      .post(api(`/orgs/${orgId}/invites/${inviteId}/resend`))
      .set(headers)
      .send();
  }

  async function delivery(inviteId: string, orgId = world.orgId) {
    const res = await t
      .http()
      .get(api(`/orgs/${orgId}/invites?limit=100`))
      .set(world.owner.auth);
    expectStatus(res, 200);
    return res.body.data.find((i: { id: string }) => i.id === inviteId)?.delivery;
  }

  /** Polls `read` until `done` holds (bounded): the state a background job reaches. */
  async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline)
        throw new Error(`not reached in ${ms} ms: ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until no attempt of these emails is pending or running (bounded polling). */
  function noAttemptLeft(where: string, params: unknown[]) {
    return eventually(
      () =>
        t.dataSource.query(
          `SELECT count(*)::int AS n FROM pgboss.job j
            WHERE j.state IN ('created', 'retry', 'active')
              AND j.data->'payload'->>'mailId' IN (SELECT m.id::text FROM queued_mail m WHERE ${where})`,
          params,
        ),
      ([{ n }]) => n === 0,
    );
  }

  describe('queued delivery', () => {
    it('answers 201 while SMTP refuses every message, and the email arrives once SMTP accepts again', async () => {
      smtp.behave({ refuse: Infinity });
      const email = uniqueEmail('outage');
      const res = await invite(world.owner, { email, role: 'member' });
      expectStatus(res, 201);
      expect(res.body.delivery).toEqual({
        status: 'queued',
        attempts: 0,
        lastError: null,
        sentAt: null,
      });

      const failing = await eventually(
        () => delivery(res.body.id),
        (d) => d.attempts >= 2,
      );
      expect(failing).toMatchObject({ status: 'queued', lastError: expect.stringMatching(/451/) });
      smtp.behave({ refuse: 0 });

      await smtp.waitFor((m) => m.to.includes(email) && isInvite(m), 15_000);
      const sent = await eventually(
        () => delivery(res.body.id),
        (d) => d.status === 'sent',
      );
      expect(sent).toMatchObject({ status: 'sent', lastError: null, sentAt: expect.any(String) });
      expect(invitesTo(email)).toHaveLength(1);
    });

    it('sends exactly one email when SMTP refuses the first two attempts; delivery shows three attempts, then sent', async () => {
      smtp.behave({ refuse: 2 });
      const email = uniqueEmail('flaky');
      const res = await invite(world.owner, { email, role: 'viewer' });
      expectStatus(res, 201);
      await smtp.waitFor((m) => m.to.includes(email) && isInvite(m), 15_000);
      const sent = await eventually(
        () => delivery(res.body.id),
        (d) => d.status === 'sent',
      );
      expect(sent).toEqual({
        status: 'sent',
        attempts: 3,
        lastError: null,
        sentAt: expect.any(String),
      });
      expect(smtp.refused.filter((to) => to === email)).toHaveLength(2);
      expect(invitesTo(email)).toHaveLength(1);
    });

    it('does not slow invite creation when SMTP takes 4 s per message', async () => {
      smtp.behave({ delayMs: 4000 });
      const email = uniqueEmail('slow');
      const started = Date.now();
      const res = await invite(world.owner, { email, role: 'member' });
      const took = Date.now() - started;
      expectStatus(res, 201);
      expect(took).toBeLessThan(2500); // well under the server's 4 s, even on a loaded machine
      await smtp.waitFor((m) => m.to.includes(email) && isInvite(m), 15_000);
      await eventually(
        () => delivery(res.body.id),
        (d) => d.status === 'sent',
      );
    });

    it('marks the delivery failed after the last attempt, and sends nothing later', async () => {
      smtp.behave({ refuse: Infinity });
      const email = uniqueEmail('doomed');
      const res = await invite(world.owner, { email, role: 'member' });
      expectStatus(res, 201);
      // Five attempts a second apart, each found by a worker's poll: on a loaded machine
      // (and the embedded database, one transaction at a time) that can take a while.
      const failed = await eventually(
        () => delivery(res.body.id),
        (d) => d.status === 'failed',
        50_000,
      );
      expect(failed).toEqual({
        status: 'failed',
        attempts: 5,
        lastError: expect.stringMatching(/451/),
        sentAt: null,
      });
      // The message (and its token) is not kept once given up.
      const [row] = await t.dataSource.query(
        `SELECT text_body, html_body FROM queued_mail m JOIN invites i ON i.mail_id = m.id WHERE i.id = $1`,
        [res.body.id],
      );
      expect(row).toEqual({ text_body: null, html_body: null });
      smtp.behave({ refuse: 0 });
      // A later email goes through, and the failed one never does.
      const later = uniqueEmail('after-doomed');
      expectStatus(await invite(world.owner, { email: later, role: 'member' }), 201);
      await smtp.waitFor((m) => m.to.includes(later), 15_000);
      expect(invitesTo(email)).toHaveLength(0);
    }, 90_000);

    it('cancels the waiting email of an invite revoked because its creator was removed', async () => {
      const admin = await registerUser(t);
      await smtp.waitFor((m) => m.to.includes(admin.email), 10_000);
      await addMember(t, world.orgId, admin, 'admin');
      smtp.behave({ refuse: Infinity });
      const email = uniqueEmail('orphaned');
      const made = await invite(admin, { email, role: 'member' });
      expectStatus(made, 201);
      expectStatus(
        await t
          .http()
          .delete(api(`/orgs/${world.orgId}/members/${admin.id}`))
          .set(world.owner.auth),
        204,
      );
      const [row] = await t.dataSource.query(
        `SELECT m.status FROM queued_mail m JOIN invites i ON i.mail_id = m.id WHERE i.id = $1`,
        [made.body.id],
      );
      expect(row.status).toBe('cancelled');
      // Once no attempt is pending or running (an attempt already on the wire when the
      // invite was revoked is refused here), the mail server takes everything again.
      await noAttemptLeft(`m.id = (SELECT mail_id FROM invites WHERE id = $1)`, [made.body.id]);
      smtp.behave({ refuse: 0 });
      const later = uniqueEmail('after-orphaned');
      expectStatus(await invite(world.owner, { email: later, role: 'member' }), 201);
      await smtp.waitFor((m) => m.to.includes(later), 15_000);
      expect(invitesTo(email)).toHaveLength(0);
    });

    it('keeps the body only until the email is sent', async () => {
      const email = uniqueEmail('wiped');
      const res = await invite(world.owner, { email, role: 'member' });
      await eventually(
        () => delivery(res.body.id),
        (d) => d.status === 'sent',
      );
      const [row] = await t.dataSource.query(
        `SELECT text_body, html_body, purpose, m.org_id FROM queued_mail m JOIN invites i ON i.mail_id = m.id WHERE i.id = $1`,
        [res.body.id],
      );
      expect(row).toEqual({
        text_body: null,
        html_body: null,
        purpose: 'invite',
        org_id: world.orgId,
      });
    });

    it('mails plain text and HTML, values escaped, the org, the inviter and the expiry named', async () => {
      const email = uniqueEmail('parts');
      const res = await invite(world.owner, { email, role: 'admin', expiresInHours: 24 });
      const mail = await smtp.waitFor((m) => m.to.includes(email) && isInvite(m));
      expect(mail.raw).toMatch(/Content-Type: text\/plain/);
      expect(mail.raw).toMatch(/Content-Type: text\/html/);
      expect(mail.text).toContain('Acme');
      expect(mail.text).toContain(world.owner.name);
      expect(mail.text).toContain(new Date(res.body.expiresAt).toUTCString());
      expect(mail.text).toContain(
        `https://app.worklane.test/invites/accept?token=${tokenFrom(mail)}`,
      );
    });
  });

  (SERVER ? describe : describe.skip)('two instances on one database', () => {
    let second: TestApp;
    beforeAll(async () => {
      second = await createTestApp({ env: { ...ENV, SMTP_URL: smtp.url } });
    });
    afterAll(() => second?.close());

    it('send each email once', async () => {
      const emails = Array.from({ length: 8 }, (_, i) => uniqueEmail(`twice-${i}`));
      const ids: string[] = [];
      for (const [i, email] of emails.entries()) {
        const app = i % 2 === 0 ? t : second;
        const res = await app
          .http()
          .post(api(`/orgs/${world.orgId}/invites`))
          .set(world.owner.auth)
          .send({ email, role: 'member' });
        expectStatus(res, 201);
        ids.push(res.body.id);
      }
      for (const id of ids) {
        await eventually(
          () => delivery(id),
          (d) => d.status === 'sent',
        );
      }
      for (const email of emails) expect(invitesTo(email)).toHaveLength(1);
    });
  });

  describe('POST /orgs/:orgId/invites/:inviteId/resend', () => {
    // Who may resend is the permission matrix's (test/permissions/matrix.ts).
    it('queues the email again and shows the delivery, never the token', async () => {
      const made = await invite(world.owner, { email: uniqueEmail('resend'), role: 'member' });
      expectStatus(made, 201);
      const res = await resend(made.body.id, world.owner.auth);
      expectStatus(res, 200);
      expect(res.body).toMatchObject({
        id: made.body.id,
        kind: 'email',
        delivery: { status: 'queued', attempts: 0 },
      });
      expect(JSON.stringify(res.body)).not.toMatch(/token/i);
    });

    it('answers 404 to an invite of another org and to an unknown invite', async () => {
      const made = await invite(
        world.stranger,
        { email: uniqueEmail('elsewhere'), role: 'member' },
        world.otherOrgId,
      );
      expectStatus(made, 201);
      expectProblem(await resend(made.body.id, world.owner.auth), 404);
      expectProblem(await resend('00000000-0000-4000-8000-000000000000', world.owner.auth), 404);
    });

    it('issues a new token: the old one answers 410 at once, the new one works', async () => {
      const email = uniqueEmail('resent');
      const made = await invite(world.owner, { email, role: 'member' });
      const first = await smtp.waitFor((m) => m.to.includes(email) && isInvite(m));
      const res = await resend(made.body.id, world.owner.auth);
      expectStatus(res, 200);
      expect(Date.parse(res.body.expiresAt)).toBeGreaterThanOrEqual(
        Date.parse(made.body.expiresAt),
      );
      const second = await smtp.waitFor(
        (m) => m.to.includes(email) && isInvite(m) && /Reminder/.test(m.subject),
      );
      const oldToken = tokenFrom(first);
      const newToken = tokenFrom(second);
      expect(newToken).not.toBe(oldToken);

      const invitee = await registerUser(t, { email });
      const old = await t
        .http()
        .post(api('/invites/accept'))
        .set(invitee.auth)
        .send({ token: oldToken });
      expectProblem(old, 410, 'invite-token-replaced');
      const ok = await t
        .http()
        .post(api('/invites/accept'))
        .set(invitee.auth)
        .send({ token: newToken });
      expectStatus(ok, 200);

      const log = await t
        .http()
        .get(api(`/orgs/${world.orgId}/audit-log`))
        .query({ action: 'invite.resent', targetId: made.body.id })
        .set(world.owner.auth);
      expectStatus(log, 200);
      expect(log.body.data).toEqual([
        expect.objectContaining({
          action: 'invite.resent',
          actorId: world.owner.id,
          targetId: made.body.id,
        }),
      ]);
      expect(JSON.stringify(log.body)).not.toContain(newToken);
      expect(JSON.stringify(log.body)).not.toContain(oldToken);
    });

    it('lets an admin resend no owner invite (403)', async () => {
      const made = await invite(world.owner, { email: uniqueEmail('owner-to-be'), role: 'owner' });
      expectStatus(made, 201);
      expectProblem(await resend(made.body.id, world.admin.auth), 403);
    });

    it('answers 409 to a link invite, 410 to a revoked or expired one, 409 to a used one', async () => {
      const link = await invite(world.owner, { role: 'member', maxUses: 2 });
      expectProblem(await resend(link.body.id, world.owner.auth), 409, 'invite-not-mailed');

      const revoked = await invite(world.owner, { email: uniqueEmail('revoked'), role: 'member' });
      await t
        .http()
        .delete(api(`/orgs/${world.orgId}/invites/${revoked.body.id}`))
        .set(world.owner.auth);
      expectProblem(await resend(revoked.body.id, world.owner.auth), 410, 'invite-revoked');

      const expired = await invite(world.owner, { email: uniqueEmail('expired'), role: 'member' });
      await t.dataSource.query(
        `UPDATE invites SET expires_at = now() - interval '1 minute', created_at = now() - interval '2 days' WHERE id = $1`,
        [expired.body.id],
      );
      expectProblem(await resend(expired.body.id, world.owner.auth), 410, 'invite-expired');

      const email = uniqueEmail('used');
      const used = await invite(world.owner, { email, role: 'member' });
      const mail = await smtp.waitFor((m) => m.to.includes(email) && isInvite(m));
      const invitee = await registerUser(t, { email, inviteToken: tokenFrom(mail) });
      expect(invitee.id).toBeDefined();
      expectProblem(await resend(used.body.id, world.owner.auth), 409, 'invite-used-up');
    });

    it('is throttled per invite: 429 with Retry-After past MAIL_THROTTLE_LIMIT', async () => {
      const made = await invite(world.owner, { email: uniqueEmail('nagged'), role: 'member' });
      for (let i = 0; i < 3; i++) expectStatus(await resend(made.body.id, world.owner.auth), 200);
      const res = await resend(made.body.id, world.owner.auth);
      expectProblem(res, 429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Another invite has its own budget.
      const other = await invite(world.owner, { email: uniqueEmail('other'), role: 'member' });
      expectStatus(await resend(other.body.id, world.owner.auth), 200);
    });

    it('cancels the replaced email if it was still waiting, so a dead token is never mailed', async () => {
      smtp.behave({ refuse: Infinity });
      const email = uniqueEmail(`waiting-${randomBytes(2).toString('hex')}`);
      const made = await invite(world.owner, { email, role: 'member' });
      const res = await resend(made.body.id, world.owner.auth);
      expectStatus(res, 200);
      const [current] = await t.dataSource.query(`SELECT status FROM queued_mail WHERE id = $1`, [
        (await t.dataSource.query(`SELECT mail_id FROM invites WHERE id = $1`, [made.body.id]))[0]
          .mail_id,
      ]);
      expect(current.status).toBe('queued');
      const cancelled = await t.dataSource.query(
        `SELECT count(*)::int AS n FROM queued_mail WHERE recipient = $1 AND status = 'cancelled'`,
        [email],
      );
      expect(cancelled[0].n).toBe(1);
      // An attempt of the old email already on the wire at the resend is refused here.
      await noAttemptLeft(`m.recipient = $1 AND m.status = 'cancelled'`, [email]);
      smtp.behave({ refuse: 0 });
      await eventually(
        () => delivery(made.body.id),
        (d) => d.status === 'sent',
      );
      expect(invitesTo(email)).toHaveLength(1);
      expect(invitesTo(email)[0]!.subject).toMatch(/Reminder/);
    });
  });
});
