import { Optional, Nullable, Trim } from '../../shared/http/dto';
import { IsIn, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { IsIsoDate } from '../../shared/http/iso-date';
import { ApiDate, ApiEnum, ApiString, ApiUuid, NOT_BLANK } from '../../shared/http/openapi';
import type { TaskPriority, TaskStatus } from '../tasks.repository';
import { STATUSES, PRIORITIES } from './task-values';

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
