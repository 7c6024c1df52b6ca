import { randomBytes } from 'node:crypto';
import { createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

const API = '/api/v1';

/**
 * A change that fails after it published events rolls back whole: no row, no audit entry.
 * The failure: a trigger (this file's own) refuses to queue mail to one marked address, so
 * a second invite to an address — which first revokes the pending one (`invite.revoked`)
 * and then queues its email — fails after that event. SMTP_URL points at a port nobody
 * listens on: a mail server that is down does not stop an invite any more (it is queued).
 */
// The failure is a trigger on queued_mail, a reference table on Citus, which keeps no
// trigger there: the Citus run skips that case (the plain and embedded runs keep it).
const withTrigger = process.env.WORKLANE_TEST_CITUS ? it.skip : it;

describe('audit log: a rolled-back action leaves no entry', () => {
  let t: TestApp;
  let owner: SignedInUser;
  let orgId: string;
  const marker = `unqueueable-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    t = await createTestApp({
      env: { SMTP_URL: 'smtp://127.0.0.1:1', INVITE_THROTTLE_LIMIT: '1000' },
    });
    owner = await registerUser(t);
    orgId = await createOrg(t, owner, `Unmailable ${randomBytes(4).toString('hex')}`);
  });
  afterAll(async () => {
    if (!process.env.WORKLANE_TEST_CITUS) {
      await t?.dataSource.query(
        `DROP TRIGGER IF EXISTS ${marker.replace(/-/g, '_')} ON queued_mail`,
      );
      await t?.dataSource.query(`DROP FUNCTION IF EXISTS ${marker.replace(/-/g, '_')}()`);
    }
    await t?.close();
  });

  it('answers 201 to an email invite while the mail server is down: the email waits in the queue', async () => {
    const res = await t
      .http()
      .post(`${API}/orgs/${orgId}/invites`)
      .set(owner.auth)
      .send({ email: uniqueEmail('unreachable'), role: 'member' });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 201,
      body: { kind: 'email', delivery: { status: 'queued', sentAt: null } },
    });
  });

  withTrigger(
    'keeps neither the replacement invite nor the revocation it published when queueing its email fails',
    async () => {
      const email = `${marker}@example.test`;
      const first = await t
        .http()
        .post(`${API}/orgs/${orgId}/invites`)
        .set(owner.auth)
        .send({ email, role: 'member' });
      expect(first.status).toBe(201);
      const fn = marker.replace(/-/g, '_');
      await t.dataSource.query(`
      CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.recipient = '${email}' THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NEW;
      END $$`);
      await t.dataSource.query(
        `CREATE TRIGGER ${fn} BEFORE INSERT ON queued_mail FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      );

      const requestId = `unmailable-${randomBytes(8).toString('hex')}`;
      const res = await t
        .http()
        .post(`${API}/orgs/${orgId}/invites`)
        .set(owner.auth)
        .set('X-Request-Id', requestId)
        .send({ email, role: 'admin' });
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);

      const rows = await t.dataSource.query(
        `SELECT id, role, revoked_at FROM invites WHERE org_id = $1 AND email = $2`,
        [orgId, email],
      );
      expect(rows).toEqual([{ id: first.body.id, role: 'member', revoked_at: null }]);
      const auditRows = await t.dataSource.query(
        `SELECT action FROM audit_log WHERE org_id = $1 AND request_id = $2`,
        [orgId, requestId],
      );
      expect(auditRows).toEqual([]);
      const log = await t
        .http()
        .get(`${API}/orgs/${orgId}/audit-log`)
        .query({ action: 'invite.revoked' })
        .set(owner.auth);
      expect(log.status).toBe(200);
      expect(log.body.data).toEqual([]);
    },
  );

  it('still creates link invites, which send no mail, with their entry', async () => {
    const res = await t
      .http()
      .post(`${API}/orgs/${orgId}/invites`)
      .set(owner.auth)
      .send({ role: 'viewer', maxUses: 2 });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 201,
      body: { kind: 'link' },
    });
    const log = await t
      .http()
      .get(`${API}/orgs/${orgId}/audit-log`)
      .query({ action: 'invite.created' })
      .set(owner.auth);
    expect(log.status).toBe(200);
    expect(log.body.data).toContainEqual(
      expect.objectContaining({
        action: 'invite.created',
        targetType: 'invite',
        targetId: res.body.id,
      }),
    );
  });
});
