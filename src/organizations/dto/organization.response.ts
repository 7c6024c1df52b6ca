import { OrgRole } from '../../shared/database/request-context';
import { ApiDateTime, ApiEnum, ApiString, ApiUuid } from '../../shared/http/openapi';
import type { MemberRow, OrgRow } from '../organizations.repository';
import { ROLES } from './organization.dto';

export class OrganizationResponse {
  @ApiUuid()
  id!: string;
  @ApiString()
  name!: string;
  @ApiEnum(ROLES, { description: "The caller's role in this org" })
  role!: OrgRole;
  @ApiDateTime()
  createdAt!: Date;
  @ApiDateTime()
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
  @ApiUuid()
  userId!: string;
  @ApiString()
  name!: string;
  @ApiString({ format: 'email' })
  email!: string;
  @ApiEnum(ROLES)
  role!: OrgRole;
  @ApiDateTime()
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
