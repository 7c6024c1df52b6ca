import type { OrgRole } from '../database/request-context';
import { Forbidden } from '../http/domain-error';

/** Every role of an org, highest first: the one list route tables and validators share. */
export const EVERYONE: readonly OrgRole[] = ['owner', 'admin', 'member', 'viewer'];

/** Turns a policy's "no" into 403. Policies themselves stay pure functions. */
export function assertAllowed(allowed: boolean, message?: string): void {
  if (!allowed) throw new Forbidden(message);
}
