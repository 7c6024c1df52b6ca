import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one, rows } from '../database/sql';

/** A key's stored state: what it was first used for, and the sealed first response. */
export interface StoredKey {
  requestHash: Buffer;
  status: number | null;
  response: Buffer | null;
  /** Still within its 24 h replay window. */
  fresh: boolean;
}

/**
 * The kernel's `idempotency_keys` table: claimed in the request's transaction, completed
 * with the sealed response, purged after 24 h. Keys are the user's (`user_id` leads).
 */
@Injectable()
export class IdempotencyKeysRepository {
  /** Claims the key for this request; false when it exists already. */
  async claim(
    em: EntityManager,
    key: { userId: string; digest: string; orgId: string | null; requestHash: Buffer },
  ): Promise<boolean> {
    const claimed = await rows<{ claimed: number }>(
      em,
      `INSERT INTO idempotency_keys (user_id, key_digest, org_id, request_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, key_digest) DO NOTHING RETURNING 1 AS claimed`,
      [key.userId, key.digest, key.orgId, key.requestHash],
    );
    return claimed.length > 0;
  }

  /** The existing key, locked until the transaction ends (a concurrent duplicate waits). */
  lockExisting(em: EntityManager, userId: string, digest: string): Promise<StoredKey | undefined> {
    return one<StoredKey>(
      em,
      `SELECT request_hash AS "requestHash", status, response,
              created_at > now() - interval '24 hours' AS fresh
         FROM idempotency_keys WHERE user_id = $1 AND key_digest = $2 FOR UPDATE`,
      [userId, digest],
    );
  }

  /** A key past its window starts a new life with this request. */
  async restart(
    em: EntityManager,
    key: { userId: string; digest: string; orgId: string | null; requestHash: Buffer },
  ): Promise<void> {
    await em.query(
      `UPDATE idempotency_keys
          SET request_hash = $3, org_id = $4, status = NULL, response = NULL, created_at = now()
        WHERE user_id = $1 AND key_digest = $2`,
      [key.userId, key.digest, key.requestHash, key.orgId],
    );
  }

  /** Stores the first response, sealed, with the change it made. */
  async complete(
    em: EntityManager,
    userId: string,
    digest: string,
    status: number,
    sealed: Buffer,
  ): Promise<void> {
    await em.query(
      `UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key_digest = $2`,
      [userId, digest, status, sealed],
    );
  }

  /** Deletes the keys past their 24 h window (as worklane_system); answers how many went. */
  async purgeExpired(em: EntityManager): Promise<number> {
    const row = await one<{ n: number }>(
      em,
      `WITH gone AS (
         DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours' RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
    );
    return row?.n ?? 0;
  }
}
