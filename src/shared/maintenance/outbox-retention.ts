import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Env } from '../config/env';
import { UnitOfWork } from '../database/unit-of-work';
import { EventLogRepository } from '../events/event-log.repository';
import { Jobs } from '../jobs/jobs';

export const OUTBOX_PRUNE_JOB = 'maintenance.prune-outbox';
/** Hourly, at twenty-five to (UTC). */
export const OUTBOX_PRUNE_CRON = '35 * * * *';
/** Rows deleted per transaction, so a large backlog never holds one long lock. */
const BATCH = 5000;

/**
 * Prunes outbox events older than EVENT_RETENTION_DAYS — the horizon of the event
 * stream's replay — in batches, through the index on `occurred_at` (JobQueue migration).
 */
@Injectable()
export class OutboxRetention implements OnModuleInit {
  private readonly logger = new Logger(OutboxRetention.name);
  private readonly days: number;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly jobs: Jobs,
    private readonly log: EventLogRepository,
    config: ConfigService<Env, true>,
  ) {
    this.days = config.get('EVENT_RETENTION_DAYS', { infer: true });
  }

  onModuleInit(): void {
    this.jobs.register(OUTBOX_PRUNE_JOB, async () => {
      const n = await this.prune();
      if (n > 0) this.logger.log(`pruned ${n} outbox events older than ${this.days} days`);
    });
    this.jobs.schedule(OUTBOX_PRUNE_JOB, OUTBOX_PRUNE_CRON);
  }

  /** Deletes events older than the retention; returns how many went. */
  async prune(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.uow.system('maintenance.prune-outbox', (em) =>
        this.log.pruneOlderThan(em, this.days, BATCH),
      );
      total += n;
      if (n < BATCH) return total;
    }
  }
}
