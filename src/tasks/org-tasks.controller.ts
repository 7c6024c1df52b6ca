import { Controller, Get, Header, Query, Req, StreamableFile } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AllowRoles, TenantRoute } from '../shared/auth/membership.guard';
import { RequestContext } from '../shared/database/request-context';
import { Page, PageOf } from '../shared/http/pagination';
import { ProblemResponses } from '../shared/http/problem.response';
import { ExportTasksQuery, ListOrgTasksQuery } from './dto/list-tasks.query';
import { StatsQuery, StatsResponse } from './dto/task-stats.dto';
import { TaskResponse } from './dto/task.dto';
import { TaskExportService } from './task-export.service';
import { filterOf, orderOf } from './task-list-params';
import { TaskPermissions } from './task.policy';
import { TaskStatsService } from './task-stats.service';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@TenantRoute()
@Controller('orgs/:orgId')
export class OrgTasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly stats: TaskStatsService,
    private readonly exporter: TaskExportService,
  ) {}

  @Get('tasks')
  @AllowRoles(...TaskPermissions.read)
  @ApiOperation({
    operationId: 'listOrgTasks',
    summary: 'Tasks across the org’s projects (assigneeId=me: my tasks)',
  })
  @ApiResponse({ status: 200, type: PageOf(TaskResponse) })
  @ProblemResponses(400, 401, 404)
  list(@Query() query: ListOrgTasksQuery): Promise<Page<TaskResponse>> {
    return this.tasks.list(
      filterOf(query, RequestContext.tenant().userId),
      orderOf(query),
      query.limit,
      query.cursor,
    );
  }

  @Get('tasks/export.csv')
  @AllowRoles(...TaskPermissions.export)
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="tasks.csv"')
  @ApiOperation({
    operationId: 'exportTasks',
    summary: 'The filtered task list as CSV, streamed (owner, admin)',
  })
  @ApiResponse({
    status: 200,
    description: 'A header row, then one row per task (RFC 4180, UTF-8)',
    content: {
      'text/csv': {
        schema: {
          type: 'string',
          description: 'Starts with the header row',
          pattern:
            '^id,projectId,title,status,priority,assigneeId,dueDate,createdBy,createdAt,updatedAt,completedAt\\r\\n',
        },
      },
    },
    headers: {
      'Content-Disposition': {
        required: true,
        schema: { type: 'string', example: 'attachment; filename="tasks.csv"' },
      },
    },
  })
  @ApiResponse({
    status: 429,
    description: 'The org already runs as many exports as allowed; retry after Retry-After',
    content: {
      'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDocument' } },
    },
    headers: { 'Retry-After': { required: true, schema: { type: 'string', pattern: '^\\d+$' } } },
  })
  @ProblemResponses(400, 401, 403, 404)
  export(@Query() query: ExportTasksQuery, @Req() request: FastifyRequest): StreamableFile {
    // HEAD: the headers only, without a cursor or a slot (the request transaction commits).
    if (request.method === 'HEAD') {
      return new StreamableFile(Buffer.alloc(0), { type: 'text/csv; charset=utf-8' });
    }
    const stream = this.exporter.export(filterOf(query, RequestContext.tenant().userId));
    return new StreamableFile(stream, { type: 'text/csv; charset=utf-8' });
  }

  @Get('stats')
  @AllowRoles(...TaskPermissions.read)
  @ApiOperation({
    operationId: 'getStats',
    summary: 'Dashboard counts (one SQL query), optionally for one project',
  })
  @ApiResponse({ status: 200, type: StatsResponse })
  @ProblemResponses(400, 401, 404)
  getStats(@Query() query: StatsQuery): Promise<StatsResponse> {
    return this.stats.stats(query.projectId);
  }
}
