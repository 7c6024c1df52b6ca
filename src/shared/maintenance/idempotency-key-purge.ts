import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { one } from '../database/sql';
import { UnitOfWork } from '../database/unit-of-work';

/** How often expired Idempotency-Keys are deleted. */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes Idempotency-Keys past their 24 h replay window. An in-process periodic job for
 * now (unref'd, so it never keeps the process alive; stopped before shutdown): `purge()` is
 * the whole job, so moving it to a durable job runner means calling it from there.
 * It runs as worklane_system, whose policy on `idempotency_keys` shows expired keys only.
 */
@Injectable()
export class IdempotencyKeyPurge implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(IdempotencyKeyPurge.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly uow: UnitOfWork) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), IDEMPOTENCY_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the schedule and lets a purge in progress finish while the pool is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes every key older than 24 h; returns how many went. */
  purge(): Promise<number> {
    return this.uow.system('maintenance.purge-idempotency-keys', async (em) => {
      const row = await one<{ n: number }>(
        em,
        `WITH gone AS (
           DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours' RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
      );
      return row?.n ?? 0;
    });
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.purge()
      .then((n) => n > 0 && this.logger.log(`purged ${n} expired idempotency keys`))
      .catch((error) => this.logger.error(`idempotency key purge failed: ${String(error)}`))
      .finally(() => (this.running = undefined));
    await this.running;
  }
}
