import { DomainEvent } from '../shared/events/domain-event';

const project = (id: string) => ({ type: 'project', id });

export interface ProjectSnapshot {
  name: string;
  description: string | null;
  archived: boolean;
}

export class ProjectCreated extends DomainEvent<{ after: ProjectSnapshot }> {
  readonly type = 'project.created';
  constructor(orgId: string, actorId: string, projectId: string, after: ProjectSnapshot) {
    super(orgId, actorId, project(projectId), { after });
  }
}

export class ProjectUpdated extends DomainEvent<{
  before: Partial<ProjectSnapshot>;
  after: Partial<ProjectSnapshot>;
}> {
  readonly type = 'project.updated';
  constructor(
    orgId: string,
    actorId: string,
    projectId: string,
    before: Partial<ProjectSnapshot>,
    after: Partial<ProjectSnapshot>,
  ) {
    super(orgId, actorId, project(projectId), { before, after });
  }
}

export class ProjectArchived extends DomainEvent<{
  before: { archived: boolean };
  after: { archived: boolean };
}> {
  readonly type = 'project.archived';
  constructor(orgId: string, actorId: string, projectId: string, archived: boolean) {
    super(orgId, actorId, project(projectId), {
      before: { archived: !archived },
      after: { archived },
    });
  }
}

export class ProjectDeleted extends DomainEvent<{ before: ProjectSnapshot }> {
  readonly type = 'project.deleted';
  constructor(orgId: string, actorId: string, projectId: string, before: ProjectSnapshot) {
    super(orgId, actorId, project(projectId), { before });
  }
}

declare module '../shared/events/domain-event-map' {
  interface DomainEventMap {
    'project.created': ProjectCreated;
    'project.updated': ProjectUpdated;
    'project.archived': ProjectArchived;
    'project.deleted': ProjectDeleted;
  }
}
