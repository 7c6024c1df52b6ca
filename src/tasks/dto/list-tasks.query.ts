import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, ValidateIf } from 'class-validator';
import { IsIsoDate } from '../../shared/http/iso-date';
import { ApiBoolean, ApiDate, ApiEnum, ApiString, ApiUuid } from '../../shared/http/openapi';
import { PageQuery } from '../../shared/http/pagination';
import type { TaskPriority, TaskSort, TaskStatus } from '../tasks.repository';
import { STATUSES, PRIORITIES, SORTS } from './task-values';

/** `status=a&status=b` and `status=a,b` alike. */
const list = ({ value }: { value: unknown }) =>
  (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);

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
