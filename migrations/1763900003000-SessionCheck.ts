import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether session `sid` of user `uid` is live (not revoked, not expired), for the
 * membership guard: it asks inside the request's worklane_app transaction, in the same
 * statement that reads the membership, without the app role reading `auth_sessions`
 * (which it will not be allowed to). SECURITY DEFINER, owned by the migration user, with
 * the search path pinned so that nobody can plant a look-alike table; it answers one
 * boolean and nothing else, and only worklane_app may call it.
 */
export class SessionCheck1763900003000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION session_is_live(uid uuid, sid uuid) RETURNS boolean
        LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = pg_catalog, public, pg_temp
      AS $$
        SELECT EXISTS (
          SELECT 1 FROM public.auth_sessions
           WHERE id = sid AND user_id = uid AND revoked_at IS NULL AND expires_at > now())
      $$`);
    await db.query(`REVOKE ALL ON FUNCTION session_is_live(uuid, uuid) FROM PUBLIC`);
    await db.query(`GRANT EXECUTE ON FUNCTION session_is_live(uuid, uuid) TO worklane_app`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION session_is_live(uuid, uuid)`);
  }
}
