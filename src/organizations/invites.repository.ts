import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OrgRole } from '../shared/database/request-context';
import { one, Presence, rows } from '../shared/database/sql';
import type { InviteRevokeReason } from './organization.events';

export interface InviteRow {
  id: string;
  orgId: string;
  kind: 'email' | 'link';
  email: string | null;
  role: OrgRole;
  maxUses: number;
  uses: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  createdKey: string;
  mailId: string | null;
}

/** The delivery state of an invite's latest email (null: a link invite). */
export interface InviteDelivery {
  status: 'queued' | 'sent' | 'failed' | 'cancelled';
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
}

export type ListedInvite = InviteRow & { delivery: InviteDelivery | null };

const COLUMNS = `i.id, i.org_id AS "orgId", i.kind, i.email, i.role, i.max_uses AS "maxUses", i.uses,
  i.expires_at AS "expiresAt", i.revoked_at AS "revokedAt", i.created_by AS "createdBy",
  i.created_at AS "createdAt", i.created_at::text AS "createdKey", i.mail_id AS "mailId"`;
// What a write answers: the columns without the keyset text, a STABLE cast that no write's
// answer uses (Citus evaluates RETURNING on the shard, where only IMMUTABLE functions run).
const RETURNED = COLUMNS.replace(/ i\.created_at::text AS "createdKey",/, '');

const DELIVERY = `m.status AS "deliveryStatus", m.attempts AS "deliveryAttempts",
  m.last_error AS "deliveryLastError", m.sent_at AS "deliverySentAt"`;

type WithDelivery = InviteRow & {
  deliveryStatus: InviteDelivery['status'] | null;
  deliveryAttempts: number;
  deliveryLastError: string | null;
  deliverySentAt: Date | null;
};

function withDelivery({
  deliveryStatus,
  deliveryAttempts,
  deliveryLastError,
  deliverySentAt,
  ...row
}: WithDelivery): ListedInvite {
  return {
    ...row,
    delivery: deliveryStatus
      ? {
          status: deliveryStatus,
          attempts: deliveryAttempts,
          lastError: deliveryLastError,
          sentAt: deliverySentAt,
        }
      : null,
  };
}

const PENDING = `i.revoked_at IS NULL AND i.uses < i.max_uses AND i.expires_at > now()`;

/** Invites; tokens exist here only as SHA-256 hashes. */
@Injectable()
export class InvitesRepository {
  async insert(
    em: EntityManager,
    invite: {
      orgId: string;
      kind: 'email' | 'link';
      email: string | null;
      role: OrgRole;
      tokenHash: Buffer;
      maxUses: number;
      expiresAt: Date;
      createdBy: string;
      mailId: string | null;
    },
  ): Promise<InviteRow> {
    return (await one<InviteRow>(
      em,
      `INSERT INTO invites AS i (org_id, kind, email, role, token_hash, max_uses, expires_at, created_by, mail_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${RETURNED}`,
      [
        invite.orgId,
        invite.kind,
        invite.email,
        invite.role,
        invite.tokenHash,
        invite.maxUses,
        invite.expiresAt,
        invite.createdBy,
        invite.mailId,
      ],
    ))!;
  }

  /**
   * Serializes invite creation per (org, address) until the transaction ends, so two
   * concurrent invites to one address end as "the second replaces the first".
   */
  async lockAddress(em: EntityManager, orgId: string, email: string): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `invite:${orgId}:${email}`,
    ]);
  }

  /**
   * Revokes the pending invites `creatorId` made as one of `roles` (the ones they may no
   * longer grant), with the reason; answers their ids and emails.
   */
  async revokePendingBy(
    em: EntityManager,
    orgId: string,
    creatorId: string,
    roles: readonly OrgRole[],
    reason: InviteRevokeReason,
  ): Promise<Array<{ id: string; mailId: string | null }>> {
    if (roles.length === 0) return [];
    return rows<{ id: string; mailId: string | null }>(
      em,
      `UPDATE invites i SET revoked_at = now(), revoked_reason = $4
        WHERE i.org_id = $1 AND i.created_by = $2 AND i.role = ANY($3::text[]) AND ${PENDING}
        RETURNING i.id, i.mail_id AS "mailId"`,
      [orgId, creatorId, roles, reason],
    );
  }

  /** Revokes the live email invites to `email` (the one a new invite replaces). */
  revokeLiveTo(
    em: EntityManager,
    orgId: string,
    email: string,
  ): Promise<Array<{ id: string; mailId: string | null }>> {
    return rows<{ id: string; mailId: string | null }>(
      em,
      `UPDATE invites SET revoked_at = now(), revoked_reason = 'replaced'
        WHERE org_id = $1 AND kind = 'email' AND email = $2 AND revoked_at IS NULL AND uses < max_uses
        RETURNING id, mail_id AS "mailId"`,
      [orgId, email],
    );
  }

  async listPending(
    em: EntityManager,
    orgId: string,
    limit: number,
    after: [string, string] | null,
  ): Promise<ListedInvite[]> {
    const found = await rows<WithDelivery>(
      em,
      `SELECT ${COLUMNS}, ${DELIVERY} FROM invites i
         LEFT JOIN queued_mail m ON m.id = i.mail_id AND m.org_id = i.org_id
        WHERE i.org_id = $1 AND ${PENDING}
          AND ($2::timestamptz IS NULL OR (i.created_at, i.id) < ($2::timestamptz, $3::uuid))
        ORDER BY i.created_at DESC, i.id DESC
        LIMIT $4`,
      [orgId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
    return found.map(withDelivery);
  }

  /** One invite with its delivery state (after a create or a resend). */
  async findWithDelivery(
    em: EntityManager,
    orgId: string,
    inviteId: string,
  ): Promise<ListedInvite | undefined> {
    const row = await one<WithDelivery>(
      em,
      `SELECT ${COLUMNS}, ${DELIVERY} FROM invites i
         LEFT JOIN queued_mail m ON m.id = i.mail_id AND m.org_id = i.org_id
        WHERE i.org_id = $1 AND i.id = $2`,
      [orgId, inviteId],
    );
    return row && withDelivery(row);
  }

  /** The invite a resend works on, locked until the transaction ends (against a redemption). */
  findForUpdate(
    em: EntityManager,
    orgId: string,
    inviteId: string,
  ): Promise<InviteRow | undefined> {
    return one<InviteRow>(
      em,
      `SELECT ${COLUMNS} FROM invites i WHERE i.org_id = $1 AND i.id = $2 FOR UPDATE`,
      [orgId, inviteId],
    );
  }

  /**
   * A resend: the invite gets a new token, its lifetime again from now (`expiresAt`, the
   * date its new email states) and its new email; the old token is kept as retired, so that
   * it answers 410 (gone), not 404.
   */
  async rotateToken(
    em: EntityManager,
    invite: { orgId: string; id: string },
    tokenHash: Buffer,
    mailId: string,
    expiresAt: Date,
  ): Promise<void> {
    await em.query(
      `INSERT INTO retired_invite_tokens (org_id, token_hash, invite_id)
       SELECT org_id, token_hash, id FROM invites WHERE org_id = $1 AND id = $2`,
      [invite.orgId, invite.id],
    );
    await em.query(
      `UPDATE invites SET token_hash = $3, mail_id = $4, expires_at = $5 WHERE org_id = $1 AND id = $2`,
      [invite.orgId, invite.id, tokenHash, mailId, expiresAt],
    );
  }

  /** Whether `tokenHash` is one a resend replaced (a system read, in the org the token names). */
  async isRetiredToken(em: EntityManager, orgId: string, tokenHash: Buffer): Promise<boolean> {
    return (
      (await one<Presence>(
        em,
        `SELECT 1 FROM retired_invite_tokens WHERE org_id = $1 AND token_hash = $2`,
        [orgId, tokenHash],
      )) !== undefined
    );
  }

  /** Revokes a live invite; revoking twice is harmless ('unchanged'). */
  async revoke(
    em: EntityManager,
    orgId: string,
    inviteId: string,
  ): Promise<{ outcome: 'revoked'; mailId: string | null } | { outcome: 'unchanged' | 'missing' }> {
    const revoked = await rows<{ mailId: string | null }>(
      em,
      `UPDATE invites SET revoked_at = now(), revoked_reason = 'revoked'
        WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING mail_id AS "mailId"`,
      [orgId, inviteId],
    );
    if (revoked.length > 0) return { outcome: 'revoked', mailId: revoked[0]!.mailId };
    const exists = await one<Presence>(em, `SELECT 1 FROM invites WHERE org_id = $1 AND id = $2`, [
      orgId,
      inviteId,
    ]);
    return { outcome: exists ? 'unchanged' : 'missing' };
  }

  /**
   * Finds an invite by its token in the org the token names and locks it, so concurrent redemptions of
   * one token queue here and each sees the uses left by the one before. With it, the
   * creator's role in the org today (null if they are no member): the invite grants only
   * what its creator still may. A removal or demotion revokes the invite row, so it
   * queues on this lock too. The org row is locked first (key share), the order every
   * tenant write keeps: an org deletion waits for the redemption, or goes first and the
   * token then finds nothing (404).
   */
  findByTokenForUpdate(
    em: EntityManager,
    orgId: string,
    tokenHash: Buffer,
  ): Promise<(InviteRow & { orgName: string; creatorRole: OrgRole | null }) | undefined> {
    return one<InviteRow & { orgName: string; creatorRole: OrgRole | null }>(
      em,
      `SELECT ${COLUMNS}, o.name AS "orgName", c.role AS "creatorRole"
         FROM invites i JOIN organizations o ON o.id = i.org_id
         LEFT JOIN memberships c ON c.org_id = i.org_id AND c.user_id = i.created_by
        WHERE i.org_id = $1 AND i.token_hash = $2
          FOR KEY SHARE OF o FOR UPDATE OF i`,
      [orgId, tokenHash],
    );
  }

  async countUse(em: EntityManager, orgId: string, inviteId: string): Promise<void> {
    await em.query(`UPDATE invites SET uses = uses + 1 WHERE org_id = $1 AND id = $2`, [
      orgId,
      inviteId,
    ]);
  }
}
