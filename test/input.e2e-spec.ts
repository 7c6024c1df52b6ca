import { api, createTestApp, type TestApp } from './helpers/app';
import { createOrgWorld, type OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import {
  createProject,
  createTask,
  exportPath,
  orgTasksPath,
  projectPath,
  projectsPath,
  taskPath,
  tasksPath,
} from './helpers/work';

/** Issue 12, items 3, 14, 15 and 16: input that must be a 400, never a 500. */

const MAX_JSON_DEPTH = 32;
const nested = (depth: number, leaf = '1'): string => '['.repeat(depth) + leaf + ']'.repeat(depth);
const cursorOf = (keys: unknown[]): string =>
  Buffer.from(JSON.stringify(keys)).toString('base64url');
const SOME_ID = '3f1c7a2e-9b4d-4c8e-a1f2-0d9e8c7b6a50';

let t: TestApp;
let w: OrgWorld;
let projectId: string;
let taskId: string;

beforeAll(async () => {
  t = await createTestApp({
    env: { AUTH_THROTTLE_LIMIT: '10000', INVITE_THROTTLE_LIMIT: '10000' },
  });
  w = await createOrgWorld(t);
  projectId = await createProject(t, w.orgId, w.owner);
  taskId = (await createTask(t, w.orgId, projectId, w.owner)).id;
});

afterAll(async () => {
  await t?.close();
});

describe('deeply nested JSON (item 3)', () => {
  const deep = `{"name":${nested(100_000)}}`;

  it('is refused with 400 on a POST with Idempotency-Key, before the hash meets it', async () => {
    const res = await t
      .http()
      .post(projectsPath(w.orgId))
      .set(w.owner.auth)
      .set('idempotency-key', 'deep-1')
      .set('content-type', 'application/json')
      .send(deep);
    expectProblem(res, 400, 'json-too-deep');
  });

  it('is refused with 400 on a PATCH, and as a bare nested array', async () => {
    for (const body of [
      deep,
      nested(100_000),
      `{"a":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_001)}`,
    ]) {
      const res = await t
        .http()
        .patch(projectPath(w.orgId, projectId))
        .set(w.owner.auth)
        .set('content-type', 'application/json')
        .send(body);
      expectProblem(res, 400, 'json-too-deep');
    }
  });

  it(`accepts ${MAX_JSON_DEPTH} levels at the parser (then ordinary validation), refuses one more`, async () => {
    // The body object is level 1, so the value may nest MAX - 1 deep.
    const atLimit = await t
      .http()
      .post(projectsPath(w.orgId))
      .set(w.owner.auth)
      .set('idempotency-key', 'deep-2')
      .set('content-type', 'application/json')
      .send(`{"name":${nested(MAX_JSON_DEPTH - 1)},"description":"[{\\"x\\": 1}]"}`);
    expectProblem(atLimit, 400, 'validation-failed');
    expect(fieldsOf(atLimit)).toEqual(['name']);

    const over = await t
      .http()
      .post(projectsPath(w.orgId))
      .set(w.owner.auth)
      .set('content-type', 'application/json')
      .send(`{"name":${nested(MAX_JSON_DEPTH)}}`);
    expectProblem(over, 400, 'json-too-deep');
  });

  it('keeps brackets inside strings out of the count, and the prototype-poisoning guard', async () => {
    const brackets = await t
      .http()
      .post(projectsPath(w.orgId))
      .set(w.owner.auth)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ name: 'Brackets', description: '['.repeat(5000) + '\\"{' }));
    expectStatus(brackets, 201);
    expect(brackets.body.description).toBe('['.repeat(5000) + '\\"{');

    const poisoned = await t
      .http()
      .post(projectsPath(w.orgId))
      .set(w.owner.auth)
      .set('content-type', 'application/json')
      .send('{"name":"P","__proto__":{"admin":true}}');
    expectProblem(poisoned, 400);

    const malformed = await t
      .http()
      .post(projectsPath(w.orgId))
      .set(w.owner.auth)
      .set('content-type', 'application/json')
      .send('{"name": "x"');
    expectProblem(malformed, 400);
  });
});

describe('tampered cursors (item 14)', () => {
  const BAD_TIMESTAMPS = [
    '2026-13-01 00:00:00+00', // month 13
    '2026-01-01 00:00:00+99', // offset +99
    '2026-02-31 00:00:00+00', // 31 February
    '0000-01-01 00:00:00+00', // year 0
    '2026-01-01 25:00:00+00',
    '2026-01-01 12:61:00+00',
  ];
  const BAD_DATES = ['2026-13-01', '2026-02-31', '0000-01-01', '2025-02-29'];
  const BAD_PRIORITIES = ['99999', '4', '-1', '999999999999999999'];

  async function expectBadCursor(
    path: string,
    keys: unknown[],
    query: Record<string, string> = {},
  ) {
    const res = await t
      .http()
      .get(path)
      .query({ ...query, cursor: cursorOf(keys) })
      .set(w.owner.auth);
    expectProblem(res, 400);
    expect(fieldsOf(res)).toEqual(['cursor']);
  }

  it('refuses them on the lists keyed by (timestamp, id)', async () => {
    const paths = [
      api('/orgs'),
      projectsPath(w.orgId),
      api(`/orgs/${w.orgId}/members`),
      api(`/orgs/${w.orgId}/invites`),
    ];
    for (const path of paths) {
      for (const bad of BAD_TIMESTAMPS) await expectBadCursor(path, [bad, SOME_ID]);
      await expectBadCursor(path, ['2026-01-01 00:00:00+00', 'not-a-uuid']);
    }
  });

  it('refuses them on the audit log and the task activity (keyed by sequence)', async () => {
    const paths = [
      api(`/orgs/${w.orgId}/audit-log`),
      `${taskPath(w.orgId, projectId, taskId)}/activity`,
    ];
    for (const path of paths) {
      for (const bad of ['99999999999999999999', '-1', '1.5', '1e3', 12])
        await expectBadCursor(path, [bad]);
    }
  });

  it('refuses them on both task lists, for every sort key and order', async () => {
    for (const path of [tasksPath(w.orgId, projectId), orgTasksPath(w.orgId)]) {
      for (const order of ['asc', 'desc']) {
        const bad: Record<string, string[]> = {
          createdAt: BAD_TIMESTAMPS,
          updatedAt: BAD_TIMESTAMPS,
          dueDate: BAD_DATES,
          priority: BAD_PRIORITIES,
        };
        for (const [sort, values] of Object.entries(bad)) {
          for (const value of values)
            await expectBadCursor(path, [`${sort}:${order}`, value, SOME_ID], { sort, order });
        }
      }
    }
  });

  it('still follows the cursors the lists hand out, on every sort', async () => {
    await createTask(t, w.orgId, projectId, w.owner, { dueDate: '2024-02-29', priority: 'urgent' });
    for (const sort of ['createdAt', 'updatedAt', 'dueDate', 'priority']) {
      for (const order of ['asc', 'desc']) {
        const first = await t
          .http()
          .get(orgTasksPath(w.orgId))
          .query({ sort, order, limit: 1 })
          .set(w.owner.auth);
        expectStatus(first, 200);
        expect(first.body.nextCursor).toEqual(expect.any(String));
        const next = await t
          .http()
          .get(orgTasksPath(w.orgId))
          .query({ sort, order, limit: 1, cursor: first.body.nextCursor })
          .set(w.owner.auth);
        expectStatus(next, 200);
        expect(next.body.data).toHaveLength(1);
        expect(next.body.data[0].id).not.toBe(first.body.data[0].id);
      }
    }
    const audit = await t
      .http()
      .get(api(`/orgs/${w.orgId}/audit-log`))
      .query({ limit: 1 })
      .set(w.owner.auth);
    const page2 = await t
      .http()
      .get(api(`/orgs/${w.orgId}/audit-log`))
      .query({ limit: 1, cursor: audit.body.nextCursor })
      .set(w.owner.auth);
    expectStatus(page2, 200);
    const orgs = await t.http().get(api('/orgs')).query({ limit: 1 }).set(w.owner.auth);
    expectStatus(orgs, 200);
  });
});

describe('strict dates (item 15)', () => {
  const LENIENT = [
    'hello 5',
    '0.5',
    '-100000-01-01',
    '0000-01-01',
    '5',
    '2026-1-01',
    ' 2026-01-01',
    '+002026-01-01',
  ];
  const BAD_DATES = [
    ...LENIENT,
    '2026-02-31',
    '2025-02-29',
    '2026-13-01',
    '2026-01-01T00:00:00Z',
    '10000-01-01',
  ];
  const BAD_DATE_TIMES = [
    ...LENIENT,
    '2026-02-31T00:00:00Z',
    '2026-01-01', // a date is not an instant
    '2026-01-01T00:00:00', // no offset
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00+99:00',
    '0000-01-01T00:00:00Z',
    '2026-01-01 00:00:00Z',
  ];

  it('audit log since/until: strict ISO 8601 date-times only', async () => {
    for (const field of ['since', 'until']) {
      for (const bad of BAD_DATE_TIMES) {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/audit-log`))
          .query({ [field]: bad })
          .set(w.owner.auth);
        expectProblem(res, 400, 'validation-failed');
        expect(fieldsOf(res)).toEqual([field]);
      }
      for (const good of [
        '2026-01-01T00:00:00Z',
        '2024-02-29T23:59:59.123456+05:30',
        '2026-01-01T00:00:00-08:00',
      ]) {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/audit-log`))
          .query({ [field]: good })
          .set(w.owner.auth);
        expectStatus(res, 200);
      }
    }
    const since = await t
      .http()
      .get(api(`/orgs/${w.orgId}/audit-log`))
      .query({ since: '2000-01-01T00:00:00Z', until: '9999-12-31T23:59:59Z' })
      .set(w.owner.auth);
    expectStatus(since, 200);
    expect(since.body.data.length).toBeGreaterThan(0);
  });

  it('task lists and the export: dueBefore/dueAfter as real YYYY-MM-DD dates only', async () => {
    for (const path of [
      tasksPath(w.orgId, projectId),
      orgTasksPath(w.orgId),
      exportPath(w.orgId),
    ]) {
      for (const field of ['dueBefore', 'dueAfter']) {
        for (const bad of BAD_DATES) {
          const res = await t
            .http()
            .get(path)
            .query({ [field]: bad })
            .set(w.owner.auth);
          expectProblem(res, 400, 'validation-failed');
          expect(fieldsOf(res)).toEqual([field]);
        }
      }
    }
    const ok = await t
      .http()
      .get(orgTasksPath(w.orgId))
      .query({ dueAfter: '2024-02-29', dueBefore: '2024-02-29' })
      .set(w.owner.auth);
    expectStatus(ok, 200);
  });

  it('task bodies: dueDate as a real YYYY-MM-DD date only, on create and update', async () => {
    for (const bad of BAD_DATES) {
      const created = await t
        .http()
        .post(tasksPath(w.orgId, projectId))
        .set(w.owner.auth)
        .send({ title: 'Dated', dueDate: bad });
      expectProblem(created, 400, 'validation-failed');
      expect(fieldsOf(created)).toEqual(['dueDate']);
      const updated = await t
        .http()
        .patch(taskPath(w.orgId, projectId, taskId))
        .set(w.owner.auth)
        .send({ dueDate: bad });
      expectProblem(updated, 400, 'validation-failed');
      expect(fieldsOf(updated)).toEqual(['dueDate']);
    }
    const ok = await t
      .http()
      .patch(taskPath(w.orgId, projectId, taskId))
      .set(w.owner.auth)
      .send({ dueDate: '2028-02-29' });
    expectStatus(ok, 200);
    expect(ok.body.dueDate).toBe('2028-02-29');
  });
});

describe('bodies that are not JSON objects (item 16)', () => {
  const NOT_OBJECTS = ['null', '[]', '[{"name":"x"}]', '"name"', '1', 'true'];

  it('are refused with 400 on every POST and PATCH route that takes a body', async () => {
    const routes: Array<[string, string]> = [
      ['post', api('/auth/register')],
      ['post', api('/auth/login')],
      ['post', api('/auth/refresh')],
      ['post', api('/auth/logout')],
      ['patch', api('/me')],
      ['post', api('/me/password')],
      ['post', api('/orgs')],
      ['patch', api(`/orgs/${w.orgId}`)],
      ['patch', api(`/orgs/${w.orgId}/members/${w.member.id}`)],
      ['post', api(`/orgs/${w.orgId}/invites`)],
      ['post', api('/invites/accept')],
      ['post', projectsPath(w.orgId)],
      ['patch', projectPath(w.orgId, projectId)],
      ['post', tasksPath(w.orgId, projectId)],
      ['patch', taskPath(w.orgId, projectId, taskId)],
    ];
    for (const [method, path] of routes) {
      for (const body of NOT_OBJECTS) {
        const req = method === 'post' ? t.http().post(path) : t.http().patch(path);
        const res = await req.set(w.owner.auth).set('content-type', 'application/json').send(body);
        expect({ method, path, body, status: res.status }).toMatchObject({ status: 400 });
        expectProblem(res, 400, 'validation-failed');
        expect(fieldsOf(res)).toEqual(['body']);
      }
    }
    const role = await t
      .http()
      .get(api(`/orgs/${w.orgId}/members`))
      .query({ limit: 100 })
      .set(w.owner.auth);
    expect(role.body.data.find((m: { userId: string }) => m.userId === w.member.id)?.role).toBe(
      'member',
    );
  });
});
