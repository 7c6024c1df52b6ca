import { createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';

/** `null` for a field that has no empty value is a 400 naming it — never a 500, never a write. */
describe('null sent for a field that cannot be empty', () => {
  let t: TestApp;
  let w: OrgWorld;
  let projectPath: string;
  let taskPath: string;

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    const project = await t
      .http()
      .post(`/api/v1/orgs/${w.orgId}/projects`)
      .set(w.owner.auth)
      .send({ name: 'P' });
    projectPath = `/api/v1/orgs/${w.orgId}/projects/${project.body.id}`;
    const task = await t.http().post(`${projectPath}/tasks`).set(w.owner.auth).send({ title: 'T' });
    taskPath = `${projectPath}/tasks/${task.body.id}`;
  });
  afterAll(() => t.close());

  const cases: Array<[string, 'patch' | 'post', () => string, Record<string, unknown>, string]> = [
    ['PATCH task title', 'patch', () => taskPath, { title: null }, 'title'],
    ['PATCH task status', 'patch', () => taskPath, { status: null }, 'status'],
    ['PATCH task priority', 'patch', () => taskPath, { priority: null }, 'priority'],
    [
      'POST task status',
      'post',
      () => `${projectPath}/tasks`,
      { title: 'x', status: null },
      'status',
    ],
    ['PATCH project name', 'patch', () => projectPath, { name: null }, 'name'],
    ['PATCH project archived', 'patch', () => projectPath, { archived: null }, 'archived'],
    ['PATCH /me name', 'patch', () => '/api/v1/me', { name: null }, 'name'],
    [
      'POST link invite maxUses',
      'post',
      () => `/api/v1/orgs/${w.orgId}/invites`,
      { role: 'member', maxUses: null },
      'maxUses',
    ],
  ];

  it.each(cases)('%s: null → 400 naming the field', async (_label, method, path, body, field) => {
    const res = await t.http()[method](path()).set(w.owner.auth).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('still clears the fields that may be empty: description, assigneeId, dueDate', async () => {
    const res = await t
      .http()
      .patch(taskPath)
      .set(w.owner.auth)
      .send({ description: null, assigneeId: null, dueDate: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      description: null,
      assigneeId: null,
      dueDate: null,
      title: 'T',
    });
  });
});
