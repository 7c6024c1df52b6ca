import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnModuleInit,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { MEMBERSHIP_DIRECTORY, MembershipDirectory } from '../shared/auth/ports';
import { hashToken } from '../shared/auth/tokens';
import { Env } from '../shared/config/env';
import { OrgRole, TenantMembership } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EventFeed } from '../shared/events/event-feed';
import { EventLogRepository, LoggedEvent } from '../shared/events/event-log.repository';
import { mayReceive } from '../shared/events/event-message';
import { DomainError, InvalidField } from '../shared/http/domain-error';
import { EventTicketsRepository } from './event-tickets.repository';

export const TICKET_TTL_MS = 60_000;
/** Rows read from the log per round trip, when replaying or catching up. */
const PAGE = 500;
/** A client this far behind is cut off; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;

export class PositionGone extends DomainError {
  constructor(after: number, oldest: number | null) {
    super(
      'events_gone',
      'gone',
      `Events after position ${after} are no longer kept` +
        (oldest === null ? '.' : ` (the oldest kept is ${oldest}).`) +
        ' Reload the state you show, then follow the stream from now on.',
    );
  }
}

/** Where a stream writes: the SSE framing is the controller's, the order is ours. */
export interface StreamSink {
  send(event: LoggedEvent): void;
  comment(text: string): void;
  end(): void;
  /** Bytes written but not yet taken by the client. */
  readonly backlog: number;
}

/** One open stream of one member. */
class Subscriber {
  /** Replaying from the log: live events wait in `held` until it is done. */
  replaying = true;
  held: LoggedEvent[] = [];
  closed = false;

  constructor(
    readonly userId: string,
    readonly sessionId: string,
    public role: OrgRole,
    /** The last position this stream has passed (sent, or filtered out). */
    public passed: number,
    /** The log's head when membership was checked: older membership events are history. */
    readonly checkedAt: number,
    readonly sink: StreamSink,
    readonly onClose: () => void,
  ) {}
}

/** The streams of one org on this instance, and how far this instance has read its log. */
class Channel {
  readonly subscribers = new Set<Subscriber>();
  reading = false;
  again = false;
  constructor(public read: number) {}
}

/**
 * The org event stream (DESIGN §5, issue 14): every member follows their org's log, live,
 * from any position still kept. The log is the truth: a growth signal (EventFeed: this
 * instance's commits at once, other instances' through LISTEN/NOTIFY) only makes the
 * org's channel read the rows after the last it read — one read per org for all its
 * streams here — so a late or doubled signal costs nothing and a lost one is recovered
 * by the next (or by the resync after a reconnect).
 *
 * A new stream joins its channel first, replays from its position, then takes what the
 * channel read meanwhile, skipping what it already passed: no gap and no repeat at the
 * seam. Each stream filters by its member's role (mayReceive) and follows its member's
 * own fate in the log: removed or left → the stream ends; role changed → the new filter.
 */
@Injectable()
export class EventStreamService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventStream');
  private readonly channels = new Map<string, Channel>();
  private readonly heartbeatMs: number;
  private heartbeat?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private subscribing?: Promise<void>;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly log: EventLogRepository,
    private readonly tickets: EventTicketsRepository,
    private readonly feed: EventFeed,
    @Inject(MEMBERSHIP_DIRECTORY) private readonly directory: MembershipDirectory,
    config: ConfigService<Env, true>,
  ) {
    this.heartbeatMs = config.get('EVENTS_HEARTBEAT_MS', { infer: true });
  }

  onModuleInit(): void {
    this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** A single-use ticket for `GET …/events?ticket=`, valid 60 s, for the caller's session. */
  async issueTicket(
    em: EntityManager,
    member: TenantMembership,
    sessionId: string,
  ): Promise<{ ticket: string; expiresAt: Date }> {
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + TICKET_TTL_MS);
    await this.tickets.issue(em, {
      orgId: member.orgId,
      hash: hashToken(ticket),
      userId: member.userId,
      sessionId,
      expiresAt,
    });
    return { ticket, expiresAt };
  }

  /** Spends a ticket of `orgId`: whose it was, or null (unknown, used or expired). */
  redeemTicket(
    orgId: string,
    ticket: string,
  ): Promise<{ userId: string; sessionId: string } | null> {
    return this.uow.transaction({ role: 'worklane_app', orgId }, (em) =>
      this.tickets.redeem(em, orgId, hashToken(ticket)),
    );
  }

  /**
   * Checks where a stream may start, in the request's transaction: `after` (a position of
   * the org's log, or undefined for "from now on") must be kept (else 410) and must exist
   * (else 400). Answers the position to start after and the log's head.
   */
  async startingPoint(
    em: EntityManager,
    orgId: string,
    after: number | undefined,
    field: string,
  ): Promise<{ after: number; head: number }> {
    const { head, oldest } = await this.log.bounds(em, orgId);
    if (after === undefined) return { after: head, head };
    if (after > head) {
      throw new InvalidField(field, `position ${after} is past the last event (${head})`);
    }
    if (after < head && (oldest === null || oldest > after + 1)) {
      throw new PositionGone(after, oldest);
    }
    return { after, head };
  }

  /** Opens a stream for a member (after the request's transaction has ended). */
  async open(
    member: TenantMembership,
    sessionId: string,
    start: { after: number; head: number },
    sink: StreamSink,
    onClose: () => void,
  ): Promise<() => void> {
    await this.listen();
    const subscriber = new Subscriber(
      member.userId,
      sessionId,
      member.role,
      start.after,
      start.head,
      sink,
      onClose,
    );
    let channel = this.channels.get(member.orgId);
    if (!channel) this.channels.set(member.orgId, (channel = new Channel(start.head)));
    channel.subscribers.add(subscriber);
    void this.replay(member.orgId, subscriber);
    return () => this.detach(member.orgId, subscriber);
  }

  /** How many streams are open here (tests, metrics). */
  get openStreams(): number {
    let n = 0;
    for (const channel of this.channels.values()) n += channel.subscribers.size;
    return n;
  }

  private async listen(): Promise<void> {
    this.subscribing ??= this.feed
      .subscribe(
        (orgId, position) => this.grew(orgId, position),
        () => {
          for (const orgId of this.channels.keys()) void this.pump(orgId);
        },
      )
      .then((unsubscribe) => void (this.unsubscribe = unsubscribe));
    await this.subscribing;
  }

  private grew(orgId: string, position: number): void {
    const channel = this.channels.get(orgId);
    if (channel && position > channel.read) void this.pump(orgId);
  }

  /** Reads the org's log past what this instance has read, and hands it to its streams. */
  private async pump(orgId: string): Promise<void> {
    const channel = this.channels.get(orgId);
    if (!channel) return;
    if (channel.reading) {
      channel.again = true;
      return;
    }
    channel.reading = true;
    try {
      do {
        channel.again = false;
        let page: LoggedEvent[];
        do {
          page = await this.readAfter(orgId, channel.read);
          for (const event of page) {
            channel.read = event.position;
            for (const subscriber of channel.subscribers) {
              if (subscriber.replaying) subscriber.held.push(event);
              else this.deliver(orgId, subscriber, event);
            }
          }
        } while (page.length === PAGE && this.channels.get(orgId) === channel);
      } while (channel.again);
    } catch (error) {
      this.logger.error(`reading the event log of ${orgId} failed: ${String(error)}`);
      // The next signal (or heartbeat) tries again from the same position.
    } finally {
      channel.reading = false;
    }
  }

  private async replay(orgId: string, subscriber: Subscriber): Promise<void> {
    try {
      let page: LoggedEvent[];
      do {
        page = await this.readAfter(orgId, subscriber.passed);
        for (const event of page) this.deliver(orgId, subscriber, event);
      } while (page.length === PAGE && !subscriber.closed);
      // What the channel read meanwhile, past what the replay passed, in order.
      while (subscriber.held.length > 0 && !subscriber.closed) {
        const held = subscriber.held;
        subscriber.held = [];
        for (const event of held) this.deliver(orgId, subscriber, event);
      }
      subscriber.replaying = false;
      // Anything committed while we replayed and not yet signalled is read now.
      void this.pump(orgId);
    } catch (error) {
      this.logger.error(`replaying the event log of ${orgId} failed: ${String(error)}`);
      this.close(orgId, subscriber);
    }
  }

  private readAfter(orgId: string, position: number): Promise<LoggedEvent[]> {
    return this.uow.transaction({ role: 'worklane_app', orgId }, (em) =>
      this.log.after(em, orgId, position, PAGE),
    );
  }

  private deliver(orgId: string, subscriber: Subscriber, event: LoggedEvent): void {
    if (subscriber.closed || event.position <= subscriber.passed) return;
    subscriber.passed = event.position;
    // The member's own fate, from events newer than the membership check.
    const aboutThem =
      event.payload.target?.type === 'user' && event.payload.target.id === subscriber.userId;
    if (aboutThem && event.position > subscriber.checkedAt) {
      if (event.type === 'member.removed' || event.type === 'member.left') {
        this.close(orgId, subscriber);
        return;
      }
      if (event.type === 'member.role_changed') {
        subscriber.role = (event.payload.after as { role: OrgRole }).role;
      }
    }
    if (mayReceive(subscriber.role, event.type)) subscriber.sink.send(event);
    if (event.type === 'org.deleted') {
      this.close(orgId, subscriber);
      return;
    }
    if (subscriber.sink.backlog > MAX_BUFFERED_BYTES) {
      this.logger.warn(
        `closing a stream of ${orgId} that fell ${subscriber.sink.backlog} bytes behind`,
      );
      this.close(orgId, subscriber);
    }
  }

  /**
   * Every heartbeat: a comment on every stream (proxies and clients see it alive), and
   * each stream's session and membership checked again, so a signed-out session or a
   * membership lost in a way the log did not show ends its stream within one beat.
   */
  private async beat(): Promise<void> {
    for (const [orgId, channel] of this.channels) {
      for (const subscriber of channel.subscribers) {
        subscriber.sink.comment('heartbeat');
        try {
          const { role, sessionLive } = await this.uow.transaction(
            { role: 'worklane_app', orgId, userId: subscriber.userId },
            (em) =>
              this.directory.callerMembership(em, orgId, subscriber.userId, subscriber.sessionId, {
                lockOrg: false,
              }),
          );
          if (!role || !sessionLive) this.close(orgId, subscriber);
        } catch (error) {
          this.logger.warn(`stream check in ${orgId} failed: ${String(error)}`);
        }
      }
    }
  }

  private close(orgId: string, subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.detach(orgId, subscriber);
    subscriber.sink.end();
    subscriber.onClose();
  }

  private detach(orgId: string, subscriber: Subscriber): void {
    subscriber.closed = true;
    const channel = this.channels.get(orgId);
    if (!channel) return;
    channel.subscribers.delete(subscriber);
    if (channel.subscribers.size === 0) this.channels.delete(orgId);
  }

  /** Ends every stream before the server closes (an open stream would hold it open). */
  beforeApplicationShutdown(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
    for (const [orgId, channel] of this.channels) {
      for (const subscriber of [...channel.subscribers]) this.close(orgId, subscriber);
    }
  }
}
