import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';
import { IdempotencyKeysRepository } from '../http/idempotency-keys.repository';
import { Jobs } from '../jobs/jobs';

export const IDEMPOTENCY_PURGE_JOB = 'maintenance.purge-idempotency-keys';
/** Hourly, at five past (UTC). */
export const IDEMPOTENCY_PURGE_CRON = '5 * * * *';

/**
 * Deletes Idempotency-Keys past their 24 h replay window: a scheduled job, run once per
 * slot across every instance. It runs as worklane_system, whose policy on
 * `idempotency_keys` shows expired keys only.
 */
@Injectable()
export class IdempotencyKeyPurge implements OnModuleInit {
  private readonly logger = new Logger(IdempotencyKeyPurge.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly jobs: Jobs,
    private readonly keys: IdempotencyKeysRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.register(IDEMPOTENCY_PURGE_JOB, async () => {
      const n = await this.purge();
      if (n > 0) this.logger.log(`purged ${n} expired idempotency keys`);
    });
    this.jobs.schedule(IDEMPOTENCY_PURGE_JOB, IDEMPOTENCY_PURGE_CRON);
  }

  /** Deletes every key older than 24 h; returns how many went. */
  purge(): Promise<number> {
    return this.uow.system('maintenance.purge-idempotency-keys', (em) =>
      this.keys.purgeExpired(em),
    );
  }
}
