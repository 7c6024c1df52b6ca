import { MigrationInterface, QueryRunner } from 'typeorm';
import { distributeIfCitus } from './support/citus';

const CURRENT_ORG = `nullif(current_setting('app.org_id', true), '')::uuid`;

/**
 * The outbox becomes each org's ordered event log (the event stream and webhooks read it):
 *
 * - `position` numbers an org's events 1, 2, 3… with no gap, in commit order. It is handed
 *   out from `event_log_heads`, whose row for the org is locked by the transaction that
 *   takes positions until it commits: the next writer of that org gets the following
 *   positions only after it, so a reader that has seen position n has seen every position
 *   below n. A rolled-back transaction gives its positions back.
 * - The key is `(org_id, position)`; events of no org (none are published today) stay out
 *   of the log. The old global id and the never-used `published_at` go.
 * - The isolation policy no longer needs `IS NOT DISTINCT FROM` (org_id is never null).
 * - `event_stream_tickets`: single-use, 60-second tickets for browsers' EventSource, which
 *   cannot send an Authorization header; only their SHA-256 is stored.
 */
export class EventLog1763900007000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM outbox_events WHERE org_id IS NULL`);
    await db.query(`ALTER TABLE outbox_events ADD COLUMN position bigint`);
    await db.query(`
      UPDATE outbox_events o SET position = r.n
        FROM (SELECT id, row_number() OVER (PARTITION BY org_id ORDER BY id) AS n FROM outbox_events) r
       WHERE o.id = r.id`);
    await db.query(`
      CREATE TABLE event_log_heads (
        org_id uuid PRIMARY KEY,
        position bigint NOT NULL CHECK (position >= 0)
      )`);
    await distributeIfCitus(db, 'event_log_heads', 'org_id', 'organizations');
    await db.query(`
      INSERT INTO event_log_heads (org_id, position)
      SELECT org_id, max(position) FROM outbox_events GROUP BY org_id`);
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN org_id SET NOT NULL`);
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN position SET NOT NULL`);
    await db.query(`DROP POLICY tenant_isolation ON outbox_events`);
    // Off and back on below: Citus distributes only a table without policies.
    await db.query(`DROP POLICY system_operations ON outbox_events`);
    await db.query(`ALTER TABLE outbox_events DROP COLUMN id, DROP COLUMN published_at`);
    await db.query(`DROP INDEX IF EXISTS outbox_events_org_idx`);
    await db.query(`ALTER TABLE outbox_events ADD PRIMARY KEY (org_id, position)`);
    await distributeIfCitus(db, 'outbox_events', 'org_id', 'organizations');
    await db.query(
      `CREATE POLICY system_operations ON outbox_events TO worklane_system USING (true) WITH CHECK (true)`,
    );
    await db.query(`
      CREATE POLICY tenant_isolation ON outbox_events TO worklane_app
        USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);

    await db.query(`ALTER TABLE event_log_heads ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE event_log_heads FORCE ROW LEVEL SECURITY`);
    await db.query(`
      CREATE POLICY tenant_isolation ON event_log_heads TO worklane_app
        USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    await db.query(
      `CREATE POLICY system_operations ON event_log_heads TO worklane_system USING (true) WITH CHECK (true)`,
    );
    await db.query(
      `GRANT SELECT, INSERT, UPDATE ON event_log_heads TO worklane_app, worklane_system`,
    );
    await db.query(`GRANT DELETE ON event_log_heads TO worklane_system`);

    await db.query(`
      CREATE TABLE event_stream_tickets (
        org_id uuid NOT NULL,
        token_hash bytea NOT NULL,
        user_id uuid NOT NULL,
        session_id uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, token_hash)
      )`);
    await distributeIfCitus(db, 'event_stream_tickets', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE event_stream_tickets ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE`,
    );
    await db.query(`ALTER TABLE event_stream_tickets ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE event_stream_tickets FORCE ROW LEVEL SECURITY`);
    await db.query(`
      CREATE POLICY tenant_isolation ON event_stream_tickets TO worklane_app
        USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    await db.query(`GRANT SELECT, INSERT, DELETE ON event_stream_tickets TO worklane_app`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE event_stream_tickets`);
    await db.query(`DROP TABLE event_log_heads`);
    await db.query(`DROP POLICY tenant_isolation ON outbox_events`);
    await db.query(`ALTER TABLE outbox_events DROP CONSTRAINT outbox_events_pkey`);
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN org_id DROP NOT NULL`);
    await db.query(`
      ALTER TABLE outbox_events
        ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ADD COLUMN published_at timestamptz,
        DROP COLUMN position`);
    await db.query(`CREATE INDEX outbox_events_org_idx ON outbox_events (org_id, id)`);
    await db.query(`
      CREATE POLICY tenant_isolation ON outbox_events TO worklane_app
        USING (org_id IS NOT DISTINCT FROM ${CURRENT_ORG}) WITH CHECK (org_id IS NOT DISTINCT FROM ${CURRENT_ORG})`);
  }
}
