import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { NotFound } from '../http/domain-error';
import { requestState } from '../http/request-state';
import { openedRead, PathRead, PathReadOf } from './path-reads';
import { isUuid } from '../uuid';

/** How a module resolves one path id inside the tenant (`:projectId`, `:taskId`). */
export interface PathResource<Lock> {
  /** The path parameter (`projectId`). */
  param: string;
  /** What it names, in the 404 and as its key in the request's `resolved` (`project`). */
  name: string;
  /** The lock a request takes on it (reads take none). */
  lock(request: FastifyRequest): Lock;
  /**
   * The owning module's statement that loads it for this request, locking it with `lock`
   * and finding nothing unless `onlyIf` holds; none when a path id it needs is no uuid
   * (a guard answers 404 first). It rides in the request's opening batch (see `PathRead`).
   */
  statement(
    params: Record<string, string | undefined>,
    orgId: string,
    lock: Lock,
    onlyIf: string,
  ): { sql: string; params: unknown[] } | undefined;
}

/**
 * One link of the guard chain from a module's statement: the id must be a uuid; it is
 * loaded in the request's opening batch (with BEGIN and the membership check, with the
 * lock the request needs, `route()`), and the guard answers 404 if nothing was found, else
 * attaches it to the request for the handler and the next links. Answers the guard, the
 * decorator that puts the load in the opening batch, and the parameter decorator
 * (`@CurrentProject()`) that reads what the guard attached.
 */
export function pathResource<T, Lock>(resource: PathResource<Lock>) {
  const read: PathRead<T | undefined> = {
    name: resource.name,
    statement: (request, orgId, onlyIf) =>
      resource.statement(
        request.params as Record<string, string | undefined>,
        orgId,
        resource.lock(request),
        onlyIf,
      ),
    read: (rows) => rows[0] as T | undefined,
  };

  @Injectable()
  class PathResourceGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const state = requestState(request);
      const id = (request.params as Record<string, string | undefined>)[resource.param];
      if (!isUuid(id)) throw new NotFound(resource.name);
      const opened = openedRead<T | undefined>(request, resource.name);
      if (!opened) {
        throw new Error(
          `the ${resource.name} guard runs only where its route decorator put its load`,
        );
      }
      if (!opened.value) throw new NotFound(resource.name);
      state.resolved = { ...state.resolved, [resource.name]: opened.value };
      return true;
    }
  }

  const current = createParamDecorator((_: unknown, context: ExecutionContext): T => {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const found = requestState(request).resolved?.[resource.name];
    if (!found) throw new Error(`a route reads the ${resource.name} its guard did not resolve`);
    return found as T;
  });

  /** Puts the load in the route's opening batch (apply it with the guard). */
  const inOpeningBatch = () => PathReadOf(read as PathRead<unknown>);

  return { guard: PathResourceGuard, current, inOpeningBatch };
}
