import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Env } from '../shared/config/env';
import { UnitOfWork } from '../shared/database/unit-of-work';
import { Jobs } from '../shared/jobs/jobs';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

export const DELIVERY_PRUNE_JOB = 'webhooks.prune-deliveries';
/** Hourly, at ten to (UTC). */
export const DELIVERY_PRUNE_CRON = '50 * * * *';
/** Rows deleted per transaction, so a large backlog never holds one long lock. */
const BATCH = 5000;

/**
 * Deletes finished deliveries (their stored bodies and attempt logs) older than
 * WEBHOOK_DELIVERY_RETENTION_DAYS, across orgs, in batches. Pending ones stay, however old.
 */
@Injectable()
export class WebhookDeliveryRetention implements OnModuleInit {
  private readonly logger = new Logger(WebhookDeliveryRetention.name);
  private readonly days: number;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly jobs: Jobs,
    private readonly deliveries: WebhookDeliveriesRepository,
    config: ConfigService<Env, true>,
  ) {
    this.days = config.get('WEBHOOK_DELIVERY_RETENTION_DAYS', { infer: true });
  }

  onModuleInit(): void {
    this.jobs.register(DELIVERY_PRUNE_JOB, async () => {
      const n = await this.prune();
      if (n > 0) this.logger.log(`pruned ${n} webhook deliveries older than ${this.days} days`);
    });
    this.jobs.schedule(DELIVERY_PRUNE_JOB, DELIVERY_PRUNE_CRON);
  }

  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.uow.system('webhooks.prune-deliveries', (em) =>
        this.deliveries.pruneFinishedOlderThan(em, this.days, BATCH),
      );
      total += n;
      if (n < BATCH) return total;
    }
  }
}
