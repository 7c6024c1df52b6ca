import { Module } from '@nestjs/common';
import { IdempotencyKeyPurge } from './idempotency-key-purge';

/** Scheduled maintenance jobs (in-process until a durable job runner arrives). */
@Module({
  providers: [IdempotencyKeyPurge],
  exports: [IdempotencyKeyPurge],
})
export class MaintenanceModule {}
