import { MigrationInterface, QueryRunner } from 'typeorm';
import { distributeIfCitus } from './support/citus';

const CURRENT_ORG = `nullif(current_setting('app.org_id', true), '')::uuid`;

/**
 * Outgoing webhooks (Standard Webhooks), keyed by org like every tenant table.
 *
 * - `webhooks`: the endpoint, the event types it takes (empty: all) and its signing secret.
 *   The secret is kept as issued (`whsec_…`): signing needs it, and a hash would not do.
 *   During a rotation's 24 h overlap the previous one signs too. `failing_since` is the
 *   first failed attempt since the last success: 24 h of that disables the webhook.
 * - `webhook_deliveries`: one per (event, webhook), written in the transaction that
 *   published the event. `body` holds the exact bytes every attempt signs and sends (text,
 *   not jsonb, which would reorder keys). `attempts` is the attempt log (at most 10 per
 *   chain; a redelivery starts a new chain on the same row, so the webhook-id stays).
 */
export class Webhooks1763900008000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhooks (
        org_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
        events text[] NOT NULL DEFAULT '{}',
        description text CHECK (length(description) <= 500),
        enabled boolean NOT NULL DEFAULT true,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_expires_at timestamptz,
        failing_since timestamptz,
        disabled_reason text,
        disabled_at timestamptz,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await distributeIfCitus(db, 'webhooks', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE webhooks ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE`,
    );
    await db.query(`CREATE INDEX webhooks_org_list_idx ON webhooks (org_id, created_at, id)`);

    await db.query(`
      CREATE TABLE webhook_deliveries (
        org_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL,
        event_type text NOT NULL,
        event_position bigint NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts jsonb NOT NULL DEFAULT '[]',
        next_attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await distributeIfCitus(db, 'webhook_deliveries', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE webhook_deliveries ADD FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE`,
    );
    // The deliveries of one webhook, newest first (the list), and the cascade's lookup.
    await db.query(`
      CREATE INDEX webhook_deliveries_list_idx
        ON webhook_deliveries (org_id, webhook_id, created_at DESC, id DESC)`);

    await db.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON webhooks, webhook_deliveries TO worklane_app`,
    );
    for (const table of ['webhooks', 'webhook_deliveries']) {
      await db.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await db.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await db.query(`
        CREATE POLICY tenant_isolation ON ${table} TO worklane_app
          USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    }
    // Events published in a named system operation (an invite accepted: member.joined)
    // fan out as worklane_system, which may read which webhooks take which events — not
    // their URLs nor their secrets (column grants) — and insert their deliveries.
    await db.query(`GRANT SELECT (org_id, id, events, enabled) ON webhooks TO worklane_system`);
    await db.query(`GRANT INSERT, SELECT (id) ON webhook_deliveries TO worklane_system`);
    // The retention job (worklane_system) deletes finished deliveries past their days: it
    // sees their state and age, never their bodies.
    await db.query(
      `GRANT SELECT (org_id, status, created_at), DELETE ON webhook_deliveries TO worklane_system`,
    );
    await db.query(`
      CREATE POLICY system_retention ON webhook_deliveries FOR DELETE TO worklane_system
        USING (true)`);
    await db.query(
      `CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)`,
    );
    await db.query(
      `CREATE POLICY system_fan_out ON webhooks FOR SELECT TO worklane_system USING (true)`,
    );
    await db.query(`
      CREATE POLICY system_fan_out ON webhook_deliveries FOR INSERT TO worklane_system
        WITH CHECK (true)`);
    await db.query(`
      CREATE POLICY system_fan_out_returning ON webhook_deliveries FOR SELECT TO worklane_system
        USING (true)`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE webhook_deliveries, webhooks`);
  }
}
