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
}

/**
 * One link of the guard chain from a module's loader: the id must be a uuid, load it in
 * the request's transaction with the lock the request needs, 404 if absent, attach it to
 * the request for the handler and the next links. Answers the guard and the parameter
 * decorator (`@CurrentProject()`) that reads what it attached.
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
      const found = await resource.load(
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

  return { guard: mixin(PathResourceGuard), current };
}
