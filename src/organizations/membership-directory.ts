import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MembershipDirectory } from '../shared/auth/ports';
import { OrgRole } from '../shared/database/request-context';
import { OrganizationsRepository } from './organizations.repository';

/** What the kernel's guard chain and `accounts` (GET /me) ask of memberships. */
@Injectable()
export class OrganizationsMembershipDirectory implements MembershipDirectory {
  constructor(private readonly repo: OrganizationsRepository) {}

  roleOf(em: EntityManager, orgId: string, userId: string): Promise<OrgRole | null> {
    return this.repo.roleOf(em, orgId, userId);
  }

  callerMembership(em: EntityManager, orgId: string, userId: string, sessionId: string) {
    return this.repo.callerRole(em, orgId, userId, sessionId);
  }

  async listForUser(em: EntityManager, userId: string) {
    const orgs = await this.repo.listForUser(em, userId, 1000, null);
    return orgs.map((o) => ({ orgId: o.id, orgName: o.name, role: o.role, joinedAt: o.joinedAt }));
  }
}
