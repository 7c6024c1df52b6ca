import { OrgRole } from '../shared/database/request-context';
import {
  mayChangeRole,
  mayInviteAs,
  mayRemove,
  mayStillGrant,
  OrgPermissions,
  rolesNoLongerGrantable,
} from './organization.policy';

const ROLES: OrgRole[] = ['owner', 'admin', 'member', 'viewer'];

describe('organization policy', () => {
  describe('mayChangeRole(actor, target, next)', () => {
    const cases: Array<[OrgRole, OrgRole, OrgRole, boolean]> = [];
    for (const target of ROLES) {
      for (const next of ROLES) {
        cases.push(['owner', target, next, true]);
        cases.push(['admin', target, next, target !== 'owner' && next !== 'owner']);
        cases.push(['member', target, next, false]);
        cases.push(['viewer', target, next, false]);
      }
    }
    it.each(cases)('%s changing a %s to %s → %s', (actor, target, next, expected) => {
      expect(mayChangeRole(actor, target, next)).toBe(expected);
    });
  });

  describe('mayRemove(actor, target)', () => {
    it.each([
      ['owner', 'owner', true],
      ['owner', 'viewer', true],
      ['admin', 'owner', false],
      ['admin', 'admin', true],
      ['admin', 'member', true],
      ['member', 'viewer', false],
      ['viewer', 'viewer', false],
    ] as Array<[OrgRole, OrgRole, boolean]>)('%s removing a %s → %s', (actor, target, expected) => {
      expect(mayRemove(actor, target)).toBe(expected);
    });
  });

  describe('mayInviteAs(actor, role)', () => {
    it.each([
      ['owner', 'owner', true],
      ['owner', 'admin', true],
      ['admin', 'owner', false],
      ['admin', 'admin', true],
      ['admin', 'viewer', true],
      ['member', 'viewer', false],
    ] as Array<[OrgRole, OrgRole, boolean]>)('%s inviting as %s → %s', (actor, role, expected) => {
      expect(mayInviteAs(actor, role)).toBe(expected);
    });
  });

  describe("mayStillGrant(creatorRole, role): an invite redeemed on its creator's authority", () => {
    it.each([
      ['owner', 'owner', true],
      ['admin', 'admin', true],
      ['admin', 'owner', false],
      ['member', 'member', false],
      ['viewer', 'viewer', false],
      [null, 'viewer', false],
    ] as Array<[OrgRole | null, OrgRole, boolean]>)(
      '%s granting %s → %s',
      (creator, role, expected) => {
        expect(mayStillGrant(creator, role)).toBe(expected);
      },
    );
  });

  describe('rolesNoLongerGrantable(next): the invites revoked when a creator becomes next', () => {
    it.each([
      ['owner', []],
      ['admin', ['owner']],
      ['member', ROLES],
      ['viewer', ROLES],
      [null, ROLES],
    ] as Array<[OrgRole | null, OrgRole[]]>)('%s → %j', (next, expected) => {
      expect(rolesNoLongerGrantable(next)).toEqual(expected);
    });
  });

  it('lets only owners delete an org and only managers read the audit log', () => {
    expect(OrgPermissions.delete).toEqual(['owner']);
    expect([...OrgPermissions.readAuditLog].sort()).toEqual(['admin', 'owner']);
    expect([...OrgPermissions.read].sort()).toEqual([...ROLES].sort());
  });
});
