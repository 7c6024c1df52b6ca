import { generateNKeysBetween } from 'fractional-indexing';
import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Kanban ranks (issue 16): `rank` orders a task within its (project, status) column, ties
 * broken by id. Keys are fractional-indexing strings (src/tasks/task-rank.ts), compared
 * byte-wise: the column is `COLLATE "C"`, so the database orders them as the library does
 * (`"Zz" < "a0"`), whatever the database's default collation.
 *
 * - Existing tasks are ranked by creation order within each column (`created_at, id`),
 *   the keys the library hands out for n cards in a row (`a0`, `a1`, …).
 * - The constant default keeps bulk loads that name no rank (fixtures, benchmarks)
 *   working: such rows tie and keep id order; the application always writes a key, and a
 *   move that meets a tie rebalances the column first.
 * - The CHECK is the bound the application keeps (it rebalances long before it).
 * - `(org_id, project_id, status, rank, id)` serves the board and the `sort=rank` pages of
 *   one column; `(org_id, rank, id)` the org-wide list sorted by rank, like every other sort.
 */
export class TaskRank1763900006000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tasks ADD COLUMN rank text COLLATE "C" NOT NULL DEFAULT 'a0'
        CONSTRAINT tasks_rank_check CHECK (rank ~ '^[0-9A-Za-z]{1,48}$')`);
    const [{ n }] = await db.query(
      `SELECT coalesce(max(c), 0)::int AS n
         FROM (SELECT count(*) AS c FROM tasks GROUP BY org_id, project_id, status) AS columns`,
    );
    if (n > 0) {
      await db.query(
        `UPDATE tasks t SET rank = ($1::text[])[o.n]
           FROM (SELECT org_id, id,
                        row_number() OVER (PARTITION BY org_id, project_id, status ORDER BY created_at, id) AS n
                   FROM tasks) AS o
          WHERE t.org_id = o.org_id AND t.id = o.id`,
        [generateNKeysBetween(null, null, n)],
      );
    }
    await db.query(
      `CREATE INDEX tasks_column_rank_idx ON tasks (org_id, project_id, status, rank, id)`,
    );
    await db.query(`CREATE INDEX tasks_org_rank_idx ON tasks (org_id, rank, id)`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tasks DROP COLUMN rank`);
  }
}
