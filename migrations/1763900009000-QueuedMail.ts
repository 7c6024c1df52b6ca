import { MigrationInterface, QueryRunner } from 'typeorm';
import { distributeIfCitus, referenceIfCitus } from './support/citus';

const CURRENT_ORG = `nullif(current_setting('app.org_id', true), '')::uuid`;

/**
 * Email that never blocks a request and never fails silently (issue 15).
 *
 * - `queued_mail`: every outgoing message, written in the transaction of the change that
 *   causes it, sent after commit by a job. It holds the rendered message until it is sent
 *   or given up (then the bodies — which may carry a token — are wiped) and its delivery
 *   state. An account-level table (like `users`): `org_id` only says which org's email it
 *   is (invites), so that org's owners/admins can read its delivery state — worklane_app
 *   may read the state columns of its own org's rows, never a body; worklane_system (the
 *   sending job, account flows) everything.
 * - `invites.mail_id`: the invite's latest email (a resend points it at the new one);
 *   `retired_invite_tokens`: the tokens a resend replaced (410, not 404). A tenant table.
 * - `email_tokens`: single-use tokens mailed to prove an address (verification, address
 *   change) or to reset a password; only their SHA-256 is stored. worklane_system only.
 * - `users.email_verified_at`, `users.pending_email`: an address is verified once a mailed
 *   token came back; a new address waits in `pending_email` until it confirms.
 */
export class QueuedMail1763900009000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE queued_mail (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid,
        purpose text NOT NULL,
        recipient text NOT NULL,
        subject text NOT NULL,
        text_body text,
        html_body text,
        status text NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error text,
        sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // A reference table: account mail has no org, and an org's invite list joins it.
    await referenceIfCitus(db, 'queued_mail');
    await db.query(
      `CREATE INDEX queued_mail_org_idx ON queued_mail (org_id, id) WHERE org_id IS NOT NULL`,
    );
    await db.query(`GRANT SELECT, INSERT, UPDATE ON queued_mail TO worklane_system`);
    await db.query(`GRANT INSERT ON queued_mail TO worklane_app`);
    await db.query(`
      GRANT SELECT (id, org_id, purpose, status, attempts, last_error, sent_at, created_at)
        ON queued_mail TO worklane_app`);
    await db.query(
      `GRANT UPDATE (status, text_body, html_body, updated_at) ON queued_mail TO worklane_app`,
    );
    await db.query(`ALTER TABLE queued_mail ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE queued_mail FORCE ROW LEVEL SECURITY`);
    await db.query(`
      CREATE POLICY tenant_isolation ON queued_mail TO worklane_app
        USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    await db.query(`
      CREATE POLICY system_operations ON queued_mail TO worklane_system USING (true) WITH CHECK (true)`);

    await db.query(`ALTER TABLE invites ADD COLUMN mail_id uuid`);
    // A resend's old token: still recognised, so that it answers 410 rather than 404.
    await db.query(`
      CREATE TABLE retired_invite_tokens (
        org_id uuid NOT NULL,
        token_hash bytea NOT NULL,
        invite_id uuid NOT NULL,
        retired_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, token_hash)
      )`);
    await distributeIfCitus(db, 'retired_invite_tokens', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE retired_invite_tokens ADD FOREIGN KEY (org_id, invite_id) REFERENCES invites (org_id, id) ON DELETE CASCADE`,
    );
    await db.query(
      `CREATE INDEX retired_invite_tokens_hash_idx ON retired_invite_tokens (token_hash)`,
    );
    await db.query(`GRANT SELECT, INSERT ON retired_invite_tokens TO worklane_app`);
    await db.query(`GRANT SELECT ON retired_invite_tokens TO worklane_system`);
    await db.query(`ALTER TABLE retired_invite_tokens ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE retired_invite_tokens FORCE ROW LEVEL SECURITY`);
    await db.query(`
      CREATE POLICY tenant_isolation ON retired_invite_tokens TO worklane_app
        USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    await db.query(`
      CREATE POLICY system_operations ON retired_invite_tokens TO worklane_system USING (true)`);

    await db.query(`
      CREATE TABLE email_tokens (
        token_hash bytea PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('verify_email', 'change_email', 'reset_password')),
        email text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Found by its hash alone (the link carries nothing else): distributed by it.
    await distributeIfCitus(db, 'email_tokens', 'token_hash', 'none');
    await db.query(
      `CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose) WHERE used_at IS NULL`,
    );
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON email_tokens TO worklane_system`);

    await db.query(`ALTER TABLE users ADD COLUMN email_verified_at timestamptz`);
    // Column and check apart: Citus adds no column together with a constraint.
    await db.query(`ALTER TABLE users ADD COLUMN pending_email text`);
    await db.query(`
      ALTER TABLE users ADD CONSTRAINT users_pending_email_check CHECK (pending_email = lower(pending_email))`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE users DROP COLUMN pending_email, DROP COLUMN email_verified_at`);
    await db.query(`DROP TABLE email_tokens`);
    await db.query(`DROP TABLE retired_invite_tokens`);
    await db.query(`ALTER TABLE invites DROP COLUMN mail_id`);
    await db.query(`DROP TABLE queued_mail`);
  }
}
