import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one, Presence, rows } from '../shared/database/sql';

export interface SessionRow {
  id: string;
  userId: string;
  revokedAt: Date | null;
  expiresAt: Date;
}

export type SpendResult =
  | { outcome: 'spent'; sessionId: string }
  | { outcome: 'reused'; sessionId: string }
  | { outcome: 'unknown' };

/**
 * Session families and their chains of refresh tokens (only SHA-256 hashes are stored).
 * A token is looked up in the family it names: one shard on Citus, where sessions are
 * distributed by id and their tokens with them.
 */
@Injectable()
export class SessionsRepository {
  async create(
    em: EntityManager,
    session: { userId: string; userAgent?: string; ip?: string; expiresAt: Date },
  ): Promise<string> {
    const row = await one<{ id: string }>(
      em,
      `INSERT INTO auth_sessions (user_id, user_agent, ip, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
      [session.userId, session.userAgent ?? null, session.ip ?? null, session.expiresAt],
    );
    return row!.id;
  }

  async addToken(
    em: EntityManager,
    sessionId: string,
    tokenHash: Buffer,
    expiresAt: Date,
  ): Promise<void> {
    await em.query(
      `INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)`,
      [tokenHash, sessionId, expiresAt],
    );
  }

  /**
   * Marks a token spent in one statement, so of two concurrent refreshes with the same
   * token exactly one wins; the other sees a reuse.
   */
  async spendToken(em: EntityManager, sessionId: string, tokenHash: Buffer): Promise<SpendResult> {
    const spent = await rows<{ session_id: string }>(
      em,
      `UPDATE refresh_tokens SET used_at = now()
        WHERE session_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()
        RETURNING session_id`,
      [sessionId, tokenHash],
    );
    if (spent.length > 0) return { outcome: 'spent', sessionId: spent[0].session_id };
    const known = await one<{ session_id: string; used_at: Date | null }>(
      em,
      `SELECT session_id, used_at FROM refresh_tokens WHERE session_id = $1 AND token_hash = $2`,
      [sessionId, tokenHash],
    );
    if (known?.used_at) return { outcome: 'reused', sessionId: known.session_id };
    return { outcome: 'unknown' };
  }

  /** The non-tenant routes' session check (tenant routes use `session_is_live()`). */
  async isLive(em: EntityManager, userId: string, sessionId: string): Promise<boolean> {
    const row = await one<Presence>(
      em,
      `SELECT 1 FROM auth_sessions
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()`,
      [sessionId, userId],
    );
    return row !== undefined;
  }

  async findForUpdate(em: EntityManager, sessionId: string): Promise<SessionRow | null> {
    const row = await one<{
      id: string;
      user_id: string;
      revoked_at: Date | null;
      expires_at: Date;
    }>(
      em,
      `SELECT id, user_id, revoked_at, expires_at FROM auth_sessions WHERE id = $1 FOR UPDATE`,
      [sessionId],
    );
    return row
      ? { id: row.id, userId: row.user_id, revokedAt: row.revoked_at, expiresAt: row.expires_at }
      : null;
  }

  async touch(em: EntityManager, sessionId: string, expiresAt: Date): Promise<void> {
    await em.query(`UPDATE auth_sessions SET last_used_at = now(), expires_at = $2 WHERE id = $1`, [
      sessionId,
      expiresAt,
    ]);
  }

  async sessionOfToken(
    em: EntityManager,
    sessionId: string,
    tokenHash: Buffer,
  ): Promise<string | null> {
    const row = await one<{ session_id: string }>(
      em,
      `SELECT session_id FROM refresh_tokens WHERE session_id = $1 AND token_hash = $2`,
      [sessionId, tokenHash],
    );
    return row?.session_id ?? null;
  }

  async revoke(em: EntityManager, sessionId: string, reason: string): Promise<void> {
    await em.query(
      `UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`,
      [sessionId, reason],
    );
  }

  /** Revokes every live session of the user except `keep` (the caller's own, if given). */
  async revokeAllOf(
    em: EntityManager,
    userId: string,
    reason: string,
    keep?: string,
  ): Promise<void> {
    await em.query(
      `UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [userId, reason, keep ?? null],
    );
  }
}
