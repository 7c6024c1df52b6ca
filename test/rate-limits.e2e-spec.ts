import { api, createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import { createProject } from './helpers/work';

/**
 * Writes are limited per user and per org (in memory here; test/rate-limits-redis for
 * the shared budget of several instances). Limits of this file: 5 per user, 8 per org.
 */
describe('write limits', () => {
  let t: TestApp;
  let w: OrgWorld;
  let projectId: string;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        WRITE_LIMIT_PER_USER: '5',
        WRITE_LIMIT_PER_ORG: '8',
        WRITE_LIMIT_WINDOW_SECONDS: '60',
      },
    });
    w = await createOrgWorld(t);
    // The fixture's own writes counted against the owner and the org: a fresh org per test.
  });
  afterAll(() => t?.close());

  const write = (user: SignedInUser, orgId: string, project: string, title = 'x') =>
    t
      .http()
      .post(api(`/orgs/${orgId}/projects/${project}/tasks`))
      .set(user.auth)
      .send({ title });

  it('says where a write stands in RateLimit-Policy and RateLimit, and refuses past the user budget with 429', async () => {
    projectId = await createProject(t, w.orgId, w.owner); // the owner's 2nd write (1st: the org)
    const first = await write(w.member, w.orgId, projectId);
    expectStatus(first, 201);
    expect(first.headers['ratelimit-policy']).toBe('"user";q=5;w=60, "org";q=8;w=60');
    expect(first.headers['ratelimit']).toMatch(/^"user";r=4;t=\d+, "org";r=\d;t=\d+$/);
    for (let i = 0; i < 4; i++) expectStatus(await write(w.member, w.orgId, projectId), 201);
    const refused = await write(w.member, w.orgId, projectId);
    expectProblem(refused, 429, 'rate-limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit']).toMatch(/^"user";r=0;t=\d+$/);
    // Reads are not limited.
    expectStatus(
      await t
        .http()
        .get(api(`/orgs/${w.orgId}/tasks`))
        .set(w.member.auth),
      200,
    );
  });

  it('shares one budget among an org’s members; outsiders cannot spend it', async () => {
    // The org has spent 1 (the project) + 5 (the member) = 6 of 8 (creating the org is no
    // write in it); the refused write spent nothing, nor do an outsider's 404s.
    for (let i = 0; i < 3; i++) {
      expectProblem(await write(w.outsider, w.orgId, projectId), 404);
    }
    expectStatus(await write(w.admin, w.orgId, projectId), 201);
    expectStatus(await write(w.owner, w.orgId, projectId), 201);
    const full = await write(w.admin, w.orgId, projectId);
    expectProblem(full, 429, 'rate-limited');
    expect(full.headers['ratelimit']).toMatch(/"org";r=0;t=\d+$/);
    // Another org's members are not affected, nor is the admin elsewhere.
    const otherProject = await createProject(t, w.otherOrgId, w.stranger);
    expectStatus(await write(w.stranger, w.otherOrgId, otherProject), 201);
  });
});
