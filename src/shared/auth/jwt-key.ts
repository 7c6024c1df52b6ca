import { createSecretKey, KeyObject } from 'node:crypto';

/**
 * The HS256 key as a KeyObject, made once. Given a string, jsonwebtoken first tries to
 * parse it as a PEM public key on every sign and verify — a thrown exception per request
 * that cost 11 % of the API's CPU under load in `npm run bench`.
 */
export function jwtKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
