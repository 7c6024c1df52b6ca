import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { pathResource } from '../shared/auth/path-resource.guard';
import { ProjectRoute } from '../projects/project.guard';
import type { Project } from '../projects/projects.service';
import { isUuid } from '../shared/uuid';
import { findTaskStatement, TaskRow, TasksRepository } from './tasks.repository';

/**
 * Link 4 of the guard chain: `:taskId` must be a task of the resolved project (else 404).
 * For writes the row is locked as it is loaded, so the policy and the change see one state.
 * Under `TaskRoute` the opening batch loads it (see `PathRead`).
 */
const task = pathResource({
  param: 'taskId',
  name: 'task',
  loader: TasksRepository,
  lock: (request) => request.method !== 'GET' && request.method !== 'HEAD',
  load: (tasks, em, taskId, lock, state): Promise<TaskRow | undefined> => {
    const project = state.resolved?.project as Project | undefined;
    if (!project) throw new Error('TaskGuard needs the project guard before it');
    return tasks.find(em, project.orgId, project.id, taskId, lock);
  },
  opening: (request, orgId, lock, onlyIf) => {
    const { projectId, taskId } = request.params as { projectId?: string; taskId?: string };
    return isUuid(projectId) && isUuid(taskId)
      ? findTaskStatement(orgId, projectId, taskId, lock, onlyIf)
      : undefined;
  },
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
