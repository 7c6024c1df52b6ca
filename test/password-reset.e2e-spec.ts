import { createHash } from 'node:crypto';
import type { Response } from 'supertest';
import { api, createTestApp, TestApp } from './helpers/app';
import { expectProblem, expectStatus } from './helpers/problems';
import { CapturedMail, SmtpCapture, startSmtpCapture, tokenFrom } from './helpers/smtp';
import { registerUser, uniqueEmail } from './helpers/users';

/**
 * Forgot / reset password (issue 15): the same answer for every address, a single-use
 * hashed token mailed through a real SMTP conversation, every session ended on reset.
 */
describe('password reset', () => {
  let t: TestApp;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({
      env: {
        SMTP_URL: smtp.url,
        APP_URL: 'https://app.worklane.test',
        MAIL_THROTTLE_LIMIT: '6',
        AUTH_THROTTLE_LIMIT: '60',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const isReset = (m: CapturedMail) => /Reset your Worklane password/.test(m.subject);
  const resetsTo = (email: string) =>
    smtp.messages.filter((m) => m.to.includes(email) && isReset(m));

  const forgot = (email: string) => t.http().post(api('/auth/password/forgot')).send({ email });
  const reset = (token: string, newPassword: string) =>
    t.http().post(api('/auth/password/reset')).send({ token, newPassword });
  const me = (auth: Record<string, string>) => t.http().get(api('/me')).set(auth);
  const login = (email: string, password: string) =>
    t.http().post(api('/auth/login')).send({ email, password });

  /** The reset email `forgot` caused: the n-th (from 1) to that address. */
  async function resetMail(email: string, nth = 1): Promise<CapturedMail> {
    return smtp.waitFor(
      (m) => m.to.includes(email) && isReset(m) && resetsTo(email).indexOf(m) === nth - 1,
    );
  }

  /** Waits until the forgot-password job for `email` has run (bounded polling). */
  async function jobDone(email: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await t.dataSource.query(
        `SELECT state FROM pgboss.job WHERE name = $1 AND data->'payload'->>'email' = $2`,
        [`${process.env.MAIL_QUEUE}.password-reset`, email],
      );
      if (rows.length > 0 && rows.every((r: { state: string }) => r.state === 'completed')) return;
      if (Date.now() > deadline) throw new Error(`the reset job for ${email} did not run`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** What a client can observe of an answer, apart from what differs on every request. */
  function observable(res: Response) {
    const {
      'x-request-id': _id,
      date: _date,
      'x-ratelimit-reset': reset,
      ...headers
    } = res.headers;
    return { status: res.status, body: res.body, headers, reset: Math.round(Number(reset) / 5) };
  }

  it('answers 202 with the same body and headers for a known and an unknown address', async () => {
    const user = await registerUser(t);
    const unknown = uniqueEmail('nobody');
    const known = await forgot(user.email);
    const other = await forgot(unknown);
    expect(known.status).toBe(202);
    expect(observable(known)).toEqual(observable(other));
    expect(known.body).toEqual({
      message: expect.stringMatching(/If an account uses this address/),
    });

    await resetMail(user.email);
    await jobDone(unknown);
    expect(smtp.messages.filter((m) => m.to.includes(unknown))).toHaveLength(0);
  });

  it('takes as long for an unknown address as for a known one (both only enqueue a job)', async () => {
    const user = await registerUser(t);
    const times = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 5; i++) {
      for (const kind of ['known', 'unknown'] as const) {
        const started = process.hrtime.bigint();
        const res = await forgot(kind === 'known' ? user.email : uniqueEmail('ghost'));
        times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
        expect(res.status).toBe(202);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    // The same code path either way (one job enqueued); the bound only absorbs a loaded machine.
    const [a, b] = [median(times.known), median(times.unknown)];
    expect(Math.abs(a - b)).toBeLessThan(Math.max(40, 0.5 * Math.max(a, b)));
  });

  it('resets the password with the mailed token and ends every session', async () => {
    const user = await registerUser(t);
    const laptop = await login(user.email, user.password);
    expectStatus(laptop, 200);
    expectStatus(await forgot(user.email), 202);
    const mail = await resetMail(user.email);
    const token = tokenFrom(mail);
    expect(mail.text).toContain(`https://app.worklane.test/reset-password?token=${token}`);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);

    expectStatus(await reset(token, 'a brand new secret'), 204);
    // Every session's access token dies on its next request; refresh tokens are refused.
    expectProblem(await me(user.auth), 401);
    expectProblem(await me({ Authorization: `Bearer ${laptop.body.accessToken}` }), 401);
    expectProblem(
      await t.http().post(api('/auth/refresh')).send({ refreshToken: user.refreshToken }),
      401,
    );
    expectProblem(await login(user.email, user.password), 401);
    const fresh = await login(user.email, 'a brand new secret');
    expectStatus(fresh, 200);
    // The mailed token proved the address.
    const profile = await me({ Authorization: `Bearer ${fresh.body.accessToken}` });
    expect(profile.body.user).toMatchObject({ email: user.email, emailVerified: true });
    // Single use.
    expectProblem(await reset(token, 'yet another secret'), 410, 'token-expired');
  });

  it('refuses an unknown token (400), an expired one and one a newer email replaced (410)', async () => {
    expectProblem(await reset('x'.repeat(43), 'whatever secret'), 400, 'invalid-token');
    const user = await registerUser(t);
    expectStatus(await forgot(user.email), 202);
    const first = tokenFrom(await resetMail(user.email, 1));
    expectStatus(await forgot(user.email), 202);
    const second = tokenFrom(await resetMail(user.email, 2));
    expectProblem(await reset(first, 'whatever secret'), 410, 'token-expired');

    await t.dataSource.query(
      `UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND used_at IS NULL`,
      [user.id],
    );
    expectProblem(await reset(second, 'whatever secret'), 410, 'token-expired');
    expectStatus(await login(user.email, user.password), 200);
  });

  it('applies the registration password rules (400 naming newPassword)', async () => {
    const res = await reset('x'.repeat(43), 'short');
    expectProblem(res, 400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'newPassword' })]);
    const long = await reset('x'.repeat(43), 'é'.repeat(40));
    expectProblem(long, 400);
  });

  it('stores the token hashed, valid one hour', async () => {
    const user = await registerUser(t);
    expectStatus(await forgot(user.email), 202);
    const token = tokenFrom(await resetMail(user.email));
    const [row] = await t.dataSource.query(
      `SELECT token_hash, extract(epoch FROM expires_at - created_at)::int AS ttl
         FROM email_tokens WHERE user_id = $1 AND purpose = 'reset_password'`,
      [user.id],
    );
    expect(row.token_hash).toEqual(createHash('sha256').update(token).digest());
    expect(row.ttl).toBe(3600);
  });

  it('is throttled per address (429 with Retry-After), whatever the IP', async () => {
    const email = uniqueEmail('flooded');
    for (let i = 0; i < 6; i++) expectStatus(await forgot(email), 202);
    const res = await forgot(email);
    expectProblem(res, 429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expectStatus(await forgot(uniqueEmail('someone-else')), 202);
  });

  it('is throttled per IP (429 with Retry-After) across addresses', async () => {
    let res: Response | undefined;
    for (let i = 0; i < 70; i++) {
      res = await forgot(uniqueEmail('spray'));
      if (res.status === 429) break;
    }
    expectProblem(res!, 429);
    expect(Number(res!.headers['retry-after'])).toBeGreaterThan(0);
  });
});
