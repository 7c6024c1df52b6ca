import { createTestApp, TestApp } from './helpers/app';

/**
 * The schema as migrated, read from the catalog: every tenant table carries its org and
 * keeps it first, so it stays isolated (RLS) and can be distributed by org (DESIGN §3). A
 * new table that forgets either fails here, on both databases.
 *
 * A tenant table is one with an `org_id` column. The exceptions are named, with why:
 * `organizations` is the tenant itself (keyed by `id`); `queued_mail` is account-level
 * mail whose org is only a label on invite emails; `idempotency_keys` belongs to a user
 * (`user_id` leads), its org is a note.
 */
const NOT_TENANT_KEYED = new Set(['queued_mail', 'idempotency_keys']);

interface Table {
  name: string;
  rls: boolean;
  forced: boolean;
  policies: number;
  orgNullable: boolean;
}

describe('the schema, from the catalog', () => {
  let t: TestApp;
  let tables: Table[];

  beforeAll(async () => {
    t = await createTestApp();
    tables = await t.dataSource.query(
      `SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
              NOT a.attnotnull AS "orgNullable"
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p')
        ORDER BY 1`,
    );
  });
  afterAll(() => t?.close());

  it('finds the tenant tables', () => {
    expect(tables.map((x) => x.name)).toEqual(
      expect.arrayContaining([
        'memberships',
        'invites',
        'audit_log',
        'outbox_events',
        'projects',
        'tasks',
      ]),
    );
  });

  it('has row-level security enabled and forced, with a policy, on every table that holds an org', async () => {
    const orgs = await t.dataSource.query(
      `SELECT relrowsecurity AS rls, relforcerowsecurity AS forced FROM pg_class WHERE relname = 'organizations'`,
    );
    expect(orgs).toEqual([{ rls: true, forced: true }]);
    for (const table of tables) {
      expect({
        table: table.name,
        rls: table.rls,
        forced: table.forced,
        policy: table.policies > 0,
      }).toEqual({
        table: table.name,
        rls: true,
        forced: true,
        policy: true,
      });
    }
  });

  it('keeps org_id non-null and first in every primary key, unique index and foreign key of a tenant table', async () => {
    const tenant = tables.filter((x) => !NOT_TENANT_KEYED.has(x.name));
    for (const table of tenant) {
      expect({ table: table.name, orgNullable: table.orgNullable }).toEqual({
        table: table.name,
        orgNullable: false,
      });
    }
    const keys: Array<{ table: string; name: string; kind: string; first: string }> =
      await t.dataSource.query(
        // Foreign keys to global tables (users) are fine: those are replicated everywhere.
        `SELECT cl.relname AS table, co.conname AS name, co.contype AS kind,
                (SELECT attname FROM pg_attribute WHERE attrelid = co.conrelid AND attnum = co.conkey[1]) AS first
           FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
           LEFT JOIN pg_class target ON target.oid = co.confrelid
          WHERE cl.relname = ANY($1)
            AND (co.contype IN ('p', 'u')
                 OR (co.contype = 'f' AND (target.relname = 'organizations' OR target.relname = ANY($1))))
         UNION ALL
         SELECT cl.relname, ic.relname, 'unique index',
                (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0])
           FROM pg_index i JOIN pg_class cl ON cl.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE cl.relname = ANY($1) AND i.indisunique AND NOT i.indisprimary`,
        [tenant.map((x) => x.name)],
      );
    expect(keys.length).toBeGreaterThan(tenant.length);
    const offending = keys
      .filter((key) => key.first !== 'org_id')
      .map((key) => `${key.table}.${key.name} (${key.kind}) leads with ${key.first}`);
    expect(offending).toEqual([]);
  });
});
