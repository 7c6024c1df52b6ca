import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { InviteRedeemer } from '../shared/auth/ports';
import { hashToken, newOpaqueToken } from '../shared/auth/tokens';
import { Env } from '../shared/config/env';
import { RequestContext } from '../shared/database/request-context';
import { isUniqueViolation } from '../shared/database/sql';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EventBus } from '../shared/events/event-bus';
import { InvalidField, NotFound } from '../shared/http/domain-error';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { MailService } from '../shared/mail/mail.service';
import {
  AcceptedInviteResponse,
  CreatedInviteResponse,
  CreateInviteDto,
  InviteResponse,
} from './dto/invite.dto';
import { inviteMail } from './invite-mail';
import { InvitesRepository } from './invites.repository';
import {
  AlreadyMember,
  InviteEmailMismatch,
  InviteExpired,
  InviteNotFound,
  InviteRevokedError,
  InviteUsedUp,
} from './organizations.errors';
import { InviteAccepted, InviteCreated, InviteRevoked, MemberJoined } from './organization.events';
import { assertAllowed } from '../shared/auth/policy';
import { mayInviteAs, mayStillGrant } from './organization.policy';
import { OrganizationsRepository } from './organizations.repository';

const HOUR_MS = 60 * 60 * 1000;

/** Email and link invites: create, list, revoke, and their redemption (DESIGN §5). */
@Injectable()
export class InvitesService implements InviteRedeemer {
  private readonly appUrl: string;
  private readonly defaultTtlHours: number;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly invites: InvitesRepository,
    private readonly orgs: OrganizationsRepository,
    private readonly events: EventBus,
    private readonly mail: MailService,
    config: ConfigService<Env, true>,
  ) {
    this.appUrl = config.get('APP_URL', { infer: true }).replace(/\/+$/, '');
    this.defaultTtlHours = config.get('INVITE_TTL_HOURS', { infer: true });
  }

  /**
   * The email goes out inside the transaction: if it cannot be sent, no invite exists and
   * the caller gets 503, rather than a 201 for an invite nobody received.
   */
  async create(input: CreateInviteDto): Promise<CreatedInviteResponse> {
    const actor = RequestContext.tenant();
    assertAllowed(
      mayInviteAs(actor.role, input.role),
      'Only an owner may invite someone as owner.',
    );
    if (input.email && input.maxUses !== undefined) {
      throw new InvalidField('maxUses', 'only link invites (without email) take maxUses');
    }
    if (!input.email && input.maxUses === undefined) {
      throw new InvalidField('maxUses', 'a link invite (without email) needs maxUses');
    }

    return this.uow.run(async (em) => {
      const email = input.email ?? null;
      if (email) {
        await this.invites.lockAddress(em, actor.orgId, email);
        if (await this.orgs.isMemberByEmail(em, actor.orgId, email)) throw new AlreadyMember();
        for (const replaced of await this.invites.revokeLiveTo(em, actor.orgId, email)) {
          await this.events.publish(
            new InviteRevoked(actor.orgId, actor.userId, replaced, 'replaced'),
          );
        }
      }
      const token = newOpaqueToken();
      const invite = await this.invites.insert(em, {
        orgId: actor.orgId,
        kind: email ? 'email' : 'link',
        email,
        role: input.role,
        tokenHash: hashToken(token),
        maxUses: email ? 1 : input.maxUses!,
        expiresAt: new Date(Date.now() + (input.expiresInHours ?? this.defaultTtlHours) * HOUR_MS),
        createdBy: actor.userId,
      });
      await this.events.publish(
        new InviteCreated(actor.orgId, actor.userId, invite.id, {
          kind: invite.kind,
          email,
          role: invite.role,
          maxUses: invite.maxUses,
        }),
      );
      const url = `${this.appUrl}/invites/accept?token=${token}`;
      if (!email)
        return Object.assign(new CreatedInviteResponse(), InviteResponse.of(invite), {
          token,
          url,
        });

      const { orgName, inviterName } = await this.orgs.inviteContext(em, actor.orgId, actor.userId);
      await this.mail.send(
        inviteMail({
          to: email,
          orgName,
          inviterName,
          role: invite.role,
          acceptUrl: url,
          token,
          expiresAt: invite.expiresAt,
        }),
      );
      return Object.assign(new CreatedInviteResponse(), InviteResponse.of(invite));
    });
  }

  async listPending(limit: number, cursor?: string): Promise<Page<InviteResponse>> {
    const { orgId } = RequestContext.tenant();
    const after = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    const found = await this.uow.run((em) => this.invites.listPending(em, orgId, limit, after));
    return toPage(found, limit, (i) => [i.createdKey, i.id], InviteResponse.of);
  }

  async revoke(inviteId: string): Promise<void> {
    const actor = RequestContext.tenant();
    await this.uow.run(async (em) => {
      const outcome = await this.invites.revoke(em, actor.orgId, inviteId);
      if (outcome === 'missing') throw new NotFound('invite');
      if (outcome === 'revoked') {
        await this.events.publish(
          new InviteRevoked(actor.orgId, actor.userId, inviteId, 'revoked'),
        );
      }
    });
  }

  /** A signed-in user redeems a token: a named system operation (the token names the org). */
  accept(userId: string, token: string): Promise<AcceptedInviteResponse> {
    return this.uow.system('invites.accept', async (em) => {
      const email = await this.orgs.emailOf(em, userId);
      if (!email) throw new NotFound('user');
      return this.redeem(em, token, { id: userId, email });
    });
  }

  /** Registration with an invite token: joins the registration's transaction. */
  async redeemForNewUser(token: string, user: { id: string; email: string }): Promise<void> {
    await this.uow.system('invites.redeem_for_new_user', (em) => this.redeem(em, token, user));
  }

  private async redeem(
    em: EntityManager,
    token: string,
    user: { id: string; email: string },
  ): Promise<AcceptedInviteResponse> {
    const invite = await this.invites.findByTokenForUpdate(em, hashToken(token));
    if (!invite) throw new InviteNotFound();
    // Revoked by hand, or as good as: its creator may no longer grant the role.
    if (invite.revokedAt || !mayStillGrant(invite.creatorRole, invite.role)) {
      throw new InviteRevokedError();
    }
    if (invite.expiresAt.getTime() <= Date.now()) throw new InviteExpired();
    if (invite.uses >= invite.maxUses) throw new InviteUsedUp();
    if (invite.kind === 'email' && invite.email !== user.email) throw new InviteEmailMismatch();
    // An existing membership (also one made a moment ago through another invite of the
    // same org) meets the primary key: already a member.
    const member = await this.orgs
      .insertMembership(em, invite.orgId, user.id, invite.role)
      .catch((error) => {
        throw isUniqueViolation(error) ? new AlreadyMember() : error;
      });
    await this.invites.countUse(em, invite.orgId, invite.id);
    await this.events.publish(
      new InviteAccepted(invite.orgId, user.id, invite.id, invite.role),
      new MemberJoined(invite.orgId, user.id, user.id, invite.role, 'invite'),
    );
    return {
      orgId: invite.orgId,
      orgName: invite.orgName,
      role: invite.role,
      joinedAt: member.joinedAt,
    };
  }
}
