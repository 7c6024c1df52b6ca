import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { isEmbedded } from '../database/embedded';
import { EVENT_CHANNEL } from './event-log.repository';

/** Told when an org's log has grown (its new last position). */
export type GrowthListener = (orgId: string, position: number) => void;

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * Says when an org's event log grows, on every instance. Commits of this process are
 * signalled in process at once; on a server, a dedicated connection also LISTENs to the
 * NOTIFY each append queues, so commits of other instances arrive too (no broker, no
 * polling). The embedded database is one process: the in-process signal is the whole
 * story there. A listener that loses its connection reconnects with backoff and then
 * says `resync`, so readers catch up from the log itself: a signal may be late or doubled,
 * never the log's content, which readers always take from the table.
 *
 * The LISTEN connection opens on the first subscription, so instances with no stream
 * open hold none.
 */
@Injectable()
export class EventFeed implements OnApplicationShutdown {
  private readonly logger = new Logger('EventFeed');
  private readonly listeners = new Set<GrowthListener>();
  private readonly resyncListeners = new Set<() => void>();
  private client?: Client;
  private starting?: Promise<void>;
  private closed = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

  /** A commit of this process appended up to `position` in `orgId`'s log. */
  committed(orgId: string, position: number): void {
    this.emit(orgId, position);
  }

  /** Subscribes to growth signals; answers the unsubscribe. */
  async subscribe(listener: GrowthListener, onResync: () => void): Promise<() => void> {
    this.listeners.add(listener);
    this.resyncListeners.add(onResync);
    await this.listen();
    return () => {
      this.listeners.delete(listener);
      this.resyncListeners.delete(onResync);
    };
  }

  /** Whether a LISTEN connection is up (or not needed): for readiness and tests. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Drops the LISTEN connection as a network fault would (tests of the reconnect). */
  dropConnectionForTest(): void {
    (
      this.client as unknown as { connection?: { stream?: { destroy(): void } } }
    )?.connection?.stream?.destroy();
  }

  private emit(orgId: string, position: number): void {
    for (const listener of this.listeners) {
      try {
        listener(orgId, position);
      } catch (error) {
        this.logger.error(`event listener failed: ${String(error)}`);
      }
    }
  }

  private listen(): Promise<void> {
    this.starting ??= (async () => {
      if (this.closed || (await isEmbedded(this.dataSource))) return;
      try {
        await this.connect();
      } catch (error) {
        // Streams still get this instance's commits; the reconnect brings the others'.
        this.logger.warn(`event listener cannot connect (${String(error)}); retrying`);
        this.scheduleReconnect();
      }
    })();
    return this.starting;
  }

  private async connect(): Promise<void> {
    const url = (this.dataSource.options as { url: string }).url;
    const client = new Client({ connectionString: url, application_name: 'worklane-events' });
    client.on('notification', (message) => {
      const [orgId, position] = (message.payload ?? '').split(':');
      if (orgId && position) this.emit(orgId, Number(position));
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${EVENT_CHANNEL}`);
    this.client = client;
    this.attempt = 0;
  }

  private lost(client: Client, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn(`event listener lost its connection (${error.message}); reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.connect()
        .then(() => {
          this.logger.log('event listener reconnected; readers catch up from the log');
          for (const resync of this.resyncListeners) resync();
        })
        .catch(() => this.scheduleReconnect());
    }, delay);
    this.reconnectTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
