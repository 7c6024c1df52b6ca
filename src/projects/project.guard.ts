import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { TenantRoute } from '../shared/auth/membership.guard';
import { pathResource } from '../shared/auth/path-resource.guard';
import { isUuid } from '../shared/uuid';
import { findProjectStatement } from './projects.repository';
import { ProjectsService } from './projects.service';

/**
 * Link 3 of the guard chain: `:projectId` must be a project of the request's org (else
 * 404). Loads it once, in the request's transaction and locked for writes, for the
 * handler, the task guard and the services: nobody loads it again. Under `ProjectRoute`
 * the opening batch loads it, in the same round trip as BEGIN (see `PathRead`).
 */
const project = pathResource({
  param: 'projectId',
  name: 'project',
  loader: ProjectsService,
  lock: lockFor,
  load: (projects, em, projectId, lock, state) => {
    if (!state.membership) throw new Error('ProjectGuard needs the membership guard before it');
    return projects.resolve(em, state.membership.orgId, projectId, lock);
  },
  opening: (request, orgId, lock, onlyIf) => {
    const { projectId } = request.params as { projectId?: string };
    return isUuid(projectId) ? findProjectStatement(orgId, projectId, lock, onlyIf) : undefined;
  },
});

export const ProjectGuard = project.guard;

/**
 * Reads take no lock. A write to the project itself locks it for update; a write to its
 * tasks locks it for share, so an archive or delete waits for task writes in flight while
 * task writes do not wait for each other.
 */
function lockFor(request: FastifyRequest): 'share' | 'update' | undefined {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  return request.routeOptions.url?.endsWith(':projectId') ? 'update' : 'share';
}

/** Routes under `/orgs/:orgId/projects/:projectId`: membership, then the project. */
export function ProjectRoute() {
  return applyDecorators(
    TenantRoute(),
    project.inOpeningBatch(),
    UseGuards(ProjectGuard),
    ApiParam({ name: 'projectId', format: 'uuid' }),
  );
}

/** The project the guard chain resolved. */
export const CurrentProject: () => ParameterDecorator = project.current;
