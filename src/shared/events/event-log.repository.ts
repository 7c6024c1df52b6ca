import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { one, rows } from '../database/sql';
import { DatabaseTopology } from '../database/topology';
import { DomainEvent } from './domain-event';

/** The channel every instance LISTENs on; a notification says `<orgId>:<last position>`. */
export const EVENT_CHANNEL = 'worklane_events';

/** One event of an org's log, as stored. */
export interface LoggedEvent {
  orgId: string;
  position: number;
  type: string;
  actorId: string | null;
  /** `{ target, resource?, ...the event's payload }` */
  payload: { target: { type: string; id: string } | null; resource?: object } & Record<
    string,
    unknown
  >;
  occurredAt: Date;
}

/** What the log keeps of an event: its target, the resource if any, and its own payload. */
export function loggedPayload(event: DomainEvent): LoggedEvent['payload'] {
  return {
    target: event.target,
    ...(event.resource ? { resource: event.resource } : {}),
    ...event.payload,
  };
}

/** A published event (its position set by the append) as the log holds it. */
export function asLogged(event: DomainEvent): LoggedEvent {
  return {
    orgId: event.orgId!,
    position: event.position!,
    type: event.type,
    actorId: event.actorId,
    payload: loggedPayload(event),
    occurredAt: event.occurredAt,
  };
}

/**
 * Appends events to an org's log: takes the next positions from the org's head (its row
 * stays locked until the transaction ends, so positions are handed out in commit order),
 * writes the rows, and queues the NOTIFY that PostgreSQL delivers on commit — one
 * statement, one round trip.
 */
export const APPEND_SQL = `
  WITH head AS (
    INSERT INTO event_log_heads AS h (org_id, position) VALUES ($1::uuid, $3::bigint)
    ON CONFLICT (org_id) DO UPDATE SET position = h.position + $3::bigint
    RETURNING h.position),
  logged AS (
    INSERT INTO outbox_events (org_id, position, type, actor_id, payload, request_id, occurred_at)
    SELECT $1::uuid, head.position - $3::bigint + batch.n, e->>'type', (e->>'actorId')::uuid,
           e->'payload', $4, (e->>'occurredAt')::timestamptz
      FROM head, jsonb_array_elements($2::jsonb) WITH ORDINALITY AS batch(e, n)
    RETURNING 1)
  SELECT head.position::text AS last,
         pg_notify('${EVENT_CHANNEL}', $1::uuid::text || ':' || head.position) IS NULL AS quiet,
         (SELECT count(*) FROM logged) AS n
    FROM head`;

/**
 * The append on Citus, in three statements: a CTE that writes two distributed tables and
 * notifies in one statement cannot be routed to one shard, and a NOTIFY sent from a shard
 * would reach the listeners of that worker, not the coordinator's. The rows go as one
 * multi-row VALUES (routed to the org's shard): an INSERT … SELECT from a function would be
 * copied to the shard with COPY, which row-level security refuses.
 */
const APPEND_HEAD_SQL = `
  INSERT INTO event_log_heads AS h (org_id, position) VALUES ($1::uuid, $2::bigint)
  ON CONFLICT (org_id) DO UPDATE SET position = h.position + $2::bigint
  RETURNING h.position::text AS last`;
function appendRowsSql(n: number): string {
  const rows = Array.from({ length: n }, (_, i) => {
    const p = 3 + i * 5;
    return `($1::uuid, $${p}::bigint, $${p + 1}, $${p + 2}::uuid, $${p + 3}::jsonb, $2, $${p + 4}::timestamptz)`;
  });
  return `INSERT INTO outbox_events (org_id, position, type, actor_id, payload, request_id, occurred_at)
    VALUES ${rows.join(', ')}`;
}
const NOTIFY_SQL = `SELECT pg_notify('${EVENT_CHANNEL}', $1::uuid::text || ':' || $2::text)`;

const EVENT_COLUMNS = `org_id AS "orgId", position::text AS position, type, actor_id AS "actorId",
  payload, occurred_at AS "occurredAt"`;

@Injectable()
export class EventLogRepository {
  constructor(private readonly topology: DatabaseTopology) {}

  /** Appends the events of one org in order; answers the last position and sets each's. */
  async append(
    em: EntityManager,
    orgId: string,
    events: DomainEvent[],
    requestId: string | null,
  ): Promise<number> {
    const batch = events.map((event) => ({
      type: event.type,
      actorId: event.actorId,
      payload: loggedPayload(event),
      occurredAt: event.occurredAt,
    }));
    const last = this.topology.citus
      ? await this.appendOnCitus(em, orgId, batch, requestId)
      : Number(
          (await one<{ last: string }>(em, APPEND_SQL, [
            orgId,
            JSON.stringify(batch),
            events.length,
            requestId,
          ]))!.last,
        );
    events.forEach((event, i) => (event.position = last - events.length + 1 + i));
    return last;
  }

  private async appendOnCitus(
    em: EntityManager,
    orgId: string,
    batch: Array<{ type: string; actorId: string | null; payload: object; occurredAt: Date }>,
    requestId: string | null,
  ): Promise<number> {
    const head = await one<{ last: string }>(em, APPEND_HEAD_SQL, [orgId, batch.length]);
    const last = Number(head!.last);
    const values = batch.flatMap((e, i) => [
      last - batch.length + 1 + i,
      e.type,
      e.actorId,
      JSON.stringify(e.payload),
      e.occurredAt,
    ]);
    await em.query(appendRowsSql(batch.length), [orgId, requestId, ...values]);
    await em.query(NOTIFY_SQL, [orgId, head!.last]);
    return last;
  }

  /** Events of the org of `em`'s transaction after `position`, oldest first. */
  async after(
    em: EntityManager,
    orgId: string,
    position: number,
    limit: number,
  ): Promise<LoggedEvent[]> {
    const found = await rows<Omit<LoggedEvent, 'position'> & { position: string }>(
      em,
      // The log's own column orders (the text column of the same name would sort '10' < '9').
      `SELECT ${EVENT_COLUMNS} FROM outbox_events o
        WHERE o.org_id = $1 AND o.position > $2 ORDER BY o.position LIMIT $3`,
      [orgId, position, limit],
    );
    return found.map((event) => ({ ...event, position: Number(event.position) }));
  }

  /**
   * Where the org's log stands: its last position (0 when it has none) and its oldest
   * retained one (null when retention has pruned everything, or there never was any).
   */
  async bounds(em: EntityManager, orgId: string): Promise<{ head: number; oldest: number | null }> {
    const row = await one<{ head: string | null; oldest: string | null }>(
      em,
      `SELECT (SELECT position FROM event_log_heads WHERE org_id = $1)::text AS head,
              (SELECT min(position) FROM outbox_events WHERE org_id = $1)::text AS oldest`,
      [orgId],
    );
    return {
      head: Number(row?.head ?? 0),
      oldest: row?.oldest == null ? null : Number(row.oldest),
    };
  }

  /**
   * Deletes up to `batch` events older than `days` (the retention), across orgs, through
   * the index on `occurred_at`; answers how many went. A system operation.
   */
  async pruneOlderThan(em: EntityManager, days: number, batch: number): Promise<number> {
    const row = await one<{ n: number }>(
      em,
      `WITH doomed AS (
         SELECT org_id, position FROM outbox_events
          WHERE occurred_at < now() - make_interval(days => $1) LIMIT $2),
       gone AS (
         DELETE FROM outbox_events o USING doomed d
          WHERE o.org_id = d.org_id AND o.position = d.position RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [days, batch],
    );
    return row?.n ?? 0;
  }
}
