import { Optional, Nullable, Trim } from '../../shared/http/dto';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { IsIsoDate } from '../../shared/http/iso-date';
import {
  ApiBoolean,
  ApiDate,
  ApiDateTime,
  ApiEnum,
  ApiInteger,
  ApiString,
  ApiUuid,
  NOT_BLANK,
} from '../../shared/http/openapi';
import { PageQuery } from '../../shared/http/pagination';
import type { TaskPriority, TaskRow, TaskSort, TaskStatus } from '../tasks.repository';

export const STATUSES: TaskStatus[] = ['todo', 'in_progress', 'done', 'blocked'];
export const PRIORITIES: TaskPriority[] = ['low', 'medium', 'high', 'urgent'];
export const SORTS: TaskSort[] = ['createdAt', 'updatedAt', 'dueDate', 'priority', 'rank'];

/** `status=a&status=b` and `status=a,b` alike. */
const list = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);

export class CreateTaskDto {
  @ApiString({ minLength: 1, maxLength: 200, pattern: NOT_BLANK, description: '1–200 characters' })
  @Trim()
  @IsString()
  @Length(1, 200)
  title!: string;

  @ApiString({ required: false, maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiEnum(STATUSES, { required: false, description: 'Default: todo' })
  @Optional()
  @IsIn(STATUSES)
  status?: TaskStatus;

  @ApiEnum(PRIORITIES, { required: false, description: 'Default: medium' })
  @Optional()
  @IsIn(PRIORITIES)
  priority?: TaskPriority;

  @ApiUuid({
    required: false,
    nullable: true,
    description: 'A member of the org who is not a viewer',
  })
  @Nullable()
  @IsUUID()
  assigneeId?: string | null;

  @ApiDate({ required: false, nullable: true })
  @Nullable()
  @IsIsoDate()
  dueDate?: string | null;
}

export class UpdateTaskDto {
  @ApiString({ required: false, minLength: 1, maxLength: 200, pattern: NOT_BLANK })
  @Optional()
  @Trim()
  @IsString()
  @Length(1, 200)
  title?: string;

  @ApiString({ required: false, maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiEnum(STATUSES, { required: false })
  @Optional()
  @IsIn(STATUSES)
  status?: TaskStatus;

  @ApiEnum(PRIORITIES, { required: false })
  @Optional()
  @IsIn(PRIORITIES)
  priority?: TaskPriority;

  @ApiUuid({ required: false, nullable: true, description: 'null unassigns' })
  @Nullable()
  @IsUUID()
  assigneeId?: string | null;

  @ApiDate({ required: false, nullable: true, description: 'null clears' })
  @Nullable()
  @IsIsoDate()
  dueDate?: string | null;
}

export class ListTasksQuery extends PageQuery {
  @ApiProperty({
    required: false,
    type: String,
    enum: STATUSES,
    isArray: true,
    description: 'Repeat or comma-separate',
  })
  @IsOptional()
  @Transform(list)
  @IsIn(STATUSES, { each: true })
  status?: TaskStatus[];

  @ApiProperty({
    required: false,
    type: String,
    enum: PRIORITIES,
    isArray: true,
    description: 'Repeat or comma-separate',
  })
  @IsOptional()
  @Transform(list)
  @IsIn(PRIORITIES, { each: true })
  priority?: TaskPriority[];

  @ApiProperty({
    required: false,
    oneOf: [
      { type: 'string', format: 'uuid' },
      { type: 'string', enum: ['me'] },
    ],
    description: 'A user id, or `me`',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== 'me')
  @IsUUID()
  assigneeId?: string;

  @ApiDate({ required: false, description: 'Due on or before' })
  @IsOptional()
  @IsIsoDate()
  dueBefore?: string;

  @ApiDate({ required: false, example: '2026-01-01', description: 'Due on or after' })
  @IsOptional()
  @IsIsoDate()
  dueAfter?: string;

  @ApiBoolean({ required: false, description: 'Due before today and not done' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  overdue?: boolean;

  @ApiString({
    required: false,
    minLength: 1,
    maxLength: 200,
    description: 'Case-insensitive search in titles',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiEnum(SORTS, {
    required: false,
    default: 'createdAt',
    description: 'rank: board order within a column (with one status and one project, a column)',
  })
  @IsOptional()
  @IsIn(SORTS)
  sort?: TaskSort;

  @ApiEnum(['asc', 'desc'], {
    required: false,
    description: 'Default: desc, but asc for dueDate and rank (a board column top down)',
  })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
}

export class ListOrgTasksQuery extends ListTasksQuery {
  @ApiUuid({ required: false })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}

export class ExportTasksQuery extends ListOrgTasksQuery {}

export class StatsQuery {
  @ApiUuid({ required: false })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}

export class TaskResponse {
  @ApiUuid()
  id!: string;
  @ApiUuid()
  orgId!: string;
  @ApiUuid()
  projectId!: string;
  @ApiString()
  title!: string;
  @ApiString({ nullable: true })
  description!: string | null;
  @ApiEnum(STATUSES)
  status!: TaskStatus;
  @ApiEnum(PRIORITIES)
  priority!: TaskPriority;
  @ApiUuid({ nullable: true })
  assigneeId!: string | null;
  @ApiDate({ nullable: true })
  dueDate!: string | null;
  @ApiUuid({ nullable: true })
  createdBy!: string | null;
  @ApiDateTime()
  createdAt!: Date;
  @ApiDateTime()
  updatedAt!: Date;
  @ApiDateTime({ nullable: true })
  completedAt!: Date | null;
  @ApiInteger({ minimum: 1, description: 'Increments on every change; also the ETag' })
  version!: number;
  @ApiString({
    minLength: 1,
    maxLength: 48,
    pattern: '^[0-9A-Za-z]+$',
    description:
      'Orders the task within its board column (project, status), byte-wise, ties by id. Opaque: set it with the move endpoint',
  })
  rank!: string;

  static of(row: TaskRow): TaskResponse {
    return Object.assign(new TaskResponse(), {
      id: row.id,
      orgId: row.orgId,
      projectId: row.projectId,
      title: row.title,
      description: row.description,
      status: row.status,
      priority: row.priority,
      assigneeId: row.assigneeId,
      dueDate: row.dueDate,
      createdBy: row.createdBy,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      completedAt: row.completedAt,
      version: row.version,
      rank: row.rank,
    });
  }
}

export class TasksByStatus {
  @ApiInteger({ minimum: 0 })
  todo!: number;
  @ApiInteger({ minimum: 0 })
  in_progress!: number;
  @ApiInteger({ minimum: 0 })
  done!: number;
  @ApiInteger({ minimum: 0 })
  blocked!: number;
}

export class AssigneeCount {
  @ApiUuid({ nullable: true, description: 'null: unassigned tasks' })
  assigneeId!: string | null;
  @ApiInteger({ minimum: 1 })
  count!: number;
}

export class StatsResponse {
  @ApiInteger({ minimum: 0 })
  total!: number;
  @ApiProperty({ type: () => TasksByStatus })
  byStatus!: Record<TaskStatus, number>;
  @ApiInteger({ minimum: 0 })
  completed!: number;
  @ApiInteger({ minimum: 0 })
  pending!: number;
  @ApiInteger({ minimum: 0 })
  overdue!: number;
  @ApiProperty({ type: () => [AssigneeCount], description: 'Most tasks first' })
  byAssignee!: AssigneeCount[];
}

export class TaskActivityResponse {
  @ApiUuid()
  id!: string;
  @ApiUuid({ nullable: true })
  actorId!: string | null;
  @ApiString({ example: 'task.status_changed' })
  action!: string;
  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;
  @ApiDateTime()
  createdAt!: Date;
}
