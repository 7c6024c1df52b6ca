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
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { concatMap, Observable, of } from 'rxjs';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainError, InvalidField } from './domain-error';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { requestState } from './request-state';
import { stableJson } from './stable-json';

export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super(
      'idempotency_key_reused',
      'unprocessable',
      'This Idempotency-Key was already used with a different request; use a new key.',
    );
  }
}

/**
 * Replays rest sealed: AES-256-GCM under a key derived (HKDF-SHA256, salted with the user
 * id) from the Idempotency-Key, which only the client holds — the table keeps only a
 * digest of it. So a secret in a create's response (a link invite's token) is not
 * readable from `idempotency_keys`, yet the same client replays the full response.
 * Layout: version byte, 12-byte IV, 16-byte tag, ciphertext; the user id is bound as AAD.
 * Version 2 seals `{body, headers}` (the response headers a replay repeats, e.g. a task's
 * ETag); version 1, the body alone, is still opened for replays stored before it.
 */
const SEAL_VERSION = 2;
const SEAL_VERSIONS = new Set([1, 2]);

/** Response headers that describe the created resource, so a replay sends them again. */
const REPLAYED_HEADERS = ['etag', 'location'] as const;

export interface Replay {
  body: unknown;
  headers: Record<string, string>;
}
const IV_BYTES = 12;
const TAG_BYTES = 16;

function sealingKey(userId: string, key: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, userId, 'worklane idempotency replay v1', 32));
}

/** The stored name of a key: SHA-256 of the user and key, hex. */
export function keyDigest(userId: string, key: string): string {
  return createHash('sha256').update(`${userId}\n${key}`).digest('hex');
}

export function sealReplay(userId: string, key: string, replay: Replay): Buffer {
  const body = { body: replay.body ?? null, headers: replay.headers };
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(userId, key), iv);
  cipher.setAAD(Buffer.from(userId));
  const data = Buffer.concat([cipher.update(JSON.stringify(body ?? null), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, cipher.getAuthTag(), data]);
}

export function openReplay(userId: string, key: string, sealed: Buffer): Replay {
  const version = sealed[0]!;
  if (!SEAL_VERSIONS.has(version)) throw new Error('unknown idempotency replay format');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(userId, key), iv);
  decipher.setAAD(Buffer.from(userId));
  decipher.setAuthTag(tag);
  const data = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
  const opened: unknown = JSON.parse(
    Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8'),
  );
  return version === 1 ? { body: opened, headers: {} } : (opened as Replay);
}

/**
 * `Idempotency-Key` on create routes. The key is claimed in the request's transaction
 * before the handler runs: a concurrent duplicate waits on the claim and then replays,
 * a failed request releases it (rollback), a success stores the response with the change.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: IdempotencyKeysRepository,
  ) {}

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
    const digest = keyDigest(userId, key);
    const hash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${stableJson(request.body)}`)
      .digest();

    const claim = {
      userId,
      digest,
      orgId: state.membership?.orgId ?? null,
      requestHash: hash,
    };
    if (!(await this.keys.claim(em, claim))) {
      const prior = await this.keys.lockExisting(em, userId, digest);
      if (prior?.fresh && prior.response) {
        if (!prior.requestHash.equals(hash)) throw new IdempotencyKeyReused();
        const replay = openReplay(userId, key, prior.response);
        for (const [name, value] of Object.entries(replay.headers)) void reply.header(name, value);
        void reply.header('idempotent-replayed', 'true');
        return of(replay.body);
      }
      // Older than 24 h (or its replay was dropped): the key starts a new life.
      await this.keys.restart(em, claim);
    }

    const status: number =
      Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return next.handle().pipe(
      concatMap(async (body) => {
        const sealed = sealReplay(userId, key, { body, headers: replayedHeaders(reply) });
        await this.keys.complete(em, userId, digest, status, sealed);
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

function replayedHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
