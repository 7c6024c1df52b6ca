import { asOwner, inRolledBackWorld, Medium, openMedium } from '../../test/medium/medium';
import { Forbidden } from '../shared/http/domain-error';
import { InvitesRepository } from './invites.repository';
import { InvitesService } from './invites.service';
import { AlreadyMember, InviteRevokedError } from './organizations.errors';
import { OrganizationsRepository } from './organizations.repository';

/** Medium tier: invite rules on the real database, each case rolled back. */
describe('InvitesService (medium: real database, rolled back)', () => {
  let medium: Medium;
  let invites: InvitesService;

  beforeAll(async () => {
    medium = await openMedium();
    invites = new InvitesService(
      medium.uow,
      new InvitesRepository(),
      new OrganizationsRepository(medium.topology),
      medium.bus,
      medium.mail,
      medium.users,
      medium.config,
    );
  });
  afterAll(() => medium.close());

  /** The token an invite's queued email carries. */
  const mailedToken = async (em: Parameters<typeof asOwner>[0], mailId: string) => {
    const [mail] = await asOwner<{ text_body: string | null; status: string }>(
      em,
      `SELECT text_body, status FROM queued_mail WHERE id = $1`,
      [mailId],
    );
    return {
      status: mail!.status,
      token: /token=([A-Za-z0-9_.-]+)/.exec(mail!.text_body ?? '')?.[1],
    };
  };
  const mailOf = async (em: Parameters<typeof asOwner>[0], inviteId: string) =>
    (
      await asOwner<{ mail_id: string }>(em, `SELECT mail_id FROM invites WHERE id = $1`, [
        inviteId,
      ])
    )[0]!.mail_id;

  it('a second email invite to one address replaces the first: revoked, its email cancelled, its token dead', () =>
    inRolledBackWorld(medium, async (world) => {
      const invitee = await world.addUser('invitee');
      const first = await world.as('admin', () =>
        invites.create({ email: invitee.email, role: 'member' }),
      );
      const firstMail = await mailOf(world.em, first.id);
      const { token: firstToken } = await mailedToken(world.em, firstMail);
      const second = await world.as('owner', () =>
        invites.create({ email: invitee.email, role: 'viewer' }),
      );

      const pending = await world.as('owner', () => invites.listPending(100));
      expect(pending.data.map((i) => i.id)).toEqual([second.id]);
      expect((await mailedToken(world.em, firstMail)).status).toBe('cancelled');
      expect(world.events.map((e) => [e.type, e.target?.id, e.payload])).toEqual([
        [
          'invite.created',
          first.id,
          { kind: 'email', email: invitee.email, role: 'member', maxUses: 1 },
        ],
        ['invite.revoked', first.id, { reason: 'replaced' }],
        [
          'invite.created',
          second.id,
          { kind: 'email', email: invitee.email, role: 'viewer', maxUses: 1 },
        ],
      ]);

      // As the invitee, signed in (no membership of theirs is read: the token names the org).
      await expect(
        world.asUser(invitee, 'viewer', () => invites.accept(invitee.id, firstToken!)),
      ).rejects.toBeInstanceOf(InviteRevokedError);
      const { token: secondToken } = await mailedToken(world.em, await mailOf(world.em, second.id));
      const accepted = await world.asUser(invitee, 'viewer', () =>
        invites.accept(invitee.id, secondToken!),
      );
      expect(accepted).toMatchObject({ orgId: world.orgId, orgName: 'Acme', role: 'viewer' });
    }));

  it("an invite to a member's address: AlreadyMember, nothing queued", () =>
    inRolledBackWorld(medium, async (world) => {
      await expect(
        world.as('owner', () => invites.create({ email: world.users.viewer.email, role: 'admin' })),
      ).rejects.toBeInstanceOf(AlreadyMember);
      expect(world.events).toEqual([]);
    }));

  it('the email names the org and the inviter (from accounts)', () =>
    inRolledBackWorld(medium, async (world) => {
      const created = await world.as('admin', () =>
        invites.create({ email: 'someone@example.test', role: 'member' }),
      );
      const [mail] = await asOwner<{ subject: string; text_body: string }>(
        world.em,
        `SELECT subject, text_body FROM queued_mail WHERE id = $1`,
        [await mailOf(world.em, created.id)],
      );
      expect(`${mail!.subject}\n${mail!.text_body}`).toContain('Acme');
      expect(mail!.text_body).toContain('admin');
    }));

  it('only an owner may invite as owner', () =>
    inRolledBackWorld(medium, async (world) => {
      await expect(
        world.as('admin', () => invites.create({ role: 'owner', maxUses: 1 })),
      ).rejects.toBeInstanceOf(Forbidden);
      const link = await world.as('owner', () => invites.create({ role: 'owner', maxUses: 1 }));
      expect(link).toMatchObject({ kind: 'link', role: 'owner', token: expect.any(String) });
    }));
});
