import { randomBytes } from 'node:crypto';
import { createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

const API = '/api/v1';

/**
 * SMTP_URL points at a port nobody listens on, so every email invite fails to send: the
 * whole action must roll back — no invite row and no audit entry.
 */
describe('audit log: a rolled-back action leaves no entry', () => {
  let t: TestApp;
  let owner: SignedInUser;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp({
      env: { SMTP_URL: 'smtp://127.0.0.1:1', INVITE_THROTTLE_LIMIT: '1000' },
    });
    owner = await registerUser(t);
    orgId = await createOrg(t, owner, `Unmailable ${randomBytes(4).toString('hex')}`);
  });
  afterAll(() => t?.close());

  it('answers 503 mail-unavailable to an email invite, and keeps neither the invite nor its audit entry', async () => {
    const requestId = `unmailable-${randomBytes(8).toString('hex')}`;
    const email = uniqueEmail('unreachable');
    const res = await t
      .http()
      .post(`${API}/orgs/${orgId}/invites`)
      .set(owner.auth)
      .set('X-Request-Id', requestId)
      .send({ email, role: 'member' });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 503,
      body: { status: 503, type: expect.stringMatching(/\/mail-unavailable$/) },
    });
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);

    const rows = await t.dataSource.query(`SELECT id FROM invites WHERE org_id = $1`, [orgId]);
    expect(rows).toEqual([]);
    const auditRows = await t.dataSource.query(
      `SELECT action FROM audit_log WHERE org_id = $1 AND (action = 'invite.created' OR request_id = $2)`,
      [orgId, requestId],
    );
    expect(auditRows).toEqual([]);

    const log = await t
      .http()
      .get(`${API}/orgs/${orgId}/audit-log`)
      .query({ action: 'invite.created' })
      .set(owner.auth);
    expect(log.status).toBe(200);
    expect(log.body.data).toEqual([]);
    const list = await t.http().get(`${API}/orgs/${orgId}/invites`).set(owner.auth);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
  });

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
    expect(log.body.data).toEqual([
      expect.objectContaining({
        action: 'invite.created',
        targetType: 'invite',
        targetId: res.body.id,
      }),
    ]);
  });
});
