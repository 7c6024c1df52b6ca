import { EVERYONE } from '../shared/auth/policy';
import { OrgRole } from '../shared/database/request-context';

const MANAGERS: readonly OrgRole[] = ['owner', 'admin'];

/** DESIGN §4, the org rows: who may call which route at all. */
export const OrgPermissions = {
  read: EVERYONE,
  rename: MANAGERS,
  delete: ['owner'],
  manageMembers: MANAGERS,
  manageInvites: MANAGERS,
  readAuditLog: MANAGERS,
  leave: EVERYONE,
} as const satisfies Record<string, readonly OrgRole[]>;

/**
 * Object rules the route table cannot express, as pure functions over roles.
 * Admins never act on owners and never grant owner; only owners may.
 */
export function mayChangeRole(actor: OrgRole, target: OrgRole, next: OrgRole): boolean {
  if (actor === 'owner') return true;
  if (actor === 'admin') return target !== 'owner' && next !== 'owner';
  return false;
}

export function mayRemove(actor: OrgRole, target: OrgRole): boolean {
  if (actor === 'owner') return true;
  if (actor === 'admin') return target !== 'owner';
  return false;
}

/** The role an invite grants: admins invite as admin, member or viewer; owners as anything. */
export function mayInviteAs(actor: OrgRole, role: OrgRole): boolean {
  if (actor === 'owner') return true;
  if (actor === 'admin') return role !== 'owner';
  return false;
}

/**
 * Whether an invite may still be redeemed on its creator's authority: the creator must
 * still be a member (`creatorRole` not null) who may invite as `role` today.
 */
export function mayStillGrant(creatorRole: OrgRole | null, role: OrgRole): boolean {
  return creatorRole !== null && mayInviteAs(creatorRole, role);
}

/** The invite roles a member whose role becomes `next` may no longer grant (all, if none). */
export function rolesNoLongerGrantable(next: OrgRole | null): OrgRole[] {
  return EVERYONE.filter((role) => !mayStillGrant(next, role));
}
