import { Logger, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Env } from '../config/env';

type StorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Redis counters (the kept storage package for @nestjs/throttler) that fail open: when
 * Redis does not answer within a second, the call is let through and the outage logged —
 * a rate limiter must not turn a cache outage into an API outage.
 */
class SharedCounters implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimits');
  private warned = 0;

  constructor(private readonly redis: ThrottlerStorageRedisService) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<StorageRecord> {
    try {
      return await this.redis.increment(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      if (Date.now() - this.warned > 10_000) {
        this.warned = Date.now();
        this.logger.warn(`rate-limit counters unavailable, not enforcing: ${String(error)}`);
      }
      return {
        totalHits: 0,
        timeToExpire: Math.ceil(ttl / 1000),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    }
  }

  onModuleDestroy(): void {
    this.redis.onModuleDestroy();
  }
}

/**
 * Where rate-limit counters live: in Redis with REDIS_URL, so several instances share one
 * budget; else in this process's memory (the throttler's default, `undefined` here).
 */
export function throttlerStorage(config: ConfigService<Env, true>): ThrottlerStorage | undefined {
  const url = config.get('REDIS_URL', { infer: true });
  if (!url) return undefined;
  return new SharedCounters(
    new ThrottlerStorageRedisService(url, {
      keyPrefix: config.get('REDIS_KEY_PREFIX', { infer: true }),
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 1_000,
    }),
  );
}
