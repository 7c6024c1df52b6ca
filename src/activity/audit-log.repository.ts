import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { rows } from '../shared/database/sql';

export interface AuditEntryRow {
  id: string;
  orgId: string;
  seq: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  metadata: Record<string, unknown>;
  requestId: string | null;
  createdAt: Date;
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

/** The audit table: append-only for the application's role (INSERT and SELECT grants only). */
@Injectable()
export class AuditLogRepository {
  /**
   * Appends entries in one statement, in the given order: a multi-row VALUES, which Citus
   * routes to the org's shard (an INSERT … SELECT over a JSON array would reach the shard
   * as a COPY, which row-level security refuses).
   */
  async append(
    em: EntityManager,
    entries: Array<Omit<AuditEntryRow, 'id' | 'seq' | 'createdAt'> & { createdAt: Date }>,
  ): Promise<void> {
    if (entries.length === 0) return;
    const columns = 8;
    const values = entries.map((_, i) => {
      const p = i * columns;
      return `($${p + 1}::uuid, $${p + 2}::uuid, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}::jsonb, $${p + 7}, $${p + 8}::timestamptz)`;
    });
    await em.query(
      `INSERT INTO audit_log (org_id, actor_id, action, target_type, target_id, metadata, request_id, created_at)
       VALUES ${values.join(', ')}`,
      entries.flatMap((e) => [
        e.orgId,
        e.actorId ?? null,
        e.action,
        e.targetType ?? null,
        e.targetId ?? null,
        JSON.stringify(e.metadata ?? {}),
        e.requestId ?? null,
        e.createdAt,
      ]),
    );
  }

  /** Newest first, keyset on the insertion sequence. */
  list(
    em: EntityManager,
    orgId: string,
    filter: AuditFilter,
    limit: number,
    beforeSeq: string | null,
  ) {
    return rows<AuditEntryRow>(
      em,
      `SELECT id, org_id AS "orgId", seq::text AS seq, actor_id AS "actorId", action,
              target_type AS "targetType", target_id AS "targetId", metadata,
              request_id AS "requestId", created_at AS "createdAt"
         FROM audit_log
        WHERE org_id = $1
          AND ($2::text IS NULL OR action = $2)
          AND ($3::uuid IS NULL OR actor_id = $3)
          AND ($4::text IS NULL OR target_type = $4)
          AND ($5::text IS NULL OR target_id = $5)
          AND ($6::timestamptz IS NULL OR created_at >= $6)
          AND ($7::timestamptz IS NULL OR created_at < $7)
          AND ($8::bigint IS NULL OR seq < $8)
        ORDER BY audit_log.seq DESC
        LIMIT $9`,
      [
        orgId,
        filter.action ?? null,
        filter.actorId ?? null,
        filter.targetType ?? null,
        filter.targetId ?? null,
        filter.since ?? null,
        filter.until ?? null,
        beforeSeq,
        limit + 1,
      ],
    );
  }
}
