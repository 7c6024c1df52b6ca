import { DomainEvent } from '../shared/events/domain-event';

const webhook = (id: string) => ({ type: 'webhook', id });

/** What the audit log keeps of a webhook: never its secret. */
export interface WebhookSnapshot {
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
}

export class WebhookCreated extends DomainEvent<{ after: WebhookSnapshot }> {
  readonly type = 'webhook.created';
  constructor(orgId: string, actorId: string, webhookId: string, after: WebhookSnapshot) {
    super(orgId, actorId, webhook(webhookId), { after });
  }
}

export class WebhookUpdated extends DomainEvent<{
  before: Partial<WebhookSnapshot>;
  after: Partial<WebhookSnapshot>;
}> {
  readonly type = 'webhook.updated';
  constructor(
    orgId: string,
    actorId: string,
    webhookId: string,
    before: Partial<WebhookSnapshot>,
    after: Partial<WebhookSnapshot>,
  ) {
    super(orgId, actorId, webhook(webhookId), { before, after });
  }
}

export class WebhookDeleted extends DomainEvent<{ before: WebhookSnapshot }> {
  readonly type = 'webhook.deleted';
  constructor(orgId: string, actorId: string, webhookId: string, before: WebhookSnapshot) {
    super(orgId, actorId, webhook(webhookId), { before });
  }
}

/** The new secret is not in it; only when the previous one stops signing. */
export class WebhookSecretRotated extends DomainEvent<{ previousSecretExpiresAt: string }> {
  readonly type = 'webhook.secret_rotated';
  constructor(orgId: string, actorId: string, webhookId: string, previousExpiresAt: Date) {
    super(orgId, actorId, webhook(webhookId), {
      previousSecretExpiresAt: previousExpiresAt.toISOString(),
    });
  }
}

/** Raised by the delivery worker (actor: the system) after 24 h of failed deliveries. */
export class WebhookDisabled extends DomainEvent<{ reason: string; failingSince: string }> {
  readonly type = 'webhook.disabled';
  constructor(orgId: string, webhookId: string, reason: string, failingSince: Date) {
    super(orgId, null, webhook(webhookId), {
      reason,
      failingSince: failingSince.toISOString(),
    });
  }
}

declare module '../shared/events/domain-event-map' {
  interface DomainEventMap {
    'webhook.created': WebhookCreated;
    'webhook.updated': WebhookUpdated;
    'webhook.deleted': WebhookDeleted;
    'webhook.secret_rotated': WebhookSecretRotated;
    'webhook.disabled': WebhookDisabled;
  }
}
