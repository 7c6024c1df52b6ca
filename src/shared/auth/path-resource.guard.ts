import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  mixin,
  Type,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EntityManager } from 'typeorm';
import type { RequestState } from '../database/request-context';
import { NotFound } from '../http/domain-error';
import { requestState } from '../http/request-state';
import { openedRead, PathRead, PathReadOf } from './path-reads';
import { isUuid } from '../uuid';

/** How a module resolves one path id inside the tenant (`:projectId`, `:taskId`). */
export interface PathResource<T, Loader, Lock> {
  /** The path parameter (`projectId`). */
  param: string;
  /** What it names, in the 404 and as its key in the request's `resolved` (`project`). */
  name: string;
  /** The provider that loads it: the owning module's service or repository. */
  loader: Type<Loader>;
  /** The lock a request takes on it (reads take none). */
  lock(request: FastifyRequest): Lock;
  /**
   * Loads it inside the request's transaction, within what the chain resolved before
   * (`state.membership`, `state.resolved`); nothing found → 404. Throws (a programming
   * error) if the link it builds on did not run.
   */
  load(
    loader: Loader,
    em: EntityManager,
    id: string,
    lock: Lock,
    state: RequestState,
  ): Promise<T | null | undefined>;
  /**
   * `load`'s statement for the request's opening batch (see `PathRead`), locking as `load`
   * would and finding nothing unless `onlyIf` holds; then the guard loads nothing itself.
   */
  opening?(
    request: FastifyRequest,
    orgId: string,
    lock: Lock,
    onlyIf: string,
  ): { sql: string; params: unknown[] } | undefined;
}

/**
 * One link of the guard chain from a module's loader: the id must be a uuid, load it in
 * the request's transaction with the lock the request needs, 404 if absent, attach it to
 * the request for the handler and the next links. Answers the guard, the parameter
 * decorator (`@CurrentProject()`) that reads what it attached and, with `opening`, the
 * decorator that moves the load into the opening batch.
 */
export function pathResource<T, Loader, Lock>(resource: PathResource<T, Loader, Lock>) {
  @Injectable()
  class PathResourceGuard implements CanActivate {
    constructor(@Inject(resource.loader) private readonly loader: Loader) {}

    async canActivate(context: ExecutionContext): Promise<boolean> {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const state = requestState(request);
      if (!state.transaction) {
        throw new Error(`the ${resource.name} guard needs the membership guard before it`);
      }
      const id = (request.params as Record<string, string | undefined>)[resource.param];
      if (!isUuid(id)) throw new NotFound(resource.name);
      const opened = openedRead<T | undefined>(request, resource.name);
      const found = opened
        ? opened.value
        : await resource.load(
            this.loader,
            state.transaction.manager,
            id,
            resource.lock(request),
            state,
          );
      if (!found) throw new NotFound(resource.name);
      state.resolved = { ...state.resolved, [resource.name]: found };
      return true;
    }
  }

  const current = createParamDecorator((_: unknown, context: ExecutionContext): T => {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const found = requestState(request).resolved?.[resource.name];
    if (!found) throw new Error(`a route reads the ${resource.name} its guard did not resolve`);
    return found as T;
  });

  const opening = resource.opening;
  const read: PathRead<T | undefined> | undefined = opening && {
    name: resource.name,
    statement: (request, orgId, onlyIf) => opening(request, orgId, resource.lock(request), onlyIf),
    read: (rows) => rows[0] as T | undefined,
  };
  /** Puts the lookup in the route's opening batch (apply with the guard). */
  const inOpeningBatch = (): ClassDecorator & MethodDecorator =>
    read ? PathReadOf(read as PathRead<unknown>) : () => undefined;

  return { guard: mixin(PathResourceGuard), current, inOpeningBatch };
}
