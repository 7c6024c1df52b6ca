import { Module } from '@nestjs/common';
import { IdempotencyKeyPurge } from './idempotency-key-purge';
import { OutboxRetention } from './outbox-retention';

/** Scheduled maintenance jobs on the job runner (src/shared/jobs). */
@Module({
  providers: [IdempotencyKeyPurge, OutboxRetention],
  exports: [IdempotencyKeyPurge, OutboxRetention],
})
export class MaintenanceModule {}
