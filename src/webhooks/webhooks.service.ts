import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { Env } from '../shared/config/env';
import { RequestContext } from '../shared/database/request-context';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { EventBus } from '../shared/events/event-bus';
import { NotFound } from '../shared/http/domain-error';
import { decodeCursor, Page, toPage } from '../shared/http/pagination';
import {
  CreatedWebhookResponse,
  CreateWebhookDto,
  RotatedSecretResponse,
  UpdateWebhookDto,
  WebhookResponse,
} from './dto/webhook.dto';
import { assertTargetAllowed } from './webhook-target';
import {
  WebhookCreated,
  WebhookDeleted,
  WebhookSecretRotated,
  WebhookSnapshot,
  WebhookUpdated,
} from './webhook.events';
import { WebhookRow, WebhooksRepository } from './webhooks.repository';

/** How long a rotated-out secret keeps signing beside the new one. */
export const SECRET_OVERLAP_HOURS = 24;

/** `whsec_` + base64 of 32 random bytes, as the Standard Webhooks libraries read it. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const snapshot = (w: WebhookRow): WebhookSnapshot => ({
  url: w.url,
  events: w.events,
  description: w.description,
  enabled: w.enabled,
});

const uniqueEvents = (events: string[] | undefined) =>
  events === undefined ? undefined : [...new Set(events)];

/** Webhook endpoints of the current org (owner/admin routes). */
@Injectable()
export class WebhooksService {
  private readonly production: boolean;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly repo: WebhooksRepository,
    private readonly events: EventBus,
    config: ConfigService<Env, true>,
  ) {
    this.production = config.get('NODE_ENV', { infer: true }) === 'production';
  }

  async create(input: CreateWebhookDto): Promise<CreatedWebhookResponse> {
    const actor = RequestContext.tenant();
    await assertTargetAllowed(input.url, this.production);
    const secret = newSecret();
    return this.uow.run(async (em) => {
      const webhook = await this.repo.insert(em, {
        orgId: actor.orgId,
        url: input.url,
        events: uniqueEvents(input.events) ?? [],
        description: input.description ?? null,
        enabled: input.enabled ?? true,
        secret,
        createdBy: actor.userId,
      });
      await this.events.publish(
        new WebhookCreated(actor.orgId, actor.userId, webhook.id, snapshot(webhook)),
      );
      return CreatedWebhookResponse.withSecret(webhook, secret);
    });
  }

  async list(limit: number, cursor?: string): Promise<Page<WebhookResponse>> {
    const { orgId } = RequestContext.tenant();
    const after = decodeCursor(cursor, ['timestamp', 'uuid']) as [string, string] | null;
    const found = await this.uow.run((em) => this.repo.list(em, orgId, limit, after));
    return toPage(found, limit, (w) => [w.createdKey, w.id], WebhookResponse.of);
  }

  async get(webhookId: string): Promise<WebhookResponse> {
    const { orgId } = RequestContext.tenant();
    return WebhookResponse.of(await this.uow.run((em) => this.load(em, orgId, webhookId)));
  }

  async update(webhookId: string, changes: UpdateWebhookDto): Promise<WebhookResponse> {
    const actor = RequestContext.tenant();
    if (changes.url !== undefined) await assertTargetAllowed(changes.url, this.production);
    return this.uow.run(async (em) => {
      const before = await this.load(em, actor.orgId, webhookId, true);
      const after = await this.repo.update(em, actor.orgId, webhookId, {
        ...changes,
        events: uniqueEvents(changes.events),
      });
      const was = snapshot(before);
      const now = snapshot(after);
      const changed = (Object.keys(now) as Array<keyof WebhookSnapshot>).filter(
        (k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]),
      );
      if (changed.length > 0) {
        await this.events.publish(
          new WebhookUpdated(
            actor.orgId,
            actor.userId,
            webhookId,
            Object.fromEntries(changed.map((k) => [k, was[k]])),
            Object.fromEntries(changed.map((k) => [k, now[k]])),
          ),
        );
      }
      return WebhookResponse.of(after);
    });
  }

  async delete(webhookId: string): Promise<void> {
    const actor = RequestContext.tenant();
    await this.uow.run(async (em) => {
      const webhook = await this.load(em, actor.orgId, webhookId, true);
      await this.repo.delete(em, actor.orgId, webhookId);
      await this.events.publish(
        new WebhookDeleted(actor.orgId, actor.userId, webhookId, snapshot(webhook)),
      );
    });
  }

  async rotateSecret(webhookId: string): Promise<RotatedSecretResponse> {
    const actor = RequestContext.tenant();
    const secret = newSecret();
    return this.uow.run(async (em) => {
      await this.load(em, actor.orgId, webhookId, true);
      const after = await this.repo.rotateSecret(
        em,
        actor.orgId,
        webhookId,
        secret,
        SECRET_OVERLAP_HOURS,
      );
      const until = after.previousSecretExpiresAt!;
      await this.events.publish(
        new WebhookSecretRotated(actor.orgId, actor.userId, webhookId, new Date(until)),
      );
      return Object.assign(new RotatedSecretResponse(), {
        secret,
        previousSecretExpiresAt: until,
      });
    });
  }

  private async load(
    em: Parameters<WebhooksRepository['find']>[0],
    orgId: string,
    webhookId: string,
    lock = false,
  ): Promise<WebhookRow> {
    const webhook = await this.repo.find(em, orgId, webhookId, lock);
    if (!webhook) throw new NotFound('webhook');
    return webhook;
  }
}
