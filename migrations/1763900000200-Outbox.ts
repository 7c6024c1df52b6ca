import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Domain events, written in the transaction of the change that raised them (DESIGN §6);
 * after commit they feed the event stream and any async consumer. The id orders them.
 */
export class Outbox1763900000200 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE outbox_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        org_id uuid,
        type text NOT NULL,
        actor_id uuid,
        payload jsonb NOT NULL,
        request_id text,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await db.query(`CREATE INDEX outbox_events_org_idx ON outbox_events (org_id, id)`);
    await db.query(
      `CREATE INDEX outbox_events_unpublished_idx ON outbox_events (id) WHERE published_at IS NULL`,
    );
    await db.query(`GRANT SELECT, INSERT ON outbox_events TO worklane_app, worklane_system`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE outbox_events`);
  }
}
