import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_ORG, DEMO_PEOPLE, seedDemo } from '../src/cli/seed';
import { api, createTestApp, listenOnLoopback, TestApp } from './helpers/app';

describe('npm run seed: the demo org', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp();
    ({ base } = await listenOnLoopback(t));
  });
  afterAll(() => t.close());

  const signIn = async (role: keyof typeof DEMO_PEOPLE) => {
    const { email, password } = DEMO_PEOPLE[role];
    const res = await t.http().post(api('/auth/login')).send({ email, password });
    expect(res.status).toBe(200);
    return { authorization: `Bearer ${res.body.accessToken}` };
  };

  it('makes an org with one member per role, projects, tasks of every kind, an invite and history', async () => {
    // test/readme.e2e-spec.ts seeds the same run database: whichever file runs first creates.
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM organizations WHERE name = $1`,
      [DEMO_ORG],
    );
    expect(await seedDemo(base)).toBe(n === 0 ? 'created' : 'existed');

    const owner = await signIn('owner');
    const orgs = await t.http().get(api('/orgs')).set(owner);
    const org = orgs.body.data.find((o: { name: string }) => o.name === DEMO_ORG);
    expect(org).toBeDefined();

    const members = await t
      .http()
      .get(api(`/orgs/${org.id}/members`))
      .set(owner);
    expect(
      members.body.data.map((m: { email: string; role: string }) => [m.email, m.role]).sort(),
    ).toEqual(
      Object.entries(DEMO_PEOPLE)
        .map(([role, person]) => [person.email, role])
        .sort(),
    );

    const tasks = [];
    let cursor: string | null = null;
    type Page = {
      status: number;
      body: { data: Array<Record<string, string>>; nextCursor: string | null };
    };
    do {
      const page: Page = await t
        .http()
        .get(api(`/orgs/${org.id}/tasks`))
        .query({ limit: 100, ...(cursor ? { cursor } : {}) })
        .set(owner);
      expect(page.status).toBe(200);
      tasks.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(tasks.length).toBeGreaterThanOrEqual(30);
    expect(new Set(tasks.map((task) => task.projectId)).size).toBe(2);
    expect(new Set(tasks.map((task) => task.status))).toEqual(
      new Set(['todo', 'in_progress', 'done', 'blocked']),
    );
    expect(new Set(tasks.map((task) => task.priority))).toEqual(
      new Set(['low', 'medium', 'high', 'urgent']),
    );
    expect(new Set(tasks.map((task) => task.assigneeId)).size).toBeGreaterThanOrEqual(4);
    const overdue = await t
      .http()
      .get(api(`/orgs/${org.id}/tasks`))
      .query({ overdue: true, limit: 100 })
      .set(owner);
    expect(overdue.body.data.length).toBeGreaterThan(0);

    const invites = await t
      .http()
      .get(api(`/orgs/${org.id}/invites`))
      .set(owner);
    expect(invites.body.data.length).toBeGreaterThanOrEqual(1);

    const audit = await t
      .http()
      .get(api(`/orgs/${org.id}/audit-log`))
      .query({ limit: 100 })
      .set(owner);
    const actions = new Set(audit.body.data.map((e: { action: string }) => e.action));
    for (const action of [
      'org.renamed',
      'member.role_changed',
      'task.created',
      'task.status_changed',
    ]) {
      expect(actions).toContain(action);
    }
  });

  it('a second run changes nothing and says so', async () => {
    const owner = await signIn('owner');
    const before = await t.http().get(api('/orgs')).set(owner);
    expect(await seedDemo(base)).toBe('existed');
    const after = await t.http().get(api('/orgs')).set(owner);
    expect(after.body).toEqual(before.body);
  });

  it('refuses to run when NODE_ENV=production', () => {
    const run = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '../src/cli/seed.ts')],
      { env: { ...process.env, NODE_ENV: 'production', SEED_API_URL: base }, encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/not in production/);
  });
});
