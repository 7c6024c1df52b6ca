import type { FastifyRequest } from 'fastify';
import type { RequestState } from '../database/request-context';

const KEY = Symbol('worklane.request-state');

/** The request's state as the guard chain builds it, before the handler's context exists. */
export function requestState(request: FastifyRequest): RequestState {
  const holder = request as unknown as { [KEY]?: RequestState };
  return (holder[KEY] ??= { requestId: String(request.id) });
}
