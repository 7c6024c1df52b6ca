import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsIsoDateTime } from '../../shared/http/iso-date';
import { PageQuery } from '../../shared/http/pagination';
import type { AuditEntryRow } from '../audit-log.repository';

export class AuditLogQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'member.role_changed' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  targetType?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  targetId?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Entries at or after this instant',
  })
  @IsOptional()
  @IsIsoDateTime()
  since?: Date;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Entries before this instant',
  })
  @IsOptional()
  @IsIsoDateTime()
  until?: Date;
}

export class AuditEntryResponse {
  id!: string;
  orgId!: string;
  @ApiProperty({ type: String, nullable: true })
  actorId!: string | null;
  @ApiProperty({ example: 'member.role_changed' })
  action!: string;
  @ApiProperty({ type: String, nullable: true, example: 'user' })
  targetType!: string | null;
  @ApiProperty({ type: String, nullable: true })
  targetId!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { before: { role: 'member' }, after: { role: 'admin' } },
  })
  metadata!: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true })
  requestId!: string | null;
  createdAt!: Date;

  static of(row: AuditEntryRow): AuditEntryResponse {
    const { seq: _seq, ...entry } = row;
    return Object.assign(new AuditEntryResponse(), entry);
  }
}
