import { Inject, Injectable, Optional } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { MEMBERSHIP_DIRECTORY, MembershipDirectory } from '../shared/auth/ports';
import { NotFound } from '../shared/http/domain-error';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EmailTaken, WrongPassword } from './accounts.errors';
import { AuthService } from './auth.service';
import { MeResponse, UserResponse } from './dto/auth.response';
import { SessionsRepository } from './sessions.repository';
import { normalizeEmail } from './user.entity';
import { UsersRepository } from './users.repository';
import { AccountEmailsService } from './account-emails.service';

/** The signed-in user's own account: /me. */
@Injectable()
export class ProfileService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly auth: AuthService,
    private readonly emails: AccountEmailsService,
    @Optional() @Inject(MEMBERSHIP_DIRECTORY) private readonly memberships?: MembershipDirectory,
  ) {}

  async me(userId: string): Promise<MeResponse> {
    // As worklane_system: the app role may not read the credential columns of users.
    return this.uow.system('me.profile', async (em) => {
      const user = await this.users.findById(em, userId);
      if (!user) throw new NotFound('user');
      const memberships = this.memberships ? await this.memberships.listForUser(em, userId) : [];
      return { user: UserResponse.of(user), memberships };
    });
  }

  /**
   * A name applies at once. A new address does not: it becomes `pendingEmail`, gets a
   * confirmation link (the old address a notice), and replaces `email` only once confirmed
   * (`POST /auth/verify-email`). Asking for the current address again drops a pending change.
   */
  async update(userId: string, changes: { name?: string; email?: string }): Promise<UserResponse> {
    return this.uow.system('me.update', async (em) => {
      const current = await this.users.findById(em, userId);
      if (!current) throw new NotFound('user');
      if (changes.name !== undefined) await this.users.update(em, userId, { name: changes.name });
      if (changes.email !== undefined) {
        const email = normalizeEmail(changes.email);
        if (email === current.email) {
          if (current.pendingEmail) await this.emails.cancelAddressChange(em, userId);
        } else {
          // Asking again for the pending address mails a fresh link (the old one dies).
          const holder = await this.users.findByEmail(em, email);
          if (holder) throw new EmailTaken();
          await this.emails.requestAddressChange(
            em,
            { id: userId, email: current.email, name: changes.name ?? current.name },
            email,
          );
        }
      }
      const user = await this.users.findById(em, userId);
      if (!user) throw new NotFound('user');
      return UserResponse.of(user);
    });
  }

  /**
   * A new password ends every other session: whoever else held one is signed out, and
   * their access tokens stop working on their next request (the session check).
   */
  async changePassword(
    caller: { id: string; sessionId: string },
    input: { currentPassword: string; newPassword: string },
  ): Promise<void> {
    const user = await this.uow.system('me.password', (em) => this.users.findById(em, caller.id));
    if (!user) throw new NotFound('user');
    if (!(await bcrypt.compare(input.currentPassword, user.passwordHash)))
      throw new WrongPassword();
    const passwordHash = await this.auth.hashPassword(input.newPassword);
    await this.uow.system('me.password', async (em) => {
      await this.users.update(em, caller.id, { passwordHash });
      await this.sessions.revokeAllOf(em, caller.id, 'password_changed', caller.sessionId);
      // The notice of an address change says a password change cancels it.
      await this.emails.cancelAddressChange(em, caller.id);
    });
  }
}
