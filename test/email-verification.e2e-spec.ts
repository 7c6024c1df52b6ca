import { api, createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { CapturedMail, SmtpCapture, startSmtpCapture, tokenFrom } from './helpers/smtp';
import { registerUser, SignedInUser, uniqueEmail } from './helpers/users';

/**
 * Verified addresses (issue 15): registration mails a verification link; an address
 * change applies only once the new address confirms it; the "only the invited address may
 * accept" rule holds across an address change.
 */
describe('email verification and address change', () => {
  let t: TestApp;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, APP_URL: 'https://app.worklane.test' } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const subjectTo = (email: string, subject: RegExp) => (m: CapturedMail) =>
    m.to.includes(email) && subject.test(m.subject);
  const verificationOf = (email: string) =>
    smtp.waitFor(subjectTo(email, /Confirm your email address/));
  const verify = (token: string) => t.http().post(api('/auth/verify-email')).send({ token });
  const me = (user: SignedInUser) => t.http().get(api('/me')).set(user.auth);
  const patchMe = (user: SignedInUser, body: Record<string, unknown>) =>
    t.http().patch(api('/me')).set(user.auth).send(body);
  const login = (email: string, password: string) =>
    t.http().post(api('/auth/login')).send({ email, password });

  it('mails a verification link on registration; the token verifies the address once', async () => {
    const user = await registerUser(t);
    expect((await me(user)).body.user).toMatchObject({ emailVerified: false, pendingEmail: null });
    const mail = await verificationOf(user.email);
    const token = tokenFrom(mail);
    expect(mail.text).toContain(`https://app.worklane.test/verify-email?token=${token}`);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);

    expectStatus(await verify(token), 204);
    expect((await me(user)).body.user).toMatchObject({ emailVerified: true });
    expectProblem(await verify(token), 410, 'token-expired');
    expectProblem(await verify('not-a-token'), 400, 'invalid-token');
  });

  it('counts an accepted email invite as proof of the address (registration and sign-in alike)', async () => {
    const owner = await registerUser(t);
    const orgId = await createOrg(t, owner, 'Proof Co');
    const email = uniqueEmail('proved');
    expectStatus(
      await t
        .http()
        .post(api(`/orgs/${orgId}/invites`))
        .set(owner.auth)
        .send({ email, role: 'member' }),
      201,
    );
    const invite = await smtp.waitFor(subjectTo(email, /invited to join/));
    const res = await t
      .http()
      .post(api('/auth/register'))
      .send({
        email,
        password: 'long enough pass',
        name: 'Proved',
        inviteToken: tokenFrom(invite),
      });
    expectStatus(res, 201);
    expect(res.body.user).toMatchObject({ email, emailVerified: true });

    const other = await registerUser(t);
    const second = uniqueEmail('unused');
    expect(other.email).not.toBe(second);
    const email2 = other.email;
    expectStatus(
      await t
        .http()
        .post(api(`/orgs/${orgId}/invites`))
        .set(owner.auth)
        .send({ email: email2, role: 'viewer' }),
      201,
    );
    const mail2 = await smtp.waitFor(subjectTo(email2, /invited to join/));
    expectStatus(
      await t
        .http()
        .post(api('/invites/accept'))
        .set(other.auth)
        .send({ token: tokenFrom(mail2) }),
      200,
    );
    expect((await me(other)).body.user.emailVerified).toBe(true);
  });

  it('changes the address only once the new address confirms it; the old one gets a notice', async () => {
    const user = await registerUser(t);
    const next = uniqueEmail('next');
    const res = await patchMe(user, { email: next.toUpperCase() });
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ email: user.email, pendingEmail: next });

    const confirm = await smtp.waitFor(subjectTo(next, /Confirm your new email address/));
    const notice = await smtp.waitFor(subjectTo(user.email, /about to change/));
    expect(notice.text).toContain(next);
    expect(notice.text).not.toMatch(/token=/);

    // Until confirmed, sign-in uses the old address.
    expectProblem(await login(next, user.password), 401);
    expectStatus(await login(user.email, user.password), 200);

    expectStatus(await verify(tokenFrom(confirm)), 204);
    expect((await me(user)).body.user).toMatchObject({
      email: next,
      emailVerified: true,
      pendingEmail: null,
    });
    expectStatus(await login(next, user.password), 200);
    expectProblem(await login(user.email, user.password), 401);
    expectProblem(await verify(tokenFrom(confirm)), 410, 'token-expired');
  });

  it('refuses an address another account uses (409), at request and at confirmation', async () => {
    const user = await registerUser(t);
    const taken = await registerUser(t);
    expectProblem(await patchMe(user, { email: taken.email }), 409);

    const wanted = uniqueEmail('contested');
    expectStatus(await patchMe(user, { email: wanted }), 200);
    const confirm = await smtp.waitFor(subjectTo(wanted, /Confirm your new email address/));
    await registerUser(t, { email: wanted });
    expectProblem(await verify(tokenFrom(confirm)), 409);
    expect((await me(user)).body.user.email).toBe(user.email);
  });

  it('drops a pending change when the current address is sent again, or the password changes', async () => {
    const user = await registerUser(t);
    const next = uniqueEmail('dropped');
    expectStatus(await patchMe(user, { email: next }), 200);
    const confirm = await smtp.waitFor(subjectTo(next, /Confirm your new email address/));
    const back = await patchMe(user, { email: user.email });
    expect(back.body).toMatchObject({ email: user.email, pendingEmail: null });
    expectProblem(await verify(tokenFrom(confirm)), 410, 'token-expired');

    const again = uniqueEmail('dropped-again');
    expectStatus(await patchMe(user, { email: again }), 200);
    const confirm2 = await smtp.waitFor(subjectTo(again, /Confirm your new email address/));
    expectStatus(
      await t
        .http()
        .post(api('/me/password'))
        .set(user.auth)
        .send({ currentPassword: user.password, newPassword: 'another long pass' }),
      204,
    );
    expectProblem(await verify(tokenFrom(confirm2)), 410, 'token-expired');
    expect((await me(user)).body.user).toMatchObject({ email: user.email, pendingEmail: null });
  });

  it('keeps the invited-address rule across an address change: a pending address never counts', async () => {
    const owner = await registerUser(t);
    const orgId = await createOrg(t, owner, 'Rule Co');
    const invited = uniqueEmail('invited');
    expectStatus(
      await t
        .http()
        .post(api(`/orgs/${orgId}/invites`))
        .set(owner.auth)
        .send({ email: invited, role: 'member' }),
      201,
    );
    const inviteToken = tokenFrom(await smtp.waitFor(subjectTo(invited, /invited to join/)));

    const user = await registerUser(t);
    expectStatus(await patchMe(user, { email: invited }), 200);
    const accept = () =>
      t.http().post(api('/invites/accept')).set(user.auth).send({ token: inviteToken });
    // Pending, not confirmed: the account's address is still the old one.
    expectProblem(await accept(), 403, 'invite-email-mismatch');

    const confirm = await smtp.waitFor(subjectTo(invited, /Confirm your new email address/));
    expectStatus(await verify(tokenFrom(confirm)), 204);
    // Confirmed (verified) by the invited mailbox: now it is the invited address.
    expectStatus(await accept(), 200);
  });
});
