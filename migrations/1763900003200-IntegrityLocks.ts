import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Locks in one order, the org row first (issue 12, item 10). Every tenant request takes
 * the org row (key share) in the membership guard's query, and an org deletion locks it
 * for update before anything else. Invite redemption, a worklane_system operation, must
 * keep that order too — it takes the org row in the statement that locks the invite — and
 * a row lock needs UPDATE on at least one column of the table. worklane_system gets
 * exactly that: UPDATE of `updated_at`, which no system operation writes and which
 * carries no meaning anyone could abuse; it still may not change any org's name or id.
 * (worklane_app already holds UPDATE on the tables it locks.)
 */
export class IntegrityLocks1763900003200 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`GRANT UPDATE (updated_at) ON organizations TO worklane_system`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`REVOKE UPDATE (updated_at) ON organizations FROM worklane_system`);
  }
}
