import { Optional, Nullable, Trim } from '../../shared/http/dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
import { PageQuery } from '../../shared/http/pagination';
import type { TaskPriority, TaskRow, TaskSort, TaskStatus } from '../tasks.repository';

export const STATUSES: TaskStatus[] = ['todo', 'in_progress', 'done', 'blocked'];
export const PRIORITIES: TaskPriority[] = ['low', 'medium', 'high', 'urgent'];
export const SORTS: TaskSort[] = ['createdAt', 'updatedAt', 'dueDate', 'priority'];

/** `status=a&status=b` and `status=a,b` alike. */
const list = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);

export class CreateTaskDto {
  /** 1–200 characters. */
  @Trim()
  @IsString()
  @Length(1, 200)
  title!: string;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiPropertyOptional({ enum: STATUSES, default: 'todo' })
  @Optional()
  @IsIn(STATUSES)
  status?: TaskStatus;

  @ApiPropertyOptional({ enum: PRIORITIES, default: 'medium' })
  @Optional()
  @IsIn(PRIORITIES)
  priority?: TaskPriority;

  @ApiPropertyOptional({
    format: 'uuid',
    nullable: true,
    description: 'A member of the org who is not a viewer',
  })
  @Nullable()
  @IsUUID()
  assigneeId?: string | null;

  @ApiPropertyOptional({ example: '2026-12-31', nullable: true })
  @Nullable()
  @IsIsoDate()
  dueDate?: string | null;
}

export class UpdateTaskDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Optional()
  @Trim()
  @IsString()
  @Length(1, 200)
  title?: string;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiPropertyOptional({ enum: STATUSES })
  @Optional()
  @IsIn(STATUSES)
  status?: TaskStatus;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @Optional()
  @IsIn(PRIORITIES)
  priority?: TaskPriority;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'null unassigns' })
  @Nullable()
  @IsUUID()
  assigneeId?: string | null;

  @ApiPropertyOptional({ example: '2026-12-31', nullable: true, description: 'null clears' })
  @Nullable()
  @IsIsoDate()
  dueDate?: string | null;
}

export class ListTasksQuery extends PageQuery {
  @ApiPropertyOptional({ enum: STATUSES, isArray: true, description: 'Repeat or comma-separate' })
  @IsOptional()
  @Transform(list)
  @IsIn(STATUSES, { each: true })
  status?: TaskStatus[];

  @ApiPropertyOptional({ enum: PRIORITIES, isArray: true })
  @IsOptional()
  @Transform(list)
  @IsIn(PRIORITIES, { each: true })
  priority?: TaskPriority[];

  @ApiPropertyOptional({ description: 'A user id, or `me`' })
  @IsOptional()
  @ValidateIf((_, v) => v !== 'me')
  @IsUUID()
  assigneeId?: string;

  @ApiPropertyOptional({ example: '2026-12-31', description: 'Due on or before' })
  @IsOptional()
  @IsIsoDate()
  dueBefore?: string;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'Due on or after' })
  @IsOptional()
  @IsIsoDate()
  dueAfter?: string;

  @ApiPropertyOptional({ type: Boolean, description: 'Due before today and not done' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  overdue?: boolean;

  @ApiPropertyOptional({ description: 'Case-insensitive search in titles' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ enum: SORTS, default: 'createdAt' })
  @IsOptional()
  @IsIn(SORTS)
  sort?: TaskSort;

  @ApiPropertyOptional({ enum: ['asc', 'desc'], description: 'Default: desc, but asc for dueDate' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order?: 'asc' | 'desc';
}

export class ListOrgTasksQuery extends ListTasksQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}

export class ExportTasksQuery extends ListOrgTasksQuery {}

export class StatsQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}

export class TaskResponse {
  id!: string;
  orgId!: string;
  projectId!: string;
  title!: string;
  @ApiProperty({ type: String, nullable: true })
  description!: string | null;
  @ApiProperty({ enum: STATUSES })
  status!: TaskStatus;
  @ApiProperty({ enum: PRIORITIES })
  priority!: TaskPriority;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  assigneeId!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '2026-12-31' })
  dueDate!: string | null;
  @ApiProperty({ type: String, nullable: true })
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt!: Date | null;
  /** Increments on every change; also the ETag. */
  version!: number;

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
    });
  }
}

export class StatsResponse {
  total!: number;
  @ApiProperty({ example: { todo: 3, in_progress: 1, done: 4, blocked: 0 } })
  byStatus!: Record<TaskStatus, number>;
  completed!: number;
  pending!: number;
  overdue!: number;
  @ApiProperty({ example: [{ assigneeId: null, count: 2 }] })
  byAssignee!: Array<{ assigneeId: string | null; count: number }>;
}

export class TaskActivityResponse {
  id!: string;
  @ApiProperty({ type: String, nullable: true })
  actorId!: string | null;
  @ApiProperty({ example: 'task.status_changed' })
  action!: string;
  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;
  createdAt!: Date;
}
