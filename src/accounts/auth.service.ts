import { Inject, Injectable, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import * as bcrypt from 'bcrypt';
import { EntityManager } from 'typeorm';
import { AccessTokenClaims } from '../shared/auth/jwt.strategy';
import { INVITE_REDEEMER, InviteRedeemer, SessionDirectory } from '../shared/auth/ports';
import { claimedFamily, hashToken, newRefreshToken } from '../shared/auth/tokens';
import { UnitOfWork } from '../shared/database/unit-of-work';
import {
  EmailTaken,
  InvalidCredentials,
  InvalidRefreshToken,
  RefreshTokenReused,
} from './accounts.errors';
import { AuthResponse, TokenPairResponse, UserResponse } from './dto/auth.response';
import { SessionsRepository } from './sessions.repository';
import { normalizeEmail, UserEntity } from './user.entity';
import { onUniqueViolation } from '../shared/database/sql';
import { UsersRepository } from './users.repository';
import { AccountEmailsService } from './account-emails.service';

export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Sign-up, sign-in and the life of sessions: all named system operations (no tenant). */
@Injectable()
export class AuthService implements SessionDirectory {
  private readonly bcryptCost: number;
  private readonly accessTtl: number;
  private readonly refreshTtlMs: number;
  /** Compared against when the email is unknown, so both failures take as long. */
  private decoyHash?: Promise<string>;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly jwt: JwtService,
    private readonly emails: AccountEmailsService,
    config: ConfigService,
    @Optional() @Inject(INVITE_REDEEMER) private readonly invites?: InviteRedeemer,
  ) {
    this.bcryptCost = config.getOrThrow<number>('BCRYPT_COST');
    this.accessTtl = config.getOrThrow<number>('ACCESS_TOKEN_TTL_SECONDS');
    this.refreshTtlMs = config.getOrThrow<number>('REFRESH_TOKEN_TTL_DAYS') * DAY_MS;
  }

  /** Made on first use, not at start-up: a bcrypt hash costs a quarter second of CPU. */
  private decoy(): Promise<string> {
    return (this.decoyHash ??= bcrypt.hash('decoy-password', this.bcryptCost));
  }

  hashPassword(password: string): Promise<string> {
    return bcrypt.hash(password, this.bcryptCost);
  }

  async register(
    input: { email: string; password: string; name: string; inviteToken?: string },
    client: ClientInfo,
  ): Promise<AuthResponse> {
    const email = normalizeEmail(input.email);
    const passwordHash = await this.hashPassword(input.password);
    return this.uow.system('auth.register', async (em) => {
      if (await this.users.findByEmail(em, email)) throw new EmailTaken();
      const user = await this.users
        .insert(em, { email, name: input.name, passwordHash })
        .catch(onUniqueViolation(() => new EmailTaken()));
      let registered = user;
      if (input.inviteToken) {
        if (!this.invites) throw new Error('No invite redeemer is installed');
        await this.invites.redeemForNewUser(input.inviteToken, { id: user.id, email: user.email });
        // An email invite's token proved the address.
        registered = (await this.users.findById(em, user.id)) ?? user;
      }
      if (!registered.emailVerifiedAt) await this.emails.sendVerification(em, registered);
      return this.startSession(em, registered, client);
    });
  }

  async login(
    input: { email: string; password: string },
    client: ClientInfo,
  ): Promise<AuthResponse> {
    const email = normalizeEmail(input.email);
    // bcrypt runs outside any transaction: no connection is held while it hashes.
    const user = await this.uow.system('auth.login', (em) => this.users.findByEmail(em, email));
    const ok = await bcrypt.compare(input.password, user?.passwordHash ?? (await this.decoy()));
    if (!user || !ok) throw new InvalidCredentials();
    return this.uow.system('auth.login', (em) => this.startSession(em, user, client));
  }

  /**
   * Rotation: the presented token is spent and a new one issued in its family. A token
   * presented again means it leaked: the whole family is revoked (committed, then 401).
   */
  async refresh(refreshToken: string): Promise<TokenPairResponse> {
    // The family the token names is where it is looked for; a token naming none is unknown.
    const family = claimedFamily(refreshToken);
    if (!family) throw new InvalidRefreshToken();
    const tokenHash = hashToken(refreshToken);
    const result = await this.uow.system('auth.refresh', async (em) => {
      const spent = await this.sessions.spendToken(em, family, tokenHash);
      if (spent.outcome === 'unknown') return { error: new InvalidRefreshToken() };
      if (spent.outcome === 'reused') {
        await this.sessions.revoke(em, spent.sessionId, 'refresh_token_reused');
        return { error: new RefreshTokenReused() };
      }
      const session = await this.sessions.findForUpdate(em, spent.sessionId);
      if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) {
        return { error: new InvalidRefreshToken() };
      }
      return { pair: await this.issue(em, session.userId, session.id) };
    });
    if ('error' in result) throw result.error;
    return result.pair;
  }

  /** Ends the session family of the given token; unknown tokens are ignored. */
  async logout(refreshToken: string): Promise<void> {
    const family = claimedFamily(refreshToken);
    if (!family) return;
    await this.uow.system('auth.logout', async (em) => {
      const sessionId = await this.sessions.sessionOfToken(em, family, hashToken(refreshToken));
      if (sessionId) await this.sessions.revoke(em, sessionId, 'logout');
    });
  }

  /** The JWT guard's question on routes that are not tenant routes (SESSION_DIRECTORY). */
  isLive(userId: string, sessionId: string): Promise<boolean> {
    return this.uow.system('auth.session-check', (em) =>
      this.sessions.isLive(em, userId, sessionId),
    );
  }

  async logoutAll(userId: string): Promise<void> {
    await this.uow.system('auth.logout-all', (em) =>
      this.sessions.revokeAllOf(em, userId, 'logout_all'),
    );
  }

  private async startSession(
    em: EntityManager,
    user: UserEntity,
    client: ClientInfo,
  ): Promise<AuthResponse> {
    const sessionId = await this.sessions.create(em, {
      userId: user.id,
      userAgent: client.userAgent?.slice(0, 500),
      ip: client.ip,
      expiresAt: new Date(Date.now() + this.refreshTtlMs),
    });
    const pair = await this.issue(em, user.id, sessionId);
    return Object.assign(new AuthResponse(), pair, { user: UserResponse.of(user) });
  }

  private async issue(
    em: EntityManager,
    userId: string,
    sessionId: string,
  ): Promise<TokenPairResponse> {
    const refreshToken = newRefreshToken(sessionId);
    const expiresAt = new Date(Date.now() + this.refreshTtlMs);
    await this.sessions.addToken(em, sessionId, hashToken(refreshToken), expiresAt);
    await this.sessions.touch(em, sessionId, expiresAt);
    const claims: AccessTokenClaims = { sub: userId, sid: sessionId };
    // Issuer, audience and iat come from the module's sign options; verification demands them.
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: this.accessTtl });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.accessTtl };
  }
}
