import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OrgRole } from '../shared/database/request-context';
import { cursorParams, one, pastCursor, Presence, rows, uuidLiteral } from '../shared/database/sql';
import { inlineParameters } from '../shared/database/inline-parameters';
import { DatabaseTopology } from '../shared/database/topology';
import type { OpeningRead } from '../shared/database/transaction';

export interface OrgRow {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface MyOrgRow extends OrgRow {
  role: OrgRole;
  joinedAt: Date;
  /** Keyset of the "my orgs" list: the membership's exact timestamp, as text. */
  joinedKey: string;
}

/** A membership row; the member's name and email come from `accounts` (USER_DIRECTORY). */
export interface MembershipRow {
  userId: string;
  role: OrgRole;
  joinedAt: Date;
  joinedKey: string;
}

/** A membership with who the member is, as the API shows it. */
export interface MemberRow extends MembershipRow {
  name: string;
  email: string;
}

const ORG_COLUMNS = `o.id, o.name, o.created_at AS "createdAt", o.updated_at AS "updatedAt"`;
const MEMBER_COLUMNS = `m.user_id AS "userId", m.role, m.created_at AS "joinedAt",
  m.created_at::text AS "joinedKey"`;

/**
 * Organizations and memberships. Every tenant query names its org (`org_id = $1`) even
 * though row-level security would also confine it: two locks on one door.
 */
/**
 * The membership guard's statement: the caller's role and whether their session is live,
 * optionally taking the org row first. Written once over placeholders or inlined literals.
 */
function callerRoleSql(org: string, user: string, session: string, lockOrg: boolean): string {
  return lockOrg
    ? `WITH org AS (SELECT id FROM organizations WHERE id = ${org} FOR KEY SHARE)
SELECT session_is_live(${user}, ${session}) AS live,
       (SELECT m.role FROM memberships m JOIN org ON org.id = m.org_id
         WHERE m.org_id = ${org} AND m.user_id = ${user}) AS role`
    : `SELECT session_is_live(${user}, ${session}) AS live,
       (SELECT role FROM memberships WHERE org_id = ${org} AND user_id = ${user}) AS role`;
}

const CALLER_ROLE = callerRoleSql('$1', '$2', '$3', false);
const CALLER_ROLE_LOCKING_ORG = callerRoleSql('$1', '$2', '$3', true);

type CallerRole = { role: OrgRole | null; sessionLive: boolean };

function callerRoleOf(row: { role?: unknown; live?: unknown } | undefined): CallerRole {
  return { role: (row?.role as OrgRole | null) ?? null, sessionLive: row?.live === true };
}

/**
 * On Citus the membership query is routed to the org's shard, where the session check
 * (over `auth_sessions`, distributed by session) cannot run: it goes first, on its own.
 */
const SESSION_LIVE = `SELECT session_is_live($1, $2) AS live`;
const ROLE_ONLY = `SELECT (SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2) AS role`;
const ROLE_ONLY_LOCKING_ORG = `WITH org AS (SELECT id FROM organizations WHERE id = $1 FOR KEY SHARE)
SELECT (SELECT m.role FROM memberships m JOIN org ON org.id = m.org_id
         WHERE m.org_id = $1 AND m.user_id = $2) AS role`;

@Injectable()
export class OrganizationsRepository {
  constructor(private readonly topology: DatabaseTopology) {}

  async insertOrg(
    em: EntityManager,
    org: { id: string; name: string; createdBy: string },
  ): Promise<OrgRow> {
    return (await one<OrgRow>(
      em,
      `INSERT INTO organizations AS o (id, name, created_by) VALUES ($1, $2, $3) RETURNING ${ORG_COLUMNS}`,
      [org.id, org.name, org.createdBy],
    ))!;
  }

  findOrg(em: EntityManager, orgId: string): Promise<OrgRow | undefined> {
    return one<OrgRow>(em, `SELECT ${ORG_COLUMNS} FROM organizations o WHERE o.id = $1`, [orgId]);
  }

  /**
   * The org, locked for deletion. Every tenant request holds the org row (key share, see
   * `callerRole`) before it touches anything else of the org, so this waits for the writes
   * in flight and the ones after it wait here, then find no org: one lock order, no deadlock.
   */
  lockOrg(em: EntityManager, orgId: string): Promise<OrgRow | undefined> {
    return one<OrgRow>(
      em,
      `SELECT ${ORG_COLUMNS} FROM organizations o WHERE o.id = $1 FOR UPDATE`,
      [orgId],
    );
  }

  async renameOrg(em: EntityManager, orgId: string, name: string): Promise<OrgRow> {
    return (await one<OrgRow>(
      em,
      `UPDATE organizations o SET name = $2, updated_at = now() WHERE o.id = $1 RETURNING ${ORG_COLUMNS}`,
      [orgId, name],
    ))!;
  }

  /**
   * Memberships, invites, projects and audit entries go with it (ON DELETE CASCADE); its
   * tasks first, since their assignee key to memberships has no action, and on a Citus
   * shard the cascade may reach memberships before it reaches tasks.
   */
  async deleteOrg(em: EntityManager, orgId: string): Promise<void> {
    await em.query(`DELETE FROM tasks WHERE org_id = $1`, [orgId]);
    await em.query(`DELETE FROM organizations WHERE id = $1`, [orgId]);
  }

  /** The caller's orgs, across tenants: a system operation (GET /orgs, GET /me). */
  listForUser(
    em: EntityManager,
    userId: string,
    limit: number,
    after: [string, string] | null,
  ): Promise<MyOrgRow[]> {
    return rows<MyOrgRow>(
      em,
      `SELECT ${ORG_COLUMNS}, m.role, m.created_at AS "joinedAt", m.created_at::text AS "joinedKey"
         FROM memberships m JOIN organizations o ON o.id = m.org_id
        WHERE m.user_id = $1 AND ($2::timestamptz IS NULL OR (m.created_at, m.org_id) > ($2::timestamptz, $3::uuid))
        ORDER BY m.created_at, m.org_id
        LIMIT $4`,
      [userId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    );
  }

  /** A unique violation here means the user is already a member. */
  async insertMembership(
    em: EntityManager,
    orgId: string,
    userId: string,
    role: OrgRole,
  ): Promise<{ joinedAt: Date }> {
    return (await one<{ joinedAt: Date }>(
      em,
      `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) RETURNING created_at AS "joinedAt"`,
      [orgId, userId, role],
    ))!;
  }

  /**
   * Read under a share lock, so the answer holds until the transaction ends: a removal or
   * role change of that member waits for it (an assignment and a removal serialize).
   */
  async roleOf(em: EntityManager, orgId: string, userId: string): Promise<OrgRole | null> {
    const row = await one<{ role: OrgRole }>(
      em,
      `SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2 FOR SHARE`,
      [orgId, userId],
    );
    return row?.role ?? null;
  }

  /**
   * `roleOf` for the caller, with their session checked in the same statement: the
   * SECURITY DEFINER `session_is_live` answers only that, so worklane_app reads no
   * session table and the guard chain pays no extra round trip.
   *
   * With `lockOrg` (writes), the same statement takes the org row first (key share:
   * renames pass, a deletion waits), so every tenant write locks in one order — org, then
   * the rest — and an org deletion either waits for it or goes first, after which this
   * finds no org (no role). Reads take no lock: a row lock is a write to the page.
   */
  async callerRole(
    em: EntityManager,
    orgId: string,
    userId: string,
    sessionId: string,
    { lockOrg }: { lockOrg: boolean },
  ): Promise<CallerRole> {
    if (this.topology.citus) {
      const session = await one<{ live: boolean }>(em, SESSION_LIVE, [userId, sessionId]);
      if (session?.live !== true) return { role: null, sessionLive: false };
      const member = await one<{ role: OrgRole | null }>(
        em,
        lockOrg ? ROLE_ONLY_LOCKING_ORG : ROLE_ONLY,
        [orgId, userId],
      );
      return { role: member?.role ?? null, sessionLive: true };
    }
    const row = await one<{ role: OrgRole | null; live: boolean }>(
      em,
      lockOrg ? CALLER_ROLE_LOCKING_ORG : CALLER_ROLE,
      [orgId, userId, sessionId],
    );
    return callerRoleOf(row);
  }

  /** `callerRole` as a read for a transaction's opening batch (values inlined, checked). */
  callerRoleRead(
    orgId: string,
    userId: string,
    sessionId: string,
    { lockOrg }: { lockOrg: boolean },
  ): OpeningRead<CallerRole> {
    if (this.topology.citus) {
      // Two statements, as `callerRole` runs them on Citus, in the same batch.
      return {
        statements: [
          inlineParameters(SESSION_LIVE, [userId, sessionId]),
          inlineParameters(lockOrg ? ROLE_ONLY_LOCKING_ORG : ROLE_ONLY, [orgId, userId]),
        ],
        read: ([session, member]) =>
          session![0]?.live !== true
            ? { role: null, sessionLive: false }
            : { role: (member![0]?.role as OrgRole | null) ?? null, sessionLive: true },
      };
    }
    return {
      statements: [
        callerRoleSql(uuidLiteral(orgId), uuidLiteral(userId), uuidLiteral(sessionId), lockOrg),
      ],
      read: ([found]) => callerRoleOf(found![0]),
    };
  }

  /**
   * Locks the org's owner rows and answers who they are. Every change that could remove
   * an owner takes this lock first, so two owners demoting each other at once serialize
   * and the second sees one owner left.
   */
  async lockOwners(em: EntityManager, orgId: string): Promise<string[]> {
    const owners = await rows<{ user_id: string }>(
      em,
      `SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' ORDER BY user_id FOR UPDATE`,
      [orgId],
    );
    return owners.map((o) => o.user_id);
  }

  /**
   * A member about to change or go, locked: an assignment to them (which reads their role
   * under a share lock) either finishes first or waits and then sees the change.
   */
  findMemberForUpdate(
    em: EntityManager,
    orgId: string,
    userId: string,
  ): Promise<MembershipRow | undefined> {
    return one<MembershipRow>(
      em,
      `SELECT ${MEMBER_COLUMNS} FROM memberships m
        WHERE m.org_id = $1 AND m.user_id = $2 FOR UPDATE OF m`,
      [orgId, userId],
    );
  }

  listMembers(
    em: EntityManager,
    orgId: string,
    limit: number,
    after: [string, string] | null,
  ): Promise<MembershipRow[]> {
    return rows<MembershipRow>(
      em,
      `SELECT ${MEMBER_COLUMNS} FROM memberships m
        WHERE m.org_id = $1 AND ${pastCursor(['m.created_at', 'm.user_id'], '>', 2)}
        ORDER BY m.created_at, m.user_id
        LIMIT $4`,
      [orgId, ...cursorParams(after), limit + 1],
    );
  }

  async updateRole(em: EntityManager, orgId: string, userId: string, role: OrgRole): Promise<void> {
    await em.query(
      `UPDATE memberships SET role = $3, updated_at = now() WHERE org_id = $1 AND user_id = $2`,
      [orgId, userId, role],
    );
  }

  async deleteMembership(em: EntityManager, orgId: string, userId: string): Promise<void> {
    await em.query(`DELETE FROM memberships WHERE org_id = $1 AND user_id = $2`, [orgId, userId]);
  }

  /** Whether `userId` is a member of `orgId` (no lock: a unique key backs the answer). */
  async isMember(em: EntityManager, orgId: string, userId: string): Promise<boolean> {
    const row = await one<Presence>(
      em,
      `SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2`,
      [orgId, userId],
    );
    return row !== undefined;
  }
}
