import { Optional, Nullable, Trim } from '../../shared/http/dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { PageQuery } from '../../shared/http/pagination';
import type { ProjectRow } from '../projects.repository';

export class CreateProjectDto {
  /** 1–100 characters, unique in the org whatever the case. */
  @Trim()
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;
}

export class UpdateProjectDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @Optional()
  @Trim()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ maxLength: 10000, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(10000)
  description?: string | null;

  /** Archived projects take no new tasks and leave the default list. */
  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  archived?: boolean;
}

export class ListProjectsQuery extends PageQuery {
  /** `true`: list only archived projects. */
  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'])
  archived?: 'true' | 'false';
}

export class ProjectResponse {
  id!: string;
  orgId!: string;
  name!: string;
  @ApiProperty({ type: String, nullable: true })
  description!: string | null;
  archived!: boolean;
  @ApiProperty({ type: String, nullable: true })
  createdBy!: string | null;
  createdAt!: Date;
  updatedAt!: Date;

  static of(row: ProjectRow): ProjectResponse {
    const { createdKey: _key, ...project } = row;
    return Object.assign(new ProjectResponse(), project);
  }
}
