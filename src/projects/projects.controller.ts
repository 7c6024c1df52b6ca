import { Idempotent } from '../shared/http/idempotency.interceptor';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AllowRoles, TenantRoute } from '../shared/auth/membership.guard';
import { Page, PageOf } from '../shared/http/pagination';
import { ProblemResponses } from '../shared/http/problem.response';
import {
  CreateProjectDto,
  ListProjectsQuery,
  ProjectResponse,
  UpdateProjectDto,
} from './dto/project.dto';
import { CurrentProject, ProjectRoute } from './project.guard';
import { ProjectPermissions } from './project.policy';
import { ProjectRow } from './projects.repository';
import { ProjectsService } from './projects.service';
import { AnsweredByOpeningBatch } from '../shared/auth/path-reads';

@ApiTags('projects')
@TenantRoute()
@Controller('orgs/:orgId/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @Idempotent()
  @AllowRoles(...ProjectPermissions.write)
  @ApiOperation({ operationId: 'createProject', summary: 'Create a project (owner, admin)' })
  @ApiResponse({ status: 201, type: ProjectResponse })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  create(@Body() body: CreateProjectDto): Promise<ProjectResponse> {
    return this.projects.create(body);
  }

  @Get()
  @AllowRoles(...ProjectPermissions.read)
  @ApiOperation({
    operationId: 'listProjects',
    summary: 'Projects, oldest first; archived ones only with archived=true',
  })
  @ApiResponse({ status: 200, type: PageOf(ProjectResponse) })
  @ProblemResponses(400, 401, 404)
  list(@Query() query: ListProjectsQuery): Promise<Page<ProjectResponse>> {
    return this.projects.list(query.archived === 'true', query.limit, query.cursor);
  }
}

@ApiTags('projects')
@ProjectRoute()
@Controller('orgs/:orgId/projects/:projectId')
export class ProjectController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @AnsweredByOpeningBatch()
  @AllowRoles(...ProjectPermissions.read)
  @ApiOperation({ operationId: 'getProject', summary: 'One project' })
  @ApiResponse({ status: 200, type: ProjectResponse })
  @ProblemResponses(401, 404)
  get(@CurrentProject() project: ProjectRow): ProjectResponse {
    return ProjectResponse.of(project);
  }

  @Patch()
  @AllowRoles(...ProjectPermissions.write)
  @ApiOperation({
    operationId: 'updateProject',
    summary: 'Rename, describe, archive or unarchive (owner, admin)',
  })
  @ApiResponse({ status: 200, type: ProjectResponse })
  @ProblemResponses(400, 401, 403, 404, 409)
  update(
    @CurrentProject() project: ProjectRow,
    @Body() body: UpdateProjectDto,
  ): Promise<ProjectResponse> {
    return this.projects.update(project, body);
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowRoles(...ProjectPermissions.write)
  @ApiOperation({
    operationId: 'deleteProject',
    summary: 'Delete the project and its tasks (owner, admin)',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 403, 404)
  delete(@CurrentProject() project: ProjectRow): Promise<void> {
    return this.projects.delete(project);
  }
}
