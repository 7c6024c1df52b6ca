import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../http/domain-error';
import { requestState } from '../http/request-state';
import type { AuthenticatedUser } from '../database/request-context';
import { SESSION_DIRECTORY, SessionDirectory } from './ports';
import { ACCEPTS_TICKET, IS_PUBLIC, IS_TENANT_ROUTE } from './public.decorator';

export class Unauthenticated extends DomainError {
  constructor(message = 'A valid access token is required.') {
    super('unauthenticated', 'unauthorized', message);
  }
}

/**
 * Link 1 of the guard chain: a valid access token of a live session, or 401. Global;
 * `@Public()` opts out. A revoked or expired session ends its access tokens at once: on
 * tenant routes the membership guard checks the session in its membership query; on the
 * others this guard asks SESSION_DIRECTORY (one primary-key read, as worklane_system).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SESSION_DIRECTORY) private readonly sessions: SessionDirectory,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(ACCEPTS_TICKET, targets)) {
      const query = context.switchToHttp().getRequest<FastifyRequest>().query as {
        ticket?: unknown;
      };
      if (query?.ticket !== undefined) return true;
    }
    await super.canActivate(context);
    if (this.reflector.getAllAndOverride<boolean>(IS_TENANT_ROUTE, targets)) return true;
    const user = requestState(context.switchToHttp().getRequest<FastifyRequest>()).user!;
    if (!(await this.sessions.isLive(user.id, user.sessionId))) {
      throw new Unauthenticated('The session has ended. Sign in again.');
    }
    return true;
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
