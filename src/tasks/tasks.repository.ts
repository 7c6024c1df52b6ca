import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { lastRows, one, rows } from '../shared/database/sql';
import { boardQuery, exportQuery, listQuery, STATS_SQL, TASK_COLUMNS } from './task-queries';
import type { Gap } from './task-rank';

export type TaskStatus = 'todo' | 'in_progress' | 'done' | 'blocked';
export type TaskPriority = 'low' | 'medium' | 'high' | 'urgent';
export type TaskSort = 'createdAt' | 'updatedAt' | 'dueDate' | 'priority' | 'rank';

export interface TaskRow {
  id: string;
  orgId: string;
  projectId: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: TaskPriority;
  assigneeId: string | null;
  dueDate: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  version: number;
  /** Orders the task within its (project, status) column; ties by id. */
  rank: string;
}

/** One (project, status) column of a board. */
export interface TaskColumn {
  orgId: string;
  projectId: string;
  status: TaskStatus;
}

/** A card as a neighbour: where it is and its key. */
export interface CardPlace {
  id: string;
  projectId: string;
  status: TaskStatus;
  rank: string;
}

export interface TaskFilter {
  projectId?: string;
  statuses?: TaskStatus[];
  priorities?: TaskPriority[];
  assigneeId?: string;
  dueBefore?: string;
  dueAfter?: string;
  overdue?: boolean;
  q?: string;
}

export interface TaskOrder {
  sort: TaskSort;
  direction: 'asc' | 'desc';
}

export type TaskChanges = Partial<
  Pick<TaskRow, 'title' | 'description' | 'status' | 'priority' | 'assigneeId' | 'dueDate'>
>;

/** The only task SQL; every query names its org. */
/** `find`'s statement; in a request's opening batch only if `onlyIf` (`TaskRoute`). */
export function findTaskStatement(
  orgId: string,
  projectId: string,
  taskId: string,
  lock: boolean,
  onlyIf?: string,
) {
  return {
    sql: `SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.org_id = $1 AND t.project_id = $2 AND t.id = $3${onlyIf ? ` AND ${onlyIf}` : ''}
       ${lock ? 'FOR UPDATE' : ''}`,
    params: [orgId, projectId, taskId],
  };
}

@Injectable()
export class TasksRepository {
  async insert(
    em: EntityManager,
    task: Pick<
      TaskRow,
      | 'orgId'
      | 'projectId'
      | 'title'
      | 'description'
      | 'status'
      | 'priority'
      | 'assigneeId'
      | 'dueDate'
      | 'createdBy'
      | 'rank'
    >,
  ): Promise<TaskRow> {
    return (await one<TaskRow>(
      em,
      `INSERT INTO tasks AS t (org_id, project_id, title, description, status, priority, assignee_id, due_date,
                               created_by, rank, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $5 = 'done' THEN now() END)
       RETURNING ${TASK_COLUMNS}`,
      [
        task.orgId,
        task.projectId,
        task.title,
        task.description,
        task.status,
        task.priority,
        task.assigneeId,
        task.dueDate,
        task.createdBy,
        task.rank,
      ],
    ))!;
  }

  /** A task of the project; locked when it is about to change. */
  find(
    em: EntityManager,
    orgId: string,
    projectId: string,
    taskId: string,
    lock: boolean,
  ): Promise<TaskRow | undefined> {
    const { sql, params } = findTaskStatement(orgId, projectId, taskId, lock);
    return one<TaskRow>(em, sql, params);
  }

  /**
   * One page of a filtered, sorted list: `(sort key, id)` compared with the cursor's, so
   * page 1,000 costs what page 1 costs and concurrent inserts never shift a page.
   */
  list(
    em: EntityManager,
    orgId: string,
    filter: TaskFilter,
    order: TaskOrder,
    limit: number,
    after: [string, string] | null,
  ): Promise<Array<TaskRow & { sortKey: string }>> {
    const { sql, params } = listQuery(orgId, filter, order, limit, after);
    // A page is all a list request reads: on a read it ends the transaction, COMMIT aboard.
    return lastRows<TaskRow & { sortKey: string }>(em, sql, params);
  }

  /**
   * Applies changes (and a new rank, which a status change needs), bumps the version and
   * keeps completedAt in step with status.
   */
  async update(
    em: EntityManager,
    orgId: string,
    taskId: string,
    changes: TaskChanges & { rank?: string },
  ): Promise<TaskRow> {
    const sets: string[] = [];
    const params: unknown[] = [orgId, taskId];
    const columns: Record<keyof TaskChanges | 'rank', string> = {
      title: 'title',
      description: 'description',
      status: 'status',
      priority: 'priority',
      assigneeId: 'assignee_id',
      dueDate: 'due_date',
      rank: 'rank',
    };
    let newStatus = 't.status';
    for (const [field, column] of Object.entries(columns) as Array<
      [keyof TaskChanges | 'rank', string]
    >) {
      if (changes[field] === undefined) continue;
      params.push(changes[field]);
      sets.push(`${column} = $${params.length}${field === 'dueDate' ? '::date' : ''}`);
      if (field === 'status') newStatus = `$${params.length}`;
    }
    // `(SELECT now())`, not now(), beside a column or in a CASE/coalesce: Citus runs this
    // write on the shard and refuses a bare now() there.
    return (await one<TaskRow>(
      em,
      `UPDATE tasks t SET ${[...sets, 'version = t.version + 1', 'updated_at = now()'].join(', ')},
          completed_at = CASE WHEN ${newStatus} = 'done' THEN coalesce(t.completed_at, (SELECT now())) END
        WHERE t.org_id = $1 AND t.id = $2
        RETURNING ${TASK_COLUMNS}`,
      params,
    ))!;
  }

  /**
   * Takes the column's lock until commit. Every write of a key into a column holds it
   * (create, status change, move, rebalance), so whoever holds it reads the column's keys
   * as they are and may place a card between two of them. Taking a card out of a column
   * needs no lock: no key changes.
   */
  async lockColumn(em: EntityManager, column: TaskColumn): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `tasks.rank:${column.orgId}:${column.projectId}:${column.status}`,
    ]);
  }

  /** Where these cards are (of this org; others are not found). */
  places(em: EntityManager, orgId: string, ids: string[]): Promise<CardPlace[]> {
    return rows<CardPlace>(
      em,
      `SELECT t.id, t.project_id AS "projectId", t.status, t.rank FROM tasks t
        WHERE t.org_id = $1 AND t.id = ANY($2::uuid[])`,
      [orgId, ids],
    );
  }

  /**
   * The gap a card goes into, the card itself (`movingId`) left out of the column: below
   * `after`, above `before`, both (then they must be adjacent: else null), or neither (the
   * bottom). One statement.
   */
  async gap(
    em: EntityManager,
    column: TaskColumn,
    movingId: string | null,
    after: CardPlace | null,
    before: CardPlace | null,
  ): Promise<Gap | null> {
    const scope = `t.org_id = $1 AND t.project_id = $2 AND t.status = $3
                   AND ($4::uuid IS NULL OR t.id <> $4::uuid)`;
    const params: unknown[] = [column.orgId, column.projectId, column.status, movingId];
    const end = (card: CardPlace | null) => (card ? { id: card.id, rank: card.rank } : null);
    if (after && before) {
      if (after.rank > before.rank || (after.rank === before.rank && after.id >= before.id))
        return null;
      const between = await one<{ id: string }>(
        em,
        `SELECT t.id FROM tasks t WHERE ${scope}
            AND (t.rank, t.id) > ($5::text, $6::uuid) AND (t.rank, t.id) < ($7::text, $8::uuid)
          LIMIT 1`,
        [...params, after.rank, after.id, before.rank, before.id],
      );
      return between ? null : { lower: end(after), upper: end(before) };
    }
    if (after) {
      const next = await one<{ id: string; rank: string }>(
        em,
        `SELECT t.id, t.rank FROM tasks t WHERE ${scope} AND (t.rank, t.id) > ($5::text, $6::uuid)
          ORDER BY t.rank, t.id LIMIT 1`,
        [...params, after.rank, after.id],
      );
      return { lower: end(after), upper: next ?? null };
    }
    if (before) {
      const previous = await one<{ id: string; rank: string }>(
        em,
        `SELECT t.id, t.rank FROM tasks t WHERE ${scope} AND (t.rank, t.id) < ($5::text, $6::uuid)
          ORDER BY t.rank DESC, t.id DESC LIMIT 1`,
        [...params, before.rank, before.id],
      );
      return { lower: previous ?? null, upper: end(before) };
    }
    const last = await one<{ id: string; rank: string }>(
      em,
      `SELECT t.id, t.rank FROM tasks t WHERE ${scope} ORDER BY t.rank DESC, t.id DESC LIMIT 1`,
      params,
    );
    return { lower: last ?? null, upper: null };
  }

  /**
   * How many cards the column holds (`movingId` left out), and whether this transaction
   * could lock every one of them now (`wait`: lock them, waiting as long as it takes).
   */
  async lockForRebalance(
    em: EntityManager,
    column: TaskColumn,
    movingId: string | null,
    wait: boolean,
  ): Promise<{ total: number; locked: number }> {
    return (await one<{ total: number; locked: number }>(
      em,
      `WITH col AS (
         SELECT t.id FROM tasks t
          WHERE t.org_id = $1 AND t.project_id = $2 AND t.status = $3
            AND ($4::uuid IS NULL OR t.id <> $4::uuid))
       SELECT (SELECT count(*)::int FROM col) AS total,
              (SELECT count(*)::int FROM (
                 SELECT 1 FROM tasks t WHERE t.org_id = $1 AND t.id IN (SELECT id FROM col)
                 FOR UPDATE ${wait ? '' : 'SKIP LOCKED'}) l) AS locked`,
      [column.orgId, column.projectId, column.status, movingId],
    ))!;
  }

  /**
   * New keys for the whole column (`movingId` left out) in its current order. Positions
   * only: versions and updated_at stay, since no card's place relative to another changes.
   * The order is read first, then the keys written by id: one UPDATE joining a windowed
   * subquery crashed the Citus 13.2 coordinator (signal 11).
   */
  async rebalance(
    em: EntityManager,
    column: TaskColumn,
    movingId: string | null,
    keys: string[],
  ): Promise<void> {
    const ordered = await rows<{ id: string }>(
      em,
      `SELECT t.id FROM tasks t
        WHERE t.org_id = $1 AND t.project_id = $2 AND t.status = $3
          AND ($4::uuid IS NULL OR t.id <> $4::uuid)
        ORDER BY t.rank, t.id`,
      [column.orgId, column.projectId, column.status, movingId],
    );
    if (ordered.length === 0) return;
    await em.query(
      `UPDATE tasks t SET rank = k.rank
         FROM unnest($2::uuid[], $3::text[]) AS k(id, rank)
        WHERE t.org_id = $1 AND t.id = k.id`,
      [column.orgId, ordered.map((r) => r.id), keys.slice(0, ordered.length)],
    );
  }

  /** The board: per status, its count and first cards, in one statement. */
  board(
    em: EntityManager,
    orgId: string,
    filter: TaskFilter & { projectId: string },
    perColumn: number,
  ): Promise<Array<Partial<TaskRow> & { column: TaskStatus; total: number }>> {
    const { sql, params } = boardQuery(orgId, filter, perColumn);
    // All a board request reads: COMMIT aboard.
    return lastRows<Partial<TaskRow> & { column: TaskStatus; total: number }>(em, sql, params);
  }

  async delete(em: EntityManager, orgId: string, taskId: string): Promise<void> {
    await em.query(`DELETE FROM tasks WHERE org_id = $1 AND id = $2`, [orgId, taskId]);
  }

  /** Unassigns every task of a user leaving the org; answers what changed. */
  unassignAll(
    em: EntityManager,
    orgId: string,
    userId: string,
  ): Promise<Array<{ id: string; projectId: string }>> {
    return rows<{ id: string; projectId: string }>(
      em,
      `UPDATE tasks SET assignee_id = NULL, version = version + 1, updated_at = now()
        WHERE org_id = $1 AND assignee_id = $2
        RETURNING id, project_id AS "projectId"`,
      [orgId, userId],
    );
  }

  /**
   * The dashboard's counts in one statement and one pass over the org's tasks, read from
   * the covering index `tasks_org_stats_idx` alone (an index-only scan): a row per
   * (assignee, status) with how many of them are past due; no task row leaves the database.
   */
  stats(em: EntityManager, orgId: string, projectId: string | undefined) {
    // All a stats request reads: COMMIT aboard.
    return lastRows<{
      assignee_id: string | null;
      status: TaskStatus;
      n: number;
      past_due: number;
    }>(em, STATS_SQL, [orgId, projectId ?? null]);
  }

  /**
   * Streams the filtered list through a server-side cursor, a batch of rows at a time: memory
   * stays flat whatever the size. Runs inside the caller's transaction.
   */
  async *stream(
    em: EntityManager,
    orgId: string,
    filter: TaskFilter,
    batch = 1000,
  ): AsyncGenerator<TaskRow[]> {
    const { sql, params } = exportQuery(orgId, filter);
    await em.query(`DECLARE task_export NO SCROLL CURSOR FOR ${sql}`, params);
    try {
      for (;;) {
        const page = await rows<TaskRow>(em, `FETCH ${batch} FROM task_export`);
        if (page.length > 0) yield page;
        if (page.length < batch) return;
      }
    } finally {
      await em.query(`CLOSE task_export`).catch(() => undefined);
    }
  }
}
