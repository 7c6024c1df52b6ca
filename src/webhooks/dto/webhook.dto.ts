import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsString,
  MaxLength,
  registerDecorator,
  ValidationArguments,
} from 'class-validator';
import { Nullable, Optional, Trim } from '../../shared/http/dto';
import {
  ApiBoolean,
  ApiDateTime,
  ApiEnum,
  ApiInteger,
  ApiString,
  ApiUuid,
} from '../../shared/http/openapi';
import type { DeliveryAttempt, DeliveryRow } from '../webhook-deliveries.repository';
import { isSubscribableType, WEBHOOK_EVENT_TYPES } from '../webhook-event-types';
import type { WebhookRow } from '../webhooks.repository';

const FAMILIES = [...new Set(WEBHOOK_EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`))];
const SUBSCRIBABLE = [...WEBHOOK_EVENT_TYPES, ...FAMILIES];

/** Each entry an event type the app publishes, or a family (`task.*`). */
function IsEventTypeList(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isEventTypeList',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) =>
          Array.isArray(value) &&
          value.every((v) => typeof v === 'string' && isSubscribableType(v)),
        defaultMessage: ({ value }: ValidationArguments) => {
          const bad = Array.isArray(value)
            ? value.filter((v) => typeof v !== 'string' || !isSubscribableType(v))
            : [];
          return `unknown event type(s) ${JSON.stringify(bad)}; known: ${SUBSCRIBABLE.join(', ')}`;
        },
      },
    });
}

const URL_DOC =
  'http or https, no credentials; in production a public address only (not loopback, private, link-local, CGNAT or metadata)';
const EVENTS_DOC = 'Event types to deliver (or families such as `task.*`); empty or left out: all';

class EventsField {
  @ApiProperty({
    required: false,
    type: 'array',
    items: { type: 'string', enum: SUBSCRIBABLE },
    maxItems: 50,
    description: EVENTS_DOC,
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsEventTypeList()
  events?: string[];
}

export class CreateWebhookDto extends EventsField {
  @ApiString({
    maxLength: 2000,
    description: URL_DOC,
    example: 'https://example.com/hooks/worklane',
  })
  @Trim()
  @IsString()
  @MaxLength(2000)
  url!: string;

  @ApiString({ required: false, maxLength: 500, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiBoolean({ required: false, description: 'Default true' })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookDto extends EventsField {
  @ApiString({ required: false, maxLength: 2000, description: URL_DOC })
  @Optional()
  @Trim()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiString({ required: false, maxLength: 500, nullable: true })
  @Nullable()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiBoolean({
    required: false,
    description: '`false` stops deliveries; `true` revives a disabled webhook (clears the reason)',
  })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookResponse {
  @ApiUuid()
  id!: string;
  @ApiUuid()
  orgId!: string;
  @ApiString()
  url!: string;
  @ApiProperty({ type: [String], description: 'Empty: every event type' })
  events!: string[];
  @ApiString({ nullable: true })
  description!: string | null;
  @ApiBoolean()
  enabled!: boolean;
  @ApiString({
    nullable: true,
    description: 'Why it is disabled (a user, or 24 h of failed deliveries)',
  })
  disabledReason!: string | null;
  @ApiDateTime({ nullable: true })
  disabledAt!: Date | null;
  @ApiDateTime({
    nullable: true,
    description: 'Until when the previous secret still signs too (after a rotation)',
  })
  previousSecretExpiresAt!: Date | null;
  @ApiUuid({ nullable: true })
  createdBy!: string | null;
  @ApiDateTime()
  createdAt!: Date;
  @ApiDateTime()
  updatedAt!: Date;

  static of(row: WebhookRow): WebhookResponse {
    const { createdKey: _key, ...webhook } = row;
    return Object.assign(new WebhookResponse(), webhook);
  }
}

/** The creation's answer: the only time the secret is shown. */
export class CreatedWebhookResponse extends WebhookResponse {
  @ApiString({
    pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
    description: 'The signing secret (`whsec_` + base64): shown this once, never again',
  })
  secret!: string;

  static withSecret(row: WebhookRow, secret: string): CreatedWebhookResponse {
    return Object.assign(new CreatedWebhookResponse(), WebhookResponse.of(row), { secret });
  }
}

export class RotatedSecretResponse {
  @ApiString({
    pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
    description: 'The new signing secret: shown this once',
  })
  secret!: string;
  @ApiDateTime({ description: 'Until then deliveries carry both signatures' })
  previousSecretExpiresAt!: Date;
}

export class DeliveryAttemptResponse {
  @ApiDateTime()
  at!: string;
  @ApiInteger({ nullable: true, description: 'null: no answer (refused, unreachable, timeout)' })
  httpStatus!: number | null;
  @ApiInteger({ minimum: 0 })
  latencyMs!: number;
  @ApiString({ nullable: true, description: 'Why it failed, with ≤ 1 KB of the answer' })
  error!: string | null;
}

export class DeliveryResponse {
  @ApiUuid()
  id!: string;
  @ApiUuid()
  webhookId!: string;
  @ApiString({ description: 'The `webhook-id` header of every attempt: `msg_<id>`' })
  messageId!: string;
  @ApiString()
  eventType!: string;
  @ApiInteger({ minimum: 1, description: 'The event’s position in the org’s log' })
  eventPosition!: number;
  @ApiEnum(['pending', 'succeeded', 'failed'])
  status!: string;
  @ApiProperty({ type: [DeliveryAttemptResponse] })
  attempts!: DeliveryAttemptResponse[];
  @ApiDateTime({ nullable: true, description: 'When the next attempt is planned (±20 %)' })
  nextAttemptAt!: Date | null;
  @ApiDateTime()
  createdAt!: Date;

  static of(row: DeliveryRow): DeliveryResponse {
    return Object.assign(new DeliveryResponse(), {
      id: row.id,
      webhookId: row.webhookId,
      messageId: messageIdOf(row.id),
      eventType: row.eventType,
      eventPosition: row.eventPosition,
      status: row.status,
      attempts: row.attempts.map((a: DeliveryAttempt) =>
        Object.assign(new DeliveryAttemptResponse(), a),
      ),
      nextAttemptAt: row.nextAttemptAt,
      createdAt: row.createdAt,
    });
  }
}

/** The Standard Webhooks message id of a delivery: the same on every retry and redelivery. */
export const messageIdOf = (deliveryId: string) => `msg_${deliveryId}`;
