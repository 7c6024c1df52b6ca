import { api, createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { registerUser, uniqueEmail } from './helpers/users';

describe('throttling of sign-in routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        AUTH_THROTTLE_LIMIT: '3',
        AUTH_THROTTLE_TTL_SECONDS: '60',
        INVITE_THROTTLE_LIMIT: '2',
      },
    });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After and problem+json past the limit for one IP + email', async () => {
    const email = uniqueEmail('throttled');
    const attempts = [];
    for (let i = 0; i < 4; i++) {
      attempts.push(
        await t.http().post('/api/v1/auth/login').send({ email, password: 'wrong password' }),
      );
    }
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    const limited = attempts[3]!;
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(limited.body).toMatchObject({
      status: 429,
      type: expect.stringMatching(/rate-limited$/),
    });
  });

  it('counts each email separately, so one victim is not locked out by another', async () => {
    const victim = await registerUser(t);
    const other = uniqueEmail('attacked');
    for (let i = 0; i < 4; i++) {
      await t.http().post('/api/v1/auth/login').send({ email: other, password: 'wrong password' });
    }
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .send({ email: victim.email, password: victim.password });
    expect(res.status).toBe(200);
  });

  it('throttles register and refresh too', async () => {
    const email = uniqueEmail('reg-throttle');
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email, password: 'short', name: 'x' });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
    const refreshes = [];
    for (let i = 0; i < 4; i++) {
      refreshes.push(
        (
          await t
            .http()
            .post('/api/v1/auth/refresh')
            .send({ refreshToken: `bogus-${i}` })
        ).status,
      );
    }
    expect(refreshes).toEqual([401, 401, 401, 429]);
  });

  it("keys refresh on the session family: one client's garbage leaves others' refreshes alone", async () => {
    const victim = await registerUser(t);
    const garbage = [];
    for (let i = 0; i < 5; i++) {
      garbage.push(
        (
          await t
            .http()
            .post('/api/v1/auth/refresh')
            .send({ refreshToken: `garbage-${i}` })
        ).status,
      );
    }
    expect(garbage.slice(-2)).toEqual([429, 429]);
    // Same IP, another user's valid token: its family has its own budget.
    const res = await t
      .http()
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: victim.refreshToken });
    expect(res.status).toBe(200);
  });

  it('limits each family too, wherever its refreshes come from', async () => {
    const user = await registerUser(t);
    let token = user.refreshToken;
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.http().post('/api/v1/auth/refresh').send({ refreshToken: token });
      statuses.push(res.status);
      if (res.status === 200) token = res.body.refreshToken;
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('says the real wait of the per-user invite limit in Retry-After, not a made-up second', async () => {
    const owner = await registerUser(t);
    const orgId = await createOrg(t, owner);
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 3; i++) {
      limited = await t
        .http()
        .post(api(`/orgs/${orgId}/invites`))
        .set(owner.auth)
        .send({ role: 'member', maxUses: 5 });
      statuses.push(limited.status);
    }
    expect(statuses).toEqual([201, 201, 429]);
    // The invites window is a minute: the wait is most of it, as the throttler counted it.
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(30);
  });
});
