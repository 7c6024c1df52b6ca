import { Optional } from '../../shared/http/dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { OrgRole } from '../../shared/database/request-context';
import type { InviteRow } from '../invites.repository';
import { ROLES } from './organization.dto';

/**
 * With `email`: an email invite for that address (single use). Without: a shareable
 * link code, usable `maxUses` times, returned once in the response.
 */
export class CreateInviteDto {
  @ApiPropertyOptional({ description: 'Send an email invite to this address' })
  @Optional()
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiProperty({ enum: ROLES, description: 'owner only when the caller is an owner' })
  @IsIn(ROLES)
  role!: OrgRole;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1000,
    description: 'Link invites only: how many may join with it',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxUses?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 720,
    description: 'Default: INVITE_TTL_HOURS (7 days)',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(720)
  expiresInHours?: number;
}

export class AcceptInviteDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token!: string;
}

export class InviteResponse {
  id!: string;
  @ApiProperty({ enum: ['email', 'link'] })
  kind!: 'email' | 'link';
  @ApiProperty({ type: String, nullable: true })
  email!: string | null;
  @ApiProperty({ enum: ROLES })
  role!: OrgRole;
  maxUses!: number;
  uses!: number;
  expiresAt!: Date;
  createdAt!: Date;
  @ApiProperty({ type: String, nullable: true })
  createdBy!: string | null;

  static of(row: InviteRow): InviteResponse {
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
    });
  }
}

export class CreatedInviteResponse extends InviteResponse {
  /** Link invites only, and only in this response: the code to share. */
  @ApiPropertyOptional()
  token?: string;
  /** Link invites only: the accept link built from APP_URL. */
  @ApiPropertyOptional()
  url?: string;
}

export class AcceptedInviteResponse {
  orgId!: string;
  orgName!: string;
  @ApiProperty({ enum: ROLES })
  role!: OrgRole;
  joinedAt!: Date;
}
