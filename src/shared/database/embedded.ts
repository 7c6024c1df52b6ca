import { DataSource } from 'typeorm';

const known = new WeakMap<DataSource, Promise<boolean>>();

/**
 * Whether the database is the embedded one (PGlite): one process, one session shared by
 * every connection, so no LISTEN across instances and no role switch per connection.
 */
export function isEmbedded(dataSource: DataSource): Promise<boolean> {
  let answer = known.get(dataSource);
  if (!answer) {
    answer = (dataSource.query('SELECT version()') as Promise<{ version: string }[]>).then(
      ([{ version }]) => version.includes('PGlite'),
    );
    known.set(dataSource, answer);
  }
  return answer;
}
