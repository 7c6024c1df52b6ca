import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one } from '../shared/database/sql';

/** Single-use event stream tickets of one org (only their SHA-256 is stored). */
@Injectable()
export class EventTicketsRepository {
  /** Stores a ticket and clears the org's expired ones. */
  async issue(
    em: EntityManager,
    ticket: { orgId: string; hash: Buffer; userId: string; sessionId: string; expiresAt: Date },
  ): Promise<void> {
    await em.query(
      `WITH expired AS (DELETE FROM event_stream_tickets WHERE org_id = $1 AND expires_at < now())
       INSERT INTO event_stream_tickets (org_id, token_hash, user_id, session_id, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [ticket.orgId, ticket.hash, ticket.userId, ticket.sessionId, ticket.expiresAt],
    );
  }

  /**
   * Spends a ticket: deletes it and answers whose it was if it had not expired. A second
   * use finds nothing, on any instance.
   */
  async redeem(
    em: EntityManager,
    orgId: string,
    hash: Buffer,
  ): Promise<{ userId: string; sessionId: string } | null> {
    // Expiry judged here: Citus runs RETURNING on the shard, where now() may not.
    const row = await one<{ userId: string; sessionId: string; expiresAt: Date }>(
      em,
      `DELETE FROM event_stream_tickets WHERE org_id = $1 AND token_hash = $2
       RETURNING user_id AS "userId", session_id AS "sessionId", expires_at AS "expiresAt"`,
      [orgId, hash],
    );
    return row && row.expiresAt.getTime() > Date.now()
      ? { userId: row.userId, sessionId: row.sessionId }
      : null;
  }
}
