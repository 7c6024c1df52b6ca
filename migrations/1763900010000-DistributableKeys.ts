import { MigrationInterface, QueryRunner } from 'typeorm';
import { distributeIfCitus, sequentialIfCitus } from './support/citus';

const CURRENT_USER = `nullif(current_setting('app.user_id', true), '')::uuid`;
const NO_ORG = `coalesce(current_setting('app.org_id', true), '') = ''`;

/**
 * The keys a Citus cluster can keep (issue 21), on every database, so that one schema runs
 * on one server, the embedded database and a cluster alike:
 *
 * - Invites are found by `(org_id, token_hash)`: a token names its org (`<orgId>.<secret>`),
 *   so redemption reads one shard. The global unique index on the hash goes; so does the
 *   retired tokens' hash index (their lookup names the org too). Tokens issued before
 *   this change name no org and are no longer recognised (404): resend them.
 * - A task's assignee no longer becomes NULL by a foreign-key action when the member goes
 *   (Citus refuses SET NULL through a key that holds org_id): the removal unassigns their
 *   tasks explicitly, with audit entries (MembersService).
 * - The "no org set" policy of memberships reads `coalesce(…, '') = ''` instead of
 *   `… IS NULL`, which Citus cannot deparse (same meaning). `member_of` on organizations
 *   goes: Citus cannot run its subquery over memberships on a shard ("unexpected non-SELECT
 *   command in SubLink"); the one read it served, the caller's orgs (GET /orgs), is a named
 *   system operation now, like GET /me.
 * - Refresh tokens are keyed `(session_id, token_hash)`: a token names its session
 *   (`<sessionId>.<secret>`), so sessions and their tokens are distributed by session, one
 *   shard per sign-in, rather than kept on every node as reference tables (whose writes
 *   lock every node: sign-ins deadlocked under load).
 * - `session_is_live` becomes PL/pgSQL: Citus cannot plan a parameterised SQL function's
 *   query ("could not create distributed plan"). Same answer, same privileges.
 */
export class DistributableKeys1763900010000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await sequentialIfCitus(db);
    await db.query(`DROP INDEX invites_token_hash_key`);
    await db.query(`CREATE UNIQUE INDEX invites_token_key ON invites (org_id, token_hash)`);
    await db.query(`DROP INDEX retired_invite_tokens_hash_idx`);

    await db.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_org_id_assignee_id_fkey`);
    await db.query(`
      ALTER TABLE tasks ADD CONSTRAINT tasks_org_id_assignee_id_fkey
        FOREIGN KEY (org_id, assignee_id) REFERENCES memberships (org_id, user_id)`);

    await db.query(`DROP POLICY IF EXISTS member_of ON organizations`);
    await db.query(`DROP POLICY own_memberships ON memberships`);
    await db.query(`
      CREATE POLICY own_memberships ON memberships FOR SELECT TO worklane_app
        USING (${NO_ORG} AND user_id = ${CURRENT_USER})`);

    await db.query(`ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_session_id_fkey`);
    await db.query(`ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey`);
    await db.query(`ALTER TABLE refresh_tokens ADD PRIMARY KEY (session_id, token_hash)`);
    await db.query(`DROP INDEX refresh_tokens_session_idx`);
    await distributeIfCitus(db, 'auth_sessions', 'id', 'none');
    await distributeIfCitus(db, 'refresh_tokens', 'session_id', 'auth_sessions');
    await db.query(`
      ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_session_id_fkey
        FOREIGN KEY (session_id) REFERENCES auth_sessions (id) ON DELETE CASCADE`);
    await db.query(sessionIsLive('plpgsql'));
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(sessionIsLive('sql'));
    await db.query(`ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_session_id_fkey`);
    await db.query(`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`);
    await db.query(`ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey`);
    await db.query(`ALTER TABLE refresh_tokens ADD PRIMARY KEY (token_hash)`);
    await db.query(`
      ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_session_id_fkey
        FOREIGN KEY (session_id) REFERENCES auth_sessions (id) ON DELETE CASCADE`);

    await db.query(`DROP POLICY own_memberships ON memberships`);
    await db.query(`
      CREATE POLICY own_memberships ON memberships FOR SELECT TO worklane_app
        USING (nullif(current_setting('app.org_id', true), '')::uuid IS NULL AND user_id = ${CURRENT_USER})`);
    await db.query(`DROP POLICY member_of ON organizations`);
    await db.query(`
      CREATE POLICY member_of ON organizations FOR SELECT TO worklane_app
        USING (nullif(current_setting('app.org_id', true), '')::uuid IS NULL
               AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = organizations.id AND m.user_id = ${CURRENT_USER}))`);

    await db.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_org_id_assignee_id_fkey`);
    await db.query(`
      ALTER TABLE tasks ADD CONSTRAINT tasks_org_id_assignee_id_fkey
        FOREIGN KEY (org_id, assignee_id) REFERENCES memberships (org_id, user_id)
        ON DELETE SET NULL (assignee_id)`);

    await db.query(
      `CREATE INDEX retired_invite_tokens_hash_idx ON retired_invite_tokens (token_hash)`,
    );
    await db.query(`DROP INDEX invites_token_key`);
    await db.query(`CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash)`);
  }
}

/** `session_is_live` (migration 1763900003000) in one language or the other. */
function sessionIsLive(language: 'sql' | 'plpgsql'): string {
  const query = `SELECT EXISTS (
          SELECT 1 FROM public.auth_sessions
           WHERE id = sid AND user_id = uid AND revoked_at IS NULL AND expires_at > now())`;
  return `
    CREATE OR REPLACE FUNCTION session_is_live(uid uuid, sid uuid) RETURNS boolean
      LANGUAGE ${language} STABLE SECURITY DEFINER
      SET search_path = pg_catalog, public, pg_temp
    AS $$${language === 'sql' ? query : `BEGIN RETURN (${query}); END`}$$`;
}
