import PgBoss from 'pg-boss';
import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The job queue's schema (pg-boss, see src/shared/jobs): created here, by the schema
 * owner, never by the library at run time (the runner starts with `migrate: false` and
 * refuses to run on a schema of another version).
 *
 * - The tables and functions are pg-boss's own construction plan (schema version 24 for
 *   pg-boss 10.x). The plan wraps itself in BEGIN/COMMIT; those are taken off so that it
 *   runs inside this migration's transaction, with the grants, all or nothing. Upgrading
 *   pg-boss means a new migration running `PgBoss.getMigrationPlans('pgboss', <version in
 *   pgboss.version>)` when the stored version is older.
 * - pg-boss keeps each queue in a partition of `pgboss.job`, created by
 *   `pgboss.create_queue()` when a task is registered. That function becomes SECURITY
 *   DEFINER (owned by the schema owner, fixed search_path), so the runtime roles create
 *   queues without owning any table or holding CREATE on the schema.
 * - worklane_system runs the queue (fetch, complete, fail, maintenance, cron): DML on the
 *   schema's tables. The runner's connections `SET ROLE worklane_system` on a server.
 * - worklane_app only enqueues, inside the request's transaction: INSERT into the job
 *   table (plus the `id` it returns) and a read of the queue settings that INSERT joins.
 *   It can read no job's data.
 * - worklane_system may prune the outbox (the retention job), which finds old events
 *   through an index on `occurred_at`.
 */
export class JobQueue1763900005000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(constructionPlan());
    await db.query(`
      ALTER FUNCTION pgboss.create_queue(text, json)
        SECURITY DEFINER SET search_path = pg_catalog, pg_temp`);
    await db.query(`REVOKE ALL ON FUNCTION pgboss.create_queue(text, json) FROM PUBLIC`);
    await db.query(`REVOKE ALL ON FUNCTION pgboss.delete_queue(text) FROM PUBLIC`);
    await db.query(`GRANT EXECUTE ON FUNCTION pgboss.create_queue(text, json) TO worklane_system`);

    await db.query(`GRANT USAGE ON SCHEMA pgboss TO worklane_app, worklane_system`);
    await db.query(`
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgboss TO worklane_system`);
    await db.query(`GRANT INSERT, SELECT (id) ON pgboss.job TO worklane_app`);
    await db.query(`GRANT SELECT ON pgboss.queue TO worklane_app`);

    await db.query(`GRANT DELETE ON outbox_events TO worklane_system`);
    await db.query(`CREATE INDEX outbox_events_occurred_idx ON outbox_events (occurred_at)`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX outbox_events_occurred_idx`);
    await db.query(`REVOKE DELETE ON outbox_events FROM worklane_system`);
    await db.query(`DROP SCHEMA pgboss CASCADE`);
  }
}

/** pg-boss's construction plan without its own BEGIN/COMMIT. */
function constructionPlan(): string {
  const plan = PgBoss.getConstructionPlans('pgboss').trim();
  if (!/^BEGIN;/.test(plan) || !/COMMIT;$/.test(plan)) {
    throw new Error('pg-boss construction plan changed shape: review this migration');
  }
  return plan.replace(/^BEGIN;/, '').replace(/COMMIT;$/, '');
}
