import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, FieldError, STATUS_OF } from './domain-error';
import { requestState } from './request-state';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

const PROBLEM_BASE = 'https://worklane.dev/problems/';

/**
 * The one place errors become HTTP: RFC 9457 `application/problem+json` for every error,
 * domain or framework, and never a stack trace. It also rolls back the request's
 * transaction when a guard failed after opening it.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = this.toProblem(exception);
    problem.instance = request.url;
    if (problem.status >= 500) {
      this.logger.error({ err: exception, requestId: request.id }, 'unhandled error');
    }
    const transaction = requestState(request).transaction;
    void (transaction ? transaction.rollback().catch(() => undefined) : Promise.resolve()).then(
      () => {
        if (reply.sent) return;
        const busy = problem.status === 503 || problem.status === 429;
        if (busy && !reply.getHeader('retry-after')) {
          void reply.header('retry-after', String(namedRetryAfter(reply) ?? 1));
        }
        void reply
          .status(problem.status)
          .header('content-type', 'application/problem+json')
          .send(problem);
      },
    );
  }

  toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof DomainError) {
      const status = STATUS_OF[exception.kind];
      return {
        type: PROBLEM_BASE + exception.code.replace(/_/g, '-'),
        title: STATUS_CODES[status] ?? 'Error',
        status,
        detail: exception.message,
        ...(exception.errors ? { errors: exception.errors } : {}),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'string'
          ? body
          : ((body as { message?: unknown }).message ?? exception.message);
      return {
        type:
          status === HttpStatus.TOO_MANY_REQUESTS ? PROBLEM_BASE + 'rate-limited' : 'about:blank',
        title: STATUS_CODES[status] ?? 'Error',
        status,
        detail: Array.isArray(message) ? message.join('; ') : String(message),
      };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        type: PROBLEM_BASE + 'database-unavailable',
        title: STATUS_CODES[503]!,
        status: 503,
        detail: 'The database is unavailable or saturated; nothing was changed. Retry shortly.',
      };
    }
    if (isConcurrencyConflict(exception)) {
      return {
        type: PROBLEM_BASE + 'concurrent-change',
        title: STATUS_CODES[409]!,
        status: 409,
        detail: 'The request collided with a concurrent change and was undone; retry it.',
      };
    }
    // Fastify's own errors (malformed JSON, unsupported media type, body too large).
    const statusCode = (exception as { statusCode?: unknown })?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return {
        type: 'about:blank',
        title: STATUS_CODES[statusCode] ?? 'Error',
        status: statusCode,
        detail: (exception as Error).message,
      };
    }
    return {
      type: 'about:blank',
      title: STATUS_CODES[500]!,
      status: 500,
      detail: 'An unexpected error occurred. It has been logged with the request id.',
    };
  }
}

/**
 * PostgreSQL gave up on the transaction because of another one: a deadlock or a
 * serialization failure. The transaction was rolled back whole, so retrying is safe.
 */
function isConcurrencyConflict(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === '40P01' || code === '40001';
}

/**
 * A named throttler (`invites`) says its wait as `Retry-After-invites`; clients read
 * `Retry-After`, so the longest named wait becomes it.
 */
function namedRetryAfter(reply: FastifyReply): number | undefined {
  const waits = Object.entries(reply.getHeaders())
    .filter(([name]) => name.toLowerCase().startsWith('retry-after-'))
    .map(([, value]) => Number(value))
    .filter((seconds) => Number.isFinite(seconds) && seconds > 0);
  return waits.length > 0 ? Math.max(...waits) : undefined;
}

/** The pool could not hand out a connection in time, or the server is down. */
function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { message?: string; code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === '57P01' || // admin_shutdown: the server is stopping, the transaction is undone
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now
    // Citus: a statement met a shard that a tenant's split or move retired under it; the
    // transaction is undone, and the next try finds the new placement.
    /timeout exceeded when trying to connect|Connection terminated unexpectedly|is not queryable|could not find valid entry for shard/.test(
      e?.message ?? '',
    )
  );
}
