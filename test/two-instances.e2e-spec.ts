import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { api, createTestApp, listenOnLoopback, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { openStream } from './helpers/sse';
import { registerUser, SignedInUser } from './helpers/users';
import { createProject } from './helpers/work';

/**
 * Two API instances on one server database (and one Redis), requests alternating between
 * them: everything a client relies on behaves as with one instance — idempotent replays,
 * session ends, the event stream, webhook deliveries (each sent once) and write limits. Server only (the
 * embedded database is one process).
 */
const onServer = process.env.WORKLANE_TEST_SERVER_URL ? describe : describe.skip;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function redisAnswers(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

onServer('two instances behave as one', () => {
  let a: TestApp;
  let b: TestApp;
  let redis = false;
  let user: SignedInUser;
  let orgId: string;
  let projectId: string;

  beforeAll(async () => {
    redis = await redisAnswers();
    if (!redis) console.warn('[two-instances] no Redis: the shared write budget is not checked');
    const env: Record<string, string> = {
      // A queue of this file's own: other files' apps work the default one on this database.
      WEBHOOK_QUEUE: `webhooks.two-${randomBytes(4).toString('hex')}`,
      WRITE_LIMIT_PER_USER: '40',
      WRITE_LIMIT_WINDOW_SECONDS: '60',
      ...(redis
        ? { REDIS_URL, REDIS_KEY_PREFIX: `worklane-two-${randomBytes(4).toString('hex')}:` }
        : {}),
    };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
    user = await registerUser(a);
    orgId = await createOrg(b, user);
    projectId = await createProject(a, orgId, user);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const tasks = () => api(`/orgs/${orgId}/projects/${projectId}/tasks`);

  it('replays an idempotent create on the other instance, and refuses the key with another body', async () => {
    const key = randomUUID();
    const first = await a
      .http()
      .post(tasks())
      .set(user.auth)
      .set('Idempotency-Key', key)
      .send({ title: 'once' });
    expectStatus(first, 201);
    const replay = await b
      .http()
      .post(tasks())
      .set(user.auth)
      .set('Idempotency-Key', key)
      .send({ title: 'once' });
    expectStatus(replay, 201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expectProblem(
      await b
        .http()
        .post(tasks())
        .set(user.auth)
        .set('Idempotency-Key', key)
        .send({ title: 'other' }),
      422,
    );
  });

  it('ends a session signed out on one instance on the other at once', async () => {
    const other = await registerUser(b);
    expectStatus(await a.http().get(api('/me')).set(other.auth), 200);
    expectStatus(await b.http().post(api('/auth/logout-all')).set(other.auth), 204);
    expectProblem(await a.http().get(api('/me')).set(other.auth), 401);
  });

  it('delivers an event made on one instance to a stream on the other', async () => {
    const { base } = await listenOnLoopback(b);
    const stream = await openStream(`${base}${api(`/orgs/${orgId}/events`)}`, user.auth);
    try {
      const made = await a.http().post(tasks()).set(user.auth).send({ title: 'across' });
      expectStatus(made, 201);
      await stream.waitFor((s) => s.messages.some((m) => m.json?.target?.id === made.body.id));
    } finally {
      stream.close();
    }
  });

  it('sends each webhook delivery once while both instances run workers', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['webhook-id']));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const { port } = receiver.address() as AddressInfo;
      const hook = await a
        .http()
        .post(api(`/orgs/${orgId}/webhooks`))
        .set(user.auth)
        .send({ url: `http://127.0.0.1:${port}/hook`, events: ['task.created'] });
      expectStatus(hook, 201);
      for (let i = 0; i < 10; i++) {
        expectStatus(
          await (i % 2 ? a : b)
            .http()
            .post(tasks())
            .set(user.auth)
            .send({ title: `hooked ${i}` }),
          201,
        );
      }
      const deadline = Date.now() + 20_000;
      while (received.length < 10 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1000)); // time enough for a double to show
      expect(received).toHaveLength(10);
      expect(new Set(received).size).toBe(10);
    } finally {
      receiver.close();
    }
  });

  it('shares one write budget between the instances (Redis)', async () => {
    if (!redis) return;
    const writer = await registerUser(a);
    const org = await createOrg(a, writer); // 1
    const project = await createProject(b, org, writer); // 2
    let accepted = 2;
    let refusedOn: string | undefined;
    for (let i = 0; i < 45 && !refusedOn; i++) {
      const via = i % 2 === 0 ? a : b;
      const res = await via
        .http()
        .post(api(`/orgs/${org}/projects/${project}/tasks`))
        .set(writer.auth)
        .send({ title: `w${i}` });
      if (res.status === 201) accepted++;
      else {
        expectProblem(res, 429, 'rate-limited');
        refusedOn = via === a ? 'a' : 'b';
      }
    }
    expect(accepted).toBe(40);
    expect(refusedOn).toBeDefined();
  });
});
