import { Global, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Env } from '../config/env';
import { dataSourceOptions } from './data-source-options';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { DatabaseTopology } from './topology';
import { UnitOfWork } from './unit-of-work';

/** Resolves the database URL: DATABASE_URL, or an embedded PostgreSQL started on demand. */
@Injectable()
export class DatabaseLocator implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private embedded?: EmbeddedPostgres;

  constructor(
    private readonly config: ConfigService<Env, true>,
    private readonly moduleRef: ModuleRef,
  ) {}

  async url(): Promise<string> {
    const url = this.config.get('DATABASE_URL', { infer: true });
    if (url) return url;
    const dataDir = this.config.get('EMBEDDED_DB_DIR', { infer: true });
    this.logger.log(`No DATABASE_URL: starting the embedded PostgreSQL in ${dataDir}`);
    this.embedded = await startEmbeddedPostgres({
      dataDir,
      maxConnections: this.config.get('DB_POOL_SIZE', { infer: true }) + 10,
    });
    return this.embedded.url;
  }

  /** The pool closes before the embedded server it talks to stops. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource?.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
  }
}

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      extraProviders: [DatabaseLocator],
      inject: [ConfigService, DatabaseLocator],
      useFactory: async (config: ConfigService<Env, true>, locator: DatabaseLocator) => ({
        ...dataSourceOptions(await locator.url(), config.get('DB_POOL_SIZE', { infer: true })),
        migrationsRun: config.get('MIGRATIONS_RUN', { infer: true }),
      }),
    }),
  ],
  providers: [UnitOfWork, DatabaseTopology],
  exports: [UnitOfWork, DatabaseTopology],
})
export class DatabaseModule {}
