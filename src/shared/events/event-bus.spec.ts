import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RequestContext } from '../database/request-context';
import { dataSourceOptions } from '../database/data-source-options';
import { UnitOfWork } from '../database/unit-of-work';
import { DatabaseTopology } from '../database/topology';
import { DomainEvent } from './domain-event';
import { EventBus } from './event-bus';
import { EventFeed } from './event-feed';
import { EventLogRepository } from './event-log.repository';

class SomethingHappened extends DomainEvent<{ marker: string }> {
  readonly type = 'test.something_happened';
}

// Declared as a module declares its events (a test-only type: no module publishes it).
declare module './domain-event-map' {
  interface DomainEventMap {
    'test.something_happened': SomethingHappened;
  }
}

describe('EventBus', () => {
  const ORG = randomUUID();
  let dataSource: DataSource;
  let uow: UnitOfWork;
  let bus: EventBus;

  beforeAll(async () => {
    dataSource = await new DataSource(dataSourceOptions(process.env.DATABASE_URL!, 2)).initialize();
  });
  afterAll(() => dataSource.destroy());
  beforeEach(() => {
    uow = new UnitOfWork(dataSource, { citus: false } as DatabaseTopology);
    bus = new EventBus(
      uow,
      new EventLogRepository({ citus: false } as DatabaseTopology),
      new EventFeed(dataSource),
    );
  });

  const outboxCount = async (marker: string) =>
    Number(
      (
        await dataSource.query(`SELECT count(*) FROM outbox_events WHERE payload->>'marker' = $1`, [
          marker,
        ])
      )[0].count,
    );
  const marker = () => `m-${Math.random().toString(36).slice(2)}`;
  /** Outside a transaction, as a request of ORG would be. */
  const inOrg = <T>(fn: () => Promise<T>) =>
    RequestContext.run({ membership: { orgId: ORG, userId: randomUUID(), role: 'owner' } }, fn);

  it('runs in-transaction handlers inside the publishing transaction and writes the outbox', async () => {
    const m = marker();
    const seen: string[] = [];
    bus.subscribe('test.something_happened', 'in-transaction', async (event, em) => {
      const [row] = await em.query(
        `SELECT count(*) FROM outbox_events WHERE payload->>'marker' = $1`,
        [m],
      );
      seen.push(`${event.payload.marker}:${row.count}`);
    });
    await uow.transaction({ role: 'worklane_app', orgId: ORG }, async () => {
      await bus.publish(new SomethingHappened(ORG, null, null, { marker: m }));
    });
    expect(seen).toEqual([`${m}:1`]);
    expect(await outboxCount(m)).toBe(1);
  });

  it('rolls the change and its outbox row back when an in-transaction handler throws', async () => {
    const m = marker();
    bus.subscribe('test.something_happened', 'in-transaction', () => {
      throw new Error('audit write failed');
    });
    await expect(
      uow.transaction({ role: 'worklane_app', orgId: ORG }, () =>
        bus.publish(new SomethingHappened(ORG, null, null, { marker: m })),
      ),
    ).rejects.toThrow('audit write failed');
    expect(await outboxCount(m)).toBe(0);
  });

  it('runs after-commit handlers only once the transaction has committed', async () => {
    const m = marker();
    const order: string[] = [];
    bus.subscribe('test.something_happened', 'after-commit', async (event) => {
      order.push(`after-commit, committed rows: ${await outboxCount(event.payload.marker)}`);
    });
    await uow.transaction({ role: 'worklane_app', orgId: ORG }, async () => {
      await bus.publish(new SomethingHappened(ORG, null, null, { marker: m }));
      order.push('handler returned');
    });
    expect(order).toEqual(['handler returned', 'after-commit, committed rows: 1']);
  });

  it('never runs after-commit handlers of a rolled-back transaction', async () => {
    const calls: string[] = [];
    bus.subscribe('*', 'after-commit', (event) => void calls.push(event.type));
    await expect(
      uow.transaction({ role: 'worklane_app', orgId: ORG }, async () => {
        await bus.publish(new SomethingHappened(ORG, null, null, { marker: marker() }));
        throw new Error('use case failed');
      }),
    ).rejects.toThrow('use case failed');
    expect(calls).toEqual([]);
  });

  it('logs, and does not rethrow, an after-commit handler failure', async () => {
    bus.subscribe('test.something_happened', 'after-commit', () => {
      throw new Error('consumer down');
    });
    const m = marker();
    await expect(
      uow.transaction({ role: 'worklane_app', orgId: ORG }, () =>
        bus.publish(new SomethingHappened(ORG, null, null, { marker: m })),
      ),
    ).resolves.toBeUndefined();
    expect(await outboxCount(m)).toBe(1);
  });

  it('hands a batch handler every event of one publish call at once, and writes them in order', async () => {
    const [a, b, c] = [marker(), marker(), marker()];
    const batches: string[][] = [];
    bus.subscribeBatch(
      (events) => void batches.push(events.map((e) => (e.payload as { marker: string }).marker)),
    );
    await inOrg(() =>
      bus.publish(...[a, b, c].map((m) => new SomethingHappened(ORG, null, null, { marker: m }))),
    );
    expect(batches).toEqual([[a, b, c]]);
    const written = await dataSource.query(
      `SELECT payload->>'marker' AS marker FROM outbox_events WHERE payload->>'marker' = ANY($1) AND org_id = $2 ORDER BY position`,
      [[a, b, c], ORG],
    );
    expect(written.map((r: { marker: string }) => r.marker)).toEqual([a, b, c]);
  });

  it('opens its own unit of work when published outside one', async () => {
    const m = marker();
    await inOrg(() =>
      bus.publish(
        new SomethingHappened(ORG, 'b5e4cb86-2f3e-4e55-a1e1-2fc1b46fa6a3', null, { marker: m }),
      ),
    );
    const [row] = await dataSource.query(
      `SELECT type, actor_id FROM outbox_events WHERE payload->>'marker' = $1`,
      [m],
    );
    expect(row).toEqual({
      type: 'test.something_happened',
      actor_id: 'b5e4cb86-2f3e-4e55-a1e1-2fc1b46fa6a3',
    });
  });

  it("numbers each org's events 1, 2, 3… in commit order, and keeps events of no org out of the log", async () => {
    const org = randomUUID();
    const m = marker();
    const scoped = (fn: () => Promise<void>) =>
      uow.transaction({ role: 'worklane_app', orgId: org }, fn);
    await scoped(() => bus.publish(new SomethingHappened(org, null, null, { marker: m })));
    await expect(
      scoped(async () => {
        await bus.publish(new SomethingHappened(org, null, null, { marker: m }));
        throw new Error('rolled back: its position is given back');
      }),
    ).rejects.toThrow('rolled back');
    const pair = [
      new SomethingHappened(org, null, null, { marker: m }),
      new SomethingHappened(org, null, null, { marker: m }),
    ];
    await scoped(() => bus.publish(...pair));
    expect(pair.map((e) => e.position)).toEqual([2, 3]);
    const orgless = new SomethingHappened(null, null, null, { marker: m });
    await scoped(() => bus.publish(orgless));
    expect(orgless.position).toBeUndefined();
    const logged = await dataSource.query(
      `SELECT position::int AS p FROM outbox_events WHERE payload->>'marker' = $1 ORDER BY position`,
      [m],
    );
    expect(logged.map((r: { p: number }) => r.p)).toEqual([1, 2, 3]);
  });
});
