import type { TaskFilter, TaskOrder } from './tasks.repository';

/** The SQL of task lists, the export and the dashboard, built from filters and sorts. */

/**
 * A date as `YYYY-MM-DD` from IMMUTABLE parts: writes answer these columns in RETURNING,
 * which Citus evaluates on the shard, where `to_char` and `::text` (STABLE) may not run.
 */
const isoDate = (d: string) =>
  `lpad(extract(year FROM ${d})::int::text, 4, '0') || '-' || lpad(extract(month FROM ${d})::int::text, 2, '0')` +
  ` || '-' || lpad(extract(day FROM ${d})::int::text, 2, '0')`;

export const TASK_COLUMNS = `t.id, t.org_id AS "orgId", t.project_id AS "projectId", t.title, t.description, t.status,
  t.priority, t.assignee_id AS "assigneeId", ${isoDate('t.due_date')} AS "dueDate",
  t.created_by AS "createdBy", t.created_at AS "createdAt", t.updated_at AS "updatedAt",
  t.completed_at AS "completedAt", t.version, t.rank`;

/** The keyset of each sort: a column the indexes cover, and the type its cursor value casts back to. */
function sortKey(order: TaskOrder): { expr: string; type: string } {
  switch (order.sort) {
    case 'createdAt':
      return { expr: 't.created_at', type: 'timestamptz' };
    case 'updatedAt':
      return { expr: 't.updated_at', type: 'timestamptz' };
    case 'priority':
      return { expr: 't.priority_rank', type: 'smallint' };
    case 'rank':
      return { expr: 't.rank', type: 'text' };
    case 'dueDate':
      // Generated columns: undated tasks sort last whichever the direction.
      return { expr: order.direction === 'asc' ? 't.due_first' : 't.due_last', type: 'date' };
  }
}

/** Collects the WHERE clause of a task list; every list is scoped to its org first. */
class Where {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  constructor(orgId: string) {
    this.add('t.org_id = ?', orgId);
  }

  add(clause: string, ...values: unknown[]): void {
    let sql = clause;
    for (const value of values) {
      this.params.push(value);
      sql = sql.replace('?', `$${this.params.length}`);
    }
    this.clauses.push(sql);
  }

  static of(orgId: string, filter: TaskFilter): Where {
    const where = new Where(orgId);
    if (filter.projectId) where.add('t.project_id = ?', filter.projectId);
    if (filter.statuses?.length) where.add('t.status = ANY(?::text[])', filter.statuses);
    if (filter.priorities?.length) where.add('t.priority = ANY(?::text[])', filter.priorities);
    if (filter.assigneeId) where.add('t.assignee_id = ?', filter.assigneeId);
    if (filter.dueBefore) where.add('t.due_date <= ?::date', filter.dueBefore);
    if (filter.dueAfter) where.add('t.due_date >= ?::date', filter.dueAfter);
    if (filter.overdue) where.add(`t.due_date < current_date AND t.status <> 'done'`);
    if (filter.q)
      where.add(`t.title ILIKE ? ESCAPE '\\'`, `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    return where;
  }

  get sql(): string {
    return this.clauses.join(' AND ');
  }
}

/** The list's SQL (exported so that `npm run bench` can EXPLAIN exactly what runs). */
export function listQuery(
  orgId: string,
  filter: TaskFilter,
  order: TaskOrder,
  limit: number,
  after: [string, string] | null,
): { sql: string; params: unknown[] } {
  const where = Where.of(orgId, filter);
  const { expr, type } = sortKey(order);
  const direction = order.direction === 'asc' ? 'ASC' : 'DESC';
  if (after)
    where.add(
      `(${expr}, t.id) ${order.direction === 'asc' ? '>' : '<'} (?::${type}, ?::uuid)`,
      ...after,
    );
  where.params.push(limit + 1);
  return {
    sql: `SELECT ${TASK_COLUMNS}, (${expr})::text AS "sortKey" FROM tasks t
           WHERE ${where.sql}
           ORDER BY ${expr} ${direction}, t.id ${direction}
           LIMIT $${where.params.length}`,
    params: where.params,
  };
}

/** The board's columns, in their order. */
export const BOARD_STATUSES = ['todo', 'in_progress', 'done', 'blocked'] as const;

/**
 * The whole board in one statement: for each status, in board order, the column's count
 * and its first `perColumn` cards by (rank, id) — each an index range of
 * (org_id, project_id, status, rank, id). An empty column is one row with no task.
 */
export function boardQuery(
  orgId: string,
  filter: TaskFilter & { projectId: string },
  perColumn: number,
): { sql: string; params: unknown[] } {
  const where = Where.of(orgId, filter);
  where.add('t.status = s.status');
  where.params.push([...BOARD_STATUSES], perColumn);
  const statuses = where.params.length - 1;
  const limit = where.params.length;
  return {
    sql: `SELECT s.status AS "column", c.total, x.*
            FROM unnest($${statuses}::text[]) WITH ORDINALITY AS s(status, ord)
           CROSS JOIN LATERAL (SELECT count(*)::int AS total FROM tasks t WHERE ${where.sql}) c
            LEFT JOIN LATERAL (
                 SELECT ${TASK_COLUMNS} FROM tasks t WHERE ${where.sql}
                  ORDER BY t.rank, t.id LIMIT $${limit}) x ON true
           ORDER BY s.ord, x.rank, x.id`,
    params: where.params,
  };
}

/** The export's SQL, oldest first, read through a cursor. */
export function exportQuery(orgId: string, filter: TaskFilter): { sql: string; params: unknown[] } {
  const where = Where.of(orgId, filter);
  return {
    sql: `SELECT ${TASK_COLUMNS} FROM tasks t WHERE ${where.sql} ORDER BY t.created_at, t.id`,
    params: where.params,
  };
}

/** The dashboard's SQL; parameters: org id, project id or null. */
export const STATS_SQL = `SELECT assignee_id, status, count(*)::int AS n,
              count(*) FILTER (WHERE due_date < current_date)::int AS past_due
         FROM tasks
        WHERE org_id = $1 AND ($2::uuid IS NULL OR project_id = $2::uuid)
        GROUP BY assignee_id, status`;
