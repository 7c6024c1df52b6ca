import { Optional, Nullable, Trim } from '../../shared/http/dto';
import { IsBoolean, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import {
  ApiBoolean,
  ApiDateTime,
  ApiEnum,
  ApiString,
  ApiUuid,
  NOT_BLANK,
} from '../../shared/http/openapi';
import { PageQuery } from '../../shared/http/pagination';
import type { ProjectRow } from '../projects.repository';

export class CreateProjectDto {
  @ApiString({
    minLength: 1,
    maxLength: 100,
    pattern: NOT_BLANK,
    description: '1–100 characters, unique in the org whatever the case',
  })
  @Trim()
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiString({ required: false, maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;
}

export class UpdateProjectDto {
  @ApiString({ required: false, minLength: 1, maxLength: 100, pattern: NOT_BLANK })
  @Optional()
  @Trim()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiString({ required: false, maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  @ApiBoolean({
    required: false,
    description: 'Archived projects take no new tasks and leave the default list',
  })
  @Optional()
  @IsBoolean()
  archived?: boolean;
}

export class ListProjectsQuery extends PageQuery {
  @ApiEnum(['true', 'false'], { required: false, description: '`true`: only archived projects' })
  @IsOptional()
  @IsIn(['true', 'false'])
  archived?: 'true' | 'false';
}

export class ProjectResponse {
  @ApiUuid()
  id!: string;
  @ApiUuid()
  orgId!: string;
  @ApiString()
  name!: string;
  @ApiString({ nullable: true })
  description!: string | null;
  @ApiBoolean()
  archived!: boolean;
  @ApiUuid({ nullable: true })
  createdBy!: string | null;
  @ApiDateTime()
  createdAt!: Date;
  @ApiDateTime()
  updatedAt!: Date;

  static of(row: ProjectRow): ProjectResponse {
    const { createdKey: _key, ...project } = row;
    return Object.assign(new ProjectResponse(), project);
  }
}
