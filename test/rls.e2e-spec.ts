import { UnitOfWork } from '../src/shared/database/unit-of-work';
import { createTestApp, TestApp } from './helpers/app';
import { addMember, createOrgWorld, OrgWorld } from './helpers/orgs';
import { registerUser, SignedInUser } from './helpers/users';
import { createProject, createTask } from './helpers/work';

const API = '/api/v1';

/** Each tenant table and the column naming its org. */
const TENANT_TABLES: Array<[table: string, orgColumn: string]> = [
  ['memberships', 'org_id'],
  ['invites', 'org_id'],
  ['audit_log', 'org_id'],
  ['outbox_events', 'org_id'],
  ['organizations', 'id'],
  ['projects', 'org_id'],
  ['tasks', 'org_id'],
];

/**
 * Row-level security on its own — no `WHERE org_id = …` anywhere in the SQL — keeps a
 * request scoped to org A away from org B's rows. Queries run exactly as request work
 * runs them (role worklane_app, app.org_id set); the table owner checks what is really there.
 */
describe('row-level security', () => {
  let t: TestApp;
  let uow: UnitOfWork;
  let world: OrgWorld;
  let A: string;
  let B: string;
  let ownerOfA: SignedInUser;
  let memberOfB: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { INVITE_THROTTLE_LIMIT: '1000' } });
    uow = t.app.get(UnitOfWork);
    world = await createOrgWorld(t);
    A = world.orgId;
    B = world.otherOrgId;
    ownerOfA = world.owner;
    memberOfB = await registerUser(t, { name: 'member of B' });
    await addMember(t, B, memberOfB, 'member');

    // Invites and the audit entries they leave, in both orgs, through the API.
    for (const [orgId, owner] of [
      [A, world.owner],
      [B, world.stranger],
    ] as const) {
      const res = await t
        .http()
        .post(`${API}/orgs/${orgId}/invites`)
        .set(owner.auth)
        .send({ role: 'member', maxUses: 3 });
      if (res.status !== 201)
        throw new Error(`invite failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    // Projects and tasks in both orgs.
    for (const [orgId, owner] of [
      [A, world.owner],
      [B, world.stranger],
    ] as const) {
      const projectId = await createProject(t, orgId, owner, `RLS ${orgId}`);
      await createTask(t, orgId, projectId, owner);
    }
  });
  afterAll(() => t?.close());

  const asApp = <T>(
    orgId: string | undefined,
    userId: string | undefined,
    sql: string,
    params: unknown[] = [],
  ) =>
    uow.transaction(
      { role: 'worklane_app', orgId, userId },
      (em) => em.query(sql, params) as Promise<T>,
    );

  async function countAsOwner(table: string, column: string, orgId: string): Promise<number> {
    const [row] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`,
      [orgId],
    );
    return row.n;
  }

  describe('scoped to org A', () => {
    it.each(TENANT_TABLES)(
      'SELECT * FROM %s returns all of org A and nothing of org B',
      async (table, column) => {
        // Org B's rows are there, seen by the table owner.
        expect(await countAsOwner(table, column, B)).toBeGreaterThan(0);
        const ofA = await countAsOwner(table, column, A);
        expect(ofA).toBeGreaterThan(0);

        const rows = await asApp<Array<Record<string, unknown>>>(
          A,
          ownerOfA.id,
          `SELECT * FROM ${table}`,
        );
        expect(rows.filter((r) => r[column] !== A)).toEqual([]);
        expect(rows).toHaveLength(ofA);
      },
    );

    it('cannot INSERT a membership into org B', async () => {
      const intruder = await registerUser(t, { name: 'intruder' });
      await expect(
        asApp(
          A,
          ownerOfA.id,
          `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`,
          [B, intruder.id],
        ),
      ).rejects.toThrow(/row-level security/);
      const rows = await t.dataSource.query(`SELECT 1 FROM memberships WHERE user_id = $1`, [
        intruder.id,
      ]);
      expect(rows).toEqual([]);
    });

    it('cannot INSERT an invite or an audit entry into org B', async () => {
      await expect(
        asApp(
          A,
          ownerOfA.id,
          `INSERT INTO invites (org_id, kind, role, token_hash, max_uses, expires_at)
           VALUES ($1, 'link', 'owner', decode(md5(random()::text), 'hex'), 100, now() + interval '1 day')`,
          [B],
        ),
      ).rejects.toThrow(/row-level security/);
      await expect(
        asApp(A, ownerOfA.id, `INSERT INTO audit_log (org_id, action) VALUES ($1, 'forged')`, [B]),
      ).rejects.toThrow(/row-level security/);
      const [forged] = await t.dataSource.query(
        `SELECT (SELECT count(*)::int FROM invites WHERE org_id = $1 AND role = 'owner') AS invites,
                (SELECT count(*)::int FROM audit_log WHERE org_id = $1 AND action = 'forged') AS audit`,
        [B],
      );
      expect(forged).toEqual({ invites: 0, audit: 0 });
    });

    it("UPDATE and DELETE without a filter leave org B's rows untouched", async () => {
      const snapshot = () =>
        t.dataSource.query(
          `SELECT (SELECT json_agg(m ORDER BY user_id) FROM memberships m WHERE org_id = $1) AS memberships,
                  (SELECT json_agg(i ORDER BY id) FROM invites i WHERE org_id = $1) AS invites,
                  (SELECT json_agg(o) FROM organizations o WHERE id = $1) AS org`,
          [B],
        );
      const before = await snapshot();
      // Inside a transaction that is rolled back afterwards, so org A is unharmed too.
      const rollback = new Error('roll back');
      await expect(
        uow.transaction({ role: 'worklane_app', orgId: A, userId: ownerOfA.id }, async (em) => {
          await em.query(`UPDATE memberships SET role = 'viewer'`);
          await em.query(`UPDATE invites SET max_uses = 1000`);
          await em.query(`UPDATE organizations SET name = 'hijacked'`);
          await em.query(`DELETE FROM invites`);
          await em.query(`DELETE FROM memberships`);
          throw rollback;
        }),
      ).rejects.toBe(rollback);
      expect(await snapshot()).toEqual(before);
    });

    it("a user who belongs to both orgs still sees only org A's rows while scoped to A", async () => {
      const both = await registerUser(t, { name: 'member of both' });
      await addMember(t, A, both, 'member');
      await addMember(t, B, both, 'admin');
      const leaked: Record<string, unknown[]> = {};
      for (const [table, column] of TENANT_TABLES) {
        const rows = await asApp<Array<Record<string, unknown>>>(
          A,
          both.id,
          `SELECT * FROM ${table}`,
        );
        leaked[table] = rows.filter((r) => r[column] !== A);
      }
      expect(leaked).toEqual(Object.fromEntries(TENANT_TABLES.map(([table]) => [table, []])));
    });
  });

  describe('credentials and sessions, as worklane_app', () => {
    it.each([
      ['SELECT password_hash FROM users'],
      ['SELECT * FROM users'],
      ['SELECT * FROM auth_sessions'],
      ['SELECT * FROM refresh_tokens'],
      ["UPDATE users SET password_hash = 'x'"],
      ['DELETE FROM auth_sessions'],
      ['UPDATE refresh_tokens SET used_at = now()'],
    ])('%s → permission denied', async (sql) => {
      expect(await countAsOwner('auth_sessions', 'user_id', ownerOfA.id)).toBeGreaterThan(0);
      await expect(asApp(A, ownerOfA.id, sql)).rejects.toThrow(/permission denied/);
    });

    it("reads the members' names and emails that tenant queries need", async () => {
      const rows = await asApp<Array<{ id: string; email: string; name: string }>>(
        A,
        ownerOfA.id,
        `SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id`,
      );
      expect(rows.map((r) => r.id)).toContain(ownerOfA.id);
    });

    it('the session check answers without reading auth_sessions', async () => {
      const [row] = await asApp<Array<{ live: boolean }>>(
        A,
        ownerOfA.id,
        `SELECT session_is_live($1, gen_random_uuid()) AS live`,
        [ownerOfA.id],
      );
      expect(row!.live).toBe(false);
    });
  });

  describe('with no org set', () => {
    it.each(['memberships', 'invites', 'audit_log', 'organizations'])(
      'SELECT * FROM %s returns no rows',
      async (table) => {
        expect(
          await countAsOwner(table, table === 'organizations' ? 'id' : 'org_id', B),
        ).toBeGreaterThan(0);
        const rows = await asApp<unknown[]>(undefined, undefined, `SELECT * FROM ${table}`);
        expect(rows).toEqual([]);
      },
    );

    it('SELECT * FROM outbox_events returns only events of no org', async () => {
      const rows = await asApp<Array<{ org_id: string | null }>>(
        undefined,
        undefined,
        `SELECT * FROM outbox_events`,
      );
      expect(rows.filter((r) => r.org_id !== null)).toEqual([]);
    });

    it('cannot INSERT a membership into any org', async () => {
      const intruder = await registerUser(t, { name: 'intruder 2' });
      await expect(
        asApp(
          undefined,
          undefined,
          `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`,
          [A, intruder.id],
        ),
      ).rejects.toThrow(/row-level security/);
    });
  });
});
