import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../http/domain-error';
import { requestState } from '../http/request-state';
import type { AuthenticatedUser } from '../database/request-context';
import { IS_PUBLIC } from './public.decorator';

export class Unauthenticated extends DomainError {
  constructor(message = 'A valid access token is required.') {
    super('unauthenticated', 'unauthorized', message);
  }
}

/** Link 1 of the guard chain: a valid access token, or 401. Global; `@Public()` opts out. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<T = AuthenticatedUser>(
    error: unknown,
    user: T | false,
    _info: unknown,
    context: ExecutionContext,
  ): T {
    if (error || !user) throw new Unauthenticated();
    requestState(context.switchToHttp().getRequest<FastifyRequest>()).user =
      user as unknown as AuthenticatedUser;
    return user;
  }
}
