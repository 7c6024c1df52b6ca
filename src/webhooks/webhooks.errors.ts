import { DomainError } from '../shared/http/domain-error';

export class DeliveryInProgress extends DomainError {
  constructor() {
    super(
      'delivery_in_progress',
      'conflict',
      'The delivery is still being attempted: redeliver it once it has succeeded or failed.',
    );
  }
}

export class WebhookDisabledError extends DomainError {
  constructor() {
    super('webhook_disabled', 'conflict', 'The webhook is disabled: enable it to redeliver.');
  }
}
