import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ApiDateTime, ApiInteger, ApiString, ApiUuid } from '../../shared/http/openapi';

export class EventStreamQuery {
  @ApiString({
    required: false,
    pattern: '^\\d{1,15}$',
    description: 'Replay the events after this position, then follow live (Last-Event-ID wins)',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}$/, { message: 'after must be an event position (a non-negative integer)' })
  after?: string;

  /** Spent by EventTicketGuard; declared so the validation pipe admits it. */
  @IsOptional()
  @IsString()
  ticket?: string;
}

export class EventTicketResponse {
  @ApiString({
    pattern: '^[\\w-]{43}$',
    description: 'Use once, within 60 s, as `?ticket=` on GET /orgs/{orgId}/events',
  })
  ticket!: string;
  @ApiDateTime()
  expiresAt!: string;
}

/** One SSE message's `data` (and a webhook delivery's `data`). */
export class EventDataDocument {
  @ApiInteger({ description: 'The position in the org’s log: the SSE `id`', minimum: 1 })
  position!: number;
  @ApiString({ example: 'task.created' })
  type!: string;
  @ApiUuid()
  orgId!: string;
  @ApiDateTime()
  occurredAt!: string;
  @ApiProperty({
    nullable: true,
    type: 'object',
    properties: { id: { type: 'string', format: 'uuid' } },
  })
  actor!: { id: string } | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    properties: { type: { type: 'string' }, id: { type: 'string' } },
  })
  target!: { type: string; id: string } | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'The resource as the API returns it after the change, where the event has one',
  })
  resource?: object;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { projectId: '…', before: { status: 'todo' }, after: { status: 'done' } },
  })
  details!: Record<string, unknown>;
}
