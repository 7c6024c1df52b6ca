import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';

const root = join(__dirname, '..', '..', '..');

/**
 * The one description of our database connection, shared by the app, the TypeORM CLI
 * (`ormconfig.ts`) and the tests. The schema changes only through `migrations/`.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [join(root, 'src', '**', '*.entity.{ts,js}')],
    migrations: [join(root, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    poolSize,
    extra: {
      // A mistake such as querying on a second connection inside an open transaction
      // fails fast instead of hanging (PGlite serves one transaction at a time).
      connectionTimeoutMillis: 10_000,
      query_timeout: 30_000,
      application_name: 'worklane',
    },
  };
}
