import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiString, ApiUuid } from '../../shared/http/openapi';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsIsoDateTime } from '../../shared/http/iso-date';
import { PageQuery } from '../../shared/http/pagination';
import type { AuditEntryRow } from '../audit-log.repository';

export class AuditLogQuery extends PageQuery {
  @ApiString({ required: false, maxLength: 100, example: 'member.role_changed' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiUuid({ required: false })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiString({ required: false, maxLength: 50, example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  targetType?: string;

  @ApiString({ required: false, maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  targetId?: string;

  @ApiDateTime({ required: false, description: 'Entries at or after this instant' })
  @IsOptional()
  @IsIsoDateTime()
  since?: Date;

  @ApiDateTime({ required: false, description: 'Entries before this instant' })
  @IsOptional()
  @IsIsoDateTime()
  until?: Date;
}

export class AuditEntryResponse {
  @ApiUuid()
  id!: string;
  @ApiUuid()
  orgId!: string;
  @ApiUuid({ nullable: true })
  actorId!: string | null;
  @ApiString({ example: 'member.role_changed' })
  action!: string;
  @ApiString({ nullable: true, example: 'user' })
  targetType!: string | null;
  @ApiString({ nullable: true })
  targetId!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { before: { role: 'member' }, after: { role: 'admin' } },
  })
  metadata!: Record<string, unknown>;
  @ApiString({ nullable: true })
  requestId!: string | null;
  @ApiDateTime()
  createdAt!: Date;

  static of(row: AuditEntryRow): AuditEntryResponse {
    const { seq: _seq, ...entry } = row;
    return Object.assign(new AuditEntryResponse(), entry);
  }
}
