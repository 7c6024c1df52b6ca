import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/**
 * The checks of `npm run test:citus` that look at the cluster itself (issue 21, item 3),
 * against a migrated database on the coordinator (argv[2]):
 * - the catalog: every tenant table hash-distributed on org_id in the colocation group of
 *   organizations; the reference and user-scoped tables as placed; nothing local but the
 *   migrations table and the job library's;
 * - the plans of hot statements of one org: one task (a router query);
 * - a direct connection to a worker as the application role, no settings: no rows.
 */
const REFERENCE = ['queued_mail', 'users'];
const USER_SCOPED: Record<string, string> = {
  auth_sessions: 'id',
  refresh_tokens: 'session_id',
  email_tokens: 'token_hash',
  idempotency_keys: 'user_id',
};

async function main(url: string): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures.push(what);
  };

  const placed = await db.query<{
    table: string;
    method: string;
    column: string | null;
    group: number;
  }>(
    `SELECT logicalrelid::regclass::text AS table, partmethod AS method,
            column_to_column_name(logicalrelid, partkey) AS column, colocationid AS group
       FROM pg_dist_partition`,
  );
  const byName = new Map(placed.rows.map((r) => [r.table, r]));
  const tenantGroup = byName.get('organizations')?.group;
  check(byName.get('organizations')?.column === 'id', 'organizations is distributed by id');
  const tenant = await db.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname = 'org_id' AND NOT a.attisdropped
        AND c.relname NOT LIKE '%\\_1_____' ORDER BY 1`,
  );
  for (const { table } of tenant.rows.filter((t) => !REFERENCE.includes(t.table))) {
    if (USER_SCOPED[table]) continue;
    const p = byName.get(table);
    check(
      p?.method === 'h' && p.column === 'org_id' && p.group === tenantGroup,
      `${table} is hash-distributed on org_id with organizations`,
    );
  }
  for (const table of REFERENCE)
    check(byName.get(table)?.method === 'n', `${table} is a reference table`);
  const userGroup = byName.get('auth_sessions')?.group;
  for (const [table, column] of Object.entries(USER_SCOPED)) {
    const p = byName.get(table);
    check(p?.method === 'h' && p.column === column, `${table} is hash-distributed on ${column}`);
  }
  check(
    byName.get('refresh_tokens')?.group === userGroup,
    'refresh_tokens live with their sessions',
  );
  const local = await db.query<{ table: string }>(
    `SELECT n.nspname || '.' || c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'citus', 'columnar', 'columnar_internal')
        AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
        AND n.nspname <> 'pgboss' AND c.relname <> 'typeorm_migrations'`,
  );
  check(
    local.rows.length === 0,
    `no other local table (${local.rows.map((r) => r.table).join(', ') || 'none'})`,
  );

  // Some rows of an org, as the superuser, for the plan and worker checks.
  const orgId = randomUUID();
  const userId = randomUUID();
  await db.query(`INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'c', 'x')`, [
    userId,
    `${userId}@citus.test`,
  ]);
  await db.query(`INSERT INTO organizations (id, name) VALUES ($1, 'citus check')`, [orgId]);
  await db.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`, [
    orgId,
    userId,
  ]);
  const projectId = randomUUID();
  await db.query(`INSERT INTO projects (org_id, id, name) VALUES ($1, $2, 'p')`, [
    orgId,
    projectId,
  ]);
  await db.query(`INSERT INTO tasks (org_id, project_id, title) VALUES ($1, $2, 't')`, [
    orgId,
    projectId,
  ]);

  const hot: Array<[string, string]> = [
    [
      'membership lookup',
      `SELECT role FROM memberships WHERE org_id = '${orgId}' AND user_id = '${userId}'`,
    ],
    ['org row lock', `SELECT id FROM organizations WHERE id = '${orgId}' FOR KEY SHARE`],
    ['task list', `SELECT * FROM tasks WHERE org_id = '${orgId}' ORDER BY created_at, id LIMIT 21`],
    [
      'task board',
      `SELECT status, count(*) FROM tasks WHERE org_id = '${orgId}' AND project_id = '${projectId}' GROUP BY status`,
    ],
    [
      'task insert',
      `INSERT INTO tasks (org_id, project_id, title) VALUES ('${orgId}', '${projectId}', 'x')`,
    ],
    [
      'task update',
      `UPDATE tasks SET title = 'y' WHERE org_id = '${orgId}' AND id = '${randomUUID()}'`,
    ],
    [
      'audit append',
      `INSERT INTO audit_log (org_id, action) VALUES ('${orgId}', 'x'), ('${orgId}', 'y')`,
    ],
    [
      'event head',
      `INSERT INTO event_log_heads AS h (org_id, position) VALUES ('${orgId}', 1) ON CONFLICT (org_id) DO UPDATE SET position = h.position + 1`,
    ],
    [
      'member list',
      `SELECT m.user_id, u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = '${orgId}' LIMIT 21`,
    ],
    [
      'webhook fan-out',
      `INSERT INTO webhook_deliveries (org_id, webhook_id, event_type, event_position, body) SELECT w.org_id, w.id, 'x', 1, '' FROM webhooks w WHERE w.org_id = '${orgId}' AND w.enabled`,
    ],
    [
      'session check',
      `SELECT 1 FROM auth_sessions WHERE id = '${randomUUID()}' AND user_id = '${userId}'`,
    ],
    [
      'refresh token spend',
      `UPDATE refresh_tokens SET used_at = now() WHERE session_id = '${randomUUID()}' AND token_hash = '\\x00'`,
    ],
  ];
  for (const [name, sql] of hot) {
    const plan = (await db.query(`EXPLAIN (COSTS OFF) ${sql}`)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    const tasks = /Task Count: (\d+)/.exec(plan)?.[1];
    check(tasks === '1', `${name}: one task (${tasks ?? '?'})`);
  }

  // A worker, straight, as the application role with no settings: RLS shows nothing.
  for (const port of [5441, 5442]) {
    const at = new URL(url);
    at.port = String(port);
    at.username = 'worklane_app';
    const worker = new Client({ connectionString: at.toString() });
    await worker.connect();
    // Workers hide shard tables from catalog queries unless told otherwise.
    await worker.query(`SET citus.override_table_visibility TO off`);
    const who = (await worker.query(`SELECT current_user AS u`)).rows[0].u;
    check(who === 'worklane_app', `worker ${port}: logged in as ${who}`);
    const shards = await worker.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname ~ '^(memberships|tasks|projects|organizations)_[0-9]+$'`,
    );
    let seen = 0;
    for (const { name } of shards.rows) {
      const n = Number((await worker.query(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
      if (n > 0) console.log(`  ${name}: ${n}`);
      seen += n;
    }
    check(
      shards.rows.length > 0 && seen === 0,
      `worker ${port} as worklane_app without settings: ${seen} rows in ${shards.rows.length} shards`,
    );
    await worker.end();
  }
  await db.query(`DELETE FROM organizations WHERE id = $1`, [orgId]);
  await db.query(`DELETE FROM users WHERE id = $1`, [userId]);
  await db.end();
  if (failures.length > 0) {
    console.error(`${failures.length} citus check(s) failed`);
    process.exit(1);
  }
}

main(process.argv[2]!).catch((error) => {
  console.error(error);
  process.exit(1);
});
