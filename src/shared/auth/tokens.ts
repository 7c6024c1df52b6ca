import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, URL-safe: refresh tokens and invite tokens. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What we store instead of a token: a leaked table yields no usable token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
