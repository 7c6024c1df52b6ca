import { MigrationInterface, QueryRunner } from 'typeorm';
import { distributeIfCitus, isCitus } from './support/citus';

const CURRENT_ORG = `nullif(current_setting('app.org_id', true), '')::uuid`;

/**
 * Projects and tasks, keyed (org_id, id) so they can be distributed by org; every index a
 * list, filter or sort uses leads with org_id. A task's assignee must be a member of the
 * org: a composite foreign key to memberships, which unassigns when the member goes.
 */
export class ProjectsAndTasks1763900002000 implements MigrationInterface {
  public async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE projects (
        org_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        description text CHECK (length(description) <= 10000),
        archived boolean NOT NULL DEFAULT false,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    await distributeIfCitus(db, 'projects', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE projects ADD FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE`,
    );
    await db.query(`CREATE UNIQUE INDEX projects_org_name_key ON projects (org_id, lower(name))`);
    await db.query(
      `CREATE INDEX projects_org_list_idx ON projects (org_id, archived, created_at, id)`,
    );

    // Citus refuses SET NULL through a key that holds the distribution column; migration
    // 1763900010000 drops the action everywhere (member removal unassigns explicitly).
    const unassign = (await isCitus(db)) ? '' : 'ON DELETE SET NULL (assignee_id)';
    await db.query(`
      CREATE TABLE tasks (
        org_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        description text CHECK (length(description) <= 10000),
        status text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done', 'blocked')),
        priority text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
        priority_rank smallint GENERATED ALWAYS AS (
          CASE priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END
        ) STORED,

        assignee_id uuid,
        due_date date,
        -- Sort keys for due dates that keep undated tasks last in both directions. Plain
        -- columns, not coalesce() in the query: under row-level security the planner will
        -- not use an expression's index for the keyset condition.
        due_first date GENERATED ALWAYS AS (coalesce(due_date, 'infinity'::date)) STORED,
        due_last date GENERATED ALWAYS AS (coalesce(due_date, '-infinity'::date)) STORED,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        version integer NOT NULL DEFAULT 1,
        PRIMARY KEY (org_id, id),
        CHECK ((status = 'done') = (completed_at IS NOT NULL))
      )`);
    await distributeIfCitus(db, 'tasks', 'org_id', 'organizations');
    await db.query(
      `ALTER TABLE tasks ADD FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE`,
    );
    await db.query(
      `ALTER TABLE tasks ADD FOREIGN KEY (org_id, assignee_id) REFERENCES memberships (org_id, user_id) ${unassign}`,
    );
    // Lists within a project and across the org, for every sort offered (ties by id).
    const sorts = {
      created: 'created_at',
      updated: 'updated_at',
      due: 'due_first',
      due_desc: 'due_last',
      priority: 'priority_rank',
    };
    for (const [name, key] of Object.entries(sorts)) {
      await db.query(`CREATE INDEX tasks_org_${name}_idx ON tasks (org_id, ${key}, id)`);
      await db.query(
        `CREATE INDEX tasks_project_${name}_idx ON tasks (org_id, project_id, ${key}, id)`,
      );
    }
    await db.query(
      `CREATE INDEX tasks_org_assignee_idx ON tasks (org_id, assignee_id, created_at, id)`,
    );
    await db.query(`CREATE INDEX tasks_org_status_idx ON tasks (org_id, status, created_at, id)`);
    await db.query(
      `CREATE INDEX tasks_org_open_due_idx ON tasks (org_id, due_date) WHERE status <> 'done'`,
    );

    // One row per (user, key): the first response of an idempotent POST, replayed for 24 h.
    await db.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
        org_id uuid,
        request_hash bytea NOT NULL,
        status integer,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      )`);
    // User-scoped: by user, in a group of its own (a key is read and written by its user).
    await distributeIfCitus(db, 'idempotency_keys', 'user_id', 'none');
    await db.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);

    await db.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON projects, tasks, idempotency_keys TO worklane_app`,
    );
    for (const table of ['projects', 'tasks']) {
      await db.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await db.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await db.query(`
        CREATE POLICY tenant_isolation ON ${table} TO worklane_app
          USING (org_id = ${CURRENT_ORG}) WITH CHECK (org_id = ${CURRENT_ORG})`);
    }
    // Keys belong to the user who sent them (POST /orgs has no org yet).
    await db.query(`ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY`);
    await db.query(`
      CREATE POLICY own_keys ON idempotency_keys TO worklane_app
        USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
        WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid)`);
  }

  public async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys, tasks, projects`);
  }
}
