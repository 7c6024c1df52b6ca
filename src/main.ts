import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resolve } from 'node:path';
import { AppModule } from './app.module';
import { configureApp, createAdapter } from './bootstrap';
import { jwtSecretKind } from './shared/auth/jwt-key';
import { Env } from './shared/config/env';
import { EmbeddedDatabaseUnavailable } from './shared/database/embedded-postgres';
import { AppLogger } from './shared/logging/app-logger';

async function main() {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createAdapter(), {
    // A failed start rejects (no abort) and its buffered stack trace is not printed: the
    // catch below says what went wrong, in a sentence when the user can fix it.
    bufferLogs: true,
    abortOnError: false,
    autoFlushLogs: false,
  });
  await configureApp(app);
  app.flushLogs();
  const config = app.get(ConfigService<Env, true>);
  const host = config.get('HOST', { infer: true });
  const port = config.get('PORT', { infer: true });
  await app.listen(port, host);
  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  app
    .get(AppLogger)
    .log(
      `Worklane API on ${url}/api/v1 · docs ${url}/docs · ${databaseOf(config)} · ${jwtSecretKind()}`,
      'Worklane',
    );
}

/** The database in use, without credentials. */
function databaseOf(config: ConfigService<Env, true>): string {
  const databaseUrl = config.get('DATABASE_URL', { infer: true });
  if (!databaseUrl) {
    return `embedded PostgreSQL, data in ${resolve(config.get('EMBEDDED_DB_DIR', { infer: true }))}`;
  }
  const { hostname, port, pathname } = new URL(databaseUrl);
  return `PostgreSQL at ${hostname}:${port || 5432}${pathname}`;
}

main().catch((error: unknown) => {
  // Problems the user can fix get their message alone; anything else its stack.
  const known = error instanceof EmbeddedDatabaseUnavailable || isInvalidEnvironment(error);
  console.error(known ? `Worklane cannot start: ${(error as Error).message}` : error);
  process.exit(1);
});

function isInvalidEnvironment(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Invalid environment');
}
