import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MembershipDirectory } from '../shared/auth/ports';
import { OrgRole } from '../shared/database/request-context';
import { OrganizationsRepository } from './organizations.repository';

/** What the kernel's guard chain and `accounts` (GET /me) ask of memberships. */
@Injectable()
export class OrganizationsMembershipDirectory implements MembershipDirectory {
  constructor(private readonly repo: OrganizationsRepository) {}

  /** Read under a share lock: the role holds until the caller's transaction ends. */
  roleOf(em: EntityManager, orgId: string, userId: string): Promise<OrgRole | null> {
    return this.repo.roleOf(em, orgId, userId);
  }

  /** With `lockOrg`, takes the org row (key share) first: the lock order a deletion relies on. */
  callerMembership(
    em: EntityManager,
    orgId: string,
    userId: string,
    sessionId: string,
    options: { lockOrg: boolean },
  ) {
    return this.repo.callerRole(em, orgId, userId, sessionId, options);
  }

  callerMembershipRead(
    orgId: string,
    userId: string,
    sessionId: string,
    options: { lockOrg: boolean },
  ) {
    return this.repo.callerRoleRead(orgId, userId, sessionId, options);
  }

  async listForUser(em: EntityManager, userId: string) {
    const orgs = await this.repo.listForUser(em, userId, 1000, null);
    return orgs.map((o) => ({ orgId: o.id, orgName: o.name, role: o.role, joinedAt: o.joinedAt }));
  }
}
