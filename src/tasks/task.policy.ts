import { EVERYONE } from '../shared/auth/policy';
import { OrgRole, TenantMembership } from '../shared/database/request-context';

/** DESIGN §4, the task rows: who may call which route at all... */
export const TaskPermissions = {
  read: EVERYONE,
  create: ['owner', 'admin', 'member'],
  /** ...then `mayUpdate` / `mayDelete` decide on the task itself. */
  write: ['owner', 'admin', 'member'],
  export: ['owner', 'admin'],
} as const satisfies Record<string, readonly OrgRole[]>;

export interface TaskOwnership {
  createdBy: string | null;
  assigneeId: string | null;
}

const manages = (role: OrgRole) => role === 'owner' || role === 'admin';

/** Owners and admins update any task; a member, the tasks they created or are assigned. */
export function mayUpdate(member: TenantMembership, task: TaskOwnership): boolean {
  if (manages(member.role)) return true;
  return (
    member.role === 'member' &&
    (task.createdBy === member.userId || task.assigneeId === member.userId)
  );
}

/** Owners and admins delete any task; a member, only the tasks they created. */
export function mayDelete(member: TenantMembership, task: TaskOwnership): boolean {
  if (manages(member.role)) return true;
  return member.role === 'member' && task.createdBy === member.userId;
}

/** Only members who can work on tasks may be assigned: not viewers. */
export function mayBeAssigned(role: OrgRole | null): boolean {
  return role !== null && role !== 'viewer';
}
