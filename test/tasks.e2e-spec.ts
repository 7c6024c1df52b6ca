import type { Response } from 'supertest';
import { api, createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import {
  countRows,
  createProject,
  createTask,
  CSV_COLUMNS,
  exportPath,
  orgTasksPath,
  statsPath,
  taskPath,
  tasksPath,
  TaskView,
} from './helpers/work';

const CSV_HEADER = CSV_COLUMNS.join(',');

interface ActivityEntry {
  id: string;
  actorId: string | null;
  action: string;
  metadata: Record<string, any>;
  createdAt: string;
}

const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id).sort();

describe('tasks: /orgs/:orgId/projects/:projectId/tasks, /orgs/:orgId/tasks, stats, export', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  async function getTask(
    orgId: string,
    projectId: string,
    taskId: string,
    by: SignedInUser,
  ): Promise<Response> {
    return t
      .http()
      .get(taskPath(orgId, projectId, taskId))
      .set(by.auth);
  }

  /** The task as the table owner sees it (RLS bypassed): the ground truth. */
  async function taskInDb(taskId: string) {
    const rows: Array<{
      title: string;
      status: string;
      assignee_id: string | null;
      version: number;
    }> = await t.dataSource.query(
      `SELECT title, status, assignee_id, version FROM tasks WHERE id = $1`,
      [taskId],
    );
    return rows[0];
  }

  async function activityOf(orgId: string, projectId: string, taskId: string, by: SignedInUser) {
    const res = await t
      .http()
      .get(`${taskPath(orgId, projectId, taskId)}/activity`)
      .query({ limit: 100 })
      .set(by.auth);
    expectStatus(res, 200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.data as ActivityEntry[];
  }

  /** A world with one project (`projectId`) made by the owner. */
  async function projectWorld(): Promise<OrgWorld & { projectId: string }> {
    const world = await createOrgWorld(t);
    return { ...world, projectId: await createProject(t, world.orgId, world.owner) };
  }

  /**
   * Who may call each route is the permission matrix's (test/permissions/matrix.ts); here,
   * what an allowed call does.
   */
  describe('what an allowed call does', () => {
    it('POST creates the task, made by the caller', async () => {
      const world = await projectWorld();
      const res = await t
        .http()
        .post(tasksPath(world.orgId, world.projectId))
        .set(world.member.auth)
        .send({ title: 'by member' });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.any(String),
        orgId: world.orgId,
        projectId: world.projectId,
        title: 'by member',
        description: null,
        status: 'todo',
        priority: 'medium',
        assigneeId: null,
        dueDate: null,
        createdBy: world.member.id,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        completedAt: null,
        version: expect.any(Number),
        rank: expect.stringMatching(/^[0-9A-Za-z]{1,48}$/),
      });
      expect(await countRows(t, `tasks WHERE project_id = $1`, [world.projectId])).toBe(1);
    });

    describe('reads', () => {
      let world: OrgWorld & { projectId: string };
      let all: TaskView[];

      beforeAll(async () => {
        world = await projectWorld();
        all = [
          await createTask(t, world.orgId, world.projectId, world.owner, { title: 'one' }),
          await createTask(t, world.orgId, world.projectId, world.member, {
            title: 'two',
            assigneeId: world.admin.id,
          }),
          await createTask(t, world.orgId, world.projectId, world.admin, { title: 'three' }),
        ];
      });

      it.each([
        [
          'GET /orgs/:orgId/projects/:projectId/tasks',
          () => tasksPath(world.orgId, world.projectId),
        ],
        ['GET /orgs/:orgId/tasks', () => orgTasksPath(world.orgId)],
      ])('%s lists every task', async (_label, path) => {
        const res = await t.http().get(path()).query({ limit: 100 }).set(world.viewer.auth);
        expectStatus(res, 200);
        expect(ids(res.body.data)).toEqual(ids(all));
      });

      it('GET /orgs/:orgId/stats counts the tasks', async () => {
        const res = await t.http().get(statsPath(world.orgId)).set(world.viewer.auth);
        expectStatus(res, 200);
        expect(res.body).toMatchObject({
          total: all.length,
          byStatus: { todo: all.length, in_progress: 0, done: 0, blocked: 0 },
          completed: 0,
          pending: all.length,
          overdue: 0,
        });
      });

      it('GET /orgs/:orgId/tasks/export.csv exports every task', async () => {
        const res = await t.http().get(exportPath(world.orgId)).set(world.admin.auth);
        expectStatus(res, 200);
        expect(res.headers['content-type']).toMatch(/^text\/csv/);
        const lines = res.text.split('\r\n').filter(Boolean);
        expect(lines[0]).toBe(CSV_HEADER);
        expect(
          lines
            .slice(1)
            .map((l) => l.split(',')[0])
            .sort(),
        ).toEqual(ids(all));
      });

      it('GET .../tasks/:taskId reads the task, its version as ETag', async () => {
        const task = all[0]!;
        const res = await getTask(world.orgId, world.projectId, task.id, world.viewer);
        expectStatus(res, 200);
        expect(res.body).toEqual(task);
        expect(res.headers['etag']).toBe(`"${task.version}"`);
      });

      it('GET .../tasks/:taskId/activity lists what happened to it', async () => {
        const task = all[0]!;
        const res = await t
          .http()
          .get(`${taskPath(world.orgId, world.projectId, task.id)}/activity`)
          .set(world.viewer.auth);
        expectStatus(res, 200);
        expect(res.body.nextCursor).toBeNull();
        expect(res.body.data.map((e: ActivityEntry) => e.action)).toEqual(['task.created']);
      });
    });

    it('PATCH .../tasks/:taskId changes the task and bumps its version', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.admin, {
        assigneeId: world.admin.id,
      });
      const res = await t
        .http()
        .patch(taskPath(world.orgId, world.projectId, task.id))
        .set(world.owner.auth)
        .send({ title: 'renamed', priority: 'high' });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({
        id: task.id,
        title: 'renamed',
        priority: 'high',
        version: task.version + 1,
      });
      const after = await getTask(world.orgId, world.projectId, task.id, world.owner);
      expectStatus(after, 200);
      expect(after.body).toEqual(res.body);
    });

    it('DELETE .../tasks/:taskId removes the task', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.member);
      const res = await t
        .http()
        .delete(taskPath(world.orgId, world.projectId, task.id))
        .set(world.member.auth);
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expectProblem(await getTask(world.orgId, world.projectId, task.id, world.owner), 404);
      expect(await taskInDb(task.id)).toBeUndefined();
    });
  });

  describe('a member assigned to a task they did not create', () => {
    it('lets a member who is assigned but did not create a task update it but not delete it', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.admin, {
        assigneeId: world.member.id,
      });
      const patched = await t
        .http()
        .patch(taskPath(world.orgId, world.projectId, task.id))
        .set(world.member.auth)
        .send({ status: 'in_progress' });
      expectStatus(patched, 200);
      const deleted = await t
        .http()
        .delete(taskPath(world.orgId, world.projectId, task.id))
        .set(world.member.auth);
      expectProblem(deleted, 403);
      expectStatus(await getTask(world.orgId, world.projectId, task.id, world.owner), 200);
    });
  });

  describe('validation', () => {
    let world: OrgWorld & { projectId: string };

    beforeAll(async () => {
      world = await projectWorld();
    });

    it.each([
      ['an empty title', { title: '' }, 'title'],
      ['a 201-character title', { title: 't'.repeat(201) }, 'title'],
      ['an unknown status', { title: 'ok', status: 'started' }, 'status'],
      ['an unknown priority', { title: 'ok', priority: 'critical' }, 'priority'],
      ['a malformed dueDate', { title: 'ok', dueDate: '31/12/2026' }, 'dueDate'],
      ['a malformed assigneeId', { title: 'ok', assigneeId: 'bob' }, 'assigneeId'],
      ['an unknown field', { title: 'ok', version: 7 }, 'version'],
    ])('POST rejects %s with 400 naming the field', async (_label, body, field) => {
      const res = await t
        .http()
        .post(tasksPath(world.orgId, world.projectId))
        .set(world.owner.auth)
        .send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual([field]);
    });

    describe('assignee', () => {
      const notAssignable: Array<[string, (w: OrgWorld) => string]> = [
        ['a viewer of the org', (w) => w.viewer.id],
        ['a user who is a member of no org', (w) => w.outsider.id],
        ['a user of another org (the stranger)', (w) => w.stranger.id],
        ['an id that is no user at all', () => '00000000-0000-4000-8000-000000000000'],
      ];

      it.each(notAssignable)(
        'POST answers 400 on assigneeId for %s, and creates nothing',
        async (_label, idOf) => {
          const w = await projectWorld();
          const res = await t
            .http()
            .post(tasksPath(w.orgId, w.projectId))
            .set(w.owner.auth)
            .send({ title: 'assign me', assigneeId: idOf(w) });
          expectProblem(res, 400);
          expect(res.body.errors).toEqual([expect.objectContaining({ field: 'assigneeId' })]);
          const list = await t.http().get(tasksPath(w.orgId, w.projectId)).set(w.owner.auth);
          expect(list.body.data).toEqual([]);
        },
      );

      it.each(notAssignable)(
        'PATCH answers 400 on assigneeId for %s, and changes nothing',
        async (_label, idOf) => {
          const w = await projectWorld();
          const task = await createTask(t, w.orgId, w.projectId, w.owner, {
            assigneeId: w.member.id,
          });
          const res = await t
            .http()
            .patch(taskPath(w.orgId, w.projectId, task.id))
            .set(w.owner.auth)
            .send({ assigneeId: idOf(w), title: 'changed too' });
          expectProblem(res, 400);
          expect(res.body.errors).toEqual([expect.objectContaining({ field: 'assigneeId' })]);
          const after = await getTask(w.orgId, w.projectId, task.id, w.owner);
          expect(after.body).toEqual(task);
        },
      );

      it('accepts the owner, an admin and a member as assignee, and null to unassign', async () => {
        const w = await projectWorld();
        for (const user of [w.owner, w.admin, w.member]) {
          const task = await createTask(t, w.orgId, w.projectId, w.admin, { assigneeId: user.id });
          expect(task.assigneeId).toBe(user.id);
          const res = await t
            .http()
            .patch(taskPath(w.orgId, w.projectId, task.id))
            .set(w.admin.auth)
            .send({ assigneeId: null });
          expectStatus(res, 200);
          expect(res.body.assigneeId).toBeNull();
        }
      });
    });
  });

  describe('completedAt', () => {
    it('is set when the status becomes done and cleared when it leaves done', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.member);
      expect(task.completedAt).toBeNull();
      const path = taskPath(world.orgId, world.projectId, task.id);

      const progress = await t
        .http()
        .patch(path)
        .set(world.member.auth)
        .send({ status: 'in_progress' });
      expectStatus(progress, 200);
      expect(progress.body.completedAt).toBeNull();

      const done = await t.http().patch(path).set(world.member.auth).send({ status: 'done' });
      expectStatus(done, 200);
      expect(done.body.status).toBe('done');
      expect(typeof done.body.completedAt).toBe('string');
      expect(Number.isNaN(Date.parse(done.body.completedAt))).toBe(false);

      // Other edits leave it alone while the task stays done.
      const retitled = await t
        .http()
        .patch(path)
        .set(world.member.auth)
        .send({ title: 'still done' });
      expectStatus(retitled, 200);
      expect(retitled.body.completedAt).toBe(done.body.completedAt);

      const reopened = await t
        .http()
        .patch(path)
        .set(world.member.auth)
        .send({ status: 'blocked' });
      expectStatus(reopened, 200);
      expect(reopened.body.completedAt).toBeNull();
      expect(
        (await getTask(world.orgId, world.projectId, task.id, world.viewer)).body.completedAt,
      ).toBeNull();
    });

    it('is set on a task created as done', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.owner, {
        status: 'done',
      });
      expect(typeof task.completedAt).toBe('string');
    });
  });

  describe('versions and ETags', () => {
    it('answers ETag "<version>" on POST, GET and PATCH, and increments the version on every change', async () => {
      const world = await projectWorld();
      const created = await t
        .http()
        .post(tasksPath(world.orgId, world.projectId))
        .set(world.owner.auth)
        .send({ title: 'v' });
      expectStatus(created, 201);
      const v0 = created.body.version as number;
      expect(Number.isInteger(v0)).toBe(true);
      expect(created.headers['etag']).toBe(`"${v0}"`);
      const path = taskPath(world.orgId, world.projectId, created.body.id);

      const read = await t.http().get(path).set(world.viewer.auth);
      expectStatus(read, 200);
      expect(read.headers['etag']).toBe(`"${v0}"`);

      const changes = [
        { title: 'v2' },
        { status: 'done' },
        { assigneeId: world.member.id },
        { dueDate: '2030-01-02' },
      ];
      for (const [i, change] of changes.entries()) {
        const res = await t.http().patch(path).set(world.owner.auth).send(change);
        expectStatus(res, 200);
        expect(res.body.version).toBe(v0 + i + 1);
        expect(res.headers['etag']).toBe(`"${v0 + i + 1}"`);
      }
      const last = await t.http().get(path).set(world.owner.auth);
      expect(last.headers['etag']).toBe(`"${v0 + changes.length}"`);
      expect(last.body).toMatchObject({
        title: 'v2',
        status: 'done',
        assigneeId: world.member.id,
        dueDate: '2030-01-02',
        version: v0 + changes.length,
      });

      // dueDate: null clears it.
      const cleared = await t.http().patch(path).set(world.owner.auth).send({ dueDate: null });
      expectStatus(cleared, 200);
      expect(cleared.body.dueDate).toBeNull();
    });

    it('answers 412 to a stale If-Match and changes nothing; a matching If-Match succeeds', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.member, {
        title: 'original',
      });
      const path = taskPath(world.orgId, world.projectId, task.id);
      const first = await t
        .http()
        .patch(path)
        .set(world.member.auth)
        .set('If-Match', `"${task.version}"`)
        .send({ title: 'first' });
      expectStatus(first, 200);
      expect(first.body.version).toBe(task.version + 1);

      // Another writer still holds the first version.
      const stale = await t
        .http()
        .patch(path)
        .set(world.admin.auth)
        .set('If-Match', `"${task.version}"`)
        .send({ title: 'second', status: 'done' });
      expectProblem(stale, 412);
      const after = await getTask(world.orgId, world.projectId, task.id, world.owner);
      expect(after.body).toEqual(first.body);
      expect(after.headers['etag']).toBe(`"${first.body.version}"`);

      const fresh = await t
        .http()
        .patch(path)
        .set(world.admin.auth)
        .set('If-Match', after.headers['etag']!)
        .send({ title: 'second' });
      expectStatus(fresh, 200);
      expect(fresh.body).toMatchObject({ title: 'second', version: first.body.version + 1 });
    });
  });

  describe('removing a member from the org', () => {
    it('unassigns their tasks, each with a task.assigned entry whose after.assigneeId is null', async () => {
      const world = await projectWorld();
      const other = await createProject(t, world.orgId, world.owner);
      const theirs = [
        await createTask(t, world.orgId, world.projectId, world.owner, {
          title: 'm1',
          assigneeId: world.member.id,
        }),
        await createTask(t, world.orgId, other, world.admin, {
          title: 'm2',
          assigneeId: world.member.id,
        }),
      ];
      const admins = await createTask(t, world.orgId, world.projectId, world.owner, {
        title: 'a1',
        assigneeId: world.admin.id,
      });

      const removed = await t
        .http()
        .delete(api(`/orgs/${world.orgId}/members/${world.member.id}`))
        .set(world.owner.auth);
      expectStatus(removed, 204);

      for (const task of theirs) {
        const res = await getTask(world.orgId, task.projectId, task.id, world.owner);
        expectStatus(res, 200);
        expect(res.body.assigneeId).toBeNull();
        expect(res.body.version).toBeGreaterThan(task.version);
        const activity = await activityOf(world.orgId, task.projectId, task.id, world.owner);
        expect(activity[0]).toMatchObject({
          action: 'task.assigned',
          metadata: { before: { assigneeId: world.member.id }, after: { assigneeId: null } },
        });
        expect(activity.filter((e) => e.action === 'task.assigned')).toHaveLength(1);
      }

      // Someone else's task is untouched.
      const untouched = await getTask(world.orgId, world.projectId, admins.id, world.owner);
      expect(untouched.body).toEqual(admins);
      const mine = await t
        .http()
        .get(orgTasksPath(world.orgId))
        .query({ assigneeId: world.member.id })
        .set(world.owner.auth);
      expectStatus(mine, 200);
      expect(mine.body.data).toEqual([]);
    });
  });

  describe('activity', () => {
    it('lists task.created, task.updated, task.status_changed and task.assigned with before/after, newest first', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.member, {
        title: 'Plan',
        priority: 'low',
      });
      const path = taskPath(world.orgId, world.projectId, task.id);
      expectStatus(
        await t
          .http()
          .patch(path)
          .set(world.member.auth)
          .send({ title: 'Plan v2', priority: 'high' }),
        200,
      );
      expectStatus(
        await t.http().patch(path).set(world.admin.auth).send({ status: 'in_progress' }),
        200,
      );
      expectStatus(
        await t.http().patch(path).set(world.owner.auth).send({ assigneeId: world.admin.id }),
        200,
      );

      const activity = await activityOf(world.orgId, world.projectId, task.id, world.viewer);
      expect(activity.map((e) => e.action)).toEqual([
        'task.assigned',
        'task.status_changed',
        'task.updated',
        'task.created',
      ]);
      const [assigned, statusChanged, updated, created] = activity;
      for (const entry of activity) {
        expect(entry).toEqual({
          id: expect.any(String),
          actorId: expect.any(String),
          action: expect.any(String),
          metadata: expect.any(Object),
          createdAt: expect.any(String),
        });
      }
      expect(created!.actorId).toBe(world.member.id);
      expect(updated!).toMatchObject({
        actorId: world.member.id,
        metadata: {
          before: { title: 'Plan', priority: 'low' },
          after: { title: 'Plan v2', priority: 'high' },
        },
      });
      expect(Object.keys(updated!.metadata.before).sort()).toEqual(['priority', 'title']);
      expect(statusChanged!).toMatchObject({
        actorId: world.admin.id,
        metadata: { before: { status: 'todo' }, after: { status: 'in_progress' } },
      });
      expect(assigned!).toMatchObject({
        actorId: world.owner.id,
        metadata: { before: { assigneeId: null }, after: { assigneeId: world.admin.id } },
      });

      // The same entries are in the org's audit log, as task targets.
      const audit = await t
        .http()
        .get(api(`/orgs/${world.orgId}/audit-log`))
        .query({ targetType: 'task', targetId: task.id, limit: 100 })
        .set(world.owner.auth);
      expectStatus(audit, 200);
      expect(audit.body.data.map((e: { id: string }) => e.id)).toEqual(activity.map((e) => e.id));
    });

    it('records task.deleted in the audit log', async () => {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.member);
      expectStatus(
        await t
          .http()
          .delete(taskPath(world.orgId, world.projectId, task.id))
          .set(world.member.auth),
        204,
      );
      const audit = await t
        .http()
        .get(api(`/orgs/${world.orgId}/audit-log`))
        .query({ targetType: 'task', targetId: task.id })
        .set(world.owner.auth);
      expectStatus(audit, 200);
      expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
        'task.deleted',
        'task.created',
      ]);
      expect(audit.body.data[0].actorId).toBe(world.member.id);
    });
  });

  describe('cross-tenant', () => {
    /** Org A with a project, a task in it, and a second project; org B (the stranger's) with its own. */
    async function twoTenants() {
      const world = await projectWorld();
      const task = await createTask(t, world.orgId, world.projectId, world.member, {
        title: 'A secret task',
        assigneeId: world.member.id,
      });
      const otherProjectId = await createProject(t, world.orgId, world.owner);
      const otherTask = await createTask(t, world.orgId, otherProjectId, world.owner, {
        title: 'A second secret',
      });
      const bProjectId = await createProject(t, world.otherOrgId, world.stranger);
      const bTask = await createTask(t, world.otherOrgId, bProjectId, world.stranger, {
        title: 'B task',
      });
      return { ...world, task, otherProjectId, otherTask, bProjectId, bTask };
    }

    it('answers the stranger 404 with every id of org A, on every endpoint, and changes nothing', async () => {
      const w = await twoTenants();
      const s = w.stranger.auth;
      const A = w.orgId;
      const B = w.otherOrgId;
      const responses: Array<[string, Response]> = [];
      const probe = async (label: string, req: Promise<Response>) =>
        responses.push([label, await req]);
      for (const org of [A, B]) {
        await probe(
          `${org} POST tasks`,
          t.http().post(tasksPath(org, w.projectId)).set(s).send({ title: 'x' }),
        );
        await probe(`${org} GET tasks`, t.http().get(tasksPath(org, w.projectId)).set(s));
        // Org A's task id under its own project, then under the stranger's own project.
        for (const [via, projectId] of [
          ['', w.projectId],
          [' via B project', w.bProjectId],
        ] as const) {
          const path = taskPath(org, projectId, w.task.id);
          await probe(`${org} GET task${via}`, t.http().get(path).set(s));
          await probe(
            `${org} PATCH task${via}`,
            t.http().patch(path).set(s).send({ title: 'pwned' }),
          );
          await probe(`${org} DELETE task${via}`, t.http().delete(path).set(s));
          await probe(`${org} GET activity${via}`, t.http().get(`${path}/activity`).set(s));
        }
      }
      await probe('A GET org tasks', t.http().get(orgTasksPath(A)).set(s));
      await probe('A GET stats', t.http().get(statsPath(A)).set(s));
      await probe('A GET export', t.http().get(exportPath(A)).set(s));

      for (const [label, res] of responses) {
        expect({ label, status: res.status }).toEqual({ label, status: 404 });
        expect(res.text).not.toContain('secret');
      }
      const after = await getTask(A, w.projectId, w.task.id, w.owner);
      expect(after.body).toEqual(w.task);
    });

    it('answers an org A member 404 for a taskId of another project of the same org', async () => {
      const w = await twoTenants();
      const path = taskPath(w.orgId, w.projectId, w.otherTask.id);
      // The member created w.task, not w.otherTask; use the owner too, who could touch anything.
      for (const user of [w.member, w.owner]) {
        expectProblem(await t.http().get(path).set(user.auth), 404);
        expectProblem(await t.http().patch(path).set(user.auth).send({ title: 'moved?' }), 404);
        expectProblem(await t.http().delete(path).set(user.auth), 404);
        expectProblem(await t.http().get(`${path}/activity`).set(user.auth), 404);
      }
      const after = await getTask(w.orgId, w.otherProjectId, w.otherTask.id, w.owner);
      expect(after.body).toEqual(w.otherTask);
    });

    it('answers 200 with no rows to a projectId filter naming org B’s project', async () => {
      const w = await twoTenants();
      const list = await t
        .http()
        .get(orgTasksPath(w.orgId))
        .query({ projectId: w.bProjectId })
        .set(w.owner.auth);
      expectStatus(list, 200);
      expect(list.body).toEqual({ data: [], nextCursor: null });

      const csv = await t
        .http()
        .get(exportPath(w.orgId))
        .query({ projectId: w.bProjectId })
        .set(w.owner.auth);
      expectStatus(csv, 200);
      expect(csv.text.split('\r\n').filter(Boolean)).toEqual([CSV_HEADER]);

      const stats = await t
        .http()
        .get(statsPath(w.orgId))
        .query({ projectId: w.bProjectId })
        .set(w.owner.auth);
      expect([200, 404]).toContain(stats.status);
      if (stats.status === 200) expect(stats.body).toMatchObject({ total: 0, byAssignee: [] });
    });

    it('answers 400 to a PATCH assigning an org B user, and changes nothing', async () => {
      const w = await twoTenants();
      const res = await t
        .http()
        .patch(taskPath(w.orgId, w.projectId, w.task.id))
        .set(w.owner.auth)
        .send({ assigneeId: w.stranger.id });
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(['assigneeId']);
      expect((await getTask(w.orgId, w.projectId, w.task.id, w.owner)).body).toEqual(w.task);
    });

    it('never shows an org A task to the stranger in their own org’s lists, stats or export', async () => {
      const w = await twoTenants();
      const s = w.stranger.auth;
      const aIds = [w.task.id, w.otherTask.id];

      const queries: Array<Record<string, string>> = [
        {},
        { assigneeId: w.member.id },
        { assigneeId: 'me' },
        { projectId: w.projectId },
        { q: 'secret' },
        { status: 'todo,in_progress,done,blocked' },
      ];
      for (const query of queries) {
        const list = await t
          .http()
          .get(orgTasksPath(w.otherOrgId))
          .query({ limit: 100, ...query })
          .set(s);
        expectStatus(list, 200);
        for (const id of aIds) expect(ids(list.body.data)).not.toContain(id);
        const csv = await t.http().get(exportPath(w.otherOrgId)).query(query).set(s);
        expectStatus(csv, 200);
        for (const id of aIds) expect(csv.text).not.toContain(id);
        expect(csv.text).not.toContain('secret');
      }
      const all = await t.http().get(orgTasksPath(w.otherOrgId)).query({ limit: 100 }).set(s);
      expect(ids(all.body.data)).toEqual([w.bTask.id]);
      const projectList = await t.http().get(tasksPath(w.otherOrgId, w.bProjectId)).set(s);
      expect(ids(projectList.body.data)).toEqual([w.bTask.id]);

      const stats = await t.http().get(statsPath(w.otherOrgId)).set(s);
      expectStatus(stats, 200);
      expect(stats.body).toEqual({
        total: 1,
        byStatus: { todo: 1, in_progress: 0, done: 0, blocked: 0 },
        completed: 0,
        pending: 1,
        overdue: 0,
        byAssignee: [{ assigneeId: null, count: 1 }],
      });
      const scoped = await t
        .http()
        .get(statsPath(w.otherOrgId))
        .query({ projectId: w.projectId })
        .set(s);
      expect([200, 404]).toContain(scoped.status);
      if (scoped.status === 200) expect(scoped.body.total).toBe(0);
    });
  });
});
