import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as bcrypt from 'bcrypt';
import { EntityManager } from 'typeorm';
import { EmailProof } from '../shared/auth/ports';
import { hashToken, newOpaqueToken } from '../shared/auth/tokens';
import { Env } from '../shared/config/env';
import { onUniqueViolation } from '../shared/database/sql';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { Jobs } from '../shared/jobs/jobs';
import { MailQueue } from '../shared/mail/mail-queue';
import {
  emailChangeConfirmMail,
  emailChangeNoticeMail,
  passwordResetMail,
  verifyEmailMail,
} from '../shared/mail/templates/account';
import { appLink } from '../shared/mail/templates/render';
import { EmailTaken, EmailTokenGone, InvalidEmailToken } from './accounts.errors';
import { EmailTokenPurpose, EmailTokensRepository } from './email-tokens.repository';
import { SessionsRepository } from './sessions.repository';
import { UsersRepository } from './users.repository';

const HOUR_MS = 60 * 60 * 1000;
/** How long each kind of mailed token works. */
export const TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 48 * HOUR_MS,
  change_email: 24 * HOUR_MS,
  reset_password: 1 * HOUR_MS,
};

interface ResetRequest {
  email: string;
}

type Recipient = { id: string; email: string; name: string };

/**
 * The account's emails: address verification, address change, password reset. Each
 * token is 32 random bytes mailed once, stored as SHA-256, single use and expiring; each
 * email is queued in the transaction that issues its token (MailQueue).
 */
@Injectable()
export class AccountEmailsService implements OnModuleInit, EmailProof {
  private readonly appUrl: string;
  private readonly bcryptCost: number;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly users: UsersRepository,
    private readonly tokens: EmailTokensRepository,
    private readonly sessions: SessionsRepository,
    private readonly mail: MailQueue,
    private readonly jobs: Jobs,
    config: ConfigService<Env, true>,
  ) {
    this.appUrl = config.get('APP_URL', { infer: true });
    this.bcryptCost = config.get('BCRYPT_COST', { infer: true });
  }

  onModuleInit(): void {
    this.jobs.register<ResetRequest>(this.mail.taskName('password-reset'), (job) =>
      this.mailResetLink(job.email),
    );
  }

  // ---- verification ----------------------------------------------------------------------

  /** A new account (or an address never proved): mails a verification link. */
  async sendVerification(em: EntityManager, user: Recipient): Promise<void> {
    await this.tokens.retire(em, user.id, ['verify_email']);
    const { token, expiresAt } = await this.issue(em, user.id, 'verify_email', user.email);
    await this.mail.enqueue(
      em,
      verifyEmailMail({
        to: user.email,
        name: user.name,
        link: appLink(this.appUrl, '/verify-email', token),
        expiresAt,
      }),
      { purpose: 'verify_email' },
    );
  }

  /**
   * `POST /auth/verify-email`: a verification token proves the address; an address-change
   * token applies the change (the new address becomes the account's, verified).
   */
  async verify(token: string): Promise<void> {
    await this.uow.system('auth.verify_email', async (em) => {
      const spent = await this.spend(em, token, ['verify_email', 'change_email']);
      const user = await this.users.findById(em, spent.userId);
      if (!user) throw new InvalidEmailToken();
      if (spent.purpose === 'verify_email') {
        // A token for an address the account no longer has proves nothing now.
        if (user.email !== spent.email) throw new EmailTokenGone();
        await this.users.markVerified(em, user.id, spent.email);
        return;
      }
      if (user.pendingEmail !== spent.email) throw new EmailTokenGone();
      await this.users
        .update(em, user.id, {
          email: spent.email,
          pendingEmail: null,
          emailVerifiedAt: new Date(),
        })
        .catch(onUniqueViolation(() => new EmailTaken()));
    });
  }

  /** EmailProof: a token mailed to `email` came back (an email invite's, say). */
  addressProved(em: EntityManager, userId: string, email: string): Promise<void> {
    return this.users.markVerified(em, userId, email);
  }

  // ---- address change --------------------------------------------------------------------

  /**
   * The new address gets a confirmation link, the old one a notice; until the link comes
   * back, `email` (sign-in, invites) stays the old address and the new one is pending.
   */
  async requestAddressChange(em: EntityManager, user: Recipient, newEmail: string): Promise<void> {
    // The user row first: on Citus a write to `users` (a reference table) may not follow
    // the retirement's write across every `email_tokens` shard, which points at it.
    await this.users.update(em, user.id, { pendingEmail: newEmail });
    await this.tokens.retire(em, user.id, ['change_email']);
    const { token, expiresAt } = await this.issue(em, user.id, 'change_email', newEmail);
    await this.mail.enqueue(
      em,
      emailChangeConfirmMail({
        to: newEmail,
        name: user.name,
        oldEmail: user.email,
        link: appLink(this.appUrl, '/verify-email', token),
        expiresAt,
      }),
      { purpose: 'change_email' },
    );
    await this.mail.enqueue(
      em,
      emailChangeNoticeMail({ to: user.email, name: user.name, newEmail, expiresAt }),
      { purpose: 'change_email_notice' },
    );
  }

  /** A pending address change is dropped (its link stops working). */
  async cancelAddressChange(em: EntityManager, userId: string): Promise<void> {
    await this.users.update(em, userId, { pendingEmail: null }); // first: see above
    await this.tokens.retire(em, userId, ['change_email']);
  }

  // ---- password reset --------------------------------------------------------------------

  /**
   * `POST /auth/password/forgot`: the same work for every address — one job enqueued —
   * so neither the answer nor its timing says whether an account exists. The job decides.
   */
  async forgot(email: string): Promise<void> {
    await this.uow.system('auth.password_forgot', (em) =>
      this.jobs.enqueue<ResetRequest>(em, this.mail.taskName('password-reset'), { email }),
    );
  }

  /** The forgot-password job: an account with that address gets a reset link; else nothing. */
  private async mailResetLink(email: string): Promise<void> {
    await this.uow.system('auth.password_reset_mail', async (em) => {
      const user = await this.users.findByEmail(em, email);
      if (!user) return;
      await this.tokens.retire(em, user.id, ['reset_password']);
      const { token, expiresAt } = await this.issue(em, user.id, 'reset_password', user.email);
      await this.mail.enqueue(
        em,
        passwordResetMail({
          to: user.email,
          name: user.name,
          link: appLink(this.appUrl, '/reset-password', token),
          expiresAt,
        }),
        { purpose: 'reset_password' },
      );
    });
  }

  /**
   * `POST /auth/password/reset`: a new password, every session ended (their access tokens
   * die on the next request), the address proven and a pending address change dropped.
   */
  async resetPassword(token: string, newPassword: string): Promise<void> {
    // bcrypt outside the transaction: no connection is held while it hashes.
    const passwordHash = await bcrypt.hash(newPassword, this.bcryptCost);
    await this.uow.system('auth.password_reset', async (em) => {
      const spent = await this.spend(em, token, ['reset_password']);
      await this.users.update(em, spent.userId, { passwordHash });
      await this.sessions.revokeAllOf(em, spent.userId, 'password_reset');
      await this.users.markVerified(em, spent.userId, spent.email);
      await this.cancelAddressChange(em, spent.userId);
    });
  }

  // ---- tokens ------------------------------------------------------------------------------

  private async issue(
    em: EntityManager,
    userId: string,
    purpose: EmailTokenPurpose,
    email: string,
  ): Promise<{ token: string; expiresAt: Date }> {
    const token = newOpaqueToken();
    const expiresAt = new Date(Date.now() + TOKEN_TTL_MS[purpose]);
    await this.tokens.insert(em, {
      tokenHash: hashToken(token),
      userId,
      purpose,
      email,
      expiresAt,
    });
    return { token, expiresAt };
  }

  private async spend(em: EntityManager, token: string, purposes: EmailTokenPurpose[]) {
    const spent = await this.tokens.spend(em, hashToken(token), purposes);
    if (spent === 'unknown') throw new InvalidEmailToken();
    if (spent === 'gone') throw new EmailTokenGone();
    return spent;
  }
}
