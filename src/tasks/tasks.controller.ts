import { Idempotent } from '../shared/http/idempotency.interceptor';
import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuditLogService } from '../activity/audit-log.service';
import { AllowRoles } from '../shared/auth/membership.guard';
import { RequestContext } from '../shared/database/request-context';
import { Page, PageOf, PageQuery } from '../shared/http/pagination';
import { CREATED_ETAG_HEADER, ETAG_HEADER } from '../shared/http/openapi';
import { ProblemResponses } from '../shared/http/problem.response';
import { CurrentProject, ProjectRoute } from '../projects/project.guard';
import type { Project } from '../projects/projects.service';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { TaskActivityResponse, TaskResponse } from './dto/task.dto';
import { UpdateTaskDto } from './dto/update-task.dto';
import { BoardQuery, BoardResponse, MoveTaskDto } from './dto/board.dto';
import { CurrentTask, TaskRoute } from './task.guard';
import { TaskBoardService } from './task-board.service';
import { TaskPermissions } from './task.policy';
import { TaskRow } from './tasks.repository';
import { TasksService } from './tasks.service';
import { filterOf, orderOf } from './task-list-params';
import { AnsweredByOpeningBatch } from '../shared/auth/path-reads';

const etag = (task: { version: number }) => `"${task.version}"`;

/** `If-Match: "3"` (or several, or `*`); null means no precondition. */
function parseIfMatch(header: string | undefined): number[] | null {
  if (!header || header.trim() === '*') return null;
  return header.split(',').map((tag) => Number(tag.trim().replace(/^W\//, '').replace(/"/g, '')));
}

@ApiTags('tasks')
@ProjectRoute()
@Controller('orgs/:orgId/projects/:projectId/tasks')
export class ProjectTasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @Idempotent()
  @AllowRoles(...TaskPermissions.create)
  @ApiOperation({
    operationId: 'createTask',
    summary: 'Create a task (owner, admin, member); the ETag header carries its version',
  })
  @ApiResponse({ status: 201, type: TaskResponse, headers: { ETag: CREATED_ETAG_HEADER } })
  @ProblemResponses(400, 401, 403, 404, 409, 422)
  async create(
    @CurrentProject() project: Project,
    @Body() body: CreateTaskDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskResponse> {
    const task = await this.tasks.create(project, body);
    void reply.header('etag', etag(task));
    return task;
  }

  @Get()
  @AllowRoles(...TaskPermissions.read)
  @ApiOperation({
    operationId: 'listTasks',
    summary: 'Tasks of the project: filters, sorts, keyset pages',
  })
  @ApiResponse({ status: 200, type: PageOf(TaskResponse) })
  @ProblemResponses(400, 401, 404)
  list(
    @CurrentProject() project: Project,
    @Query() query: ListTasksQuery,
  ): Promise<Page<TaskResponse>> {
    const filter = filterOf(query, RequestContext.tenant().userId);
    return this.tasks.list(
      { ...filter, projectId: project.id },
      orderOf(query),
      query.limit,
      query.cursor,
    );
  }
}

@ApiTags('tasks')
@TaskRoute()
@Controller('orgs/:orgId/projects/:projectId/tasks/:taskId')
export class TaskController {
  constructor(
    private readonly tasks: TasksService,
    private readonly board: TaskBoardService,
    private readonly auditLog: AuditLogService,
  ) {}

  @Get()
  @AnsweredByOpeningBatch()
  @AllowRoles(...TaskPermissions.read)
  @ApiOperation({
    operationId: 'getTask',
    summary: 'One task; the ETag header carries its version',
  })
  @ApiResponse({ status: 200, type: TaskResponse, headers: { ETag: ETAG_HEADER } })
  @ProblemResponses(401, 404)
  get(@CurrentTask() task: TaskRow, @Res({ passthrough: true }) reply: FastifyReply): TaskResponse {
    void reply.header('etag', etag(task));
    return TaskResponse.of(task);
  }

  @Patch()
  @AllowRoles(...TaskPermissions.write)
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The ETag you read; stale → 412, nothing changed',
  })
  @ApiOperation({
    operationId: 'updateTask',
    summary: 'Update a task',
    description: 'Owners and admins: any task. Members: tasks they created or are assigned to.',
  })
  @ApiResponse({ status: 200, type: TaskResponse, headers: { ETag: ETAG_HEADER } })
  @ProblemResponses(400, 401, 403, 404, 412)
  async update(
    @CurrentTask() task: TaskRow,
    @Body() body: UpdateTaskDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskResponse> {
    const updated = await this.tasks.update(task, body, parseIfMatch(ifMatch));
    void reply.header('etag', etag(updated));
    return updated;
  }

  @Post('move')
  @HttpCode(HttpStatus.OK)
  @AllowRoles(...TaskPermissions.write)
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The ETag you read; stale → 412, nothing moved',
  })
  @ApiOperation({
    operationId: 'moveTask',
    summary: 'Drag a card on the board: its column and its place in it',
    description:
      'afterId: the card that ends up directly above; beforeId: the one directly below (both: they must be adjacent); ' +
      'neither: the bottom of the column. status defaults to the task’s own. A neighbour not in the target column of ' +
      'this project, the task itself as its own neighbour, or two neighbours that are not adjacent → 400 naming the ' +
      'field, nothing moved. Same permissions as an update; archived project → 409. A change of column sets or ' +
      'clears completedAt like a status change. Concurrent moves that cannot be serialized → 409: retry.',
  })
  @ApiResponse({ status: 200, type: TaskResponse, headers: { ETag: ETAG_HEADER } })
  @ProblemResponses(400, 401, 403, 404, 409, 412)
  async move(
    @CurrentProject() project: Project,
    @CurrentTask() task: TaskRow,
    @Body() body: MoveTaskDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskResponse> {
    const moved = await this.board.move(project, task, body, parseIfMatch(ifMatch));
    void reply.header('etag', etag(moved));
    return moved;
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @AllowRoles(...TaskPermissions.write)
  @ApiOperation({
    operationId: 'deleteTask',
    summary: 'Delete a task (owners, admins; members: tasks they created)',
  })
  @ApiResponse({ status: 204 })
  @ProblemResponses(401, 403, 404)
  delete(@CurrentTask() task: TaskRow): Promise<void> {
    return this.tasks.delete(task);
  }

  @Get('activity')
  @AllowRoles(...TaskPermissions.read)
  @ApiOperation({
    operationId: 'listTaskActivity',
    summary: 'The task’s history from the audit log, newest first (any member)',
  })
  @ApiResponse({ status: 200, type: PageOf(TaskActivityResponse) })
  @ProblemResponses(400, 401, 404)
  async activity(
    @CurrentTask() task: TaskRow,
    @Query() query: PageQuery,
  ): Promise<Page<TaskActivityResponse>> {
    const page = await this.auditLog.history(
      { type: 'task', id: task.id },
      query.limit,
      query.cursor,
    );
    return {
      data: page.data.map(({ id, actorId, action, metadata, createdAt }) => ({
        id,
        actorId,
        action,
        metadata,
        createdAt,
      })),
      nextCursor: page.nextCursor,
    };
  }
}

@ApiTags('tasks')
@ProjectRoute()
@Controller('orgs/:orgId/projects/:projectId/board')
export class BoardController {
  constructor(private readonly board: TaskBoardService) {}

  @Get()
  @AllowRoles(...TaskPermissions.read)
  @ApiOperation({
    operationId: 'getBoard',
    summary: 'The project’s Kanban board (any member, archived projects too)',
    description:
      'Four columns in the order todo, in_progress, done, blocked, each with its total and its first perColumn ' +
      'cards by rank; nextCursor pages on through GET …/tasks?status=<column>&sort=rank with the same filters.',
  })
  @ApiResponse({ status: 200, type: BoardResponse })
  @ProblemResponses(400, 401, 404)
  get(@CurrentProject() project: Project, @Query() query: BoardQuery): Promise<BoardResponse> {
    return this.board.board(project, query);
  }
}
