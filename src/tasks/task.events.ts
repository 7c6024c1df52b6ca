import { DomainEvent } from '../shared/events/domain-event';

const task = (id: string) => ({ type: 'task', id });

export type TaskFields = Record<string, unknown>;

export class TaskCreated extends DomainEvent<{ projectId: string; after: TaskFields }> {
  readonly type = 'task.created';
  constructor(
    orgId: string,
    actorId: string,
    taskId: string,
    projectId: string,
    after: TaskFields,
  ) {
    super(orgId, actorId, task(taskId), { projectId, after });
  }
}

/** Changes to fields other than status and assignee, which have events of their own. */
export class TaskUpdated extends DomainEvent<{
  projectId: string;
  before: TaskFields;
  after: TaskFields;
}> {
  readonly type = 'task.updated';
  constructor(
    orgId: string,
    actorId: string,
    taskId: string,
    projectId: string,
    before: TaskFields,
    after: TaskFields,
  ) {
    super(orgId, actorId, task(taskId), { projectId, before, after });
  }
}

export class TaskStatusChanged extends DomainEvent<{
  projectId: string;
  before: { status: string };
  after: { status: string };
}> {
  readonly type = 'task.status_changed';
  constructor(
    orgId: string,
    actorId: string,
    taskId: string,
    projectId: string,
    before: string,
    after: string,
  ) {
    super(orgId, actorId, task(taskId), {
      projectId,
      before: { status: before },
      after: { status: after },
    });
  }
}

export class TaskAssigned extends DomainEvent<{
  projectId: string;
  before: { assigneeId: string | null };
  after: { assigneeId: string | null };
  reason?: 'member_removed';
}> {
  readonly type = 'task.assigned';
  constructor(
    orgId: string,
    actorId: string | null,
    taskId: string,
    projectId: string,
    before: string | null,
    after: string | null,
    reason?: 'member_removed',
  ) {
    super(orgId, actorId, task(taskId), {
      projectId,
      before: { assigneeId: before },
      after: { assigneeId: after },
      ...(reason ? { reason } : {}),
    });
  }
}

export class TaskDeleted extends DomainEvent<{ projectId: string; before: TaskFields }> {
  readonly type = 'task.deleted';
  constructor(
    orgId: string,
    actorId: string,
    taskId: string,
    projectId: string,
    before: TaskFields,
  ) {
    super(orgId, actorId, task(taskId), { projectId, before });
  }
}

/** Where a card sits: its column (status) and its key in it. */
export interface CardSpot {
  status: string;
  rank: string;
}

/**
 * A card dragged on the board: its column and/or its place in it changed. A change of
 * column is also published as `task.status_changed`, as a PATCH of the status is.
 */
export class TaskMoved extends DomainEvent<{
  projectId: string;
  before: CardSpot;
  after: CardSpot;
  afterId: string | null;
  beforeId: string | null;
}> {
  readonly type = 'task.moved';
  constructor(
    orgId: string,
    actorId: string,
    taskId: string,
    projectId: string,
    before: CardSpot,
    after: CardSpot,
    neighbours: { afterId: string | null; beforeId: string | null },
  ) {
    super(orgId, actorId, task(taskId), { projectId, before, after, ...neighbours });
  }
}

declare module '../shared/events/domain-event-map' {
  interface DomainEventMap {
    'task.created': TaskCreated;
    'task.updated': TaskUpdated;
    'task.status_changed': TaskStatusChanged;
    'task.assigned': TaskAssigned;
    'task.deleted': TaskDeleted;
    'task.moved': TaskMoved;
  }
}
