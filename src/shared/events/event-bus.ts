import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RequestContext } from '../database/request-context';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainEvent } from './domain-event';
import { DomainEventType, EventOf } from './domain-event-map';
import { EventFeed } from './event-feed';
import { EventLogRepository } from './event-log.repository';

/**
 * - `in-transaction`: runs inside the publishing transaction, with its manager; a throw
 *   rolls the change back (the audit log: a change and its entry commit together).
 * - `after-commit`: runs once the change is committed; a throw is logged, never undoes it.
 */
export type EventPhase = 'in-transaction' | 'after-commit';

export type EventHandler<E extends DomainEvent = DomainEvent> = (
  event: E,
  em: EntityManager,
) => Promise<void> | void;

export type AfterCommitHandler<E extends DomainEvent = DomainEvent> = (
  event: E,
) => Promise<void> | void;

/** Sees every event of one publish call at once (the audit log: one INSERT for many). */
export type BatchHandler = (events: DomainEvent[], em: EntityManager) => Promise<void> | void;

interface Subscription {
  type: string;
  phase: EventPhase;
  handler: EventHandler<any> | AfterCommitHandler<any>;
}

/** The in-process domain event bus; every event also lands in the outbox table. */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);
  private readonly subscriptions: Subscription[] = [];
  private readonly batchHandlers: BatchHandler[] = [];

  constructor(
    private readonly uow: UnitOfWork,
    private readonly log: EventLogRepository,
    private readonly feed: EventFeed,
  ) {}

  /**
   * Subscribes to one declared event type (`'member.joined'`: the handler gets that event's
   * class, see DomainEventMap) or to every event (`'*'`).
   */
  subscribe<K extends DomainEventType>(
    type: K,
    phase: 'in-transaction',
    handler: EventHandler<EventOf<K>>,
  ): () => void;
  subscribe<K extends DomainEventType>(
    type: K,
    phase: 'after-commit',
    handler: AfterCommitHandler<EventOf<K>>,
  ): () => void;
  subscribe(type: '*', phase: 'in-transaction', handler: EventHandler): () => void;
  subscribe(type: '*', phase: 'after-commit', handler: AfterCommitHandler): () => void;
  subscribe(
    type: string,
    phase: EventPhase,
    handler: EventHandler<any> | AfterCommitHandler<any>,
  ): () => void {
    const subscription = { type, phase, handler };
    this.subscriptions.push(subscription);
    return () => this.subscriptions.splice(this.subscriptions.indexOf(subscription), 1);
  }

  /** Subscribes to every event, in the publishing transaction, a publish call at a time. */
  subscribeBatch(handler: BatchHandler): () => void {
    this.batchHandlers.push(handler);
    return () => this.batchHandlers.splice(this.batchHandlers.indexOf(handler), 1);
  }

  /**
   * Publishes inside the current unit of work (joining it, or opening one). Events of one
   * call go to their org's log in one statement (positions, rows and the NOTIFY that other
   * instances listen for), and batch handlers see them together, so a change that raises
   * many events (a member's tasks unassigned) costs a few round trips. Events of no org
   * reach the handlers only.
   */
  async publish(...events: DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.uow.run(async (em) => {
      const requestId = RequestContext.current()?.requestId ?? null;
      for (const [orgId, group] of byOrg(events)) {
        const last = await this.log.append(em, orgId, group, requestId);
        this.uow.afterCommit(() => this.feed.committed(orgId, last));
      }
      for (const handler of this.batchHandlers) await handler(events, em);
      for (const event of events) {
        for (const { handler } of this.matching(event, 'in-transaction')) await handler(event, em);
        for (const { handler } of this.matching(event, 'after-commit')) {
          this.uow.afterCommit(async () => {
            try {
              await (handler as AfterCommitHandler)(event);
            } catch (error) {
              this.logger.error(`handler of ${event.type} failed after commit: ${String(error)}`);
            }
          });
        }
      }
    });
  }

  private matching(event: DomainEvent, phase: EventPhase): Subscription[] {
    return this.subscriptions.filter(
      (s) => s.phase === phase && (s.type === event.type || s.type === '*'),
    );
  }
}

/** The events that belong to an org, grouped by it, in publishing order. */
function byOrg(events: DomainEvent[]): Map<string, DomainEvent[]> {
  const groups = new Map<string, DomainEvent[]>();
  for (const event of events) {
    if (!event.orgId) continue;
    const group = groups.get(event.orgId) ?? [];
    group.push(event);
    groups.set(event.orgId, group);
  }
  return groups;
}
