import { MigrationInterface, QueryRunner } from 'typeorm';
import { loginRolesIfCitus } from './support/citus';

/**
 * The two non-owner roles request work drops to (DESIGN §3):
 * - worklane_app: every tenant request; row-level security confines it to `app.org_id`.
 * - worklane_system: the few named cross-tenant operations (sign-up, invite lookup by
 *   token, listing a user's own memberships); policies name it explicitly.
 * Roles are cluster-wide, so creating them tolerates an existing one (and a concurrent
 * creator), and `down` leaves them for other databases of the same server.
 */
export class DatabaseRoles1763900000000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    for (const role of ['worklane_app', 'worklane_system']) {
      await db.query(`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
            CREATE ROLE ${role} NOLOGIN;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`);
      await db.query(`
        DO $$ BEGIN
          IF NOT pg_has_role(current_user, '${role}', 'MEMBER') THEN
            EXECUTE format('GRANT ${role} TO %I', current_user);
          END IF;
        END $$`);
      await db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    }
    await loginRolesIfCitus(db, ['worklane_app', 'worklane_system']);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`REVOKE USAGE ON SCHEMA public FROM worklane_app, worklane_system`);
  }
}
