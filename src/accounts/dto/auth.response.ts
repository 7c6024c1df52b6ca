import { ApiProperty } from '@nestjs/swagger';
import type { UserEntity } from '../user.entity';

export class UserResponse {
  id!: string;
  email!: string;
  name!: string;
  createdAt!: Date;

  static of(user: UserEntity): UserResponse {
    return Object.assign(new UserResponse(), {
      id: user.id,
      email: user.email,
      name: user.name,
      createdAt: user.createdAt,
    });
  }
}

export class TokenPairResponse {
  /** JWT for `Authorization: Bearer`; lives `expiresIn` seconds. */
  accessToken!: string;
  /** Opaque; single use: each refresh returns a new one. */
  refreshToken!: string;
  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';
  expiresIn!: number;
}

export class AuthResponse extends TokenPairResponse {
  user!: UserResponse;
}

export class MembershipSummary {
  orgId!: string;
  orgName!: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member', 'viewer'] })
  role!: string;
  joinedAt!: Date;
}

export class MeResponse {
  user!: UserResponse;
  memberships!: MembershipSummary[];
}
