import { Client as PgClient } from 'pg';
import { exportQuery, listQuery, STATS_SQL } from '../src/tasks/task-queries';

/**
 * BENCH_EXPLAIN=1: EXPLAIN (ANALYZE, BUFFERS) of the measured queries, run the way the API
 * runs them — in a transaction as worklane_app with app.org_id set, so the RLS qual is in
 * the plan, with the SQL built by TasksRepository's own query builders.
 */
export async function explainQueries(
  url: string,
  ids: { orgId: string; userId: string },
  deep: { createdAt?: [string, string]; dueDate?: [string, string] },
): Promise<string> {
  const db = new PgClient({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
  });
  await db.connect();
  const out: string[] = [];
  const list = (sort: 'createdAt' | 'dueDate', after: [string, string] | null) =>
    listQuery(ids.orgId, {}, { sort, direction: sort === 'dueDate' ? 'asc' : 'desc' }, 20, after);
  type Entry = [string, { sql: string; params: unknown[] }];
  const entries: Entry[] = [['list page 1 (createdAt desc, limit 20)', list('createdAt', null)]];
  if (deep.createdAt) {
    entries.push(['list deep page (createdAt desc, keyset)', list('createdAt', deep.createdAt)]);
  }
  entries.push(['list page 1 (dueDate asc, limit 20)', list('dueDate', null)]);
  if (deep.dueDate)
    entries.push(['list deep page (dueDate asc, keyset)', list('dueDate', deep.dueDate)]);
  entries.push(['stats (whole org)', { sql: STATS_SQL, params: [ids.orgId, null] }]);
  entries.push(['export cursor SELECT', exportQuery(ids.orgId, {})]);
  // The API's own SQL builders: what is explained is exactly what runs.
  const queries: Array<[string, string, unknown[]]> = entries.map(([label, q]) => [
    label,
    q.sql,
    q.params,
  ]);
  try {
    for (const [label, sql, params] of queries) {
      await db.query('BEGIN');
      try {
        await db.query(
          `SELECT set_config('role', 'worklane_app', true), set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)`,
          [ids.orgId, ids.userId],
        );
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
          params,
        );
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
