import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthenticatedUser } from '../database/request-context';
import { JWT_AUDIENCE, JWT_ISSUER, jwtKeyFor } from './jwt-key';
import { isUuid } from '../uuid';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

/** What verification hands `validate`: jsonwebtoken checks exp only when it is present. */
type VerifiedClaims = Partial<AccessTokenClaims> & { exp?: unknown; iat?: unknown };

/**
 * Access tokens carry who the caller is (user and session) and nothing about roles:
 * roles are read from the membership on every request, so changes bite at once.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(config: ConfigService) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKeyFor(config) as unknown as string,
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  /** Whether the session is still live is the guard's question (it knows the route). */
  validate(claims: VerifiedClaims): AuthenticatedUser | false {
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return false;
    if (!isUuid(claims.sub) || !isUuid(claims.sid)) return false;
    return { id: claims.sub, sessionId: claims.sid };
  }
}
