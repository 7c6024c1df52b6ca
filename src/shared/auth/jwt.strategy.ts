import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthenticatedUser } from '../database/request-context';
import { jwtKey } from './jwt-key';
import { isUuid } from '../uuid';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

/**
 * Access tokens carry who the caller is (user and session) and nothing about roles:
 * roles are read from the membership on every request, so changes bite at once.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(config: ConfigService) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: jwtKey(config.getOrThrow<string>('JWT_SECRET')) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessTokenClaims): AuthenticatedUser | false {
    if (!isUuid(claims.sub) || !isUuid(claims.sid)) return false;
    return { id: claims.sub, sessionId: claims.sid };
  }
}
