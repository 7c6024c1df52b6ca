import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { api, createTestApp, TestApp } from './helpers/app';
import { createOrg } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { registerUser } from './helpers/users';
import { createProject } from './helpers/work';

/**
 * Two instances with REDIS_URL share one write budget (the local Redis; skipped, saying
 * so, where none answers). Limit of this file: 4 writes per user per minute.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('write limits shared through Redis', () => {
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  let available = false;

  beforeAll(async () => {
    available = await redisAnswers(REDIS_URL);
    if (!available) {
      console.warn(
        `[rate-limits-redis] no Redis at ${REDIS_URL}: the shared-budget test is skipped`,
      );
      return;
    }
    const env = {
      REDIS_URL,
      REDIS_KEY_PREFIX: `worklane-test-${randomBytes(4).toString('hex')}:`,
      WRITE_LIMIT_PER_USER: '4',
      WRITE_LIMIT_WINDOW_SECONDS: '60',
    };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('counts one user’s writes on both instances against one budget', async () => {
    if (!available) return;
    const user = await registerUser(a!);
    const orgId = await createOrg(a!, user); // write 1, on a
    const projectId = await createProject(b!, orgId, user); // write 2, on b
    const post = (t: TestApp) =>
      t
        .http()
        .post(api(`/orgs/${orgId}/projects/${projectId}/tasks`))
        .set(user.auth)
        .send({ title: 't' });
    expectStatus(await post(a!), 201); // 3
    const fourth = await post(b!);
    expectStatus(fourth, 201);
    expect(fourth.headers['ratelimit']).toMatch(/^"user";r=0;/);
    const fifth = await post(a!);
    expectProblem(fifth, 429, 'rate-limited');
    expect(Number(fifth.headers['retry-after'])).toBeGreaterThan(0);
    expectProblem(await post(b!), 429, 'rate-limited');
  });
});
