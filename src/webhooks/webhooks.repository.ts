import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { cursorParams, one, pastCursor, rows } from '../shared/database/sql';

export interface WebhookRow {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  previousSecretExpiresAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  createdKey: string;
}

/** What signing needs: the secrets that are valid now (the previous one during its overlap). */
export interface WebhookSigning {
  url: string;
  enabled: boolean;
  secrets: string[];
}

const COLUMNS = `w.id, w.org_id AS "orgId", w.url, w.events, w.description, w.enabled,
  w.disabled_reason AS "disabledReason", w.disabled_at AS "disabledAt",
  CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_expires_at END
    AS "previousSecretExpiresAt",
  w.created_by AS "createdBy", w.created_at AS "createdAt", w.updated_at AS "updatedAt",
  w.created_at::text AS "createdKey"`;
// What a write answers: without the keyset text (a STABLE cast no write's answer uses) and
// with the previous secret's expiry raw, checked against the clock here: Citus evaluates
// RETURNING on the shard, where only IMMUTABLE functions run.
const RETURNED = `w.id, w.org_id AS "orgId", w.url, w.events, w.description, w.enabled,
  w.disabled_reason AS "disabledReason", w.disabled_at AS "disabledAt",
  w.previous_secret_expires_at AS "previousSecretExpiresAt",
  w.created_by AS "createdBy", w.created_at AS "createdAt", w.updated_at AS "updatedAt"`;

function written(row: WebhookRow | undefined): WebhookRow {
  const expires = row!.previousSecretExpiresAt;
  return expires && expires.getTime() <= Date.now()
    ? { ...row!, previousSecretExpiresAt: null }
    : row!;
}

export interface WebhookChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
}

/** The only webhook SQL; every method names its org. No method answers the secret but `signing`. */
@Injectable()
export class WebhooksRepository {
  async insert(
    em: EntityManager,
    w: {
      orgId: string;
      url: string;
      events: string[];
      description: string | null;
      enabled: boolean;
      secret: string;
      createdBy: string;
    },
  ): Promise<WebhookRow> {
    return written(
      await one<WebhookRow>(
        em,
        `INSERT INTO webhooks AS w (org_id, url, events, description, enabled, secret, created_by,
                                  disabled_reason, disabled_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7,
               CASE WHEN NOT $5 THEN 'disabled by a user' END, CASE WHEN NOT $5 THEN now() END)
       RETURNING ${RETURNED}`,
        [w.orgId, w.url, w.events, w.description, w.enabled, w.secret, w.createdBy],
      ),
    );
  }

  find(
    em: EntityManager,
    orgId: string,
    webhookId: string,
    lock = false,
  ): Promise<WebhookRow | undefined> {
    return one<WebhookRow>(
      em,
      `SELECT ${COLUMNS} FROM webhooks w WHERE w.org_id = $1 AND w.id = $2 ${lock ? 'FOR UPDATE' : ''}`,
      [orgId, webhookId],
    );
  }

  list(
    em: EntityManager,
    orgId: string,
    limit: number,
    after: [string, string] | null,
  ): Promise<WebhookRow[]> {
    return rows<WebhookRow>(
      em,
      `SELECT ${COLUMNS} FROM webhooks w
        WHERE w.org_id = $1
          AND ${pastCursor(['w.created_at', 'w.id'], '>', 2)}
        ORDER BY w.created_at, w.id
        LIMIT $4`,
      [orgId, ...cursorParams(after), limit + 1],
    );
  }

  /**
   * Applies the changes. Disabling records the reason; enabling (also re-enabling) clears
   * it and forgets past failures, so a revived webhook gets a fresh 24 h.
   */
  async update(
    em: EntityManager,
    orgId: string,
    webhookId: string,
    changes: WebhookChanges,
  ): Promise<WebhookRow> {
    // `(SELECT now())`, not now(), in a CASE or beside a column: Citus runs this write on
    // the shard and refuses a bare now() there.
    return written(
      await one<WebhookRow>(
        em,
        `UPDATE webhooks w SET
          url = CASE WHEN $3 THEN $4 ELSE url END,
          events = CASE WHEN $5 THEN $6::text[] ELSE events END,
          description = CASE WHEN $7 THEN $8 ELSE description END,
          enabled = coalesce($9, enabled),
          disabled_reason = CASE WHEN $9 THEN NULL
                                 WHEN NOT $9 AND enabled THEN 'disabled by a user'
                                 ELSE disabled_reason END,
          disabled_at = CASE WHEN $9 THEN NULL
                             WHEN NOT $9 AND enabled THEN (SELECT now())
                             ELSE disabled_at END,
          failing_since = CASE WHEN $9 THEN NULL ELSE failing_since END,
          updated_at = now()
        WHERE w.org_id = $1 AND w.id = $2 RETURNING ${RETURNED}`,
        [
          orgId,
          webhookId,
          changes.url !== undefined,
          changes.url ?? null,
          changes.events !== undefined,
          changes.events ?? null,
          changes.description !== undefined,
          changes.description ?? null,
          changes.enabled ?? null,
        ],
      ),
    );
  }

  /** The new secret signs from now on; the current one keeps signing until `overlapUntil`. */
  async rotateSecret(
    em: EntityManager,
    orgId: string,
    webhookId: string,
    secret: string,
    overlapHours: number,
  ): Promise<WebhookRow> {
    return written(
      await one<WebhookRow>(
        em,
        `UPDATE webhooks w SET previous_secret = secret, secret = $3,
              previous_secret_expires_at = now() + make_interval(hours => $4), updated_at = now()
        WHERE w.org_id = $1 AND w.id = $2 RETURNING ${RETURNED}`,
        [orgId, webhookId, secret, overlapHours],
      ),
    );
  }

  async delete(em: EntityManager, orgId: string, webhookId: string): Promise<void> {
    await em.query(`DELETE FROM webhooks WHERE org_id = $1 AND id = $2`, [orgId, webhookId]);
  }

  /** The target and the secrets that sign now: the delivery worker's read. */
  signing(
    em: EntityManager,
    orgId: string,
    webhookId: string,
  ): Promise<WebhookSigning | undefined> {
    return one<WebhookSigning>(
      em,
      `SELECT url, enabled,
              array_remove(ARRAY[secret,
                CASE WHEN previous_secret_expires_at > now() THEN previous_secret END], NULL) AS secrets
         FROM webhooks WHERE org_id = $1 AND id = $2`,
      [orgId, webhookId],
    );
  }

  /** A success: the webhook is healthy again. */
  async markHealthy(em: EntityManager, orgId: string, webhookId: string): Promise<void> {
    await em.query(
      `UPDATE webhooks SET failing_since = NULL
        WHERE org_id = $1 AND id = $2 AND failing_since IS NOT NULL`,
      [orgId, webhookId],
    );
  }

  /**
   * A failed attempt: starts the failing period if none is running; if it has run for
   * `disableAfterHours`, disables the webhook and answers since when it failed.
   */
  async markFailing(
    em: EntityManager,
    orgId: string,
    webhookId: string,
    reason: string,
    disableAfterHours: number,
  ): Promise<{ disabled: boolean; failingSince: Date } | undefined> {
    // The time ($5) and the cutoff ($4) come from here: Citus runs this write on the shard,
    // where it takes no now() beside a column or in a CASE (bare, or as a subquery:
    // "unrecognized node type").
    const now = new Date();
    return one<{ disabled: boolean; failingSince: Date }>(
      em,
      `WITH before AS (
         SELECT enabled, coalesce(failing_since, $5::timestamptz) AS since FROM webhooks
          WHERE org_id = $1 AND id = $2 FOR UPDATE)
       UPDATE webhooks w SET
          failing_since = before.since,
          enabled = w.enabled AND before.since > $4::timestamptz,
          disabled_reason = CASE WHEN w.enabled AND before.since <= $4::timestamptz
                                 THEN $3 ELSE w.disabled_reason END,
          disabled_at = CASE WHEN w.enabled AND before.since <= $4::timestamptz
                             THEN $5::timestamptz ELSE w.disabled_at END
         FROM before
        WHERE w.org_id = $1 AND w.id = $2
        RETURNING before.enabled AND NOT w.enabled AS disabled, before.since AS "failingSince"`,
      [orgId, webhookId, reason, new Date(now.getTime() - disableAfterHours * 3_600_000), now],
    );
  }
}
