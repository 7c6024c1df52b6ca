import { createHash, randomBytes } from 'node:crypto';
import { isUuid } from '../uuid';

/** 32 random bytes, URL-safe: refresh tokens and invite tokens. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What we store instead of a token: a leaked table yields no usable token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * A refresh token names its session family in the clear (`<sessionId>.<32 random bytes>`),
 * so that the rate limit can count per family without a database read. The family id is
 * no secret (access tokens carry it too); the random part is what authenticates.
 */
export function newRefreshToken(sessionId: string): string {
  return `${sessionId}.${newOpaqueToken()}`;
}

/** The family a refresh token claims, if it is well-formed; unverified (the lookup is). */
export function claimedFamily(refreshToken: unknown): string | null {
  return claimedOwner(refreshToken);
}

/**
 * An invite token names its org in the clear (`<orgId>.<32 random bytes>`), so that
 * redemption reads that org's invites only: one shard on Citus, and no table of every
 * org's tokens to probe. Anyone holding the link may learn the org's id; the random part
 * is what admits.
 */
export function newInviteToken(orgId: string): string {
  return `${orgId}.${newOpaqueToken()}`;
}

/** The org an invite token claims, if it is well-formed; unverified (the lookup is). */
export function claimedOrg(inviteToken: unknown): string | null {
  return claimedOwner(inviteToken);
}

function claimedOwner(token: unknown): string | null {
  if (typeof token !== 'string') return null;
  const match = /^([0-9a-fA-F-]{36})\.[\w-]{43}$/.exec(token);
  return match && isUuid(match[1]) ? match[1]!.toLowerCase() : null;
}
