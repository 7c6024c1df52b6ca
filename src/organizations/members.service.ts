import { MailQueue } from '../shared/mail/mail-queue';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OrgRole, RequestContext, TenantMembership } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EventBus } from '../shared/events/event-bus';
import { NotFound } from '../shared/http/domain-error';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { MemberResponse } from './dto/organization.response';
import { InvitesRepository } from './invites.repository';
import { LastOwnerRequired } from './organizations.errors';
import {
  InviteRevoked,
  InviteRevokeReason,
  MemberLeft,
  MemberRemoved,
  MemberRoleChanged,
} from './organization.events';
import { assertAllowed } from '../shared/auth/policy';
import { mayChangeRole, mayRemove, rolesNoLongerGrantable } from './organization.policy';
import { USER_DIRECTORY, UserDirectory } from '../shared/auth/ports';
import { MemberRow, MembershipRow, OrganizationsRepository } from './organizations.repository';

/** Members of the current org: list, change a role, remove, leave (DESIGN §4). */
@Injectable()
export class MembersService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: OrganizationsRepository,
    private readonly invites: InvitesRepository,
    private readonly events: EventBus,
    private readonly mail: MailQueue,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
  ) {}

  async list(limit: number, cursor?: string): Promise<Page<MemberResponse>> {
    const { orgId } = RequestContext.tenant();
    const after = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    const found = await this.uow.run(async (em) =>
      this.withCards(em, await this.repo.listMembers(em, orgId, limit, after)),
    );
    return toPage(found, limit, (m) => [m.joinedKey, m.userId], MemberResponse.of);
  }

  async changeRole(userId: string, next: OrgRole): Promise<MemberResponse> {
    const actor = RequestContext.tenant();
    return this.uow.run(async (em) => {
      const owners = await this.repo.lockOwners(em, actor.orgId);
      const target = await this.member(em, actor.orgId, userId);
      assertAllowed(
        mayChangeRole(actor.role, target.role, next),
        'Admins may not change an owner, nor make anyone an owner.',
      );
      if (target.role === next) return MemberResponse.of(target);
      if (target.role === 'owner') this.assertAnotherOwner(owners, userId);
      await this.repo.updateRole(em, actor.orgId, userId, next);
      await this.events.publish(
        new MemberRoleChanged(actor.orgId, actor.userId, userId, target.role, next),
      );
      await this.revokeInvitesOf(em, actor, userId, next, 'creator_demoted');
      return MemberResponse.of({ ...target, role: next });
    });
  }

  async remove(userId: string): Promise<void> {
    const actor = RequestContext.tenant();
    await this.uow.run(async (em) => {
      const owners = await this.repo.lockOwners(em, actor.orgId);
      const target = await this.member(em, actor.orgId, userId);
      assertAllowed(mayRemove(actor.role, target.role), 'Admins may not remove an owner.');
      if (target.role === 'owner') this.assertAnotherOwner(owners, userId);
      // Published first: subscribers (tasks unassigning) still see the membership.
      await this.events.publish(new MemberRemoved(actor.orgId, actor.userId, userId, target.role));
      await this.revokeInvitesOf(em, actor, userId, null, 'creator_removed');
      await this.repo.deleteMembership(em, actor.orgId, userId);
    });
  }

  async leave(): Promise<void> {
    const actor = RequestContext.tenant();
    await this.uow.run(async (em) => {
      const owners = await this.repo.lockOwners(em, actor.orgId);
      const me = await this.member(em, actor.orgId, actor.userId);
      if (me.role === 'owner') this.assertAnotherOwner(owners, actor.userId);
      await this.events.publish(new MemberLeft(actor.orgId, actor.userId, me.role));
      await this.revokeInvitesOf(em, actor, actor.userId, null, 'creator_left');
      await this.repo.deleteMembership(em, actor.orgId, actor.userId);
    });
  }

  /**
   * The target membership, locked until the change commits: an assignment to them (which
   * reads their role under a share lock) finishes first or waits and sees the change.
   */
  private async member(em: EntityManager, orgId: string, userId: string): Promise<MemberRow> {
    const member = await this.repo.findMemberForUpdate(em, orgId, userId);
    if (!member) throw new NotFound('member');
    return (await this.withCards(em, [member]))[0];
  }

  /** Who the members are (name, email), from `accounts` in one call for the whole list. */
  private async withCards(em: EntityManager, members: MembershipRow[]): Promise<MemberRow[]> {
    const cards = await this.users.cards(
      em,
      members.map((m) => m.userId),
    );
    return members.map((m) => {
      const card = cards.get(m.userId);
      if (!card) throw new Error(`member ${m.userId} has no user`);
      return { ...m, name: card.name, email: card.email };
    });
  }

  /**
   * A member's pending invites go when they lose the right to grant them (DESIGN §5):
   * all of them when they go (`next` null), those above their new role on a demotion.
   */
  private async revokeInvitesOf(
    em: EntityManager,
    actor: TenantMembership,
    creatorId: string,
    next: OrgRole | null,
    reason: InviteRevokeReason,
  ): Promise<void> {
    const roles = rolesNoLongerGrantable(next);
    const revoked = await this.invites.revokePendingBy(em, actor.orgId, creatorId, roles, reason);
    // Their emails, if still waiting, would carry dead tokens.
    await this.mail.cancel(
      em,
      revoked.map((r) => r.mailId),
    );
    await this.events.publish(
      ...revoked.map(({ id }) => new InviteRevoked(actor.orgId, actor.userId, id, reason)),
    );
  }

  /** `owners` was read under lock: it is the truth for this transaction. */
  private assertAnotherOwner(owners: string[], leaving: string): void {
    if (!owners.some((id) => id !== leaving)) throw new LastOwnerRequired();
  }
}
