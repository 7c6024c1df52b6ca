import { ModuleMetadata } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';

/** A path of the versioned API: `api('/orgs')` → `/api/v1/orgs`. */
export const api = (path: string): string => `/api/v1${path}`;

export interface TestApp {
  app: NestFastifyApplication;
  http: () => ReturnType<typeof request>;
  dataSource: DataSource;
  close: () => Promise<void>;
}

/**
 * The real application — same module, same bootstrap as main.ts — on the run's database,
 * served to supertest over real HTTP. `env` overrides settings for this test file (they
 * are read when the app module is first loaded, so pass them on the file's first call).
 */
export async function createTestApp(
  options: { env?: Record<string, string>; extra?: ModuleMetadata } = {},
): Promise<TestApp> {
  Object.assign(process.env, options.env ?? {});
  // Loaded here, not at the top, so that `env` is in place when the config module reads it.
  const { AppModule } = await import('../../src/app.module');
  const { configureApp, createAdapter } = await import('../../src/bootstrap');

  const moduleRef = await Test.createTestingModule({
    imports: [AppModule, ...(options.extra?.imports ?? [])],
    controllers: options.extra?.controllers ?? [],
    providers: options.extra?.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createAdapter(), {
    logger: false,
  });
  await configureApp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();

  return {
    app,
    http: () => request(app.getHttpServer()),
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}
