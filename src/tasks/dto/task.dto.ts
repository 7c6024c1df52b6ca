import { ApiProperty } from '@nestjs/swagger';
import {
  ApiDate,
  ApiDateTime,
  ApiEnum,
  ApiInteger,
  ApiString,
  ApiUuid,
} from '../../shared/http/openapi';
import type { TaskPriority, TaskRow, TaskStatus } from '../tasks.repository';
import { STATUSES, PRIORITIES } from './task-values';

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
