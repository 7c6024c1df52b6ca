import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MEMBERSHIP_DIRECTORY, MembershipDirectory } from '../shared/auth/ports';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { DomainEvent, withResource } from '../shared/events/domain-event';
import { EventBus } from '../shared/events/event-bus';
import { InvalidField } from '../shared/http/domain-error';
import { CursorKey, decodeCursor, Page, toPage } from '../shared/http/pagination';
import { assertAllowed } from '../shared/auth/policy';
import type { Project } from '../projects/projects.service';
import { ProjectsService } from '../projects/projects.service';
import { CreateTaskDto } from './dto/create-task.dto';
import { TaskResponse } from './dto/task.dto';
import { UpdateTaskDto } from './dto/update-task.dto';
import {
  TaskAssigned,
  TaskCreated,
  TaskDeleted,
  TaskFields,
  TaskStatusChanged,
  TaskUpdated,
} from './task.events';
import { mayBeAssigned, mayDelete, mayUpdate } from './task.policy';
import { TaskPlacement } from './task-placement';
import { RANK_PATTERN } from './task-rank';
import { StaleTask } from './tasks.errors';
import { TaskChanges, TaskFilter, TaskOrder, TaskRow, TasksRepository } from './tasks.repository';

const EDITABLE = ['title', 'description', 'status', 'priority', 'assigneeId', 'dueDate'] as const;

const fields = (task: TaskRow): TaskFields => Object.fromEntries(EDITABLE.map((k) => [k, task[k]]));

/** Task use cases; publishes task.* events, which the audit log records. */
@Injectable()
export class TasksService implements OnModuleInit {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: TasksRepository,
    private readonly placement: TaskPlacement,
    private readonly projects: ProjectsService,
    private readonly events: EventBus,
    @Inject(MEMBERSHIP_DIRECTORY) private readonly memberships: MembershipDirectory,
  ) {}

  /**
   * A member who leaves or is removed has their tasks unassigned — before the membership
   * row goes, so each task gets its `task.assigned` entry (the foreign key would do it
   * silently otherwise).
   */
  onModuleInit(): void {
    for (const type of ['member.removed', 'member.left'] as const) {
      this.events.subscribe(type, 'in-transaction', async (event, em) => {
        const userId = event.target.id;
        const unassigned = await this.repo.unassignAll(em, event.orgId!, userId);
        await this.events.publish(
          ...unassigned.map(
            (task) =>
              new TaskAssigned(
                event.orgId!,
                event.actorId,
                task.id,
                task.projectId,
                userId,
                null,
                'member_removed',
              ),
          ),
        );
      });
    }
  }

  async create(project: Project, input: CreateTaskDto): Promise<TaskResponse> {
    const actor = RequestContext.tenant();
    return this.uow.run(async (em) => {
      this.projects.assertTakesTasks(project);
      const projectId = project.id;
      if (input.assigneeId) await this.assertAssignable(em, input.assigneeId);
      // New cards go to the bottom of their column.
      const status = input.status ?? 'todo';
      const rank = await this.placement.bottom(em, { orgId: actor.orgId, projectId, status }, null);
      const task = await this.repo.insert(em, {
        orgId: actor.orgId,
        projectId,
        title: input.title,
        description: input.description ?? null,
        status,
        priority: input.priority ?? 'medium',
        assigneeId: input.assigneeId ?? null,
        dueDate: input.dueDate ?? null,
        createdBy: actor.userId,
        rank,
      });
      const response = TaskResponse.of(task);
      await this.events.publish(
        withResource(
          new TaskCreated(actor.orgId, actor.userId, task.id, projectId, fields(task)),
          response,
        ),
      );
      return response;
    });
  }

  async list(
    filter: TaskFilter,
    order: TaskOrder,
    limit: number,
    cursor?: string,
  ): Promise<Page<TaskResponse>> {
    const { orgId } = RequestContext.tenant();
    // The cursor names its sort, so a cursor from another sort or order is refused (400).
    const sortName = `${order.sort}:${order.direction}`;
    const keyKind: CursorKey =
      order.sort === 'dueDate'
        ? 'date'
        : order.sort === 'priority'
          ? 'rank'
          : order.sort === 'rank'
            ? { matches: RANK_PATTERN }
            : 'timestamp';
    const keys = decodeCursor(cursor, [{ equals: sortName }, keyKind, 'uuid']);
    const after = keys ? ([keys[1], keys[2]] as [string, string]) : null;
    const found = await this.uow.run((em) =>
      this.repo.list(em, orgId, filter, order, limit, after),
    );
    return toPage(found, limit, (t) => [sortName, t.sortKey, t.id], TaskResponse.of);
  }

  /** `expectedVersion` comes from If-Match; a stale one changes nothing (412). */
  async update(
    task: TaskRow,
    input: UpdateTaskDto,
    expectedVersion: number[] | null,
  ): Promise<TaskResponse> {
    const actor = RequestContext.tenant();
    assertAllowed(
      mayUpdate(actor, task),
      'Members may update only the tasks they created or are assigned to.',
    );
    if (expectedVersion && !expectedVersion.includes(task.version))
      throw new StaleTask(task.version);

    return this.uow.run(async (em) => {
      const changes: TaskChanges = {};
      for (const key of EDITABLE) {
        const value = input[key];
        if (value !== undefined && value !== task[key])
          (changes as Record<string, unknown>)[key] = value;
      }
      if (Object.keys(changes).length === 0) return TaskResponse.of(task);
      if (changes.assigneeId) await this.assertAssignable(em, changes.assigneeId);

      // A new status moves the card to the bottom of its new column.
      const rank =
        changes.status === undefined
          ? undefined
          : await this.placement.bottom(
              em,
              { orgId: actor.orgId, projectId: task.projectId, status: changes.status },
              task.id,
            );
      const updated = await this.repo.update(em, actor.orgId, task.id, { ...changes, rank });
      const response = TaskResponse.of(updated);
      const { status, assigneeId, ...rest } = changes;
      const other = Object.keys(rest) as Array<keyof TaskChanges>;
      const events: DomainEvent[] = [];
      if (other.length > 0) {
        events.push(
          new TaskUpdated(
            actor.orgId,
            actor.userId,
            task.id,
            task.projectId,
            Object.fromEntries(other.map((k) => [k, task[k]])),
            Object.fromEntries(other.map((k) => [k, updated[k]])),
          ),
        );
      }
      if (status !== undefined) {
        events.push(
          new TaskStatusChanged(
            actor.orgId,
            actor.userId,
            task.id,
            task.projectId,
            task.status,
            updated.status,
          ),
        );
      }
      if (assigneeId !== undefined) {
        events.push(
          new TaskAssigned(
            actor.orgId,
            actor.userId,
            task.id,
            task.projectId,
            task.assigneeId,
            updated.assigneeId,
          ),
        );
      }
      // One publish: one append to the org's log for all of them.
      await this.events.publish(...events.map((event) => withResource(event, response)));
      return response;
    });
  }

  async delete(task: TaskRow): Promise<void> {
    const actor = RequestContext.tenant();
    assertAllowed(mayDelete(actor, task), 'Members may delete only the tasks they created.');
    await this.uow.run(async (em) => {
      await this.repo.delete(em, actor.orgId, task.id);
      await this.events.publish(
        new TaskDeleted(actor.orgId, actor.userId, task.id, task.projectId, fields(task)),
      );
    });
  }

  /**
   * The foreign key guarantees membership; the rule "not a viewer" is ours. The role is
   * read under a share lock, held until commit: a removal of the assignee (which locks
   * their membership first) waits for this assignment and then unassigns it with its
   * entry, or goes first, and then this finds no member (400).
   */
  private async assertAssignable(em: EntityManager, userId: string): Promise<void> {
    const role = await this.memberships.roleOf(em, RequestContext.tenant().orgId, userId);
    if (!mayBeAssigned(role)) {
      throw new InvalidField(
        'assigneeId',
        'must be a member of the organization who is not a viewer',
      );
    }
  }
}
