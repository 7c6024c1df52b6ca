import { Global, Module, RequestMethod } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { Env, validateEnv } from './config/env';
import { AppLogger, bufferedStdout, PRETTY_TRANSPORT, prettyLogs } from './logging/app-logger';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { jwtModuleOptions } from './auth/jwt-key';
import { JwtStrategy } from './auth/jwt.strategy';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { JobsModule } from './jobs/jobs.module';
import { MailModule } from './mail/mail.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { HealthController } from './health/health.controller';
import { IdempotencyKeysRepository } from './http/idempotency-keys.repository';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { RequestContextInterceptor } from './http/request-context.interceptor';
import { throttlerStorage } from './http/throttler-storage';
import { WriteLimitsInterceptor } from './http/write-limits.interceptor';

/** The kernel: config, database, auth (link 1 of the chain), events, jobs, errors, logs, health. */
@Global()
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, cache: true, validate: validateEnv }),
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Env, true>) => {
        const pretty = prettyLogs(
          config.get('LOG_FORMAT', { infer: true }),
          config.get('NODE_ENV'),
        );
        const options = {
          level: config.get('LOG_LEVEL', { infer: true }),
          ...(pretty ? { transport: PRETTY_TRANSPORT } : {}),
          genReqId: (req: { headers: Record<string, unknown> }) =>
            String(req.headers['x-request-id']),
          // One short line per request: what was asked, by which request id, what it got.
          // Headers are not logged (they were ~1.6 KB a line, and carry tokens).
          serializers: {
            req: (req: { id: string; method: string; url: string }) => ({
              id: req.id,
              method: req.method,
              url: req.url,
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          customProps: () => ({ service: 'worklane' }),
        };
        return {
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
          pinoHttp: pretty ? options : [options, bufferedStdout()],
        };
      },
    }),
    DatabaseModule,
    EventsModule,
    JobsModule,
    MailModule,
    MaintenanceModule,
    PassportModule,
    JwtModule.registerAsync({
      global: true,
      inject: [ConfigService],
      useFactory: jwtModuleOptions,
    }),
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<Env, true>) => ({
        throttlers: [
          {
            name: 'default',
            ttl: config.get('AUTH_THROTTLE_TTL_SECONDS', { infer: true }) * 1000,
            limit: config.get('AUTH_THROTTLE_LIMIT', { infer: true }),
          },
          {
            name: 'invites',
            ttl: 60_000,
            limit: config.get('INVITE_THROTTLE_LIMIT', { infer: true }),
          },
        ],
        storage: throttlerStorage(config),
      }),
    }),
    TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
  ],
  controllers: [HealthController],
  providers: [
    JwtStrategy,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
    { provide: APP_INTERCEPTOR, useClass: WriteLimitsInterceptor },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    AppLogger,
    IdempotencyKeysRepository,
  ],
  exports: [AppLogger, IdempotencyKeysRepository],
})
export class KernelModule {}
