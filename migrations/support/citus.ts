import { QueryRunner } from 'typeorm';

/**
 * Placement of tables on a Citus cluster (README, "Scale out on Citus"). One schema runs
 * everywhere: on plain PostgreSQL and the embedded database every helper here does nothing.
 * Where the `citus` extension exists, each table is placed right after its CREATE TABLE,
 * before its policies (Citus cannot convert a table that already has policies), and before
 * the tables whose foreign keys point at it.
 *
 * - Reference tables (a copy on every node): global, read-mostly data that tenant tables
 *   join or point at (`users`).
 * - Distributed by `org_id` in the colocation group of `organizations` (by `id`): every
 *   tenant table, so that one org's rows live on one shard and its requests are router
 *   queries.
 * - User-scoped, write-heavy tables (sessions, tokens, idempotency keys) are distributed by
 *   the key their lookups carry, in groups of their own: single-shard writes, no two-phase
 *   commit to every node as a reference table would need.
 */
export async function isCitus(db: QueryRunner): Promise<boolean> {
  const [row] = await db.query(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`,
  );
  return row.citus === true;
}

export async function referenceIfCitus(db: QueryRunner, table: string): Promise<void> {
  if (!(await isCitus(db))) return;
  await sequential(db);
  await db.query(`SELECT create_reference_table($1)`, [table]);
}

/**
 * `colocateWith`: the table whose shards this one's follow, or 'none' to head a group of
 * its own.
 */
export async function distributeIfCitus(
  db: QueryRunner,
  table: string,
  column: string,
  colocateWith: string,
): Promise<void> {
  if (!(await isCitus(db))) return;
  await sequential(db);
  await db.query(`SELECT create_distributed_table($1, $2, colocate_with => $3)`, [
    table,
    column,
    colocateWith,
  ]);
}

/**
 * The coordinator opens its connections to the workers as the current role, so the
 * roles requests drop to (`SET LOCAL ROLE`) must be able to log in on every node. They
 * carry no password here: in production the nodes authenticate them by password (a
 * `.pgpass` / `citus.node_conninfo` on the coordinator) or certificate, see the README.
 * Citus creates the roles on the workers (and any worker added later) and propagates the
 * attribute.
 */
export async function loginRolesIfCitus(db: QueryRunner, roles: string[]): Promise<void> {
  if (!(await isCitus(db))) return;
  for (const role of roles) {
    await db.query(`ALTER ROLE ${role} LOGIN`);
  }
}

/**
 * A migration runs in one transaction; Citus must then create shards and copy foreign
 * keys to reference tables over one connection per node. A migration that changes
 * distributed tables before it places one calls this first.
 */
export async function sequentialIfCitus(db: QueryRunner): Promise<void> {
  if (await isCitus(db)) await sequential(db);
}

async function sequential(db: QueryRunner): Promise<void> {
  await db.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
}
