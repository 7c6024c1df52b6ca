import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { RequestContext } from './request-context';
import { UnitOfWork } from './unit-of-work';
import { DatabaseTopology } from './topology';

const ORG = '11111111-1111-4111-8111-111111111111';
const USER = '22222222-2222-4222-8222-222222222222';

const settings = `SELECT current_user AS role,
  current_setting('app.org_id', true) AS org, current_setting('app.user_id', true) AS "user"`;

describe('UnitOfWork', () => {
  let dataSource: DataSource;
  let uow: UnitOfWork;

  beforeAll(async () => {
    // One connection, so the connection a transaction used is the one looked at after.
    dataSource = await new DataSource(dataSourceOptions(process.env.DATABASE_URL!, 1)).initialize();
    uow = new UnitOfWork(dataSource, { citus: false } as DatabaseTopology);
  });
  afterAll(() => dataSource.destroy());

  it('runs request work as worklane_app with the tenant set', async () => {
    const [inside] = await uow.transaction(
      { role: 'worklane_app', orgId: ORG, userId: USER },
      (em) => em.query(settings),
    );
    expect(inside).toEqual({ role: 'worklane_app', org: ORG, user: USER });
  });

  it('returns the connection to the pool carrying no tenant setting and the owner role', async () => {
    const [owner] = await dataSource.query(`SELECT current_user AS role`);
    await uow.transaction({ role: 'worklane_app', orgId: ORG, userId: USER }, (em) =>
      em.query('SELECT 1'),
    );
    const [after] = await dataSource.query(settings);
    expect(after.role).toBe(owner.role);
    expect(after.org ?? '').toBe('');
    expect(after.user ?? '').toBe('');
  });

  it('also clears the settings when the work fails and rolls back', async () => {
    await dataSource.query(`CREATE TABLE IF NOT EXISTS uow_probe (v text)`);
    await dataSource.query(`GRANT ALL ON uow_probe TO worklane_app`);
    await expect(
      uow.transaction({ role: 'worklane_app', orgId: ORG }, async (em) => {
        await em.query(`INSERT INTO uow_probe VALUES ('rolled back')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [after] = await dataSource.query(settings);
    expect(after.org ?? '').toBe('');
    expect(await dataSource.query(`SELECT * FROM uow_probe WHERE v = 'rolled back'`)).toEqual([]);
  });

  it('joins the open transaction of the context instead of opening a second one', async () => {
    await uow.transaction({ role: 'worklane_app', orgId: ORG }, async (outer) => {
      const [a] = await outer.query(`SELECT txid_current() AS id`);
      const [b] = await uow.run((inner) => inner.query(`SELECT txid_current() AS id`));
      expect(b.id).toBe(a.id);
    });
  });

  it('runs a named system operation as worklane_system, and switches back inside a transaction', async () => {
    const [alone] = await uow.system('test.alone', (em) => em.query(settings));
    expect(alone.role).toBe('worklane_system');
    await uow.transaction({ role: 'worklane_app', orgId: ORG }, async (em) => {
      const [nested] = await uow.system('test.nested', (inner) => inner.query(settings));
      expect(nested.role).toBe('worklane_system');
      const [back] = await em.query(settings);
      expect(back).toMatchObject({ role: 'worklane_app', org: ORG });
    });
  });

  it('scopes a fresh unit of work to the tenant of the context', async () => {
    const [row] = await RequestContext.run(
      {
        membership: { orgId: ORG, userId: USER, role: 'member' },
        user: { id: USER, sessionId: 's' },
      },
      () => uow.run((em) => em.query(settings)),
    );
    expect(row).toEqual({ role: 'worklane_app', org: ORG, user: USER });
  });
});
