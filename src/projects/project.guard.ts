import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { TenantRoute } from '../shared/auth/membership.guard';
import { pathResource } from '../shared/auth/path-resource.guard';
import { isUuid } from '../shared/uuid';
import { findProjectStatement } from './projects.repository';
import type { Project } from './projects.service';

/**
 * Link 3 of the guard chain: `:projectId` must be a project of the request's org (else
 * 404). Loaded once, in the request's opening batch (with BEGIN and the membership
 * check) and locked for writes, for the handler, the task guard and the services: nobody
 * loads it again.
 */
const project = pathResource<Project, 'share' | 'update' | undefined>({
  param: 'projectId',
  name: 'project',
  lock: lockFor,
  statement: ({ projectId }, orgId, lock, onlyIf) =>
    isUuid(projectId) ? findProjectStatement(orgId, projectId, lock, onlyIf) : undefined,
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
