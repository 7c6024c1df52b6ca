import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiNotFoundResponse, ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { OrgRole } from '../database/request-context';
import { UnitOfWork } from '../database/unit-of-work';
import { Forbidden, NotFound } from '../http/domain-error';
import { requestState } from '../http/request-state';
import { Unauthenticated } from './jwt-auth.guard';
import { MEMBERSHIP_DIRECTORY, MembershipDirectory } from './ports';
import { answeredByOpeningBatch, openingPathReads, pathReadsOf } from './path-reads';
import { IS_TENANT_ROUTE } from './public.decorator';
import { isUuid } from '../uuid';

export { isUuid } from '../uuid';

const ALLOWED_ROLES = 'worklane:allowed-roles';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Link 2 of the guard chain. Opens the request's transaction scoped to `:orgId` (role
 * worklane_app, `app.org_id` and `app.user_id` set), loads the caller's membership in it
 * and makes it the tenant of the request. No membership, no org, or a malformed id: 404,
 * so that nobody learns which orgs exist. Then the route's role table, if any: 403.
 * The role is read here on every request: a demotion bites on the very next one; so is
 * the caller's session (revoked or expired: 401), in the same statement.
 */
@Injectable()
export class MembershipGuard implements CanActivate {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly reflector: Reflector,
    @Inject(MEMBERSHIP_DIRECTORY) private readonly directory: MembershipDirectory,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest<{ Params: { orgId?: string } }>>();
    const state = requestState(request);
    const orgId = request.params.orgId;
    if (!state.user) throw new Error('MembershipGuard needs the JWT guard before it');
    if (!isUuid(orgId)) throw new NotFound('organization');

    // The lookup rides in the opening batch with BEGIN and the settings: one round trip;
    // so do the path's project and task (their guards take the answers).
    // The session check rides on the membership query: revocation bites at once, for free.
    // A write also takes a key-share lock on the org row there, held until the request
    // ends: every writer takes the org first, so an org deletion waits for it or wins
    // (then: 404). Reads lock nothing: they see a snapshot and block no deletion.
    // From here on the request pipeline ends the transaction: the interceptor commits,
    // the problem filter rolls back (also when this guard throws).
    const read = READ_METHODS.has(request.method);
    const allowed = this.reflector.getAllAndOverride<OrgRole[] | undefined>(ALLOWED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    const pathReads = openingPathReads(
      pathReadsOf([context.getClass(), context.getHandler()]),
      request,
      orgId,
      state.user.id,
      allowed,
    );
    const [transaction, { role, sessionLive }, answers] = await this.uow.beginWith(
      { role: 'worklane_app', orgId, userId: state.user.id },
      this.directory.callerMembershipRead(orgId, state.user.id, state.user.sessionId, {
        lockOrg: !read,
      }),
      pathReads.map((p) => p.read),
      { commit: read && answeredByOpeningBatch([context.getHandler(), context.getClass()]) },
    );
    state.transaction = transaction;
    state.opened = Object.fromEntries(pathReads.map((p, i) => [p.name, answers[i]]));
    // A read's last statement is its answer: it may carry the COMMIT (see `lastRows`).
    transaction.mayEndWithRead = read;
    if (!sessionLive) throw new Unauthenticated('The session has ended. Sign in again.');
    if (!role) throw new NotFound('organization');
    state.membership = { orgId, userId: state.user.id, role };

    if (allowed && !allowed.includes(role)) throw new Forbidden();
    return true;
  }
}

/** Marks a controller whose routes live under `/orgs/:orgId`: the membership guard runs. */
export function TenantRoute() {
  return applyDecorators(
    // Tells the JWT guard that this guard checks the session (folded into its query).
    SetMetadata(IS_TENANT_ROUTE, true),
    UseGuards(MembershipGuard),
    ApiBearerAuth(),
    ApiParam({ name: 'orgId', format: 'uuid' }),
    ApiNotFoundResponse({ description: 'Not a member, or no such org (the two look the same)' }),
  );
}

/** The roles a route admits (from the module's policy table); others get 403. */
export const AllowRoles = (...roles: readonly OrgRole[]) => SetMetadata(ALLOWED_ROLES, roles);
