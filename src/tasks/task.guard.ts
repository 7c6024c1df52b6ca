import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { isUuid } from '../shared/auth/membership.guard';
import { openedRead, PathRead, PathReadOf } from '../shared/auth/path-reads';
import { NotFound } from '../shared/http/domain-error';
import { requestState } from '../shared/http/request-state';
import { ProjectRoute } from '../projects/project.guard';
import type { Project } from '../projects/projects.service';
import { findTaskStatement, TaskRow, TasksRepository } from './tasks.repository';

/**
 * Link 4 of the guard chain: `:taskId` must be a task of the resolved project (else 404).
 * For writes the row is locked as it is loaded, so the policy and the change see one state.
 */
@Injectable()
export class TaskGuard implements CanActivate {
  constructor(private readonly tasks: TasksRepository) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest<{ Params: { taskId?: string } }>>();
    const state = requestState(request);
    const project = state.resolved?.project as Project | undefined;
    if (!state.transaction || !project)
      throw new Error('TaskGuard needs the project guard before it');
    const taskId = request.params.taskId;
    if (!isUuid(taskId)) throw new NotFound('task');
    const opened = openedRead<TaskRow | undefined>(request, TASK_READ.name);
    const task = opened
      ? opened.value
      : await this.tasks.find(
          state.transaction.manager,
          project.orgId,
          project.id,
          taskId,
          locks(request),
        );
    if (!task) throw new NotFound('task');
    state.resolved = { ...state.resolved, task };
    return true;
  }
}

/** The task, loaded (and locked for writes) in the request's opening batch (see `PathRead`). */
const TASK_READ: PathRead<TaskRow | undefined> = {
  name: 'task',
  statement: (request, orgId, onlyIf) => {
    const { projectId, taskId } = request.params as { projectId?: string; taskId?: string };
    return isUuid(projectId) && isUuid(taskId)
      ? findTaskStatement(orgId, projectId, taskId, locks(request), onlyIf)
      : undefined;
  },
  read: (rows) => rows[0] as unknown as TaskRow | undefined,
};

/** Writes lock the task as it is loaded, so the policy and the change see one state. */
function locks(request: FastifyRequest): boolean {
  return request.method !== 'GET' && request.method !== 'HEAD';
}

/** Routes under `/orgs/:orgId/projects/:projectId/tasks/:taskId`. */
export function TaskRoute() {
  return applyDecorators(
    ProjectRoute(),
    PathReadOf(TASK_READ),
    UseGuards(TaskGuard),
    ApiParam({ name: 'taskId', format: 'uuid' }),
  );
}

export const CurrentTask = createParamDecorator(
  (_: unknown, context: ExecutionContext): TaskRow => {
    const task = requestState(context.switchToHttp().getRequest<FastifyRequest>()).resolved?.task;
    if (!task) throw new Error('@CurrentTask() on a route without TaskRoute()');
    return task as TaskRow;
  },
);
