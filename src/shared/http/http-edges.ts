import FindMyWay from 'find-my-way';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ProblemDetails } from './problem-details.filter';

/**
 * The edges of the HTTP layer that Nest never sees: errors Fastify or Node answer before
 * a route runs (a bad URL, an over-long path parameter, a malformed request line, a
 * request timeout), a wrong method on a known path, and a body refused before it was read.
 * Each answers like every other error: problem+json, with the request id and the same
 * security headers as the rest of the API.
 */

export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      scriptSrc: ["'self'", "'unsafe-inline'"],
    },
  },
};

/** Longest path parameter the router accepts (Fastify's default); longer → 414. */
export const MAX_PARAM_LENGTH = 100;

/**
 * How much of a refused body is read and thrown away so that the client, still sending,
 * reads its answer instead of a reset connection. Beyond it the connection is closed.
 */
export const MAX_DISCARDED_BODY_BYTES = 16 * 1024 * 1024;

let securityHeaderCache: Array<[string, string]> | undefined;

/** The headers helmet sets on every response, computed once by running it on a stub. */
function securityHeaders(): Array<[string, string]> {
  if (securityHeaderCache) return securityHeaderCache;
  const collected: Array<[string, string]> = [];
  const stub = {
    setHeader: (name: string, value: string) => collected.push([name.toLowerCase(), value]),
    removeHeader: () => undefined,
  };
  helmet(HELMET_OPTIONS)({} as never, stub as never, () => undefined);
  securityHeaderCache = collected;
  return collected;
}

function problem(status: number, detail: string, instance?: string): ProblemDetails {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(instance ? { instance } : {}),
  };
}

const FRAMEWORK_DETAIL: Record<string, string> = {
  FST_ERR_BAD_URL: 'The URL is not validly percent-encoded.',
  FST_ERR_MAX_PARAM_LENGTH: `A path segment is longer than ${MAX_PARAM_LENGTH} characters.`,
};

/** Fastify's `frameworkErrors`: a URL the router refused before any hook ran. */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 400;
  const detail = FRAMEWORK_DETAIL[error.code] ?? error.message;
  for (const [name, value] of securityHeaders()) void reply.header(name, value);
  void reply
    .status(status)
    .header('x-request-id', request.id)
    .header('content-type', 'application/problem+json')
    .send(problem(status, detail, request.url.slice(0, 2048)));
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request was not received in time.'],
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large.'],
};

/**
 * Fastify's `clientErrorHandler`: Node could not parse the request (or it timed out), so
 * there is no request object; the answer is written to the socket and the socket closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'The request is malformed.'];
  if (socket.writable) {
    const body = JSON.stringify(problem(status, detail));
    const headers = [
      ...securityHeaders(),
      ['x-request-id', randomUUID()],
      ['content-type', 'application/problem+json'],
      ['content-length', String(Buffer.byteLength(body))],
      ['connection', 'close'],
    ];
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        headers.map(([name, value]) => `${name}: ${value}\r\n`).join('') +
        `\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * A known path asked with a method it does not serve answers 405 with `Allow`, not 404.
 * Every route is mirrored into a router of our own as it is added, so that a 404 can ask
 * which methods the same path does serve. Call before the routes are registered.
 */
export function answerWrongMethodWith405(fastify: FastifyInstance): void {
  const routes = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
  const methods = new Set<string>();
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      methods.add(method);
      if (!routes.hasRoute(method as never, route.url)) {
        routes.on(method as never, route.url, () => undefined);
      }
    }
  });
  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?', 1)[0]!;
    const allowed = [...methods].filter((method) => routes.find(method as never, path));
    if (allowed.length === 0) return;
    const detail = `${request.method} is not allowed here; use ${allowed.join(', ')}.`;
    return reply
      .status(405)
      .header('allow', allowed.join(', '))
      .header('content-type', 'application/problem+json')
      .send(problem(405, detail, request.url));
  });
}

/**
 * Fastify answers a body over the limit (or of an unknown media type) before reading it
 * and then closes the connection, so a client still sending gets a reset instead of the
 * answer. Instead the rest is read and discarded, up to MAX_DISCARDED_BODY_BYTES, and the
 * connection stays usable; a body announced or found to be larger is cut off.
 */
export function drainRefusedBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply) => {
    const raw = request.raw;
    if (reply.statusCode < 400 || raw.complete || raw.readableEnded) return;
    const declared = Number(raw.headers['content-length'] ?? 0);
    if (declared > MAX_DISCARDED_BODY_BYTES) return; // too much to read: close, as Fastify does
    reply.removeHeader('connection');
    let discarded = 0;
    raw.on('data', (chunk: Buffer | string) => {
      discarded += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (discarded > MAX_DISCARDED_BODY_BYTES) raw.socket.destroy();
    });
    raw.resume();
  });
}
