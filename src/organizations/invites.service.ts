import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import {
  EMAIL_PROOF,
  EmailProof,
  InviteRedeemer,
  USER_DIRECTORY,
  UserDirectory,
} from '../shared/auth/ports';
import { claimedOrg, hashToken, newInviteToken } from '../shared/auth/tokens';
import { Env } from '../shared/config/env';
import { RequestContext } from '../shared/database/request-context';
import { onUniqueViolation } from '../shared/database/sql';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EventBus } from '../shared/events/event-bus';
import { InvalidField, NotFound } from '../shared/http/domain-error';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { MailQueue } from '../shared/mail/mail-queue';
import { inviteMail } from '../shared/mail/templates/invite';
import { appLink } from '../shared/mail/templates/render';
import {
  AcceptedInviteResponse,
  CreatedInviteResponse,
  CreateInviteDto,
  InviteResponse,
} from './dto/invite.dto';
import { InviteRow, InvitesRepository } from './invites.repository';
import {
  AlreadyMember,
  InviteEmailMismatch,
  InviteExpired,
  InviteNotFound,
  InviteNotMailed,
  InviteRevokedError,
  InviteTokenReplaced,
  InviteUsedUp,
} from './organizations.errors';
import {
  InviteAccepted,
  InviteCreated,
  InviteResent,
  InviteRevoked,
  MemberJoined,
} from './organization.events';
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
    private readonly mail: MailQueue,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    config: ConfigService<Env, true>,
    @Optional() @Inject(EMAIL_PROOF) private readonly proofs?: EmailProof,
  ) {
    this.appUrl = config.get('APP_URL', { infer: true });
    this.defaultTtlHours = config.get('INVITE_TTL_HOURS', { infer: true });
  }

  /**
   * An email invite's email is queued in this transaction and sent after commit (with
   * retries): the answer never waits for the mail server, and `delivery` tells how it went.
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
        const invitee = await this.users.idByEmail(em, email);
        if (invitee && (await this.orgs.isMember(em, actor.orgId, invitee))) {
          throw new AlreadyMember();
        }
        const replaced = await this.invites.revokeLiveTo(em, actor.orgId, email);
        await this.mail.cancel(
          em,
          replaced.map((r) => r.mailId),
        );
        for (const { id } of replaced) {
          await this.events.publish(new InviteRevoked(actor.orgId, actor.userId, id, 'replaced'));
        }
      }
      const token = newInviteToken(actor.orgId);
      const url = appLink(this.appUrl, '/invites/accept', token);
      const expiresAt = new Date(
        Date.now() + (input.expiresInHours ?? this.defaultTtlHours) * HOUR_MS,
      );
      const mailId = email
        ? await this.queueInviteMail(em, { email, role: input.role, token, url, expiresAt })
        : null;
      const invite = await this.invites.insert(em, {
        orgId: actor.orgId,
        kind: email ? 'email' : 'link',
        email,
        role: input.role,
        tokenHash: hashToken(token),
        maxUses: email ? 1 : input.maxUses!,
        expiresAt,
        createdBy: actor.userId,
        mailId,
      });
      await this.events.publish(
        new InviteCreated(actor.orgId, actor.userId, invite.id, {
          kind: invite.kind,
          email,
          role: invite.role,
          maxUses: invite.maxUses,
        }),
      );
      if (!email)
        return Object.assign(new CreatedInviteResponse(), InviteResponse.of(invite, null), {
          token,
          url,
        });
      const listed = await this.invites.findWithDelivery(em, actor.orgId, invite.id);
      return Object.assign(
        new CreatedInviteResponse(),
        InviteResponse.of(listed!, listed!.delivery),
      );
    });
  }

  /**
   * A new token for a pending email invite, mailed anew: the old token is dead at once
   * (410), the invite lives its original lifetime again from now, and a still-queued old
   * email is cancelled. A link invite → 409; revoked or expired → 410; used → 409.
   */
  async resend(inviteId: string): Promise<InviteResponse> {
    const actor = RequestContext.tenant();
    return this.uow.run(async (em) => {
      const invite = await this.invites.findForUpdate(em, actor.orgId, inviteId);
      if (!invite) throw new NotFound('invite');
      assertAllowed(
        mayInviteAs(actor.role, invite.role),
        'Only an owner may resend an invite as owner.',
      );
      if (invite.kind !== 'email' || !invite.email) throw new InviteNotMailed();
      this.assertLive(invite);
      const token = newInviteToken(actor.orgId);
      const lifetime = invite.expiresAt.getTime() - invite.createdAt.getTime();
      const expiresAt = new Date(Date.now() + lifetime);
      const mailId = await this.queueInviteMail(em, {
        email: invite.email,
        role: invite.role,
        token,
        url: appLink(this.appUrl, '/invites/accept', token),
        expiresAt,
        resent: true,
      });
      await this.mail.cancel(em, [invite.mailId]);
      await this.invites.rotateToken(em, invite, hashToken(token), mailId, expiresAt);
      const listed = (await this.invites.findWithDelivery(em, actor.orgId, invite.id))!;
      await this.events.publish(
        new InviteResent(actor.orgId, actor.userId, invite.id, {
          email: invite.email,
          role: invite.role,
          expiresAt: listed.expiresAt.toISOString(),
        }),
      );
      return InviteResponse.of(listed, listed.delivery);
    });
  }

  private assertLive(invite: InviteRow): void {
    if (invite.revokedAt) throw new InviteRevokedError();
    if (invite.expiresAt.getTime() <= Date.now()) throw new InviteExpired();
    if (invite.uses >= invite.maxUses) throw new InviteUsedUp();
  }

  private async queueInviteMail(
    em: EntityManager,
    input: {
      email: string;
      role: string;
      token: string;
      url: string;
      expiresAt: Date;
      resent?: boolean;
    },
  ): Promise<string> {
    const actor = RequestContext.tenant();
    const { orgName, inviterName } = await this.inviteContext(em, actor.orgId, actor.userId);
    return this.mail.enqueue(
      em,
      inviteMail({
        to: input.email,
        orgName,
        inviterName,
        role: input.role,
        acceptUrl: input.url,
        token: input.token,
        expiresAt: input.expiresAt,
        resent: input.resent,
      }),
      { purpose: input.resent ? 'invite_resent' : 'invite', orgId: actor.orgId },
    );
  }

  /** What an invitation email says: the org's name and the inviter's. */
  private async inviteContext(em: EntityManager, orgId: string, inviterId: string) {
    const org = await this.orgs.findOrg(em, orgId);
    const inviter = (await this.users.cards(em, [inviterId])).get(inviterId);
    if (!org || !inviter) throw new Error('an invite needs its org and its inviter');
    return { orgName: org.name, inviterName: inviter.name };
  }

  async listPending(limit: number, cursor?: string): Promise<Page<InviteResponse>> {
    const { orgId } = RequestContext.tenant();
    const after = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    const found = await this.uow.run((em) => this.invites.listPending(em, orgId, limit, after));
    return toPage(
      found,
      limit,
      (i) => [i.createdKey, i.id],
      (i) => InviteResponse.of(i, i.delivery),
    );
  }

  async revoke(inviteId: string): Promise<void> {
    const actor = RequestContext.tenant();
    await this.uow.run(async (em) => {
      const result = await this.invites.revoke(em, actor.orgId, inviteId);
      if (result.outcome === 'missing') throw new NotFound('invite');
      if (result.outcome === 'revoked') {
        // Its email, if still waiting, would carry a dead token.
        await this.mail.cancel(em, [result.mailId]);
        await this.events.publish(
          new InviteRevoked(actor.orgId, actor.userId, inviteId, 'revoked'),
        );
      }
    });
  }

  /** A signed-in user redeems a token: a named system operation (the token names the org). */
  accept(userId: string, token: string): Promise<AcceptedInviteResponse> {
    return this.uow.system('invites.accept', async (em) => {
      const email = (await this.users.cards(em, [userId])).get(userId)?.email;
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
    // A token that names no org (malformed, or issued before tokens named theirs) is
    // unknown: 404, like any token no invite has.
    const orgId = claimedOrg(token);
    if (!orgId) throw new InviteNotFound();
    const tokenHash = hashToken(token);
    const invite = await this.invites.findByTokenForUpdate(em, orgId, tokenHash);
    if (!invite) {
      throw (await this.invites.isRetiredToken(em, orgId, tokenHash))
        ? new InviteTokenReplaced()
        : new InviteNotFound();
    }
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
      .catch(onUniqueViolation(() => new AlreadyMember()));
    await this.invites.countUse(em, invite.orgId, invite.id);
    // The mailed token came back from that address: it is proven.
    if (invite.kind === 'email') await this.proofs?.addressProved(em, user.id, invite.email!);
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
