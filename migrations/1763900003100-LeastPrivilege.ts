import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Least privilege in the database (issue 12, items 12 and 13).
 *
 * - worklane_app loses every privilege on the credential and session tables: of `users`
 *   it may read only what tenant queries show (id, name, email — member lists join them);
 *   `password_hash`, `auth_sessions` and `refresh_tokens` are for worklane_system alone
 *   (auth flows), and the session check goes through `session_is_live()`.
 * - Idempotency replays rest sealed (AES-256-GCM, keyed from the client's Idempotency-Key,
 *   see idempotency.interceptor.ts): `response` becomes bytea and `key` keeps only a
 *   digest. Stored plain-text replays are dropped — they may hold secrets (link invite
 *   tokens) and cannot be sealed without the client; a retry within 24 h of a request made
 *   before this migration therefore creates anew.
 * - worklane_system may see and delete expired keys only (the purge job), nothing fresher.
 *
 * The login and owner roles of a deployment are created outside migrations (they carry
 * passwords): see docker/init-roles.sql.
 */
export class LeastPrivilege1763900003100 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`REVOKE ALL ON users, auth_sessions, refresh_tokens FROM worklane_app`);
    await db.query(`GRANT SELECT (id, name, email) ON users TO worklane_app`);

    await db.query(`DELETE FROM idempotency_keys`);
    await db.query(`ALTER TABLE idempotency_keys RENAME COLUMN key TO key_digest`);
    await db.query(`ALTER TABLE idempotency_keys ALTER COLUMN response TYPE bytea USING NULL`);
    await db.query(`GRANT SELECT, DELETE ON idempotency_keys TO worklane_system`);
    await db.query(`
      CREATE POLICY expired_keys ON idempotency_keys TO worklane_system
        USING (created_at < now() - interval '24 hours')`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP POLICY expired_keys ON idempotency_keys`);
    await db.query(`REVOKE SELECT, DELETE ON idempotency_keys FROM worklane_system`);
    // Sealed replays cannot be opened without the clients' keys: they go.
    await db.query(`DELETE FROM idempotency_keys`);
    await db.query(`ALTER TABLE idempotency_keys ALTER COLUMN response TYPE jsonb USING NULL`);
    await db.query(`ALTER TABLE idempotency_keys RENAME COLUMN key_digest TO key`);

    await db.query(`REVOKE SELECT (id, name, email) ON users FROM worklane_app`);
    await db.query(`
      GRANT SELECT, INSERT, UPDATE, DELETE ON users, auth_sessions, refresh_tokens TO worklane_app`);
  }
}
