import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { ApiInteger, ApiUuid } from '../../shared/http/openapi';
import type { TaskStatus } from '../tasks.repository';

export class StatsQuery {
  @ApiUuid({ required: false })
  @IsOptional()
  @IsUUID()
  projectId?: string;
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
