import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiInteger, ApiString, ApiUuid } from '../../shared/http/openapi';
import type { UserEntity } from '../user.entity';

export class UserResponse {
  @ApiUuid()
  id!: string;
  @ApiString({ format: 'email' })
  email!: string;
  @ApiString()
  name!: string;
  @ApiProperty({ type: Boolean, description: 'Whether a token mailed to `email` came back' })
  emailVerified!: boolean;
  @ApiString({
    format: 'email',
    nullable: true,
    description: 'A new address waiting for its confirmation; `email` stays in use until then',
  })
  pendingEmail!: string | null;
  @ApiDateTime()
  createdAt!: Date;

  static of(user: UserEntity): UserResponse {
    return Object.assign(new UserResponse(), {
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerifiedAt != null,
      pendingEmail: user.pendingEmail ?? null,
      createdAt: user.createdAt,
    });
  }
}

export class TokenPairResponse {
  @ApiString({ description: 'JWT for `Authorization: Bearer`; lives `expiresIn` seconds' })
  accessToken!: string;
  @ApiString({ description: 'Opaque; single use: each refresh returns a new one' })
  refreshToken!: string;
  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';
  @ApiInteger({ minimum: 1, description: 'Seconds the access token lives' })
  expiresIn!: number;
}

export class AuthResponse extends TokenPairResponse {
  @ApiProperty({ type: () => UserResponse })
  user!: UserResponse;
}

export class MembershipSummary {
  @ApiUuid()
  orgId!: string;
  @ApiString()
  orgName!: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member', 'viewer'] })
  role!: string;
  @ApiDateTime()
  joinedAt!: Date;
}

export class MeResponse {
  @ApiProperty({ type: () => UserResponse })
  user!: UserResponse;
  @ApiProperty({ type: () => [MembershipSummary] })
  memberships!: MembershipSummary[];
}

/** The one answer of forgot-password, whatever the address. */
export class ForgotPasswordResponse {
  @ApiString({
    description: 'Always the same: whether an account has the address is not disclosed',
  })
  message!: string;
}
