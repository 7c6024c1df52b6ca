import { JwtService } from '@nestjs/jwt';
import { createTestApp, TestApp } from './helpers/app';
import { PROBLEM } from './helpers/problems';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

describe('accounts: /auth and /me', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: string) =>
    t.http().post('/api/v1/auth/refresh').send({ refreshToken });
  const logIn = (user: SignedInUser) =>
    t.http().post('/api/v1/auth/login').send({ email: user.email, password: user.password });

  describe('POST /auth/register', () => {
    it('creates the account and answers 201 with a token pair and no secret fields', async () => {
      const email = uniqueEmail('Reg').replace('reg', 'ReG');
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email, password: 'long enough', name: ' Ada ' });
      expect(res.status).toBe(201);
      expect(res.body.user).toEqual({
        id: expect.any(String),
        email: email.toLowerCase(),
        name: 'Ada',
        emailVerified: false,
        pendingEmail: null,
        createdAt: expect.any(String),
      });
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      expect(typeof res.body.accessToken).toBe('string');
      expect(res.body.refreshToken).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
      expect(JSON.stringify(res.body)).not.toMatch(/hash/i);
    });

    it('answers 409 to an email already taken, whatever its case', async () => {
      const first = await registerUser(t);
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email: first.email.toUpperCase(), password: 'long enough', name: 'Dup' });
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.type).toMatch(/email-taken$/);
    });

    it('rejects passwords shorter than 8 characters or longer than 72 bytes', async () => {
      for (const password of ['short77', 'x'.repeat(73), 'x'.repeat(129)]) {
        const res = await t
          .http()
          .post('/api/v1/auth/register')
          .send({ email: uniqueEmail(), password, name: 'P' });
        expect(res.status).toBe(400);
        const fields = res.body.errors.map((e: { field: string }) => e.field);
        expect([...new Set(fields)]).toEqual(['password']);
      }
      const ok = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email: uniqueEmail(), password: 'x'.repeat(72), name: 'P' });
      expect(ok.status).toBe(201);
    });

    it('lists every bad field at once and rejects unknown fields', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email: 'not-an-email', password: 'short', name: '', role: 'owner', id: 'x' });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
      expect([...new Set(fields)]).toEqual(['email', 'id', 'name', 'password', 'role']);
    });
  });

  describe('POST /auth/login', () => {
    it('signs in with the right password, whatever the email case', async () => {
      const user = await registerUser(t);
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ email: user.email.toUpperCase(), password: user.password });
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(user.id);
      expect(res.body.refreshToken).not.toBe(user.refreshToken);
    });

    it('answers an unknown email and a wrong password with the same 401', async () => {
      const user = await registerUser(t);
      const wrong = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: 'wrong password' });
      const unknown = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ email: uniqueEmail('nobody'), password: 'wrong password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
      expect(strip(wrong.body)).toEqual(strip(unknown.body));
    });
  });

  describe('refresh tokens', () => {
    it('rotates: a refresh returns a new pair and spends the old token', async () => {
      const user = await registerUser(t);
      const first = await refresh(user.refreshToken);
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(user.refreshToken);
      const me = await t
        .http()
        .get('/api/v1/me')
        .set('Authorization', `Bearer ${first.body.accessToken}`);
      expect(me.status).toBe(200);
      const second = await refresh(first.body.refreshToken);
      expect(second.status).toBe(200);
    });

    it('revokes the whole family when a spent token is presented again', async () => {
      const user = await registerUser(t);
      const rotated = await refresh(user.refreshToken);
      expect(rotated.status).toBe(200);

      const replay = await refresh(user.refreshToken);
      expect(replay.status).toBe(401);
      expect(replay.body.type).toMatch(/refresh-token-reused$/);

      const newest = await refresh(rotated.body.refreshToken);
      expect(newest.status).toBe(401);
    });

    it('leaves the other sessions of the user alone when one family is revoked', async () => {
      const user = await registerUser(t);
      const other = await logIn(user);
      await refresh(user.refreshToken);
      await refresh(user.refreshToken);
      const res = await refresh(other.body.refreshToken);
      expect(res.status).toBe(200);
    });

    it('lets exactly one of two concurrent refreshes with the same token win', async () => {
      const user = await registerUser(t);
      const results = await Promise.all([1, 2].map(() => refresh(user.refreshToken)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('answers 401 to an unknown token and 400 to a missing one', async () => {
      const unknown = await refresh('x'.repeat(43));
      expect(unknown.status).toBe(401);
      expect(unknown.body.type).toMatch(/invalid-refresh-token$/);
      const missing = await t.http().post('/api/v1/auth/refresh').send({});
      expect(missing.status).toBe(400);
    });

    it('refuses a token whose refresh window has passed', async () => {
      const user = await registerUser(t);
      await t.dataSource.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
          WHERE session_id IN (SELECT id FROM auth_sessions WHERE user_id = $1)`,
        [user.id],
      );
      const res = await refresh(user.refreshToken);
      expect(res.status).toBe(401);
    });
  });

  describe('logout', () => {
    it('POST /auth/logout ends only the session of the given token', async () => {
      const user = await registerUser(t);
      const other = await logIn(user);
      const res = await t
        .http()
        .post('/api/v1/auth/logout')
        .send({ refreshToken: user.refreshToken });
      expect(res.status).toBe(204);
      expect((await refresh(user.refreshToken)).status).toBe(401);
      expect((await refresh(other.body.refreshToken)).status).toBe(200);
    });

    it('POST /auth/logout-all ends every session of the caller', async () => {
      const user = await registerUser(t);
      const devices = await Promise.all([1, 2].map(() => logIn(user)));
      const res = await t.http().post('/api/v1/auth/logout-all').set(user.auth);
      expect(res.status).toBe(204);
      for (const token of [user.refreshToken, ...devices.map((d) => d.body.refreshToken)]) {
        expect((await refresh(token)).status).toBe(401);
      }
    });

    it('POST /auth/logout-all needs an access token', async () => {
      expect((await t.http().post('/api/v1/auth/logout-all')).status).toBe(401);
    });
  });

  describe('/me', () => {
    it('GET /me answers the caller and their memberships', async () => {
      const user = await registerUser(t, { name: 'Grace' });
      const res = await t.http().get('/api/v1/me').set(user.auth);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ id: user.id, email: user.email, name: 'Grace' });
      expect(Array.isArray(res.body.memberships)).toBe(true);
    });

    it('answers 401 without a token, with a bad one and with an expired one', async () => {
      const user = await registerUser(t);
      const expired = await t.app
        .get(JwtService)
        .signAsync(
          { sub: user.id, sid: '00000000-0000-0000-0000-000000000000' },
          { expiresIn: -10 },
        );
      const forged =
        user.accessToken.slice(0, -3) + (user.accessToken.endsWith('abc') ? 'xyz' : 'abc');
      for (const header of [
        undefined,
        'Bearer nonsense',
        `Bearer ${expired}`,
        `Bearer ${forged}`,
      ]) {
        const req = t.http().get('/api/v1/me');
        const res = await (header ? req.set('Authorization', header) : req);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      }
    });

    it('PATCH /me changes the name at once, holds a new email until confirmed, and refuses one that is taken', async () => {
      const user = await registerUser(t);
      const other = await registerUser(t);
      const newEmail = uniqueEmail('renamed');
      const res = await t
        .http()
        .patch('/api/v1/me')
        .set(user.auth)
        .send({ name: 'New Name', email: newEmail.toUpperCase() });
      expect(res.status).toBe(200);
      // The address applies once confirmed (test/email-verification.e2e-spec.ts).
      expect(res.body).toMatchObject({
        name: 'New Name',
        email: user.email,
        pendingEmail: newEmail,
      });
      const taken = await t.http().patch('/api/v1/me').set(user.auth).send({ email: other.email });
      expect(taken.status).toBe(409);
      const login = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ email: user.email, password: user.password });
      expect(login.status).toBe(200);
    });

    it('PATCH /me rejects fields a user may not set', async () => {
      const user = await registerUser(t);
      const res = await t
        .http()
        .patch('/api/v1/me')
        .set(user.auth)
        .send({ passwordHash: 'x', id: 'y' });
      expect(res.status).toBe(400);
    });

    it('POST /me/password keeps the current session and ends every other one', async () => {
      const user = await registerUser(t);
      const other = await logIn(user);
      const res = await t
        .http()
        .post('/api/v1/me/password')
        .set(user.auth)
        .send({ currentPassword: user.password, newPassword: 'a brand new password' });
      expect(res.status).toBe(204);
      expect((await refresh(other.body.refreshToken)).status).toBe(401);
      expect((await refresh(user.refreshToken)).status).toBe(200);
      expect((await logIn(user)).status).toBe(401);
      expect(
        (
          await t
            .http()
            .post('/api/v1/auth/login')
            .send({ email: user.email, password: 'a brand new password' })
        ).status,
      ).toBe(200);
    });

    it('POST /me/password answers 403 to a wrong current password and changes nothing', async () => {
      const user = await registerUser(t);
      const res = await t
        .http()
        .post('/api/v1/me/password')
        .set(user.auth)
        .send({ currentPassword: 'not my password', newPassword: 'a brand new password' });
      expect(res.status).toBe(403);
      expect((await logIn(user)).status).toBe(200);
    });
  });
});
