import type { DomainEvent } from './domain-event';

/**
 * Every domain event, by its type name. Empty in the kernel: each module declares its own
 * events by augmenting it (declaration merging, as immich's `EventMap`), beside the classes:
 *
 *     declare module '../shared/events/domain-event-map' {
 *       interface DomainEventMap {
 *         'member.removed': MemberRemoved;
 *       }
 *     }
 *
 * so `bus.subscribe('member.removed', …)` hands the handler a typed event while the
 * subscriber imports nothing of the module that publishes it.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DomainEventMap {}

/** The name of a declared event (`'member.removed'`). */
export type DomainEventType = keyof DomainEventMap & string;

/** The event a type name stands for. */
export type EventOf<K extends DomainEventType> = DomainEventMap[K] extends DomainEvent
  ? DomainEventMap[K]
  : never;

/** Each entry's class carries the type it is filed under: a typo in either fails to compile. */
type Misfiled = {
  [K in DomainEventType]: DomainEventMap[K] extends DomainEvent & { readonly type: K } ? never : K;
}[DomainEventType];
export const everyEventIsFiledUnderItsType: [Misfiled] extends [never] ? true : Misfiled = true;
