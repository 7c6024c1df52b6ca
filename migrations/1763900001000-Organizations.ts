import { MigrationInterface, QueryRunner } from 'typeorm';
import { distributeIfCitus, isCitus } from './support/citus';

const CURRENT_ORG = `nullif(current_setting('app.org_id', true), '')::uuid`;
const CURRENT_USER = `nullif(current_setting('app.user_id', true), '')::uuid`;
// "No org set", written without IS NULL, which Citus cannot deparse in a policy.
const NO_ORG = `coalesce(current_setting('app.org_id', true), '') = ''`;

/**
 * Organizations, memberships, invites and the audit log, each under row-level security:
 * `worklane_app` sees only the org of `app.org_id`; `worklane_system` (named cross-tenant
 * operations) is let in explicitly, table by table. FORCE applies it to the owner too.
 * Foreign keys to a distributed table come after the table is placed (on Citus a table
 * pointing at a distributed one must be distributed itself, see ./support/citus.ts).
 */
export class Organizations1763900001000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await distributeIfCitus(db, 'organizations', 'id', 'none');

    await db.query(`
      CREATE TABLE memberships (
        org_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, user_id)
      )`);
    await distributeIfCitus(db, 'memberships', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE memberships ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE`,
    );
    await db.query(`CREATE INDEX memberships_user_idx ON memberships (user_id)`);
    await db.query(
      `CREATE INDEX memberships_org_joined_idx ON memberships (org_id, created_at, user_id)`,
    );

    await db.query(`
      CREATE TABLE invites (
        org_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('email', 'link')),
        email text CHECK (email = lower(email)),
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        token_hash bytea NOT NULL,
        max_uses integer NOT NULL CHECK (max_uses >= 1),
        uses integer NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id),
        CHECK ((kind = 'email') = (email IS NOT NULL))
      )`);
    await distributeIfCitus(db, 'invites', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE invites ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE`,
    );
    // Global on one server; a shard can only keep a key that holds org_id (migration
    // 1763900010000 makes it that everywhere).
    await db.query(
      `CREATE UNIQUE INDEX invites_token_hash_key ON invites (${(await isCitus(db)) ? 'org_id, ' : ''}token_hash)`,
    );
    // At most one live email invite per address and org: a new one revokes the old.
    await db.query(`
      CREATE UNIQUE INDEX invites_live_email_key ON invites (org_id, email)
        WHERE kind = 'email' AND revoked_at IS NULL AND uses < max_uses`);
    await db.query(
      `CREATE INDEX invites_org_created_idx ON invites (org_id, created_at DESC, id DESC)`,
    );

    await db.query(`
      CREATE TABLE audit_log (
        org_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        actor_id uuid,
        action text NOT NULL,
        target_type text,
        target_id text,
        metadata jsonb NOT NULL DEFAULT '{}',
        request_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await distributeIfCitus(db, 'audit_log', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE audit_log ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE`,
    );
    await db.query(`CREATE INDEX audit_log_org_seq_idx ON audit_log (org_id, seq DESC)`);
    await db.query(`CREATE INDEX audit_log_org_action_idx ON audit_log (org_id, action, seq DESC)`);
    await db.query(
      `CREATE INDEX audit_log_org_target_idx ON audit_log (org_id, target_type, target_id, seq DESC)`,
    );
    await db.query(
      `CREATE INDEX audit_log_org_actor_idx ON audit_log (org_id, actor_id, seq DESC)`,
    );

    // Grants: what each role may do at all; RLS then decides which rows.
    await db.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON organizations, memberships, invites TO worklane_app`,
    );
    await db.query(`GRANT SELECT, INSERT ON audit_log TO worklane_app, worklane_system`);
    await db.query(`GRANT SELECT ON organizations TO worklane_system`);
    await db.query(`GRANT SELECT, INSERT ON memberships TO worklane_system`);
    await db.query(`GRANT SELECT, UPDATE ON invites TO worklane_system`);

    for (const table of ['organizations', 'memberships', 'invites', 'audit_log', 'outbox_events']) {
      await db.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await db.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    }

    await db.query(`
      CREATE POLICY tenant_isolation ON organizations TO worklane_app
        USING (id = ${CURRENT_ORG}) WITH CHECK (id = ${CURRENT_ORG})`);
    // Outside any org (GET /orgs, GET /me) a user sees the orgs they belong to, through
    // their own memberships; once a request is scoped to an org, only that org. (Citus
    // cannot run a subquery in a policy: migration 1763900010000 drops this one and makes
    // GET /orgs a named system operation.)
    if (!(await isCitus(db))) {
      await db.query(`
        CREATE POLICY member_of ON organizations FOR SELECT TO worklane_app
          USING (${NO_ORG}
                 AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = organizations.id AND m.user_id = ${CURRENT_USER}))`);
    }
    await db.query(`
      CREATE POLICY tenant_isolation ON memberships TO worklane_app
        USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    await db.query(`
      CREATE POLICY own_memberships ON memberships FOR SELECT TO worklane_app
        USING (${NO_ORG} AND user_id = ${CURRENT_USER})`);
    for (const table of ['invites', 'audit_log']) {
      await db.query(`
        CREATE POLICY tenant_isolation ON ${table} TO worklane_app
          USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    }
    // Events outside any tenant (sign-up) carry no org and are visible only without one.
    await db.query(`
      CREATE POLICY tenant_isolation ON outbox_events TO worklane_app
        USING (org_id IS NOT DISTINCT FROM ${CURRENT_ORG}) WITH CHECK (org_id IS NOT DISTINCT FROM ${CURRENT_ORG})`);
    // The named system operations: invite lookup by token and redemption, event writes.
    for (const table of ['organizations', 'memberships', 'invites', 'audit_log', 'outbox_events']) {
      await db.query(
        `CREATE POLICY system_operations ON ${table} TO worklane_system USING (true) WITH CHECK (true)`,
      );
    }
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP POLICY IF EXISTS tenant_isolation ON outbox_events`);
    await db.query(`DROP POLICY IF EXISTS system_operations ON outbox_events`);
    await db.query(`ALTER TABLE outbox_events NO FORCE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE outbox_events DISABLE ROW LEVEL SECURITY`);
    await db.query(`DROP TABLE audit_log, invites, memberships, organizations`);
  }
}
