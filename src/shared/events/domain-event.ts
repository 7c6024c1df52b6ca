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
/** A target of one kind: `Target<'user'>` is `{ type: 'user', id }`. */
export interface Target<K extends string> extends EventTarget {
  type: K;
}

export abstract class DomainEvent<
  P extends object = Record<string, unknown>,
  T extends EventTarget | null = EventTarget | null,
> {
  abstract readonly type: string;
  readonly occurredAt = new Date();
  /** Its place in the org's event log, once published (1, 2, 3… per org, in commit order). */
  position?: number;
  /**
   * The resource as the API returns it after the change (a task, a project), for the event
   * stream and webhooks; not part of the audit entry, which keeps the before/after.
   */
  resource?: object;

  constructor(
    /** The org the event belongs to; null for events outside any tenant (sign-up). */
    readonly orgId: string | null,
    /** Who caused it; null for the system. */
    readonly actorId: string | null,
    readonly target: T,
    readonly payload: P,
  ) {}
}

/** Attaches the API's representation of the changed resource to an event (see `resource`). */
export function withResource<E extends DomainEvent>(event: E, resource: object): E {
  event.resource = resource;
  return event;
}
