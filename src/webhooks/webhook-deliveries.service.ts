import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Webhook } from 'standardwebhooks';
import { EntityManager } from 'typeorm';
import { Env, retryScheduleOf } from '../shared/config/env';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { DomainEvent } from '../shared/events/domain-event';
import { EventBus } from '../shared/events/event-bus';
import { asLogged } from '../shared/events/event-log.repository';
import { eventData } from '../shared/events/event-message';
import { NotFound } from '../shared/http/domain-error';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import { JobContext, Jobs } from '../shared/jobs/jobs';
import { DeliveryResponse, messageIdOf } from './dto/webhook.dto';
import {
  DeliveryStatus,
  FanOutEvent,
  WebhookDeliveriesRepository,
} from './webhook-deliveries.repository';
import { isDeliverable } from './webhook-event-types';
import { postOnce } from './webhook-target';
import { WebhookDisabled } from './webhook.events';
import { DeliveryInProgress, WebhookDisabledError } from './webhooks.errors';
import { WebhooksRepository } from './webhooks.repository';

/** A webhook whose deliveries have all failed for this long is disabled. */
export const DISABLE_AFTER_HOURS = 24;

export interface DeliverJob {
  orgId: string;
  deliveryId: string;
}

/**
 * The body a delivery sends, built once when the event is published and stored, so every
 * attempt signs the same bytes: `{type, timestamp, data}` with `data` the event as the
 * event stream shows it (`eventData`).
 */
export function deliveryBody(event: DomainEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.occurredAt.toISOString(),
    data: eventData(asLogged(event)),
  });
}

/**
 * Deliveries: created with the change that raised the event (fan-out in the publishing
 * transaction, one job per delivery enqueued there too), attempted by the job runner on
 * the retry schedule, listed and redelivered by owners and admins.
 *
 * An attempt never holds a transaction open across the HTTP call: one short transaction
 * reads what to send, another records how it went.
 */
@Injectable()
export class WebhookDeliveriesService implements OnModuleInit {
  private readonly logger = new Logger('Webhooks');
  private readonly queue: string;
  private readonly schedule: number[];
  private readonly timeoutMs: number;
  private readonly production: boolean;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly bus: EventBus,
    private readonly jobs: Jobs,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly webhooks: WebhooksRepository,
    config: ConfigService<Env, true>,
  ) {
    this.queue = config.get('WEBHOOK_QUEUE', { infer: true });
    this.schedule = retryScheduleOf({
      WEBHOOK_RETRY_SCHEDULE: config.get('WEBHOOK_RETRY_SCHEDULE', { infer: true }),
    });
    this.timeoutMs = config.get('WEBHOOK_TIMEOUT_MS', { infer: true });
    this.production = config.get('NODE_ENV', { infer: true }) === 'production';
  }

  onModuleInit(): void {
    this.jobs.register<DeliverJob>(this.queue, (payload, job) => this.attempt(payload, job), {
      retrySchedule: this.schedule,
      // An attempt is bounded by the HTTP timeout; past this the run is taken as lost.
      timeoutSeconds: Math.ceil(this.timeoutMs / 1000) + 60,
    });
    this.bus.subscribeBatch((events, em) => this.fanOut(events, em));
  }

  /** In the publishing transaction: the deliveries of these events, and their jobs. */
  private async fanOut(events: DomainEvent[], em: EntityManager): Promise<void> {
    const byOrg = new Map<string, FanOutEvent[]>();
    for (const event of events) {
      if (!event.orgId || event.position === undefined || !isDeliverable(event.type)) continue;
      const group = byOrg.get(event.orgId) ?? [];
      group.push({ type: event.type, position: event.position, body: deliveryBody(event) });
      byOrg.set(event.orgId, group);
    }
    for (const [orgId, group] of byOrg) {
      const ids = await this.deliveries.fanOut(em, orgId, group);
      for (const deliveryId of ids) {
        await this.jobs.enqueue<DeliverJob>(em, this.queue, { orgId, deliveryId });
      }
    }
  }

  async list(webhookId: string, limit: number, cursor?: string): Promise<Page<DeliveryResponse>> {
    const { orgId } = RequestContext.tenant();
    const before = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    const found = await this.uow.run(async (em) => {
      if (!(await this.webhooks.find(em, orgId, webhookId))) throw new NotFound('webhook');
      return this.deliveries.list(em, orgId, webhookId, limit, before);
    });
    return toPage(found, limit, (d) => [d.createdKey, d.id], DeliveryResponse.of);
  }

  /**
   * A new chain of attempts for a finished delivery (succeeded or failed), same body and
   * same webhook-id. A pending one is still being attempted: 409.
   */
  async redeliver(webhookId: string, deliveryId: string): Promise<DeliveryResponse> {
    const { orgId } = RequestContext.tenant();
    return this.uow.run(async (em) => {
      const webhook = await this.webhooks.find(em, orgId, webhookId, true);
      if (!webhook) throw new NotFound('webhook');
      const delivery = await this.deliveries.find(em, orgId, webhookId, deliveryId);
      if (!delivery) throw new NotFound('delivery');
      if (!webhook.enabled) throw new WebhookDisabledError();
      const reopened = await this.deliveries.reopen(em, orgId, deliveryId);
      if (!reopened) throw new DeliveryInProgress();
      await this.jobs.enqueue<DeliverJob>(em, this.queue, { orgId, deliveryId });
      return DeliveryResponse.of(reopened);
    });
  }

  /** One attempt (the job's handler). Throws when it failed, so the runner retries it. */
  async attempt({ orgId, deliveryId }: DeliverJob, job: JobContext): Promise<void> {
    const scope = { role: 'worklane_app' as const, orgId };
    const target = await this.uow.transaction(scope, async (em) => {
      const delivery = await this.deliveries.forAttempt(em, orgId, deliveryId);
      // Gone with its webhook, or already settled (a lost run that did finish): done.
      if (!delivery || delivery.status !== 'pending') return null;
      const webhook = await this.webhooks.signing(em, orgId, delivery.webhookId);
      if (!webhook) return null;
      if (!webhook.enabled) {
        await this.deliveries.abandon(em, orgId, deliveryId);
        return null;
      }
      return { ...delivery, ...webhook };
    });
    if (!target) return;

    const messageId = messageIdOf(deliveryId);
    const sentAt = new Date();
    // During a rotation's overlap both secrets sign (space-separated, as the spec allows).
    const signature = target.secrets
      .map((secret) => new Webhook(secret).sign(messageId, sentAt, target.body))
      .join(' ');
    const outcome = await postOnce(
      target.url,
      {
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signature,
      },
      target.body,
      { timeoutMs: this.timeoutMs, production: this.production },
    );

    const ok = outcome.error === null;
    const last = job.attempt >= job.maxAttempts;
    const status: DeliveryStatus = ok ? 'succeeded' : last ? 'failed' : 'pending';
    await this.uow.transaction(scope, async (em) => {
      const recorded = await this.deliveries.recordAttempt(
        em,
        orgId,
        deliveryId,
        { at: sentAt.toISOString(), ...outcome },
        {
          status,
          nextAttemptInSeconds: status === 'pending' ? this.schedule[job.attempt - 1]! : null,
        },
      );
      if (!recorded) return;
      if (ok) return this.webhooks.markHealthy(em, orgId, target.webhookId);
      const failing = await this.webhooks.markFailing(
        em,
        orgId,
        target.webhookId,
        `every delivery failed for ${DISABLE_AFTER_HOURS} hours`,
        DISABLE_AFTER_HOURS,
      );
      if (failing?.disabled) {
        this.logger.warn(
          `webhook ${target.webhookId} of org ${orgId} disabled: ${DISABLE_AFTER_HOURS} h of failures`,
        );
        await this.bus.publish(
          new WebhookDisabled(
            orgId,
            target.webhookId,
            `every delivery failed for ${DISABLE_AFTER_HOURS} hours`,
            new Date(failing.failingSince),
          ),
        );
      }
    });
    if (!ok) throw new Error(`delivery ${deliveryId} attempt ${job.attempt}: ${outcome.error}`);
  }
}
