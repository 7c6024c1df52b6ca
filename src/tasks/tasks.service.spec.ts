import { inRolledBackWorld, Medium, neighbours, openMedium, World } from '../../test/medium/medium';
import type { MembersService } from '../organizations/members.service';
import type { Project, ProjectsService } from '../projects/projects.service';
import { OrgRole } from '../shared/database/request-context';
import { Forbidden, InvalidField } from '../shared/http/domain-error';
import { CreateTaskDto } from './dto/create-task.dto';
import { UpdateTaskDto } from './dto/update-task.dto';
import { TaskPlacement } from './task-placement';
import { TaskRow, TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

/** Medium tier: task rules on the real database, each case rolled back. */
describe('TasksService (medium: real database, rolled back)', () => {
  let medium: Medium;
  let tasks: TasksService;
  let projects: ProjectsService;
  let members: MembersService;
  const repo = new TasksRepository();

  beforeAll(async () => {
    medium = await openMedium();
    ({ projects, members } = neighbours(medium));
    tasks = new TasksService(
      medium.uow,
      repo,
      new TaskPlacement(repo),
      projects,
      medium.bus,
      neighbours(medium).memberships,
    );
    tasks.onModuleInit();
  });
  afterAll(() => medium.close());

  /** A project of the world's org, made by its admin, as the project guard would hand it. */
  async function projectOf(world: World): Promise<Project> {
    const created = await world.as('admin', () => projects.create({ name: 'Roadmap' }));
    return (await projects.resolve(world.em, world.orgId, created.id))!;
  }
  const create = (world: World, who: OrgRole, project: Project, input: Partial<CreateTaskDto>) =>
    world.as(who, () => tasks.create(project, { title: 'Task', ...input } as CreateTaskDto));
  const load = async (world: World, project: Project, id: string): Promise<TaskRow> =>
    (await repo.find(world.em, world.orgId, project.id, id, true))!;
  const update = async (world: World, who: OrgRole, project: Project, id: string, input: object) =>
    world.as(who, async () =>
      tasks.update(await load(world, project, id), input as UpdateTaskDto, null),
    );

  describe('the assignee is a member who is not a viewer', () => {
    it('refuses a viewer or a non-member, at creation and on update; takes a member', () =>
      inRolledBackWorld(medium, async (world) => {
        const project = await projectOf(world);
        for (const who of ['viewer', 'outsider'] as const) {
          await expect(
            create(world, 'admin', project, { assigneeId: world.users[who].id }),
          ).rejects.toEqual(
            expect.objectContaining({ errors: [expect.objectContaining({ field: 'assigneeId' })] }),
          );
        }
        const task = await create(world, 'admin', project, { assigneeId: world.users.member.id });
        expect(task.assigneeId).toBe(world.users.member.id);
        await expect(
          update(world, 'admin', project, task.id, { assigneeId: world.users.viewer.id }),
        ).rejects.toBeInstanceOf(InvalidField);
        expect((await load(world, project, task.id)).assigneeId).toBe(world.users.member.id);
      }));
  });

  describe('event diffing', () => {
    it('one update: an event per kind of change, each with the before and after of its own fields', () =>
      inRolledBackWorld(medium, async (world) => {
        const project = await projectOf(world);
        const task = await create(world, 'member', project, { title: 'Draft', priority: 'low' });
        world.events.length = 0;
        await update(world, 'admin', project, task.id, {
          title: 'Final',
          priority: 'low',
          status: 'done',
          assigneeId: world.users.admin.id,
        });
        expect(world.events.map((e) => [e.type, e.payload])).toEqual([
          [
            'task.updated',
            { projectId: project.id, before: { title: 'Draft' }, after: { title: 'Final' } },
          ],
          [
            'task.status_changed',
            { projectId: project.id, before: { status: 'todo' }, after: { status: 'done' } },
          ],
          [
            'task.assigned',
            {
              projectId: project.id,
              before: { assigneeId: null },
              after: { assigneeId: world.users.admin.id },
            },
          ],
        ]);
      }));

    it('an update that changes nothing publishes nothing and keeps the version', () =>
      inRolledBackWorld(medium, async (world) => {
        const project = await projectOf(world);
        const task = await create(world, 'admin', project, { title: 'Same', priority: 'high' });
        world.events.length = 0;
        const same = await update(world, 'admin', project, task.id, {
          title: 'Same',
          priority: 'high',
        });
        expect(same.version).toBe(task.version);
        expect(world.events).toEqual([]);
      }));
  });

  describe('the task policy', () => {
    it('a member updates what they created or are assigned, deletes only what they created', () =>
      inRolledBackWorld(medium, async (world) => {
        const project = await projectOf(world);
        const other = await world.addUser('other', 'member');
        const theirs = await create(world, 'member', project, {});
        const assigned = await create(world, 'admin', project, {
          assigneeId: world.users.member.id,
        });
        const foreign = await create(world, 'admin', project, { assigneeId: other.id });

        await update(world, 'member', project, theirs.id, { title: 'mine' });
        await update(world, 'member', project, assigned.id, { title: 'given to me' });
        await expect(
          update(world, 'member', project, foreign.id, { title: 'no' }),
        ).rejects.toBeInstanceOf(Forbidden);
        const remove = (id: string) =>
          world.as('member', async () => tasks.delete(await load(world, project, id)));
        await expect(remove(assigned.id)).rejects.toBeInstanceOf(Forbidden);
        await expect(remove(foreign.id)).rejects.toBeInstanceOf(Forbidden);
        await remove(theirs.id);
        expect(
          await repo.find(world.em, world.orgId, project.id, theirs.id, false),
        ).toBeUndefined();
      }));

    it('owners and admins update and delete any task; a viewer none', () =>
      inRolledBackWorld(medium, async (world) => {
        const project = await projectOf(world);
        const task = await create(world, 'member', project, {});
        await expect(
          update(world, 'viewer', project, task.id, { title: 'v' }),
        ).rejects.toBeInstanceOf(Forbidden);
        await update(world, 'admin', project, task.id, { title: 'a' });
        await update(world, 'owner', project, task.id, { title: 'o' });
        await world.as('owner', async () => tasks.delete(await load(world, project, task.id)));
      }));
  });

  it("a removed member's tasks are unassigned, each with its task.assigned (member_removed)", () =>
    inRolledBackWorld(medium, async (world) => {
      const project = await projectOf(world);
      const a = await create(world, 'admin', project, { assigneeId: world.users.member.id });
      const b = await create(world, 'admin', project, { assigneeId: world.users.member.id });
      world.events.length = 0;
      await world.as('admin', () => members.remove(world.users.member.id));
      expect((await load(world, project, a.id)).assigneeId).toBeNull();
      expect((await load(world, project, b.id)).assigneeId).toBeNull();
      // The unassignments are published from the member.removed handler (typed by
      // DomainEventMap, in tasks), so the recorder may see them first: compared as a set.
      const seen = world.events.map((e) => [e.type, e.target?.id, e.payload]);
      expect(seen).toHaveLength(3);
      expect(seen).toEqual(
        expect.arrayContaining([
          ['member.removed', world.users.member.id, { before: { role: 'member' } }],
          ...[a, b].map((t) => [
            'task.assigned',
            t.id,
            {
              projectId: project.id,
              before: { assigneeId: world.users.member.id },
              after: { assigneeId: null },
              reason: 'member_removed',
            },
          ]),
        ]),
      );
    }));
});
