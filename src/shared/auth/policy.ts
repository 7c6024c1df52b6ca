import { Forbidden } from '../http/domain-error';

/** Turns a policy's "no" into 403. Policies themselves stay pure functions. */
export function assertAllowed(allowed: boolean, message?: string): void {
  if (!allowed) throw new Forbidden(message);
}
