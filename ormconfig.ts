import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnv } from './src/shared/config/env';
import { dataSourceOptions } from './src/shared/database/data-source-options';
import { startEmbeddedPostgres } from './src/shared/database/embedded-postgres';

/**
 * The DataSource of the TypeORM CLI (`npm run migration:run|revert|generate`): the
 * PostgreSQL server at DATABASE_URL, or else the embedded database's data folder.
 */
async function cliDataSource(): Promise<DataSource> {
  const env = validateEnv(process.env);
  let url = env.DATABASE_URL;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dataDir: env.EMBEDDED_DB_DIR });
    process.once('beforeExit', () => void embedded.stop());
    url = embedded.url;
  }
  return new DataSource(dataSourceOptions(url, 2));
}

export default cliDataSource();
