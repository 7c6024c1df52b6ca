import { inRolledBackWorld, Medium, openMedium, World } from '../../test/medium/medium';
import { OrgRole } from '../shared/database/request-context';
import { Forbidden } from '../shared/http/domain-error';
import { InvitesRepository } from './invites.repository';
import { MembersService } from './members.service';
import { LastOwnerRequired } from './organizations.errors';
import { OrganizationsRepository } from './organizations.repository';

/** Medium tier: the membership rules on the real database, each case rolled back. */
describe('MembersService (medium: real database, rolled back)', () => {
  let medium: Medium;
  let members: MembersService;

  beforeAll(async () => {
    medium = await openMedium();
    members = new MembersService(
      medium.uow,
      new OrganizationsRepository(medium.topology),
      new InvitesRepository(),
      medium.bus,
      medium.mail,
      medium.users,
    );
  });
  afterAll(() => medium.close());

  const roles = async (world: World): Promise<Record<string, OrgRole>> => {
    const page = await world.as('viewer', () => members.list(100));
    return Object.fromEntries(page.data.map((m) => [m.name, m.role]));
  };
  const WORLD_ROLES = { owner: 'owner', admin: 'admin', member: 'member', viewer: 'viewer' };

  describe('the last owner', () => {
    it('may not leave: LastOwnerRequired, nothing changes, nothing is published', () =>
      inRolledBackWorld(medium, async (world) => {
        await expect(world.as('owner', () => members.leave())).rejects.toBeInstanceOf(
          LastOwnerRequired,
        );
        expect(await roles(world)).toEqual(WORLD_ROLES);
        expect(world.events).toEqual([]);
      }));

    it.each(['admin', 'member', 'viewer'] as const)(
      'may not step down to %s, not even by their own hand',
      (role) =>
        inRolledBackWorld(medium, async (world) => {
          await expect(
            world.as('owner', () => members.changeRole(world.users.owner.id, role)),
          ).rejects.toBeInstanceOf(LastOwnerRequired);
          expect(await roles(world)).toEqual(WORLD_ROLES);
        }),
    );

    it('may leave, step down or be removed once another owner exists', () =>
      inRolledBackWorld(medium, async (world) => {
        const second = await world.addUser('second', 'owner');
        await world.as('owner', () => members.changeRole(world.users.owner.id, 'admin'));
        await world.asUser(second, 'owner', () => members.remove(world.users.owner.id));
        expect(await roles(world)).toEqual({
          second: 'owner',
          admin: 'admin',
          member: 'member',
          viewer: 'viewer',
        });
        await expect(world.asUser(second, 'owner', () => members.leave())).rejects.toBeInstanceOf(
          LastOwnerRequired,
        );
        expect(world.events.map((e) => e.type)).toEqual(['member.role_changed', 'member.removed']);
      }));
  });

  describe('who may change whom', () => {
    it('an admin may not touch an owner nor make one, even with two owners', () =>
      inRolledBackWorld(medium, async (world) => {
        const second = await world.addUser('second', 'owner');
        for (const target of [world.users.owner.id, second.id]) {
          for (const role of ['admin', 'member', 'viewer', 'owner'] as const) {
            await expect(
              world.as('admin', () => members.changeRole(target, role)),
            ).rejects.toBeInstanceOf(Forbidden);
          }
          await expect(world.as('admin', () => members.remove(target))).rejects.toBeInstanceOf(
            Forbidden,
          );
        }
        for (const target of ['member', 'viewer', 'admin'] as const) {
          await expect(
            world.as('admin', () => members.changeRole(world.users[target].id, 'owner')),
          ).rejects.toBeInstanceOf(Forbidden);
        }
        expect(await roles(world)).toEqual({ ...WORLD_ROLES, second: 'owner' });
        expect(world.events).toEqual([]);
      }));

    it('a role change publishes the before and after; the same role changes nothing', () =>
      inRolledBackWorld(medium, async (world) => {
        const same = await world.as('admin', () =>
          members.changeRole(world.users.member.id, 'member'),
        );
        expect(same).toMatchObject({ userId: world.users.member.id, role: 'member' });
        expect(world.events).toEqual([]);
        const changed = await world.as('admin', () =>
          members.changeRole(world.users.member.id, 'viewer'),
        );
        expect(changed).toMatchObject({
          userId: world.users.member.id,
          name: 'member',
          email: world.users.member.email,
          role: 'viewer',
        });
        expect(world.events).toMatchObject([
          {
            type: 'member.role_changed',
            actorId: world.users.admin.id,
            target: { type: 'user', id: world.users.member.id },
            payload: { before: { role: 'member' }, after: { role: 'viewer' } },
          },
        ]);
      }));
  });

  it('lists members with names and emails from accounts, oldest first, a page at a time', () =>
    inRolledBackWorld(medium, async (world) => {
      const first = await world.as('member', () => members.list(2));
      expect(first.data.map((m) => m.name)).toHaveLength(2);
      const rest = await world.as('member', () => members.list(100, first.nextCursor!));
      const all = [...first.data, ...rest.data];
      expect(all.map((m) => m.name).sort()).toEqual(['admin', 'member', 'owner', 'viewer']);
      for (const m of all) {
        const user = world.users[m.name as OrgRole];
        expect(m).toMatchObject({ userId: user.id, email: user.email, role: m.name });
      }
      expect(rest.nextCursor).toBeNull();
    }));
});
