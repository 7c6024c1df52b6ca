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
import { isUuid, TenantRoute } from '../shared/auth/membership.guard';
import { openedRead, PathRead, PathReadOf } from '../shared/auth/path-reads';
import { NotFound } from '../shared/http/domain-error';
import { requestState } from '../shared/http/request-state';
import { findProjectStatement } from './projects.repository';
import { Project, ProjectsService } from './projects.service';

/**
 * Link 3 of the guard chain: `:projectId` must be a project of the request's org (else
 * 404). Loads it once, in the request's transaction and locked for writes, for the
 * handler, the task guard and the services: nobody loads it again. Under `ProjectRoute`
 * the opening batch has loaded it (`PROJECT_READ`), in the same round trip as BEGIN.
 */
@Injectable()
export class ProjectGuard implements CanActivate {
  constructor(private readonly projects: ProjectsService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest<{ Params: { projectId?: string } }>>();
    const state = requestState(request);
    const projectId = request.params.projectId;
    if (!state.transaction || !state.membership)
      throw new Error('ProjectGuard needs the membership guard before it');
    if (!isUuid(projectId)) throw new NotFound('project');
    const opened = openedRead<Project | undefined>(request, PROJECT_READ.name);
    const project = opened
      ? opened.value
      : await this.projects.resolve(
          state.transaction.manager,
          state.membership.orgId,
          projectId,
          lockFor(request),
        );
    if (!project) throw new NotFound('project');
    state.resolved = { ...state.resolved, project };
    return true;
  }
}

/**
 * Reads take no lock. A write to the project itself locks it for update; a write to its
 * tasks locks it for share, so an archive or delete waits for task writes in flight while
 * task writes do not wait for each other.
 */
function lockFor(request: FastifyRequest): 'share' | 'update' | undefined {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  return request.routeOptions.url?.endsWith(':projectId') ? 'update' : 'share';
}

/** The project, loaded (and locked) in the request's opening batch (see `PathRead`). */
const PROJECT_READ: PathRead<Project | undefined> = {
  name: 'project',
  statement: (request, orgId, onlyIf) => {
    const { projectId } = request.params as { projectId?: string };
    return isUuid(projectId)
      ? findProjectStatement(orgId, projectId, lockFor(request), onlyIf)
      : undefined;
  },
  read: (rows) => rows[0] as unknown as Project | undefined,
};

/** Routes under `/orgs/:orgId/projects/:projectId`: membership, then the project. */
export function ProjectRoute() {
  return applyDecorators(
    TenantRoute(),
    PathReadOf(PROJECT_READ),
    UseGuards(ProjectGuard),
    ApiParam({ name: 'projectId', format: 'uuid' }),
  );
}

/** The project the guard chain resolved. */
export const CurrentProject = createParamDecorator(
  (_: unknown, context: ExecutionContext): Project => {
    const project = requestState(context.switchToHttp().getRequest<FastifyRequest>()).resolved
      ?.project;
    if (!project) throw new Error('@CurrentProject() on a route without ProjectRoute()');
    return project as Project;
  },
);
