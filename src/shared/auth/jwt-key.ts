import { Logger } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { JwtModuleOptions } from '@nestjs/jwt';
import { createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { weakJwtSecretReason } from '../config/env';

/** Claims every access token carries and every verification demands. */
export const JWT_ISSUER = 'worklane';
export const JWT_AUDIENCE = 'worklane-api';

/**
 * The HS256 key as a KeyObject, made once. Given a string, jsonwebtoken first tries to
 * parse it as a PEM public key on every sign and verify — a thrown exception per request
 * that cost 11 % of the API's CPU under load in `npm run bench`.
 */
export function jwtKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

export type JwtSecret =
  | { secret: string; source: 'environment' }
  | { secret: string; source: 'generated' | 'loaded'; path: string };

/**
 * The signing secret: JWT_SECRET if set, else the one kept in JWT_SECRET_FILE — made from
 * 32 random bytes on first start (mode 0600, never overwritten: `wx`) and read on the next.
 * There is no secret in the code: a published one would let anyone forge tokens.
 */
export function resolveJwtSecret(env: { JWT_SECRET?: string; JWT_SECRET_FILE: string }): JwtSecret {
  if (env.JWT_SECRET) return { secret: env.JWT_SECRET, source: 'environment' };
  const path = resolve(env.JWT_SECRET_FILE);
  try {
    const secret = readFileSync(path, 'utf8').trim();
    const weak = weakJwtSecretReason(secret);
    if (weak)
      throw new Error(`The JWT secret in ${path} ${weak}: delete the file or set JWT_SECRET`);
    return { secret, source: 'loaded', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process of the same deployment made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveJwtSecret(env);
    throw error;
  }
  chmodSync(path, 0o600); // the umask may have narrowed, never widened, but be exact
  return { secret, source: 'generated', path };
}

const keys = new Map<string, KeyObject>();
let secretKind = 'JWT secret not resolved yet';

/** Which kind of JWT secret is in use, for the start-up line. */
export function jwtSecretKind(): string {
  return secretKind;
}

/** The key for this configuration, resolved (and the kind logged) once per process. */
export function jwtKeyFor(config: ConfigService): KeyObject {
  const env = {
    JWT_SECRET: config.get<string>('JWT_SECRET'),
    JWT_SECRET_FILE: config.getOrThrow<string>('JWT_SECRET_FILE'),
  };
  const id = `${env.JWT_SECRET ?? ''}\u0000${env.JWT_SECRET_FILE}`;
  let key = keys.get(id);
  if (!key) {
    const resolved = resolveJwtSecret(env);
    secretKind =
      resolved.source === 'environment'
        ? 'JWT secret from JWT_SECRET'
        : resolved.source === 'generated'
          ? `JWT secret generated into ${resolved.path}`
          : `JWT secret generated earlier, in ${resolved.path}`;
    new Logger('JwtSecret').debug(secretKind);
    key = jwtKey(resolved.secret);
    keys.set(id, key);
  }
  return key;
}

/** JwtModule's options: HS256 with the resolved key, issuer and audience on both sides. */
export function jwtModuleOptions(config: ConfigService): JwtModuleOptions {
  const secret = jwtKeyFor(config) as unknown as string;
  return {
    secret,
    signOptions: { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
    verifyOptions: { algorithms: ['HS256'], issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
  };
}
