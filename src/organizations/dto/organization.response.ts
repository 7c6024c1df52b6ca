import { ApiProperty } from '@nestjs/swagger';
import { OrgRole } from '../../shared/database/request-context';
import type { MemberRow, OrgRow } from '../organizations.repository';

export class OrganizationResponse {
  id!: string;
  name!: string;
  /** The caller's role in this org. */
  @ApiProperty({ enum: ['owner', 'admin', 'member', 'viewer'] })
  role!: OrgRole;
  createdAt!: Date;
  updatedAt!: Date;

  static of(org: OrgRow, role: OrgRole): OrganizationResponse {
    return Object.assign(new OrganizationResponse(), {
      id: org.id,
      name: org.name,
      role,
      createdAt: org.createdAt,
      updatedAt: org.updatedAt,
    });
  }
}

export class MemberResponse {
  userId!: string;
  name!: string;
  email!: string;
  @ApiProperty({ enum: ['owner', 'admin', 'member', 'viewer'] })
  role!: OrgRole;
  joinedAt!: Date;

  static of(row: MemberRow): MemberResponse {
    return Object.assign(new MemberResponse(), {
      userId: row.userId,
      name: row.name,
      email: row.email,
      role: row.role,
      joinedAt: row.joinedAt,
    });
  }
}
