import { ApiProperty, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsUUID, Max, Min } from 'class-validator';
import { Nullable, Optional } from '../../shared/http/dto';
import { ApiEnum, ApiInteger, ApiUuid } from '../../shared/http/openapi';
import type { TaskStatus } from '../tasks.repository';
import { ListTasksQuery } from './list-tasks.query';
import { TaskResponse } from './task.dto';
import { STATUSES } from './task-values';

/**
 * A drag on the board. Neighbours name cards of the target column as it is without the
 * moved card; with neither, the card goes to the bottom.
 */
export class MoveTaskDto {
  @ApiEnum(STATUSES, { required: false, description: 'The target column. Default: the task’s own' })
  @Optional()
  @IsIn(STATUSES)
  status?: TaskStatus;

  @ApiUuid({
    required: false,
    nullable: true,
    description:
      'The card that ends up directly above (in the target column; not the task itself); null or absent: none named',
  })
  @Nullable()
  @IsUUID()
  afterId?: string | null;

  @ApiUuid({
    required: false,
    nullable: true,
    description:
      'The card that ends up directly below (in the target column; not the task itself); null or absent: none named. With afterId, the two must be adjacent',
  })
  @Nullable()
  @IsUUID()
  beforeId?: string | null;
}

/** The list's filters that make sense on a board: all but status, sort and paging. */
export class BoardQuery extends OmitType(ListTasksQuery, [
  'status',
  'sort',
  'order',
  'limit',
  'cursor',
] as const) {
  @ApiInteger({ required: false, minimum: 1, maximum: 100, default: 20 })
  @Optional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  perColumn: number = 20;
}

export class BoardColumnResponse {
  @ApiEnum(STATUSES)
  status!: TaskStatus;

  @ApiInteger({ minimum: 0, description: 'Cards in the column that match the filters' })
  total!: number;

  @ApiProperty({ type: () => [TaskResponse], description: 'The first perColumn cards, top down' })
  tasks!: TaskResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Pages on through GET …/projects/:projectId/tasks?status=<status>&sort=rank (same filters); null when tasks holds the whole column',
  })
  nextCursor!: string | null;
}

export class BoardResponse {
  @ApiProperty({
    type: () => [BoardColumnResponse],
    description: 'Always four: todo, in_progress, done, blocked',
  })
  columns!: BoardColumnResponse[];
}
