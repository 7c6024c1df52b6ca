import { createHmac } from 'node:crypto';
import { createTestApp, TestApp, api } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { expectProblem } from './helpers/problems';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

/** An HS256 JWT signed by hand, so that any claim set (or none) can be forged. */
function forge(claims: Record<string, unknown>, secret: string | Buffer): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The public constant every deployment without JWT_SECRET used to accept. */
const OLD_DEV_SECRET = 'worklane-development-secret-do-not-use-in-production';

describe('sessions: a revoked session ends its access tokens at once', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** Both kinds of authenticated route: a tenant route and one that is not. */
  async function expectAccess(user: SignedInUser, token: string, orgId: string, status: number) {
    const auth = { Authorization: `Bearer ${token}` };
    const tenant = await t
      .http()
      .get(api(`/orgs/${orgId}`))
      .set(auth);
    const me = await t.http().get(api('/me')).set(auth);
    if (status === 401) {
      expectProblem(tenant, 401, 'unauthenticated');
      expectProblem(me, 401, 'unauthenticated');
    } else {
      expect([tenant.status, me.status]).toEqual([status, status]);
    }
  }

  async function userWithOrg() {
    const user = await registerUser(t);
    const orgId = await createOrg(t, user);
    await expectAccess(user, user.accessToken, orgId, 200);
    return { user, orgId };
  }

  const logIn = async (user: SignedInUser) => {
    const res = await t
      .http()
      .post(api('/auth/login'))
      .send({ email: user.email, password: user.password });
    expect(res.status).toBe(200);
    return res.body as { accessToken: string; refreshToken: string };
  };

  it('logout ends the access token of that session on the next request', async () => {
    const { user, orgId } = await userWithOrg();
    const other = await logIn(user);
    const res = await t.http().post(api('/auth/logout')).send({ refreshToken: user.refreshToken });
    expect(res.status).toBe(204);
    await expectAccess(user, user.accessToken, orgId, 401);
    await expectAccess(user, other.accessToken, orgId, 200);
  });

  it('logout-all ends every access token of the user', async () => {
    const { user, orgId } = await userWithOrg();
    const other = await logIn(user);
    const res = await t.http().post(api('/auth/logout-all')).set(user.auth);
    expect(res.status).toBe(204);
    await expectAccess(user, user.accessToken, orgId, 401);
    await expectAccess(user, other.accessToken, orgId, 401);
  });

  it('a password change ends the access tokens of every other session', async () => {
    const { user, orgId } = await userWithOrg();
    const other = await logIn(user);
    const res = await t
      .http()
      .post(api('/me/password'))
      .set(user.auth)
      .send({ currentPassword: user.password, newPassword: 'a brand new password' });
    expect(res.status).toBe(204);
    await expectAccess(user, other.accessToken, orgId, 401);
    await expectAccess(user, user.accessToken, orgId, 200);
  });

  it('refresh-token reuse ends the access tokens of the whole family', async () => {
    const { user, orgId } = await userWithOrg();
    const first = await t
      .http()
      .post(api('/auth/refresh'))
      .send({ refreshToken: user.refreshToken });
    expect(first.status).toBe(200);
    const reuse = await t
      .http()
      .post(api('/auth/refresh'))
      .send({ refreshToken: user.refreshToken });
    expect(reuse.status).toBe(401);
    await expectAccess(user, user.accessToken, orgId, 401);
    await expectAccess(user, first.body.accessToken, orgId, 401);
  });

  it('refuses an expired session', async () => {
    const { user, orgId } = await userWithOrg();
    await t.dataSource.query(
      `UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
      [user.id],
    );
    await expectAccess(user, user.accessToken, orgId, 401);
  });

  describe('claims', () => {
    let user: SignedInUser;
    let orgId: string;
    let claims: Record<string, unknown>;
    const secret = () => process.env.JWT_SECRET!;

    beforeAll(async () => {
      ({ user, orgId } = await userWithOrg());
      claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString());
    });

    it('issues tokens with an issuer, an audience, iat and exp', () => {
      expect(claims).toMatchObject({
        iss: expect.any(String),
        aud: expect.any(String),
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      // The hand-made signature is right: the same claims are accepted.
      return expectAccess(user, forge(claims, secret()), orgId, 200);
    });

    it.each([
      ['no exp', { exp: undefined }],
      ['no iat', { iat: undefined }],
      ['a wrong issuer', { iss: 'someone-else' }],
      ['a wrong audience', { aud: 'another-api' }],
    ])('refuses a token with the right secret but %s', async (_label, change) => {
      const forged = forge({ ...claims, ...change }, secret());
      await expectAccess(user, forged, orgId, 401);
    });

    it('refuses a token signed with the old public development secret', async () => {
      await expectAccess(user, forge(claims, OLD_DEV_SECRET), orgId, 401);
    });
  });

  describe('bcrypt reads only 72 bytes', () => {
    const base = 'A'.repeat(72);

    it('refuses a password over 72 UTF-8 bytes at register with 400 naming the field', async () => {
      const email = uniqueEmail('long');
      const res = await t
        .http()
        .post(api('/auth/register'))
        .send({ email, password: `${base}something`, name: 'Long' });
      expectProblem(res, 400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'password' })]);
      // The attack: a different suffix must not sign in to that account.
      const login = await t
        .http()
        .post(api('/auth/login'))
        .send({ email, password: `${base}something-else` });
      expect(login.status).toBe(401);
    });

    it('counts bytes, not characters, and still admits 72 bytes', async () => {
      const multiByte = 'é'.repeat(37); // 37 characters, 74 bytes
      const refused = await t
        .http()
        .post(api('/auth/register'))
        .send({ email: uniqueEmail(), password: multiByte, name: 'P' });
      expectProblem(refused, 400);
      const ok = await registerUser(t, { password: base });
      expect(ok.id).toEqual(expect.any(String));
    });

    it('refuses a new password over 72 bytes at password change', async () => {
      const user = await registerUser(t);
      const res = await t
        .http()
        .post(api('/me/password'))
        .set(user.auth)
        .send({ currentPassword: user.password, newPassword: `${base}x` });
      expectProblem(res, 400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'newPassword' })]);
    });
  });
});
