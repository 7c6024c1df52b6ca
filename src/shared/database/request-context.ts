import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transaction } from './transaction';

export type OrgRole = 'owner' | 'admin' | 'member' | 'viewer';

export interface AuthenticatedUser {
  id: string;
  sessionId: string;
}

/** The caller's membership in the org of the route: the tenant of the request. */
export interface TenantMembership {
  orgId: string;
  userId: string;
  role: OrgRole;
}

/**
 * What one request (or one background unit of work) knows about itself. Guards fill it
 * in on the request object; the context interceptor makes it the ambient context of the
 * handler, so services and repositories read it without passing it around.
 */
export interface RequestState {
  requestId?: string;
  user?: AuthenticatedUser;
  membership?: TenantMembership;
  /** The open transaction of this request, if a guard or service started one. */
  transaction?: Transaction;
  /** Objects the guard chain resolved (project, task), keyed by kind. */
  resolved?: Record<string, unknown>;
  /** What the opening batch read for the guards after the first (see `PathRead`). */
  opened?: Record<string, unknown>;
}

const storage = new AsyncLocalStorage<RequestState>();

export const RequestContext = {
  current(): RequestState | undefined {
    return storage.getStore();
  },
  run<T>(state: RequestState, fn: () => T): T {
    return storage.run(state, fn);
  },
  /** The tenant of the current request; a programming error where none is set. */
  tenant(): TenantMembership {
    const membership = storage.getStore()?.membership;
    if (!membership)
      throw new Error('No tenant in context: is the route behind the membership guard?');
    return membership;
  },
};
