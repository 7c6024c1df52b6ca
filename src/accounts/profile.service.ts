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
import { isUniqueViolation } from '../shared/database/sql';
import { UsersRepository } from './users.repository';

/** The signed-in user's own account: /me. */
@Injectable()
export class ProfileService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly auth: AuthService,
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

  async update(userId: string, changes: { name?: string; email?: string }): Promise<UserResponse> {
    return this.uow.system('me.update', async (em) => {
      const patch = {
        ...changes,
        ...(changes.email ? { email: normalizeEmail(changes.email) } : {}),
      };
      if (patch.email) {
        const holder = await this.users.findByEmail(em, patch.email);
        if (holder && holder.id !== userId) throw new EmailTaken();
      }
      if (Object.keys(patch).length > 0) {
        await this.users.update(em, userId, patch).catch((error) => {
          throw isUniqueViolation(error) ? new EmailTaken() : error;
        });
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
    });
  }
}
