import { api, createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import {
  countRows,
  createTask,
  postProject,
  projectPath,
  projectsPath,
  ProjectView,
} from './helpers/work';

describe('projects: /orgs/:orgId/projects', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** Every project of the list as `by` sees it (one page of 100). */
  async function listProjects(orgId: string, by: SignedInUser, query: Record<string, string> = {}) {
    const res = await t
      .http()
      .get(projectsPath(orgId))
      .query({ limit: 100, ...query })
      .set(by.auth);
    expectStatus(res, 200);
    expect(res.body.nextCursor).toBeNull();
    return res.body.data as ProjectView[];
  }

  /** The project as the table owner sees it (RLS bypassed): the ground truth. */
  async function projectInDb(projectId: string) {
    const rows: Array<{ name: string; description: string | null; archived: boolean }> =
      await t.dataSource.query(`SELECT name, description, archived FROM projects WHERE id = $1`, [
        projectId,
      ]);
    return rows[0];
  }

  /**
   * Who may call each route is the permission matrix's (test/permissions/matrix.ts); here,
   * what an allowed call does.
   */
  describe('what an allowed call does', () => {
    it('POST creates the project, made by the caller', async () => {
      const world = await createOrgWorld(t);
      const name = 'Made by the owner';
      const res = await t
        .http()
        .post(projectsPath(world.orgId))
        .set(world.owner.auth)
        .send({ name });
      expectStatus(res, 201);
      expect(res.body).toEqual({
        id: expect.any(String),
        orgId: world.orgId,
        name,
        description: null,
        archived: false,
        createdBy: world.owner.id,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const names = (await listProjects(world.orgId, world.owner)).map((p) => p.name);
      expect(names).toEqual([name]);
    });

    it('GET lists the projects, and reads one', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner, {
        name: 'Readable',
        description: 'about it',
      });
      const list = await t.http().get(projectsPath(world.orgId)).set(world.viewer.auth);
      expectStatus(list, 200);
      expect(list.body).toEqual({ data: [project], nextCursor: null });
      const one = await t.http().get(projectPath(world.orgId, project.id)).set(world.viewer.auth);
      expectStatus(one, 200);
      expect(one.body).toEqual(project);
    });

    it('PATCH changes the project', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner, {
        name: 'Before',
        description: 'old',
      });
      const res = await t
        .http()
        .patch(projectPath(world.orgId, project.id))
        .set(world.admin.auth)
        .send({ name: 'After', description: 'new' });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({
        id: project.id,
        name: 'After',
        description: 'new',
        archived: false,
      });
      expect(await projectInDb(project.id)).toEqual({
        name: 'After',
        description: 'new',
        archived: false,
      });
    });

    it('DELETE removes the project and its tasks', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner);
      const task = await createTask(t, world.orgId, project.id, world.member);
      const res = await t.http().delete(projectPath(world.orgId, project.id)).set(world.owner.auth);
      expectStatus(res, 204);
      expect(res.text).toBe('');
      expectProblem(
        await t.http().get(projectPath(world.orgId, project.id)).set(world.owner.auth),
        404,
      );
      expectProblem(
        await t
          .http()
          .get(`${projectPath(world.orgId, project.id)}/tasks/${task.id}`)
          .set(world.owner.auth),
        404,
      );
    });

    it('answers 404 for unknown and malformed org and project ids', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner);
      const unknown = '00000000-0000-4000-8000-000000000000';
      for (const path of [
        projectsPath(unknown),
        projectsPath('not-a-uuid'),
        projectPath(world.orgId, unknown),
        projectPath(world.orgId, 'not-a-uuid'),
        projectPath(unknown, project.id),
      ]) {
        const res = await t.http().get(path).set(world.owner.auth);
        expectProblem(res, 404);
      }
    });
  });

  describe('validation', () => {
    let world: OrgWorld;

    beforeAll(async () => {
      world = await createOrgWorld(t);
    });

    it.each([
      ['an empty name', { name: '' }, 'name'],
      ['a blank name (trimmed to empty)', { name: '   ' }, 'name'],
      ['a 101-character name', { name: 'x'.repeat(101) }, 'name'],
      ['no name', {}, 'name'],
      ['a non-string name', { name: 42 }, 'name'],
      [
        'a description over 10000 characters',
        { name: 'Desc', description: 'd'.repeat(10001) },
        'description',
      ],
      ['an unknown field', { name: 'Unknown', color: 'red' }, 'color'],
    ])('POST rejects %s with 400 naming the field', async (_label, body, field) => {
      const res = await t.http().post(projectsPath(world.orgId)).set(world.owner.auth).send(body);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual([field]);
    });

    it('POST accepts a 100-character name and trims it', async () => {
      const res = await t
        .http()
        .post(projectsPath(world.orgId))
        .set(world.owner.auth)
        .send({ name: `  ${'y'.repeat(100)}  ` });
      expectStatus(res, 201);
      expect(res.body.name).toBe('y'.repeat(100));
    });

    it.each([
      ['an empty name', { name: '' }, 'name'],
      ['a 101-character name', { name: 'z'.repeat(101) }, 'name'],
      ['a non-boolean archived', { archived: 'yes' }, 'archived'],
      ['an unknown field', { owner: 'me' }, 'owner'],
      [
        'an attempt to move it to another org',
        { orgId: '00000000-0000-4000-8000-000000000000' },
        'orgId',
      ],
    ])(
      'PATCH rejects %s with 400 naming the field and changes nothing',
      async (_label, body, field) => {
        const project = await postProject(t, world.orgId, world.owner, {
          name: `Valid ${field} ${Math.random()}`,
        });
        const res = await t
          .http()
          .patch(projectPath(world.orgId, project.id))
          .set(world.owner.auth)
          .send(body);
        expectProblem(res, 400);
        expect(fieldsOf(res)).toEqual([field]);
        expect(await projectInDb(project.id)).toEqual({
          name: project.name,
          description: null,
          archived: false,
        });
      },
    );

    it('rejects a bad archived filter on the list', async () => {
      const res = await t
        .http()
        .get(projectsPath(world.orgId))
        .query({ archived: 'maybe' })
        .set(world.owner.auth);
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(['archived']);
    });
  });

  describe('unique names', () => {
    it('answers 409 project-name-taken to a name already used in the org, whatever its case', async () => {
      const world = await createOrgWorld(t);
      await postProject(t, world.orgId, world.owner, { name: 'Roadmap' });
      for (const name of ['Roadmap', 'ROADMAP', '  roadmap  ']) {
        const res = await t
          .http()
          .post(projectsPath(world.orgId))
          .set(world.admin.auth)
          .send({ name });
        expectProblem(res, 409, 'project-name-taken');
      }
      expect((await listProjects(world.orgId, world.owner)).map((p) => p.name)).toEqual([
        'Roadmap',
      ]);
    });

    it('lets another org use the same name', async () => {
      const world = await createOrgWorld(t);
      await postProject(t, world.orgId, world.owner, { name: 'Shared Name' });
      const res = await t
        .http()
        .post(projectsPath(world.otherOrgId))
        .set(world.stranger.auth)
        .send({ name: 'shared name' });
      expectStatus(res, 201);
    });

    it('answers 409 to a rename onto a taken name and leaves the project as it was', async () => {
      const world = await createOrgWorld(t);
      await postProject(t, world.orgId, world.owner, { name: 'Alpha' });
      const beta = await postProject(t, world.orgId, world.owner, { name: 'Beta' });
      const res = await t
        .http()
        .patch(projectPath(world.orgId, beta.id))
        .set(world.admin.auth)
        .send({ name: 'aLPHA' });
      expectProblem(res, 409, 'project-name-taken');
      expect(await projectInDb(beta.id)).toEqual({
        name: 'Beta',
        description: null,
        archived: false,
      });
    });

    it('allows renaming a project to a different case of its own name', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner, { name: 'gamma' });
      const res = await t
        .http()
        .patch(projectPath(world.orgId, project.id))
        .set(world.owner.auth)
        .send({ name: 'Gamma' });
      expectStatus(res, 200);
      expect(res.body.name).toBe('Gamma');
    });

    it('frees the name once the project is deleted', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner, { name: 'Phoenix' });
      expectStatus(
        await t.http().delete(projectPath(world.orgId, project.id)).set(world.owner.auth),
        204,
      );
      await postProject(t, world.orgId, world.owner, { name: 'phoenix' });
    });
  });

  describe('archiving', () => {
    it('hides archived projects from the list unless archived=true, which lists only them', async () => {
      const world = await createOrgWorld(t);
      const live = await postProject(t, world.orgId, world.owner, { name: 'Live' });
      const old = await postProject(t, world.orgId, world.owner, { name: 'Old' });
      const res = await t
        .http()
        .patch(projectPath(world.orgId, old.id))
        .set(world.admin.auth)
        .send({ archived: true });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({ id: old.id, archived: true });

      for (const viewer of [world.owner, world.viewer]) {
        expect((await listProjects(world.orgId, viewer)).map((p) => p.id)).toEqual([live.id]);
        expect(
          (await listProjects(world.orgId, viewer, { archived: 'false' })).map((p) => p.id),
        ).toEqual([live.id]);
        const archived = await listProjects(world.orgId, viewer, { archived: 'true' });
        expect(archived.map((p) => p.id)).toEqual([old.id]);
        expect(archived[0]!.archived).toBe(true);
      }

      // Still readable one by one.
      const one = await t.http().get(projectPath(world.orgId, old.id)).set(world.member.auth);
      expectStatus(one, 200);
      expect(one.body.archived).toBe(true);
    });

    it('rejects new tasks in an archived project with 409 project-archived, and takes them again once unarchived', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner);
      const tasksPath = `${projectPath(world.orgId, project.id)}/tasks`;
      expectStatus(
        await t
          .http()
          .patch(projectPath(world.orgId, project.id))
          .set(world.owner.auth)
          .send({ archived: true }),
        200,
      );

      const refused = await t
        .http()
        .post(tasksPath)
        .set(world.member.auth)
        .send({ title: 'Too late' });
      expectProblem(refused, 409, 'project-archived');
      const none = await t.http().get(tasksPath).set(world.owner.auth);
      expectStatus(none, 200);
      expect(none.body.data).toEqual([]);

      const unarchived = await t
        .http()
        .patch(projectPath(world.orgId, project.id))
        .set(world.owner.auth)
        .send({ archived: false });
      expectStatus(unarchived, 200);
      expect(unarchived.body.archived).toBe(false);

      const accepted = await t
        .http()
        .post(tasksPath)
        .set(world.member.auth)
        .send({ title: 'Back in business' });
      expectStatus(accepted, 201);
      expect(accepted.body).toMatchObject({ projectId: project.id, title: 'Back in business' });
    });
  });

  describe('delete', () => {
    it('removes the project’s tasks with it, and only those', async () => {
      const world = await createOrgWorld(t);
      const doomed = await postProject(t, world.orgId, world.owner, { name: 'Doomed' });
      const kept = await postProject(t, world.orgId, world.owner, { name: 'Kept' });
      const doomedTasks = [
        await createTask(t, world.orgId, doomed.id, world.owner, { title: 'one' }),
        await createTask(t, world.orgId, doomed.id, world.member, { title: 'two' }),
      ];
      const keptTask = await createTask(t, world.orgId, kept.id, world.owner, { title: 'three' });

      expectStatus(
        await t.http().delete(projectPath(world.orgId, doomed.id)).set(world.admin.auth),
        204,
      );

      for (const task of doomedTasks) {
        const res = await t
          .http()
          .get(`${projectPath(world.orgId, doomed.id)}/tasks/${task.id}`)
          .set(world.owner.auth);
        expectProblem(res, 404);
      }
      expect(await countRows(t, `tasks WHERE project_id = $1`, [doomed.id])).toBe(0);

      const org = await t
        .http()
        .get(api(`/orgs/${world.orgId}/tasks`))
        .set(world.owner.auth);
      expectStatus(org, 200);
      expect(org.body.data.map((task: { id: string }) => task.id)).toEqual([keptTask.id]);
      expectStatus(
        await t
          .http()
          .get(`${projectPath(world.orgId, kept.id)}/tasks/${keptTask.id}`)
          .set(world.owner.auth),
        200,
      );

      // Deleting again: it is gone.
      expectProblem(
        await t.http().delete(projectPath(world.orgId, doomed.id)).set(world.admin.auth),
        404,
      );
    });
  });

  describe('cross-tenant', () => {
    it('answers the stranger 404 on every endpoint of another org’s project, and changes nothing', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner, { name: 'Secret' });
      const s = world.stranger.auth;
      const responses = [
        await t.http().get(projectsPath(world.orgId)).set(s),
        await t.http().post(projectsPath(world.orgId)).set(s).send({ name: 'Intruder' }),
        await t.http().get(projectPath(world.orgId, project.id)).set(s),
        await t.http().patch(projectPath(world.orgId, project.id)).set(s).send({ name: 'Pwned' }),
        await t.http().delete(projectPath(world.orgId, project.id)).set(s),
        // ...and under the stranger's own org path, org A's project id is unknown.
        await t.http().get(projectPath(world.otherOrgId, project.id)).set(s),
        await t
          .http()
          .patch(projectPath(world.otherOrgId, project.id))
          .set(s)
          .send({ archived: true }),
        await t.http().delete(projectPath(world.otherOrgId, project.id)).set(s),
        await t
          .http()
          .post(`${projectPath(world.otherOrgId, project.id)}/tasks`)
          .set(s)
          .send({ title: 'x' }),
      ];
      for (const res of responses) {
        expectProblem(res, 404);
        expect(JSON.stringify(res.body)).not.toContain('Secret');
      }
      expect(await projectInDb(project.id)).toEqual({
        name: 'Secret',
        description: null,
        archived: false,
      });
      expect((await listProjects(world.orgId, world.owner)).map((p) => p.name)).toEqual(['Secret']);
      expect(await listProjects(world.otherOrgId, world.stranger)).toEqual([]);
    });

    it('answers an org A owner 404 for an org B project id under org A’s path, and changes nothing', async () => {
      const world = await createOrgWorld(t);
      const theirs = await postProject(t, world.otherOrgId, world.stranger, { name: 'Theirs' });
      const theirTask = await createTask(t, world.otherOrgId, theirs.id, world.stranger);
      const o = world.owner.auth;
      const path = projectPath(world.orgId, theirs.id);
      const responses = [
        await t.http().get(path).set(o),
        await t.http().patch(path).set(o).send({ name: 'Mine now' }),
        await t.http().delete(path).set(o),
        await t.http().get(`${path}/tasks`).set(o),
        await t.http().post(`${path}/tasks`).set(o).send({ title: 'planted' }),
        await t.http().get(`${path}/tasks/${theirTask.id}`).set(o),
      ];
      for (const res of responses) {
        expectProblem(res, 404);
        expect(JSON.stringify(res.body)).not.toContain('Theirs');
      }
      expect(await projectInDb(theirs.id)).toEqual({
        name: 'Theirs',
        description: null,
        archived: false,
      });
      const theirTasks = await t
        .http()
        .get(`${projectPath(world.otherOrgId, theirs.id)}/tasks`)
        .set(world.stranger.auth);
      expectStatus(theirTasks, 200);
      expect(theirTasks.body.data.map((task: { id: string }) => task.id)).toEqual([theirTask.id]);
      expect(await listProjects(world.orgId, world.owner)).toEqual([]);
    });
  });

  describe('audit log', () => {
    it('records project.created, project.updated, project.archived and project.deleted', async () => {
      const world = await createOrgWorld(t);
      const project = await postProject(t, world.orgId, world.owner, {
        name: 'Audited',
        description: 'first',
      });
      expectStatus(
        await t
          .http()
          .patch(projectPath(world.orgId, project.id))
          .set(world.admin.auth)
          .send({ name: 'Audited 2' }),
        200,
      );
      expectStatus(
        await t
          .http()
          .patch(projectPath(world.orgId, project.id))
          .set(world.owner.auth)
          .send({ archived: true }),
        200,
      );
      expectStatus(
        await t.http().delete(projectPath(world.orgId, project.id)).set(world.admin.auth),
        204,
      );

      const res = await t
        .http()
        .get(api(`/orgs/${world.orgId}/audit-log`))
        .query({ targetType: 'project', limit: 100 })
        .set(world.owner.auth);
      expectStatus(res, 200);
      const entries = res.body.data as Array<{
        action: string;
        actorId: string;
        targetType: string;
        targetId: string;
        orgId: string;
        metadata: Record<string, unknown>;
      }>;
      // Newest first.
      expect(entries.map((e) => e.action)).toEqual([
        'project.deleted',
        'project.archived',
        'project.updated',
        'project.created',
      ]);
      for (const entry of entries) {
        expect(entry).toMatchObject({
          orgId: world.orgId,
          targetType: 'project',
          targetId: project.id,
        });
      }
      const [deleted, archived, updated, created] = entries;
      expect(created!.actorId).toBe(world.owner.id);
      expect(updated!.actorId).toBe(world.admin.id);
      expect(updated!.metadata).toMatchObject({
        before: { name: 'Audited' },
        after: { name: 'Audited 2' },
      });
      expect(archived!.actorId).toBe(world.owner.id);
      expect(deleted!.actorId).toBe(world.admin.id);

      // The stranger's org saw none of it.
      const theirs = await t
        .http()
        .get(api(`/orgs/${world.otherOrgId}/audit-log`))
        .query({ targetType: 'project' })
        .set(world.stranger.auth);
      expectStatus(theirs, 200);
      expect(theirs.body.data).toEqual([]);
    });
  });
});
