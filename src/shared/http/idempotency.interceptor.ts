import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { concatMap, Observable, of } from 'rxjs';
import { one, rows } from '../database/sql';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainError, InvalidField } from './domain-error';
import { requestState } from './request-state';

export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super(
      'idempotency_key_reused',
      'unprocessable',
      'This Idempotency-Key was already used with a different request; use a new key.',
    );
  }
}

/** JSON with sorted keys: the same body hashes the same whatever the key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * `Idempotency-Key` on create routes. The key is claimed in the request's transaction
 * before the handler runs: a concurrent duplicate waits on the claim and then replays,
 * a failed request releases it (rollback), a success stores the response with the change.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly uow: UnitOfWork) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = request.headers['idempotency-key'];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || key.length < 1 || key.length > 200) {
      throw new InvalidField('Idempotency-Key', 'must be 1 to 200 characters');
    }
    const state = requestState(request);
    const userId = state.user!.id;
    state.transaction ??= await this.uow.begin({ role: 'worklane_app', userId });
    const em = state.transaction.manager;
    const hash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${stableJson(request.body)}`)
      .digest();

    const claimed = await rows(
      em,
      `INSERT INTO idempotency_keys (user_id, key, org_id, request_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING 1`,
      [userId, key, state.membership?.orgId ?? null, hash],
    );
    if (claimed.length === 0) {
      const prior = await one<{
        request_hash: Buffer;
        status: number;
        response: unknown;
        fresh: boolean;
      }>(
        em,
        `SELECT request_hash, status, response, created_at > now() - interval '24 hours' AS fresh
           FROM idempotency_keys WHERE user_id = $1 AND key = $2 FOR UPDATE`,
        [userId, key],
      );
      if (prior?.fresh) {
        if (!prior.request_hash.equals(hash)) throw new IdempotencyKeyReused();
        void reply.header('idempotent-replayed', 'true');
        return of(prior.response);
      }
      // Older than 24 h: the key starts a new life.
      await em.query(
        `UPDATE idempotency_keys SET request_hash = $3, org_id = $4, status = NULL, response = NULL, created_at = now()
          WHERE user_id = $1 AND key = $2`,
        [userId, key, hash, state.membership?.orgId ?? null],
      );
    }

    const status: number =
      Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return next.handle().pipe(
      concatMap(async (body) => {
        await em.query(
          `UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2`,
          [userId, key, status, JSON.stringify(body ?? null)],
        );
        return body;
      }),
    );
  }
}

/** Marks a create route as honouring `Idempotency-Key` (replays for 24 hours). */
export function Idempotent() {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Up to 200 characters. The same key and body within 24 h replays the first response ' +
        '(header Idempotent-Replayed: true) without a second write; the same key with another body → 422.',
    }),
  );
}
