import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser, TenantMembership } from '../database/request-context';
import { requestState } from '../http/request-state';

/** The authenticated caller (the JWT guard ran). */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedUser => {
    const user = requestState(context.switchToHttp().getRequest<FastifyRequest>()).user;
    if (!user) throw new Error('@CurrentUser() on a public route');
    return user;
  },
);

/** The caller's membership in the route's org (the membership guard ran). */
export const CurrentMember = createParamDecorator(
  (_: unknown, context: ExecutionContext): TenantMembership => {
    const membership = requestState(context.switchToHttp().getRequest<FastifyRequest>()).membership;
    if (!membership) throw new Error('@CurrentMember() on a route without the membership guard');
    return membership;
  },
);
