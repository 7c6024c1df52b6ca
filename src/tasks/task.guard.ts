import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { pathResource } from '../shared/auth/path-resource.guard';
import { ProjectRoute } from '../projects/project.guard';
import { isUuid } from '../shared/uuid';
import { findTaskStatement, TaskRow } from './tasks.repository';

/**
 * Link 4 of the guard chain: `:taskId` must be a task of the resolved project (else 404).
 * Loaded in the opening batch; for writes the row is locked as it is loaded, so the policy
 * and the change see one state.
 */
const task = pathResource<TaskRow, boolean>({
  param: 'taskId',
  name: 'task',
  lock: (request) => request.method !== 'GET' && request.method !== 'HEAD',
  statement: ({ projectId, taskId }, orgId, lock, onlyIf) =>
    isUuid(projectId) && isUuid(taskId)
      ? findTaskStatement(orgId, projectId, taskId, lock, onlyIf)
      : undefined,
});

export const TaskGuard = task.guard;

/** Routes under `/orgs/:orgId/projects/:projectId/tasks/:taskId`. */
export function TaskRoute() {
  return applyDecorators(
    ProjectRoute(),
    task.inOpeningBatch(),
    UseGuards(TaskGuard),
    ApiParam({ name: 'taskId', format: 'uuid' }),
  );
}

/** The task the guard chain resolved. */
export const CurrentTask: () => ParameterDecorator = task.current;
