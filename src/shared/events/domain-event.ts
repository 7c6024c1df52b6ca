/** What an event is about: `{ type: 'user', id }`, `{ type: 'invite', id }`... */
export interface EventTarget {
  type: string;
  id: string;
}

/**
 * Something that happened in a bounded module, named in the past tense
 * (`member.role_changed`). Carries ids, the actor, its target and the before/after of what
 * changed — never a whole entity — so it can be stored, streamed and audited as it is.
 */
export abstract class DomainEvent<P extends object = Record<string, unknown>> {
  abstract readonly type: string;
  readonly occurredAt = new Date();

  constructor(
    /** The org the event belongs to; null for events outside any tenant (sign-up). */
    readonly orgId: string | null,
    /** Who caused it; null for the system. */
    readonly actorId: string | null,
    readonly target: EventTarget | null,
    readonly payload: P,
  ) {}
}
