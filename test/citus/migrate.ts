import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/shared/database/data-source-options';

/** Runs the migrations on the database at argv[2] (test:citus: a database of the cluster). */
(async () => {
  const ds = new DataSource(dataSourceOptions(process.argv[2]!, 1));
  await ds.initialize();
  await ds.runMigrations();
  await ds.destroy();
  console.log('migrated');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
