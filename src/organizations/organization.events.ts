import { OrgRole } from '../shared/database/request-context';
import { DomainEvent, Target } from '../shared/events/domain-event';

const org = (id: string) => ({ type: 'organization', id });
const user = (id: string): Target<'user'> => ({ type: 'user', id });
const invite = (id: string) => ({ type: 'invite', id });

export class OrgCreated extends DomainEvent<{ after: { name: string } }> {
  readonly type = 'org.created';
  constructor(orgId: string, actorId: string, name: string) {
    super(orgId, actorId, org(orgId), { after: { name } });
  }
}

export class OrgRenamed extends DomainEvent<{ before: { name: string }; after: { name: string } }> {
  readonly type = 'org.renamed';
  constructor(orgId: string, actorId: string, before: string, after: string) {
    super(orgId, actorId, org(orgId), { before: { name: before }, after: { name: after } });
  }
}

export class OrgDeleted extends DomainEvent<{ before: { name: string } }> {
  readonly type = 'org.deleted';
  constructor(orgId: string, actorId: string, name: string) {
    super(orgId, actorId, org(orgId), { before: { name } });
  }
}

export class MemberJoined extends DomainEvent<
  { role: OrgRole; via: 'org_created' | 'invite' },
  Target<'user'>
> {
  readonly type = 'member.joined';
  constructor(
    orgId: string,
    actorId: string,
    userId: string,
    role: OrgRole,
    via: 'org_created' | 'invite',
  ) {
    super(orgId, actorId, user(userId), { role, via });
  }
}

export class MemberRoleChanged extends DomainEvent<
  { before: { role: OrgRole }; after: { role: OrgRole } },
  Target<'user'>
> {
  readonly type = 'member.role_changed';
  constructor(orgId: string, actorId: string, userId: string, before: OrgRole, after: OrgRole) {
    super(orgId, actorId, user(userId), { before: { role: before }, after: { role: after } });
  }
}

export class MemberRemoved extends DomainEvent<{ before: { role: OrgRole } }, Target<'user'>> {
  readonly type = 'member.removed';
  constructor(orgId: string, actorId: string, userId: string, role: OrgRole) {
    super(orgId, actorId, user(userId), { before: { role } });
  }
}

export class MemberLeft extends DomainEvent<{ before: { role: OrgRole } }, Target<'user'>> {
  readonly type = 'member.left';
  constructor(orgId: string, userId: string, role: OrgRole) {
    super(orgId, userId, user(userId), { before: { role } });
  }
}

export class InviteCreated extends DomainEvent<{
  kind: 'email' | 'link';
  email: string | null;
  role: OrgRole;
  maxUses: number;
}> {
  readonly type = 'invite.created';
  constructor(
    orgId: string,
    actorId: string,
    inviteId: string,
    details: { kind: 'email' | 'link'; email: string | null; role: OrgRole; maxUses: number },
  ) {
    super(orgId, actorId, invite(inviteId), details);
  }
}

/**
 * Why an invite stopped: revoked by hand, replaced by a newer one to the same address, or
 * its creator lost the right to grant it (removed, left, demoted).
 */
export type InviteRevokeReason =
  'revoked' | 'replaced' | 'creator_removed' | 'creator_left' | 'creator_demoted';

export class InviteRevoked extends DomainEvent<{ reason: InviteRevokeReason }> {
  readonly type = 'invite.revoked';
  constructor(orgId: string, actorId: string, inviteId: string, reason: InviteRevokeReason) {
    super(orgId, actorId, invite(inviteId), { reason });
  }
}

export class InviteAccepted extends DomainEvent<{ userId: string; role: OrgRole }> {
  readonly type = 'invite.accepted';
  constructor(orgId: string, userId: string, inviteId: string, role: OrgRole) {
    super(orgId, userId, invite(inviteId), { userId, role });
  }
}

/** An email invite got a new token and a new email; the old token is dead. Never the token. */
export class InviteResent extends DomainEvent<{ email: string; role: OrgRole; expiresAt: string }> {
  readonly type = 'invite.resent';
  constructor(
    orgId: string,
    actorId: string,
    inviteId: string,
    details: { email: string; role: OrgRole; expiresAt: string },
  ) {
    super(orgId, actorId, invite(inviteId), details);
  }
}

declare module '../shared/events/domain-event-map' {
  interface DomainEventMap {
    'org.created': OrgCreated;
    'org.renamed': OrgRenamed;
    'org.deleted': OrgDeleted;
    'member.joined': MemberJoined;
    'member.role_changed': MemberRoleChanged;
    'member.removed': MemberRemoved;
    'member.left': MemberLeft;
    'invite.created': InviteCreated;
    'invite.revoked': InviteRevoked;
    'invite.accepted': InviteAccepted;
    'invite.resent': InviteResent;
  }
}
