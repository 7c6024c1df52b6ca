import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { cursorParams, one, pastCursor, rows } from '../shared/database/sql';
import { DatabaseTopology } from '../shared/database/topology';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryAttempt {
  at: string;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
}

export interface DeliveryRow {
  id: string;
  orgId: string;
  webhookId: string;
  eventType: string;
  eventPosition: number;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  nextAttemptAt: Date | null;
  createdAt: Date;
  createdKey: string;
}

/** One event of a publish call, ready to deliver: its exact body is built once, here. */
export interface FanOutEvent {
  type: string;
  position: number;
  body: string;
}

const COLUMNS = `d.id, d.org_id AS "orgId", d.webhook_id AS "webhookId", d.event_type AS "eventType",
  d.event_position::int AS "eventPosition", d.status, d.attempts, d.next_attempt_at AS "nextAttemptAt",
  d.created_at AS "createdAt", d.created_at::text AS "createdKey"`;
// What a write answers: the columns without the keyset text, a STABLE cast that no write's
// answer uses (Citus evaluates RETURNING on the shard, where only IMMUTABLE functions run).
const RETURNED = COLUMNS.replace(/, d\.created_at::text AS "createdKey"$/, '');

/** The only delivery SQL; every method names its org. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(private readonly topology: DatabaseTopology) {}

  /**
   * One delivery per (event, enabled webhook of the org subscribed to its type), in one
   * statement: an org without webhooks pays exactly this statement. A subscription entry
   * is a type or a family (`task.*`); an empty list takes every type. On Citus, two: the
   * org's webhooks, then the deliveries as VALUES — an INSERT … SELECT is planned on shard
   * metadata that a tenant's split or move can retire under it, a router query is not.
   */
  async fanOut(em: EntityManager, orgId: string, events: FanOutEvent[]): Promise<string[]> {
    if (this.topology.citus) return this.fanOutOnCitus(em, orgId, events);
    const found = await rows<{ id: string }>(
      em,
      `INSERT INTO webhook_deliveries (org_id, webhook_id, event_type, event_position, body, next_attempt_at)
       SELECT w.org_id, w.id, e.type, e.position, e.body, now()
         FROM webhooks w
         JOIN jsonb_to_recordset($2::jsonb) AS e(type text, position bigint, body text)
           ON cardinality(w.events) = 0
              OR e.type = ANY (w.events)
              OR split_part(e.type, '.', 1) || '.*' = ANY (w.events)
        WHERE w.org_id = $1 AND w.enabled
        ORDER BY e.position, w.id
       RETURNING id`,
      [orgId, JSON.stringify(events)],
    );
    return found.map((r) => r.id);
  }

  private async fanOutOnCitus(
    em: EntityManager,
    orgId: string,
    events: FanOutEvent[],
  ): Promise<string[]> {
    const hooks = await rows<{ id: string; events: string[] }>(
      em,
      `SELECT w.id, w.events FROM webhooks w WHERE w.org_id = $1 AND w.enabled ORDER BY w.id`,
      [orgId],
    );
    const takes = (subscribed: string[], type: string) =>
      subscribed.length === 0 ||
      subscribed.includes(type) ||
      subscribed.includes(`${type.split('.')[0]}.*`);
    const deliveries = [...events]
      .sort((a, b) => a.position - b.position)
      .flatMap((event) =>
        hooks.filter((h) => takes(h.events, event.type)).map((h) => ({ h, event })),
      );
    if (deliveries.length === 0) return [];
    const values = deliveries.map((_, i) => {
      const p = 1 + i * 4;
      return `($1, $${p + 1}::uuid, $${p + 2}, $${p + 3}::bigint, $${p + 4}, now())`;
    });
    const found = await rows<{ id: string }>(
      em,
      `INSERT INTO webhook_deliveries (org_id, webhook_id, event_type, event_position, body, next_attempt_at)
       VALUES ${values.join(', ')}
       RETURNING id`,
      [
        orgId,
        ...deliveries.flatMap(({ h, event }) => [h.id, event.type, event.position, event.body]),
      ],
    );
    return found.map((r) => r.id);
  }

  find(em: EntityManager, orgId: string, webhookId: string, deliveryId: string) {
    return one<DeliveryRow>(
      em,
      `SELECT ${COLUMNS} FROM webhook_deliveries d
        WHERE d.org_id = $1 AND d.webhook_id = $2 AND d.id = $3`,
      [orgId, webhookId, deliveryId],
    );
  }

  /** What an attempt sends: the stored body, the webhook it goes to, and where it stands. */
  forAttempt(
    em: EntityManager,
    orgId: string,
    deliveryId: string,
  ): Promise<{ webhookId: string; body: string; status: DeliveryStatus } | undefined> {
    return one<{ webhookId: string; body: string; status: DeliveryStatus }>(
      em,
      `SELECT webhook_id AS "webhookId", body, status FROM webhook_deliveries
        WHERE org_id = $1 AND id = $2`,
      [orgId, deliveryId],
    );
  }

  /** The webhook's deliveries, newest first. */
  list(
    em: EntityManager,
    orgId: string,
    webhookId: string,
    limit: number,
    before: [string, string] | null,
  ): Promise<DeliveryRow[]> {
    return rows<DeliveryRow>(
      em,
      `SELECT ${COLUMNS} FROM webhook_deliveries d
        WHERE d.org_id = $1 AND d.webhook_id = $2
          AND ${pastCursor(['d.created_at', 'd.id'], '<', 3)}
        ORDER BY d.created_at DESC, d.id DESC
        LIMIT $5`,
      [orgId, webhookId, ...cursorParams(before), limit + 1],
    );
  }

  /**
   * Records one attempt of a pending delivery and where it goes next: `succeeded`,
   * `failed`, or still pending with the next attempt's planned time. Answers false when
   * the delivery was no longer pending (then nothing is written).
   */
  async recordAttempt(
    em: EntityManager,
    orgId: string,
    deliveryId: string,
    attempt: DeliveryAttempt,
    next: { status: DeliveryStatus; nextAttemptInSeconds: number | null },
  ): Promise<boolean> {
    // The next attempt's time is reckoned here: Citus runs this write on the shard, where it
    // takes no now() in a CASE (bare, or as a subquery: "unrecognized node type").
    const nextAt =
      next.nextAttemptInSeconds === null
        ? null
        : new Date(Date.now() + next.nextAttemptInSeconds * 1000);
    const row = await one<{ id: string }>(
      em,
      `UPDATE webhook_deliveries SET
          attempts = attempts || jsonb_build_array($3::jsonb),
          status = $4,
          next_attempt_at = $5::timestamptz
        WHERE org_id = $1 AND id = $2 AND status = 'pending'
        RETURNING id`,
      [orgId, deliveryId, JSON.stringify(attempt), next.status, nextAt],
    );
    return !!row;
  }

  /** A pending delivery of a webhook that was disabled meanwhile: it fails, unsent. */
  async abandon(em: EntityManager, orgId: string, deliveryId: string): Promise<void> {
    await em.query(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL
        WHERE org_id = $1 AND id = $2 AND status = 'pending'`,
      [orgId, deliveryId],
    );
  }

  /** Puts a finished delivery back to pending for a new chain of attempts; false if pending. */
  async reopen(
    em: EntityManager,
    orgId: string,
    deliveryId: string,
  ): Promise<DeliveryRow | undefined> {
    return one<DeliveryRow>(
      em,
      `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now()
        WHERE d.org_id = $1 AND d.id = $2 AND d.status <> 'pending'
        RETURNING ${RETURNED}`,
      [orgId, deliveryId],
    );
  }

  /**
   * Deletes up to `batch` finished deliveries (pending ones stay, however old) older than
   * `days`, across orgs; answers how many went. A system operation.
   */
  async pruneFinishedOlderThan(em: EntityManager, days: number, batch: number): Promise<number> {
    const row = await one<{ n: number }>(
      em,
      `WITH doomed AS (
         SELECT org_id, id FROM webhook_deliveries
          WHERE created_at < now() - make_interval(days => $1) AND status <> 'pending'
          LIMIT $2),
       gone AS (
         DELETE FROM webhook_deliveries d USING doomed x
          WHERE d.org_id = x.org_id AND d.id = x.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [days, batch],
    );
    return row?.n ?? 0;
  }
}
