import { Optional } from '../../shared/http/dto';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { OrgRole } from '../../shared/database/request-context';
import {
  ApiDateTime,
  ApiEnum,
  ApiInteger,
  ApiString,
  ApiUuid,
  FieldOptions,
} from '../../shared/http/openapi';
import { ApiProperty } from '@nestjs/swagger';
import type { InviteDelivery, InviteRow } from '../invites.repository';
import { ROLES } from './organization.dto';

const ApiInviteEmail = (options: FieldOptions = {}) =>
  ApiString({ format: 'email', maxLength: 254, ...options });
const ApiInviteRole = () =>
  ApiEnum(ROLES, { description: 'owner only when the caller is an owner' });
const ApiMaxUses = (options: FieldOptions = {}) =>
  ApiInteger({ minimum: 1, maximum: 1000, description: 'How many may join with it', ...options });
const ApiExpiresInHours = () =>
  ApiInteger({
    required: false,
    minimum: 1,
    maximum: 720,
    description: 'Default: INVITE_TTL_HOURS (7 days)',
  });

/**
 * With `email`: an email invite for that address (single use). Without: a shareable
 * link code, usable `maxUses` times, returned once in the response. The document
 * describes the two shapes (EmailInviteDto, LinkInviteDto: documentation only) as a oneOf; this class is the
 * one the validation pipe runs, and the service refuses a mix of the two.
 */
export class CreateInviteDto {
  @ApiInviteEmail({ required: false, description: 'Send an email invite to this address' })
  @Optional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiInviteRole()
  @IsIn(ROLES)
  role!: OrgRole;

  @ApiMaxUses({ required: false, description: 'Link invites only: how many may join with it' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxUses?: number;

  @ApiExpiresInHours()
  @Optional()
  @IsInt()
  @Min(1)
  @Max(720)
  expiresInHours?: number;
}

/** An email invite: the token goes to that address, single use. */
export class EmailInviteDto {
  @ApiInviteEmail({ description: 'Send the invite to this address' })
  email!: string;
  @ApiInviteRole()
  role!: OrgRole;
  @ApiExpiresInHours()
  expiresInHours?: number;
}

/** A link invite: a code usable `maxUses` times, returned once. */
export class LinkInviteDto {
  @ApiInviteRole()
  role!: OrgRole;
  @ApiMaxUses()
  maxUses!: number;
  @ApiExpiresInHours()
  expiresInHours?: number;
}

export class AcceptInviteDto {
  @ApiString({ minLength: 1, maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token!: string;
}

/** How the invite's latest email is doing (DESIGN §5: queued, sent after commit, retried). */
export class InviteDeliveryResponse {
  status!: InviteDelivery['status'];
  attempts!: number;
  lastError!: string | null;
  sentAt!: Date | null;
}

export class InviteResponse {
  @ApiUuid()
  id!: string;
  @ApiEnum(['email', 'link'])
  kind!: 'email' | 'link';
  @ApiString({ format: 'email', nullable: true })
  email!: string | null;
  @ApiEnum(ROLES)
  role!: OrgRole;
  @ApiInteger({ minimum: 1 })
  maxUses!: number;
  @ApiInteger({ minimum: 0 })
  uses!: number;
  @ApiDateTime()
  expiresAt!: Date;
  @ApiDateTime()
  createdAt!: Date;
  @ApiUuid({ nullable: true })
  createdBy!: string | null;
  // Inline, not a $ref: OpenAPI 3.0 cannot make a referenced schema nullable.
  @ApiProperty({
    type: 'object',
    nullable: true,
    description:
      'Email invites: the delivery of the latest email (queued: waiting or being retried; sent: the ' +
      'mail server took it; failed: given up after the last retry). Link invites: null',
    required: ['status', 'attempts', 'lastError', 'sentAt'],
    properties: {
      status: { type: 'string', enum: ['queued', 'sent', 'failed', 'cancelled'] },
      attempts: { type: 'integer', minimum: 0, description: 'Sending attempts so far' },
      lastError: { type: 'string', nullable: true, description: "The last failed attempt's error" },
      sentAt: { type: 'string', format: 'date-time', nullable: true },
    },
  } as never)
  delivery!: InviteDeliveryResponse | null;

  static of(row: InviteRow, delivery: InviteDelivery | null): InviteResponse {
    return Object.assign(new InviteResponse(), {
      id: row.id,
      kind: row.kind,
      email: row.email,
      role: row.role,
      maxUses: row.maxUses,
      uses: row.uses,
      expiresAt: row.expiresAt,
      createdAt: row.createdAt,
      createdBy: row.createdBy,
      delivery: delivery && Object.assign(new InviteDeliveryResponse(), delivery),
    });
  }
}

export class CreatedInviteResponse extends InviteResponse {
  @ApiString({
    required: false,
    description: 'Link invites only, and only in this response: the code to share',
  })
  token?: string;
  @ApiString({
    required: false,
    description: 'Link invites only: the accept link built from APP_URL',
  })
  url?: string;
}

export class AcceptedInviteResponse {
  @ApiUuid()
  orgId!: string;
  @ApiString()
  orgName!: string;
  @ApiEnum(ROLES)
  role!: OrgRole;
  @ApiDateTime()
  joinedAt!: Date;
}
