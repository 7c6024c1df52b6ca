import { Client as PgClient } from 'pg';
import { TASK_COLUMNS } from '../src/tasks/tasks.repository';

/**
 * BENCH_EXPLAIN=1: EXPLAIN (ANALYZE, BUFFERS) of the measured queries, run the way the API
 * runs them — in a transaction as worklane_app with app.org_id set, so the RLS qual is in
 * the plan. The SQL mirrors TasksRepository (list, stats, the export cursor's SELECT).
 */
export async function explainQueries(
  url: string,
  ids: { orgId: string; userId: string },
  deep: { createdAt?: [string, string]; dueDate?: [string, string] },
): Promise<string> {
  const db = new PgClient({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 60_000 });
  await db.connect();
  const out: string[] = [];
  const queries: Array<[string, string, unknown[]]> = [
    [
      'list page 1 (createdAt desc, limit 20)',
      `SELECT ${TASK_COLUMNS}, (t.created_at)::text AS "sortKey" FROM tasks t
        WHERE t.org_id = $1 ORDER BY t.created_at DESC, t.id DESC LIMIT 21`,
      [ids.orgId],
    ],
    ...(deep.createdAt
      ? ([
          [
            'list deep page (createdAt desc, keyset)',
            `SELECT ${TASK_COLUMNS}, (t.created_at)::text AS "sortKey" FROM tasks t
              WHERE t.org_id = $1 AND (t.created_at, t.id) < ($2::timestamptz, $3::uuid)
              ORDER BY t.created_at DESC, t.id DESC LIMIT 21`,
            [ids.orgId, ...deep.createdAt],
          ],
        ] as Array<[string, string, unknown[]]>)
      : []),
    [
      'list page 1 (dueDate asc, limit 20)',
      `SELECT ${TASK_COLUMNS}, (coalesce(t.due_date, 'infinity'::date))::text AS "sortKey" FROM tasks t
        WHERE t.org_id = $1 ORDER BY coalesce(t.due_date, 'infinity'::date) ASC, t.id ASC LIMIT 21`,
      [ids.orgId],
    ],
    ...(deep.dueDate
      ? ([
          [
            'list deep page (dueDate asc, keyset)',
            `SELECT ${TASK_COLUMNS}, (coalesce(t.due_date, 'infinity'::date))::text AS "sortKey" FROM tasks t
              WHERE t.org_id = $1 AND (coalesce(t.due_date, 'infinity'::date), t.id) > ($2::date, $3::uuid)
              ORDER BY coalesce(t.due_date, 'infinity'::date) ASC, t.id ASC LIMIT 21`,
            [ids.orgId, ...deep.dueDate],
          ],
        ] as Array<[string, string, unknown[]]>)
      : []),
    [
      'stats (whole org)',
      `WITH scoped AS (
         SELECT status, assignee_id, due_date FROM tasks
          WHERE org_id = $1 AND ($2::uuid IS NULL OR project_id = $2::uuid)
       )
       SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status = 'todo')::int AS todo,
              count(*) FILTER (WHERE status = 'in_progress')::int AS in_progress,
              count(*) FILTER (WHERE status = 'done')::int AS done,
              count(*) FILTER (WHERE status = 'blocked')::int AS blocked,
              count(*) FILTER (WHERE status <> 'done' AND due_date < current_date)::int AS overdue,
              coalesce((SELECT json_agg(json_build_object('assigneeId', a.assignee_id, 'count', a.n)
                                        ORDER BY a.n DESC, a.assignee_id NULLS LAST)
                          FROM (SELECT assignee_id, count(*)::int AS n FROM scoped GROUP BY assignee_id) a),
                       '[]'::json) AS by_assignee
         FROM scoped`,
      [ids.orgId, null],
    ],
    [
      'export cursor SELECT',
      `SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.org_id = $1 ORDER BY t.created_at, t.id`,
      [ids.orgId],
    ],
  ];
  try {
    for (const [label, sql, params] of queries) {
      await db.query('BEGIN');
      try {
        await db.query(
          `SELECT set_config('role', 'worklane_app', true), set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)`,
          [ids.orgId, ids.userId],
        );
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
        out.push(`-- ${label}`, ...rows.map((r) => r['QUERY PLAN']), '');
      } catch (error) {
        out.push(`-- ${label}: EXPLAIN failed: ${String(error)}`, '');
      } finally {
        await db.query('ROLLBACK').catch(() => undefined);
      }
    }
  } finally {
    await db.end().catch(() => undefined);
  }
  return out.join('\n');
}
