import helmet from '@fastify/helmet';
import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { AppLogger } from './shared/logging/app-logger';
import { finishDocument } from './shared/http/openapi';
import { ProblemDocument } from './shared/http/problem.response';
import { validationPipe } from './shared/http/validation';
import { trustProxyOf, validateEnv } from './shared/config/env';
import { registerJsonParser } from './shared/http/json-body';
import {
  answerClientError,
  answerFrameworkError,
  answerWrongMethodWith405,
  drainRefusedBodies,
  HELMET_OPTIONS,
  MAX_PARAM_LENGTH,
} from './shared/http/http-edges';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Fastify, with a request id that honours a sane incoming `X-Request-Id`, the client
 * address taken from proxy headers only when TRUST_PROXY says so, and timeouts that cut
 * clients trickling a request (headers, body) or idling on a socket. The request timeout
 * covers receiving the request only: a long response such as the CSV export keeps going.
 * Settings are read here because the adapter exists before Nest's ConfigService.
 */
export function createAdapter(): FastifyAdapter {
  const env = validateEnv(process.env);
  const headersTimeout = env.HTTP_HEADERS_TIMEOUT_MS;
  return new FastifyAdapter({
    trustProxy: trustProxyOf(env),
    requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: env.HTTP_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    // Node checks both timeouts every 30 s by default: a 1 s bound would take 30.
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    genReqId: (req: IncomingMessage) => {
      const incoming = req.headers['x-request-id'];
      const id =
        typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      req.headers['x-request-id'] = id; // so the HTTP logger logs the same id
      return id;
    },
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
}

/** Everything main.ts and the e2e tests share: the app exactly as it runs. */
export async function configureApp(app: NestFastifyApplication): Promise<INestApplication> {
  app.useLogger(app.get(AppLogger));
  app.setGlobalPrefix('api/v1', { exclude: ['health', 'health/ready'] });
  registerJsonParser(app.getHttpAdapter() as FastifyAdapter, 'api/v1');
  app.useGlobalPipes(validationPipe());
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  drainRefusedBodies(fastify as unknown as FastifyInstance);
  drainOnClose(fastify as unknown as FastifyInstance);
  await app.register(helmet, HELMET_OPTIONS as never);
  answerWrongMethodWith405(fastify as unknown as FastifyInstance);

  const config = new DocumentBuilder()
    .setTitle('Worklane API')
    .setDescription(
      'Multi-tenant work management. Every error answers application/problem+json (RFC 9457). ' +
        'Lists are keyset-paginated: `limit` (≤ 100) and the opaque `cursor` from `nextCursor`. ' +
        'Request bodies take exactly the documented fields (an unknown one is a 400), and no ' +
        'string of a body, query or header may hold a NUL character (U+0000).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = finishDocument(
    SwaggerModule.createDocument(app, config, { extraModels: [ProblemDocument] }),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/**
 * Graceful shutdown with keep-alive clients: once closing, every response asks its client
 * to close the connection, idle connections are closed at once, and whatever is still open
 * after 10 s is cut — otherwise a load balancer's idle keep-alive sockets hold the process.
 */
function drainOnClose(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  fastify.addHook('preClose', async () => {
    closing = true;
    fastify.server.closeIdleConnections();
    setTimeout(() => fastify.server.closeAllConnections(), 10_000).unref();
  });
}
