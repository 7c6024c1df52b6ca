import {
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { Env } from '../config/env';
import { DomainError } from './domain-error';
import { requestState } from './request-state';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class WriteLimitReached extends DomainError {
  constructor(scope: 'user' | 'org', seconds: number) {
    super(
      'rate_limited',
      'too_many_requests',
      scope === 'user'
        ? `Too many changes from you; retry in ${seconds} s.`
        : `Too many changes in this organization; retry in ${seconds} s.`,
    );
  }
}

interface Budget {
  name: 'user' | 'org';
  key: string;
  limit: number;
}

/**
 * Writes are limited per signed-in user and per org, counted in the throttler's storage
 * (Redis with REDIS_URL: one budget for every instance; memory otherwise). It runs after
 * the guard chain, so an org's budget is spent only by its own members — an outsider's
 * request is a 404 before it counts. Every write answer says where it stands, in the IETF
 * httpapi draft's structured headers: `RateLimit-Policy: "user";q=600;w=60, "org";q=…` and
 * `RateLimit: "user";r=599;t=60, "org";r=…;t=…`; past a limit, 429 with `Retry-After`.
 */
@Injectable()
export class WriteLimitsInterceptor implements NestInterceptor {
  private readonly logger = new Logger('WriteLimits');
  private readonly perUser: number;
  private readonly perOrg: number;
  private readonly windowMs: number;

  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    config: ConfigService<Env, true>,
  ) {
    this.perUser = config.get('WRITE_LIMIT_PER_USER', { infer: true });
    this.perOrg = config.get('WRITE_LIMIT_PER_ORG', { infer: true });
    this.windowMs = config.get('WRITE_LIMIT_WINDOW_SECONDS', { infer: true }) * 1000;
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const state = requestState(request);
    if (READS.has(request.method) || !state.user) return next.handle();

    const budgets: Budget[] = [
      { name: 'user', key: `writes:user:${state.user.id}`, limit: this.perUser },
    ];
    if (state.membership) {
      budgets.push({
        name: 'org',
        key: `writes:org:${state.membership.orgId}`,
        limit: this.perOrg,
      });
    }
    const window = Math.ceil(this.windowMs / 1000);
    const standing: string[] = [];
    let refused: { name: 'user' | 'org'; seconds: number } | undefined;
    for (const budget of budgets) {
      try {
        // Past the limit a budget is blocked for a window from then (the throttler's
        // block), after which it starts afresh.
        const record = await this.storage.increment(
          budget.key,
          this.windowMs,
          budget.limit,
          this.windowMs,
          'writes',
        );
        if (record.isBlocked) {
          const seconds = Math.max(1, Math.ceil(record.timeToBlockExpire));
          standing.push(`"${budget.name}";r=0;t=${seconds}`);
          // A write refused for the user's budget does not spend the org's.
          refused = { name: budget.name, seconds };
          break;
        }
        const seconds = Math.max(1, Math.ceil(record.timeToExpire));
        standing.push(
          `"${budget.name}";r=${Math.max(0, budget.limit - record.totalHits)};t=${seconds}`,
        );
      } catch (error) {
        // Counting is best effort: a storage outage must not take writes down with it.
        this.logger.warn(`write limit ${budget.name} not counted: ${String(error)}`);
      }
    }
    const reply = http.getResponse<FastifyReply>();
    reply.header(
      'ratelimit-policy',
      budgets.map((b) => `"${b.name}";q=${b.limit};w=${window}`).join(', '),
    );
    if (standing.length > 0) reply.header('ratelimit', standing.join(', '));
    if (refused) {
      reply.header('retry-after', String(refused.seconds));
      throw new WriteLimitReached(refused.name, refused.seconds);
    }
    return next.handle();
  }
}
