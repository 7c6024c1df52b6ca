import { OrgRole, TenantMembership } from '../shared/database/request-context';
import { mayBeAssigned, mayDelete, mayUpdate } from './task.policy';

const ME = 'me-0000';
const OTHER = 'other-0000';
const as = (role: OrgRole): TenantMembership => ({ orgId: 'org', userId: ME, role });

describe('task policy', () => {
  const tasks = {
    created: { createdBy: ME, assigneeId: OTHER },
    assigned: { createdBy: OTHER, assigneeId: ME },
    neither: { createdBy: OTHER, assigneeId: null },
  };

  it.each([
    ['owner', 'neither', true, true],
    ['admin', 'neither', true, true],
    ['member', 'created', true, true],
    ['member', 'assigned', true, false],
    ['member', 'neither', false, false],
    ['viewer', 'created', false, false],
    ['viewer', 'assigned', false, false],
  ] as Array<[OrgRole, keyof typeof tasks, boolean, boolean]>)(
    '%s on a task they %s: update %s, delete %s',
    (role, which, update, remove) => {
      expect(mayUpdate(as(role), tasks[which])).toBe(update);
      expect(mayDelete(as(role), tasks[which])).toBe(remove);
    },
  );

  it('assigns members, admins and owners, never viewers or non-members', () => {
    expect(['owner', 'admin', 'member'].every((r) => mayBeAssigned(r as OrgRole))).toBe(true);
    expect(mayBeAssigned('viewer')).toBe(false);
    expect(mayBeAssigned(null)).toBe(false);
  });
});
