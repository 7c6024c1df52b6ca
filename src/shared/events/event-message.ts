import type { OrgRole } from '../database/request-context';
import type { LoggedEvent } from './event-log.repository';

/**
 * What the event stream sends as an SSE message's `data` and what a webhook delivery
 * carries as its body's `data`: the event as clients see it.
 */
export interface EventData {
  /** The event's position in its org's log (also the SSE `id`). */
  position: number;
  type: string;
  orgId: string;
  occurredAt: string;
  actor: { id: string } | null;
  target: { type: string; id: string } | null;
  /** The resource as the API returns it after the change, where the event carries it. */
  resource?: object;
  /** The rest of the event: before/after of changed fields, reasons, roles. */
  details: Record<string, unknown>;
}

export function eventData(event: LoggedEvent): EventData {
  const { target, resource, ...details } = event.payload;
  return {
    position: event.position,
    type: event.type,
    orgId: event.orgId,
    occurredAt: new Date(event.occurredAt).toISOString(),
    actor: event.actorId ? { id: event.actorId } : null,
    target,
    ...(resource ? { resource } : {}),
    details,
  };
}

/**
 * Who may see an event: membership, invite and webhook events (who was invited, by whom,
 * whose role changed, where the org's data is sent) reach owners and admins only, the
 * roles that manage them; the rest reaches every member.
 */
export function mayReceive(role: OrgRole, type: string): boolean {
  if (type.startsWith('member.') || type.startsWith('invite.') || type.startsWith('webhook.')) {
    return role === 'owner' || role === 'admin';
  }
  return true;
}
