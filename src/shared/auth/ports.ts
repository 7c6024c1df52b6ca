import type { EntityManager } from 'typeorm';
import type { OrgRole } from '../database/request-context';
import type { OpeningRead } from '../database/transaction';

/**
 * Ports the kernel and `accounts` need from the tenant modules. The kernel imports no
 * bounded module: `organizations` provides these tokens.
 */
export const MEMBERSHIP_DIRECTORY = Symbol('MembershipDirectory');

export interface MembershipDirectory {
  /** The role of `userId` in `orgId`, or null; runs in a transaction scoped to `orgId`. */
  roleOf(em: EntityManager, orgId: string, userId: string): Promise<OrgRole | null>;
  /**
   * The membership guard's one query: the caller's role in `orgId` (or null) and whether
   * their session `sessionId` is still live, read in a single statement. Runs in the
   * request's transaction scoped to `orgId`, as worklane_app.
   */
  callerMembership(
    em: EntityManager,
    orgId: string,
    userId: string,
    sessionId: string,
    options: { lockOrg: boolean },
  ): Promise<{ role: OrgRole | null; sessionLive: boolean }>;
  /**
   * `callerMembership` as a read that rides in the request transaction's opening batch
   * (BEGIN, settings and this read in one round trip).
   */
  callerMembershipRead(
    orgId: string,
    userId: string,
    sessionId: string,
    options: { lockOrg: boolean },
  ): OpeningRead<{ role: OrgRole | null; sessionLive: boolean }>;
  /**
   * A user's own memberships across orgs; runs in a transaction with no org set, where the
   * `own_memberships` policies let a user see their own rows.
   */
  listForUser(
    em: EntityManager,
    userId: string,
  ): Promise<Array<{ orgId: string; orgName: string; role: OrgRole; joinedAt: Date }>>;
}

export const USER_DIRECTORY = Symbol('UserDirectory');

/** What another module may know of a user: who they are, never their credentials. */
export interface UserCard {
  id: string;
  name: string;
  email: string;
}

/**
 * `accounts` owns the users table; the tenant modules ask it who a user is through this
 * port. Each method runs in the caller's transaction (worklane_app may read exactly these
 * columns of users).
 */
export interface UserDirectory {
  /** The cards of `userIds`, in one statement, by id; an unknown id is absent. */
  cards(em: EntityManager, userIds: readonly string[]): Promise<Map<string, UserCard>>;
  /** The id of the user with this address, or null. */
  idByEmail(em: EntityManager, email: string): Promise<string | null>;
}

export const INVITE_REDEEMER = Symbol('InviteRedeemer');

export interface InviteRedeemer {
  /** Redeems an invite for a user being registered, inside the registration's transaction. */
  redeemForNewUser(token: string, user: { id: string; email: string }): Promise<void>;
}

export const SESSION_DIRECTORY = Symbol('SessionDirectory');

export interface SessionDirectory {
  /**
   * Whether session `sessionId` of `userId` is live (not revoked, not expired): one
   * primary-key read, as worklane_system (the app role may not read sessions).
   */
  isLive(userId: string, sessionId: string): Promise<boolean>;
}

export const EMAIL_PROOF = Symbol('EmailProof');

/**
 * `accounts` records that a user proved an address: a token mailed to it came back (an
 * email invite's, say). Runs in the caller's transaction, as worklane_system.
 */
export interface EmailProof {
  /** Marks `userId`'s address verified if it is still `email`. */
  addressProved(em: EntityManager, userId: string, email: string): Promise<void>;
}
