import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one, Presence, rows } from '../shared/database/sql';

export type EmailTokenPurpose = 'verify_email' | 'change_email' | 'reset_password';

export interface SpentEmailToken {
  userId: string;
  purpose: EmailTokenPurpose;
  email: string;
}

/** Tokens mailed to an address (only their SHA-256 is stored); single use, expiring. */
@Injectable()
export class EmailTokensRepository {
  async insert(
    em: EntityManager,
    token: {
      tokenHash: Buffer;
      userId: string;
      purpose: EmailTokenPurpose;
      email: string;
      expiresAt: Date;
    },
  ): Promise<void> {
    await em.query(
      `INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [token.tokenHash, token.userId, token.purpose, token.email, token.expiresAt],
    );
  }

  /** Spends the user's live tokens of these purposes: a newer one replaces them. */
  async retire(em: EntityManager, userId: string, purposes: EmailTokenPurpose[]): Promise<void> {
    await em.query(
      `UPDATE email_tokens SET used_at = now()
        WHERE user_id = $1 AND purpose = ANY($2::text[]) AND used_at IS NULL`,
      [userId, purposes],
    );
  }

  /**
   * Spends a live token of one of `purposes` in one statement (of two concurrent uses one
   * wins). 'gone': it exists but was used or has expired; 'unknown': no such token here.
   */
  async spend(
    em: EntityManager,
    tokenHash: Buffer,
    purposes: EmailTokenPurpose[],
  ): Promise<SpentEmailToken | 'gone' | 'unknown'> {
    const spent = await rows<SpentEmailToken>(
      em,
      `UPDATE email_tokens SET used_at = now()
        WHERE token_hash = $1 AND purpose = ANY($2::text[]) AND used_at IS NULL AND expires_at > now()
        RETURNING user_id AS "userId", purpose, email`,
      [tokenHash, purposes],
    );
    if (spent.length > 0) return spent[0]!;
    const known = await one<Presence>(
      em,
      `SELECT 1 FROM email_tokens WHERE token_hash = $1 AND purpose = ANY($2::text[])`,
      [tokenHash, purposes],
    );
    return known ? 'gone' : 'unknown';
  }
}
