import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EventBus } from '../shared/events/event-bus';
import { NotFound } from '../shared/http/domain-error';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { OrganizationResponse } from './dto/organization.response';
import { MemberJoined, OrgCreated, OrgDeleted, OrgRenamed } from './organization.events';
import { OrganizationsRepository } from './organizations.repository';

/** Orgs as a whole: create, list mine, read, rename, delete. */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: OrganizationsRepository,
    private readonly events: EventBus,
  ) {}

  /** The org and its creator's owner membership, in one transaction scoped to the new org. */
  async create(actorId: string, name: string): Promise<OrganizationResponse> {
    const orgId = randomUUID();
    return this.uow.runInOrg(orgId, actorId, async (em) => {
      const org = await this.repo.insertOrg(em, { id: orgId, name, createdBy: actorId });
      await this.repo.insertMembership(em, orgId, actorId, 'owner');
      await this.events.publish(
        new OrgCreated(orgId, actorId, name),
        new MemberJoined(orgId, actorId, actorId, 'owner', 'org_created'),
      );
      return OrganizationResponse.of(org, 'owner');
    });
  }

  async listMine(
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<OrganizationResponse>> {
    const after = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    // Across orgs, so a named system operation (a query on every shard on Citus).
    const found = await this.uow.system('orgs.list-mine', (em) =>
      this.repo.listForUser(em, userId, limit, after),
    );
    return toPage(
      found,
      limit,
      (o) => [o.joinedKey, o.id],
      (o) => OrganizationResponse.of(o, o.role),
    );
  }

  async current(): Promise<OrganizationResponse> {
    const { orgId, role } = RequestContext.tenant();
    const org = await this.uow.run((em) => this.repo.findOrg(em, orgId));
    if (!org) throw new NotFound('organization');
    return OrganizationResponse.of(org, role);
  }

  async rename(name: string): Promise<OrganizationResponse> {
    const { orgId, userId, role } = RequestContext.tenant();
    return this.uow.run(async (em) => {
      const before = await this.repo.findOrg(em, orgId);
      if (!before) throw new NotFound('organization');
      const after = await this.repo.renameOrg(em, orgId, name);
      if (before.name !== name)
        await this.events.publish(new OrgRenamed(orgId, userId, before.name, name));
      return OrganizationResponse.of(after, role);
    });
  }

  /**
   * Everything of the org goes; the event is published first, while the org still exists.
   * The org row is locked before anything else, the order every tenant write keeps (the
   * membership guard holds it): in-flight writes finish first, later ones find no org.
   */
  async delete(): Promise<void> {
    const { orgId, userId } = RequestContext.tenant();
    await this.uow.run(async (em) => {
      const org = await this.repo.lockOrg(em, orgId);
      if (!org) throw new NotFound('organization');
      await this.events.publish(new OrgDeleted(orgId, userId, org.name));
      await this.repo.deleteOrg(em, orgId);
    });
  }
}
