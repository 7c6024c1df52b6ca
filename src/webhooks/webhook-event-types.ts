/**
 * The event types a webhook may subscribe to: every type the app publishes (the
 * `*.events.ts` files; webhook-event-types.spec.ts keeps this list in step with them),
 * except `webhook.*` — a webhook's own configuration changes are audited, not delivered
 * (a receiver could otherwise be told of its own disabling, or loop).
 */
export const WEBHOOK_EVENT_TYPES = [
  'invite.accepted',
  'invite.created',
  'invite.resent',
  'invite.revoked',
  'member.joined',
  'member.left',
  'member.removed',
  'member.role_changed',
  'org.created',
  'org.deleted',
  'org.renamed',
  'project.archived',
  'project.created',
  'project.deleted',
  'project.updated',
  'task.assigned',
  'task.created',
  'task.deleted',
  'task.moved',
  'task.status_changed',
  'task.updated',
] as const;

const KNOWN = new Set<string>(WEBHOOK_EVENT_TYPES);
const FAMILIES = new Set(WEBHOOK_EVENT_TYPES.map((type) => `${type.split('.')[0]}.*`));

/** A subscription entry: an exact type (`task.created`) or a whole family (`task.*`). */
export function isSubscribableType(value: string): boolean {
  return KNOWN.has(value) || FAMILIES.has(value);
}

/** Whether events of `type` are delivered to webhooks at all. */
export function isDeliverable(type: string): boolean {
  return !type.startsWith('webhook.');
}
