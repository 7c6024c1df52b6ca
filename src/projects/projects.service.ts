import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { onUniqueViolation } from '../shared/database/sql';
import { DomainEvent, withResource } from '../shared/events/domain-event';
import { EventBus } from '../shared/events/event-bus';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { ProjectResponse } from './dto/project.dto';
import {
  ProjectArchived,
  ProjectCreated,
  ProjectDeleted,
  ProjectSnapshot,
  ProjectUpdated,
} from './project.events';
import { ProjectArchivedError, ProjectNameTaken } from './projects.errors';
import { ProjectRow, ProjectsRepository } from './projects.repository';

/** A project as other modules see it (the tasks module gets it from the project guard). */
export type Project = ProjectRow;

const snapshot = (p: ProjectRow): ProjectSnapshot => ({
  name: p.name,
  description: p.description,
  archived: p.archived,
});

/** Projects of the current org. Exported for `tasks`, which asks whether one takes tasks. */
@Injectable()
export class ProjectsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: ProjectsRepository,
    private readonly events: EventBus,
  ) {}

  async create(input: { name: string; description?: string | null }): Promise<ProjectResponse> {
    const actor = RequestContext.tenant();
    return this.uow.run(async (em) => {
      const project = await this.repo
        .insert(em, {
          orgId: actor.orgId,
          name: input.name,
          description: input.description ?? null,
          createdBy: actor.userId,
        })
        .catch(rethrowNameTaken);
      const response = ProjectResponse.of(project);
      await this.events.publish(
        withResource(
          new ProjectCreated(actor.orgId, actor.userId, project.id, snapshot(project)),
          response,
        ),
      );
      return response;
    });
  }
  /**
   * The project `projectId` of `orgId`, in the request's transaction `em`, locked as the
   * caller's write needs (the project guard); undefined when the org has no such project.
   */
  resolve(
    em: EntityManager,
    orgId: string,
    projectId: string,
    lock?: 'share' | 'update',
  ): Promise<Project | undefined> {
    return this.repo.find(em, orgId, projectId, lock);
  }

  async list(archived: boolean, limit: number, cursor?: string): Promise<Page<ProjectResponse>> {
    const { orgId } = RequestContext.tenant();
    const after = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    const found = await this.uow.run((em) => this.repo.list(em, orgId, archived, limit, after));
    return toPage(found, limit, (p) => [p.createdKey, p.id], ProjectResponse.of);
  }

  /** `before` is the project as the guard loaded and locked it. */
  async update(
    before: ProjectRow,
    changes: { name?: string; description?: string | null; archived?: boolean },
  ): Promise<ProjectResponse> {
    const actor = RequestContext.tenant();
    return this.uow.run(async (em) => {
      const after = await this.repo
        .update(em, actor.orgId, before.id, changes)
        .catch(rethrowNameTaken);
      const was = snapshot(before);
      const now = snapshot(after);
      const changed = (Object.keys(now) as Array<keyof ProjectSnapshot>).filter(
        (k) => k !== 'archived' && was[k] !== now[k],
      );
      const response = ProjectResponse.of(after);
      const events: DomainEvent[] = [];
      if (changed.length > 0) {
        events.push(
          new ProjectUpdated(
            actor.orgId,
            actor.userId,
            before.id,
            Object.fromEntries(changed.map((k) => [k, was[k]])),
            Object.fromEntries(changed.map((k) => [k, now[k]])),
          ),
        );
      }
      if (was.archived !== now.archived) {
        events.push(new ProjectArchived(actor.orgId, actor.userId, before.id, now.archived));
      }
      await this.events.publish(...events.map((event) => withResource(event, response)));
      return response;
    });
  }

  /** `project` is as the guard loaded and locked it; its tasks go with it. */
  async delete(project: ProjectRow): Promise<void> {
    const actor = RequestContext.tenant();
    await this.uow.run(async (em) => {
      await this.repo.delete(em, actor.orgId, project.id);
      await this.events.publish(
        new ProjectDeleted(actor.orgId, actor.userId, project.id, snapshot(project)),
      );
    });
  }

  /** Archived projects take no new tasks (409); the guard holds a share lock meanwhile. */
  assertTakesTasks(project: ProjectRow, action?: string): void {
    if (project.archived) throw new ProjectArchivedError(action);
  }
}

const rethrowNameTaken = onUniqueViolation(() => new ProjectNameTaken());
