import fc from 'fast-check';
import { Client } from 'pg';
import type { Response } from 'supertest';
import { api, createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { expectProblem, expectStatus, fieldsOf } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import { TaskRank1763900006000 } from '../migrations/1763900006000-TaskRank';
import {
  createProject,
  createTask,
  insertTasks,
  projectPath,
  STATUSES,
  taskPath,
  tasksPath,
  TaskView,
} from './helpers/work';

type Status = (typeof STATUSES)[number];
type Columns = Record<Status, string[]>;

interface BoardColumn {
  status: Status;
  total: number;
  tasks: TaskView[];
  nextCursor: string | null;
}

/** The database's order of a column: (rank, id), byte-wise. */
const byRank = (a: { rank: string; id: string }, b: { rank: string; id: string }) =>
  a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** The suites that make hundreds of requests: a loaded machine (or the embedded database) needs time. */
const LONG = 180_000;

const emptyColumns = (): Columns => ({ todo: [], in_progress: [], done: [], blocked: [] });

describe('Kanban: POST …/tasks/:taskId/move, GET …/projects/:projectId/board, sort=rank', () => {
  let t: TestApp;
  let longestKey = 0;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    console.log(`[board] longest rank key seen: ${longestKey} characters`);
    await t.close();
  });

  type World = OrgWorld & { projectId: string };

  async function projectWorld(): Promise<World> {
    const world = await createOrgWorld(t);
    return { ...world, projectId: await createProject(t, world.orgId, world.owner) };
  }

  const movePath = (w: World, taskId: string) => `${taskPath(w.orgId, w.projectId, taskId)}/move`;
  const boardPath = (w: World) => `${projectPath(w.orgId, w.projectId)}/board`;

  function move(
    w: World,
    by: SignedInUser | Record<string, string>,
    taskId: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const auth = 'auth' in by ? (by as SignedInUser).auth : by;
    return t
      .http()
      .post(movePath(w, taskId))
      .set({ ...auth, ...headers })
      .send(body)
      .then((res) => {
        if (typeof res.body?.rank === 'string')
          longestKey = Math.max(longestKey, res.body.rank.length);
        return res;
      });
  }

  async function moved(w: World, taskId: string, body: Record<string, unknown>) {
    const res = await move(w, w.owner, taskId, body);
    expectStatus(res, 200);
    return res.body as TaskView;
  }

  async function getBoard(w: World, by: SignedInUser, query: Record<string, unknown> = {}) {
    const res = await t.http().get(boardPath(w)).query(query).set(by.auth);
    expectStatus(res, 200);
    return res.body.columns as BoardColumn[];
  }

  /** Each column's ids as the board shows them (perColumn 100: whole columns here). */
  async function columnsOnBoard(w: World): Promise<Columns> {
    const columns = await getBoard(w, w.viewer, { perColumn: 100 });
    expect(columns.map((c) => c.status)).toEqual([...STATUSES]);
    const out = emptyColumns();
    for (const c of columns) {
      expect(c.total).toBe(c.tasks.length);
      expect(c.nextCursor).toBeNull();
      out[c.status] = c.tasks.map((task) => task.id);
    }
    return out;
  }

  /** One column read through `sort=rank` pages of `limit`, following nextCursor to the end. */
  async function columnByList(
    w: World,
    by: SignedInUser,
    status: Status,
    query: Record<string, unknown> = {},
    limit = 7,
    cursor?: string,
  ): Promise<TaskView[]> {
    const out: TaskView[] = [];
    for (let pages = 0; pages < 100; pages++) {
      const res = await t
        .http()
        .get(tasksPath(w.orgId, w.projectId))
        .query({ ...query, status, sort: 'rank', limit, ...(cursor ? { cursor } : {}) })
        .set(by.auth);
      expectStatus(res, 200);
      out.push(...res.body.data);
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) return out;
    }
    throw new Error('too many pages');
  }

  async function columnsByList(w: World): Promise<Columns> {
    const out = emptyColumns();
    for (const status of STATUSES)
      out[status] = (await columnByList(w, w.viewer, status)).map((task) => task.id);
    return out;
  }

  async function rowOf(taskId: string) {
    const [row] = await t.dataSource.query(
      `SELECT status, rank, version, completed_at AS "completedAt" FROM tasks WHERE id = $1`,
      [taskId],
    );
    return row as { status: string; rank: string; version: number; completedAt: Date | null };
  }

  async function makeColumn(w: World, n: number, status: Status = 'todo', by = w.owner) {
    const made: TaskView[] = [];
    for (let i = 0; i < n; i++)
      made.push(await createTask(t, w.orgId, w.projectId, by, { title: `${status} ${i}`, status }));
    return made;
  }

  describe('rank on create and PATCH', () => {
    it('puts new cards at the bottom of their column and shows rank in the task', async () => {
      const w = await projectWorld();
      const todo = await makeColumn(w, 3);
      const done = await makeColumn(w, 2, 'done');
      for (const task of [...todo, ...done]) expect(task.rank).toMatch(/^[0-9A-Za-z]{1,48}$/);
      const columns = await columnsOnBoard(w);
      expect(columns.todo).toEqual(todo.map((x) => x.id));
      expect(columns.done).toEqual(done.map((x) => x.id));
    });

    it('moves a card to the bottom of its new column when PATCH changes its status', async () => {
      const w = await projectWorld();
      const [a, b] = await makeColumn(w, 2);
      const [c] = await makeColumn(w, 1, 'in_progress');
      const res = await t
        .http()
        .patch(taskPath(w.orgId, w.projectId, a!.id))
        .set(w.owner.auth)
        .send({ status: 'in_progress' });
      expectStatus(res, 200);
      expect((await columnsOnBoard(w)).in_progress).toEqual([c!.id, a!.id]);
      expect((await columnsOnBoard(w)).todo).toEqual([b!.id]);
    });
  });

  /**
   * Who may move a card or read the board is the permission matrix's
   * (test/permissions/matrix.ts); here, what an allowed call does.
   */
  describe('what an allowed call does', () => {
    it('POST …/move puts the card where it was asked, bumps its version and ETag', async () => {
      const w = await projectWorld();
      const [top] = await makeColumn(w, 1, 'in_progress');
      const card = await createTask(t, w.orgId, w.projectId, w.owner, {
        assigneeId: w.member.id,
      });
      const res = await move(w, w.member, card.id, { status: 'in_progress', beforeId: top!.id });
      expectStatus(res, 200);
      expect(res.body).toMatchObject({
        id: card.id,
        status: 'in_progress',
        version: card.version + 1,
      });
      expect(res.headers.etag).toBe(`"${card.version + 1}"`);
      expect((await columnsOnBoard(w)).in_progress).toEqual([card.id, top!.id]);
    });

    it('GET …/board shows every column, its total and its cards', async () => {
      const w = await projectWorld();
      const cards = await makeColumn(w, 2, 'blocked');
      const res = await t.http().get(boardPath(w)).set(w.viewer.auth);
      expectStatus(res, 200);
      expect(res.body.columns.map((c: BoardColumn) => [c.status, c.total])).toEqual([
        ['todo', 0],
        ['in_progress', 0],
        ['done', 0],
        ['blocked', 2],
      ]);
      expect(res.body.columns[3].tasks.map((x: TaskView) => x.id)).toEqual(cards.map((x) => x.id));
    });
  });

  describe('moves against an in-memory model (property)', () => {
    type Command =
      | { kind: 'create'; status: Status }
      | {
          kind: 'move';
          card: number;
          status: Status;
          at: number;
          send: 'after' | 'before' | 'both';
        }
      | { kind: 'bottom'; card: number; status: Status | null }
      | { kind: 'patch'; card: number; status: Status };

    const status = fc.constantFrom(...STATUSES);
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), status }),
      fc.record({
        kind: fc.constant('move' as const),
        card: fc.nat(),
        status,
        at: fc.nat(),
        send: fc.constantFrom('after' as const, 'before' as const, 'both' as const),
      }),
      fc.record({
        kind: fc.constant('bottom' as const),
        card: fc.nat(),
        status: fc.option(status, { nil: null }),
      }),
      fc.record({ kind: fc.constant('patch' as const), card: fc.nat(), status }),
    );

    it(
      'gives the column orders of a plain list model, on the board and in sort=rank lists',
      async () => {
        const w = await projectWorld();
        let runs = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 10 }), async (commands) => {
            runs++;
            // Each run on a project of its own: the model starts empty.
            const projectId = await createProject(t, w.orgId, w.owner);
            const run: World = { ...w, projectId };
            const model = emptyColumns();
            const statusOf = new Map<string, Status>();
            const ids: string[] = [];
            for (const c of commands) {
              if (c.kind === 'create' || ids.length === 0) {
                const s = c.kind === 'create' ? c.status : 'todo';
                const task = await createTask(t, w.orgId, projectId, w.owner, { status: s });
                ids.push(task.id);
                model[s].push(task.id);
                statusOf.set(task.id, s);
                continue;
              }
              const id = ids[c.card % ids.length]!;
              const from = statusOf.get(id)!;
              if (c.kind === 'patch') {
                const res = await t
                  .http()
                  .patch(taskPath(w.orgId, projectId, id))
                  .set(w.owner.auth)
                  .send({ status: c.status });
                expectStatus(res, 200);
                if (c.status !== from) {
                  model[from].splice(model[from].indexOf(id), 1);
                  model[c.status].push(id);
                  statusOf.set(id, c.status);
                }
                continue;
              }
              const to = c.status ?? from;
              const column = model[to].filter((x) => x !== id);
              let body: Record<string, unknown> = c.status ? { status: to } : {};
              let at = column.length;
              if (c.kind === 'move') {
                at = c.at % (column.length + 1);
                const afterId = column[at - 1];
                const beforeId = column[at];
                if (c.send !== 'before' && afterId) body = { ...body, afterId };
                if (c.send !== 'after' && beforeId) body = { ...body, beforeId };
                // With only one side sent and that side missing (top / bottom): the other.
                if (!('afterId' in body) && !('beforeId' in body)) {
                  if (afterId) body = { ...body, afterId };
                  else if (beforeId) body = { ...body, beforeId };
                }
              }
              await moved(run, id, body);
              model[from].splice(model[from].indexOf(id), 1);
              column.splice(at, 0, id);
              model[to] = column;
              statusOf.set(id, to);
            }
            expect(await columnsOnBoard(run)).toEqual(model);
            expect(await columnsByList(run)).toEqual(model);
          }),
          { seed: 16, numRuns: 30, endOnFailure: true },
        );
        expect(runs).toBe(30);
      },
      LONG,
    );
  });

  it(
    'keeps every key within 48 characters over 300 moves into the same gap, in the model’s order',
    async () => {
      const w = await projectWorld();
      const [anchor, ...movers] = await makeColumn(w, 6);
      const model = [anchor!.id, ...movers.map((m) => m.id)];
      let longest = 0;
      for (let i = 0; i < 300; i++) {
        // Always directly below the anchor: the gap between it and the card moved last.
        const mover = movers[i % movers.length]!;
        const card = await moved(w, mover.id, { afterId: anchor!.id });
        longest = Math.max(longest, card.rank.length);
        model.splice(model.indexOf(mover.id), 1);
        model.splice(1, 0, mover.id);
      }
      const [{ max }] = await t.dataSource.query(
        `SELECT max(length(rank))::int AS max FROM tasks WHERE project_id = $1`,
        [w.projectId],
      );
      console.log(`[board] 300 moves into one gap: longest key ${Math.max(longest, max)}`);
      expect(Math.max(longest, max)).toBeLessThanOrEqual(48);
      expect((await columnsOnBoard(w)).todo).toEqual(model);
      expect((await columnsByList(w)).todo).toEqual(model);
    },
    LONG,
  );

  it(
    'serializes 20 concurrent moves into one gap: every card once, in a total order, each 200 or 409',
    async () => {
      const w = await projectWorld();
      const [top, second, ...rest] = await makeColumn(w, 22);
      const answers = await Promise.all(
        rest.map((card) => move(w, w.owner, card.id, { afterId: top!.id })),
      );
      for (const res of answers) {
        if (res.status !== 200) expectProblem(res, 409);
      }
      const movedIds = rest.filter((_, i) => answers[i]!.status === 200).map((c) => c.id);
      const stayed = rest.filter((_, i) => answers[i]!.status !== 200).map((c) => c.id);
      expect(movedIds.length).toBeGreaterThan(0);

      const column = (await columnsOnBoard(w)).todo;
      expect(column).toHaveLength(22);
      expect(new Set(column).size).toBe(22);
      expect(await columnsByList(w)).toMatchObject({ todo: column });
      // The moved cards sit between the top card and the second, the refused ones where they were.
      expect(column[0]).toBe(top!.id);
      expect(new Set(column.slice(1, 1 + movedIds.length))).toEqual(new Set(movedIds));
      expect(column.slice(1 + movedIds.length)).toEqual([second!.id, ...stayed]);
      const ranks: Array<{ rank: string }> = await t.dataSource.query(
        `SELECT rank FROM tasks WHERE project_id = $1 ORDER BY rank, id`,
        [w.projectId],
      );
      expect(new Set(ranks.map((r) => r.rank)).size).toBe(22);
    },
    LONG,
  );

  describe('the board and sort=rank pages', () => {
    let w: World;
    let all: TaskView[];

    beforeAll(async () => {
      w = await projectWorld();
      const priorities = ['low', 'medium', 'high', 'urgent'] as const;
      for (let i = 0; i < 26; i++) {
        await createTask(t, w.orgId, w.projectId, i % 3 === 0 ? w.member : w.owner, {
          title: i % 4 === 0 ? `Fix login ${i}` : `Task ${i}`,
          status: STATUSES[i % 3],
          priority: priorities[i % 4],
          assigneeId: i % 2 === 0 ? w.member.id : null,
        });
      }
      // Shuffle some cards so that rank order is not creation order.
      const res = await t
        .http()
        .get(tasksPath(w.orgId, w.projectId))
        .query({ status: 'todo', sort: 'rank', limit: 100 })
        .set(w.owner.auth);
      const todo = res.body.data as TaskView[];
      await moved(w, todo[todo.length - 1]!.id, { beforeId: todo[0]!.id });
      await moved(w, todo[1]!.id, { status: 'blocked' });
      await moved(w, todo[2]!.id, { status: 'done' });
      const list = await t
        .http()
        .get(tasksPath(w.orgId, w.projectId))
        .query({ limit: 100 })
        .set(w.owner.auth);
      all = list.body.data;
      expect(all).toHaveLength(26);
    });

    const filters: Array<[string, Record<string, string>, (x: TaskView) => boolean]> = [
      ['no filter', {}, () => true],
      ['assigneeId=me', { assigneeId: 'me' }, (x) => x.assigneeId !== null],
      [
        'priority=high,urgent',
        { priority: 'high,urgent' },
        (x) => ['high', 'urgent'].includes(x.priority),
      ],
      ['q=login', { q: 'LOGIN' }, (x) => x.title.startsWith('Fix login')],
    ];

    it.each(filters)(
      'equals a grouping of the list by status, sorted by (rank, id) (%s), and nextCursor completes each column',
      async (_label, query, keep) => {
        const columns = await getBoard(w, w.member, { ...query, perColumn: 3 });
        expect(columns.map((c) => c.status)).toEqual([...STATUSES]);
        for (const column of columns) {
          const expected = all
            .filter((x) => x.status === column.status && keep(x))
            .sort(byRank)
            .map((x) => x.id);
          expect(column.total).toBe(expected.length);
          expect(column.tasks.map((x) => x.id)).toEqual(expected.slice(0, 3));
          if (expected.length > 3) {
            expect(column.nextCursor).toEqual(expect.any(String));
            const rest = await columnByList(
              w,
              w.member,
              column.status,
              query,
              2,
              column.nextCursor!,
            );
            expect([...column.tasks, ...rest].map((x) => x.id)).toEqual(expected);
          } else {
            expect(column.nextCursor).toBeNull();
          }
          // And the list's own pages, both directions.
          const listed = await columnByList(w, w.member, column.status, query, 4);
          expect(listed.map((x) => x.id)).toEqual(expected);
          const reversed = await t
            .http()
            .get(tasksPath(w.orgId, w.projectId))
            .query({ ...query, status: column.status, sort: 'rank', order: 'desc', limit: 100 })
            .set(w.member.auth);
          expectStatus(reversed, 200);
          expect(reversed.body.data.map((x: TaskView) => x.id)).toEqual([...expected].reverse());
        }
      },
    );

    it('reads the whole board in one statement: as many as a list page, prologue included', async () => {
      // Every round trip to the database goes through the driver client's query().
      const spy = jest.spyOn(Client.prototype, 'query');
      try {
        const statements = async (path: string, query: Record<string, unknown>) => {
          spy.mockClear();
          expectStatus(await t.http().get(path).query(query).set(w.member.auth), 200);
          // The job runner polls on connections of its own: not this request's trips.
          const text = (call: unknown[]) =>
            typeof call[0] === 'string' ? call[0] : String((call[0] as { text?: string })?.text);
          return spy.mock.calls.filter((call) => !/pgboss/.test(text(call))).length;
        };
        const list = await statements(tasksPath(w.orgId, w.projectId), { assigneeId: 'me' });
        const board = await statements(boardPath(w), { assigneeId: 'me', perColumn: 3 });
        expect(list).toBeGreaterThan(0);
        expect(board).toBe(list);
      } finally {
        spy.mockRestore();
      }
    });

    it('shows all four columns of an empty project, with total 0', async () => {
      const empty = { ...w, projectId: await createProject(t, w.orgId, w.owner) };
      expect(await getBoard(empty, w.viewer)).toEqual(
        STATUSES.map((status) => ({ status, total: 0, tasks: [], nextCursor: null })),
      );
    });

    it('answers 400 to a bad perColumn and to fields the board does not take', async () => {
      for (const query of [
        { perColumn: 0 },
        { perColumn: 101 },
        { perColumn: 'x' },
        { status: 'todo' },
      ]) {
        const res = await t.http().get(boardPath(w)).query(query).set(w.owner.auth);
        expectProblem(res, 400);
      }
    });

    it('sorts the org-wide list by rank too', async () => {
      const res = await t
        .http()
        .get(api(`/orgs/${w.orgId}/tasks`))
        .query({ projectId: w.projectId, sort: 'rank', limit: 100 })
        .set(w.viewer.auth);
      expectStatus(res, 200);
      expect(res.body.data.map((x: TaskView) => x.id)).toEqual(
        [...all].sort(byRank).map((x) => x.id),
      );
    });

    it('answers 400 to a tampered or foreign rank cursor', async () => {
      const enc = (keys: unknown[]) => Buffer.from(JSON.stringify(keys)).toString('base64url');
      const uuid = all[0]!.id;
      const bad = [
        enc(['rank:asc', 'a0; DROP TABLE tasks', uuid]),
        enc(['rank:asc', 'x'.repeat(49), uuid]),
        enc(['rank:asc', '', uuid]),
        enc(['rank:desc', 'a0', uuid]),
        enc(['createdAt:desc', '2026-01-01 00:00:00+00', uuid]),
        enc(['rank:asc', 'a0', 'not-a-uuid']),
        'garbage',
      ];
      for (const cursor of bad) {
        const res = await t
          .http()
          .get(tasksPath(w.orgId, w.projectId))
          .query({ status: 'todo', sort: 'rank', cursor })
          .set(w.owner.auth);
        expectProblem(res, 400);
        expect(fieldsOf(res)).toEqual(['cursor']);
      }
    });
  });

  describe('refused moves change nothing', () => {
    let w: World;
    let todo: TaskView[];
    let done: TaskView[];
    let elsewhere: TaskView;
    let foreign: TaskView;

    beforeAll(async () => {
      w = await projectWorld();
      todo = await makeColumn(w, 4);
      done = await makeColumn(w, 1, 'done');
      const otherProject = await createProject(t, w.orgId, w.owner);
      elsewhere = await createTask(t, w.orgId, otherProject, w.owner, { title: 'elsewhere' });
      const theirProject = await createProject(t, w.otherOrgId, w.stranger);
      foreign = await createTask(t, w.otherOrgId, theirProject, w.stranger, { title: 'theirs' });
    });

    const cases: Array<[string, () => Record<string, unknown>, string[]]> = [
      ['afterId in another column', () => ({ afterId: done[0]!.id }), ['afterId']],
      [
        'beforeId in another column',
        () => ({ status: 'done', beforeId: todo[1]!.id }),
        ['beforeId'],
      ],
      ['afterId in another project', () => ({ afterId: elsewhere.id }), ['afterId']],
      ['beforeId of another org', () => ({ beforeId: foreign.id }), ['beforeId']],
      [
        'an unknown afterId',
        () => ({ afterId: '00000000-0000-4000-8000-000000000000' }),
        ['afterId'],
      ],
      ['a malformed beforeId', () => ({ beforeId: 'not-a-uuid' }), ['beforeId']],
      [
        'both bad',
        () => ({ afterId: elsewhere.id, beforeId: foreign.id }),
        ['afterId', 'beforeId'],
      ],
      ['the card itself as afterId', () => ({ afterId: todo[0]!.id }), ['afterId']],
      ['the card itself as beforeId', () => ({ beforeId: todo[0]!.id }), ['beforeId']],
      [
        'neighbours that are not adjacent',
        () => ({ afterId: todo[1]!.id, beforeId: todo[3]!.id }),
        ['beforeId'],
      ],
      [
        'neighbours in the wrong order',
        () => ({ afterId: todo[2]!.id, beforeId: todo[1]!.id }),
        ['beforeId'],
      ],
      [
        'the same card on both sides',
        () => ({ afterId: todo[2]!.id, beforeId: todo[2]!.id }),
        ['beforeId'],
      ],
      ['an unknown status', () => ({ status: 'doing' }), ['status']],
      ['a null status', () => ({ status: null }), ['status']],
      ['an unknown field', () => ({ rank: 'a0' }), ['rank']],
    ];

    it.each(cases)('answers 400 naming the field to %s', async (_label, body, fields) => {
      const before = await rowOf(todo[0]!.id);
      const columns = await columnsOnBoard(w);
      const res = await move(w, w.owner, todo[0]!.id, body());
      expectProblem(res, 400);
      expect(fieldsOf(res)).toEqual(fields);
      expect(await rowOf(todo[0]!.id)).toEqual(before);
      expect(await columnsOnBoard(w)).toEqual(columns);
    });

    it('answers 412 to a stale If-Match, and moves with a fresh one', async () => {
      const card = todo[3]!;
      const before = await rowOf(card.id);
      const stale = await move(
        w,
        w.owner,
        card.id,
        { beforeId: todo[0]!.id },
        {
          'If-Match': `"${before.version + 1}"`,
        },
      );
      expectProblem(stale, 412);
      expect(await rowOf(card.id)).toEqual(before);
      const fresh = await move(
        w,
        w.owner,
        card.id,
        { beforeId: todo[0]!.id },
        {
          'If-Match': `"${before.version}"`,
        },
      );
      expectStatus(fresh, 200);
      expect(fresh.headers.etag).toBe(`"${before.version + 1}"`);
      expect((await columnsOnBoard(w)).todo[0]).toBe(card.id);
      todo = [card, ...todo.slice(0, 3)];
    });

    it('takes null neighbours as none named: {afterId: null, beforeId: top} is the top', async () => {
      const card = todo[2]!;
      const res = await move(w, w.owner, card.id, { afterId: null, beforeId: todo[0]!.id });
      expectStatus(res, 200);
      expect((await columnsOnBoard(w)).todo[0]).toBe(card.id);
      const back = await move(w, w.owner, card.id, { afterId: todo[1]!.id, beforeId: null });
      expectStatus(back, 200);
      expect((await columnsOnBoard(w)).todo.slice(0, 3)).toEqual(todo.slice(0, 3).map((x) => x.id));
    });

    it('answers 200 and changes nothing to a move to where the card already is', async () => {
      const before = await rowOf(todo[1]!.id);
      const res = await move(w, w.owner, todo[1]!.id, {
        afterId: todo[0]!.id,
        beforeId: todo[2]!.id,
      });
      expectStatus(res, 200);
      expect(await rowOf(todo[1]!.id)).toEqual(before);
    });
  });

  it('reads the board of an archived project but refuses its moves (409 project-archived)', async () => {
    const w = await projectWorld();
    const [a, b] = await makeColumn(w, 2);
    expectStatus(
      await t
        .http()
        .patch(projectPath(w.orgId, w.projectId))
        .set(w.owner.auth)
        .send({ archived: true }),
      200,
    );
    const before = await rowOf(b!.id);
    const res = await move(w, w.owner, b!.id, { beforeId: a!.id });
    expectProblem(res, 409, 'project-archived');
    expect(await rowOf(b!.id)).toEqual(before);
    expect((await columnsOnBoard(w)).todo).toEqual([a!.id, b!.id]);
  });

  it('sets completedAt on a move into done and clears it on a move out, with task.moved and task.status_changed in the audit log and activity', async () => {
    const w = await projectWorld();
    const [a, b] = await makeColumn(w, 2);
    const [d] = await makeColumn(w, 1, 'done');

    const into = await moved(w, a!.id, { status: 'done', beforeId: d!.id });
    expect(into.completedAt).toEqual(expect.any(String));
    expect((await columnsOnBoard(w)).done).toEqual([a!.id, d!.id]);
    const within = await moved(w, a!.id, { afterId: d!.id });
    expect(within.completedAt).toBe(into.completedAt);
    const out = await moved(w, a!.id, { status: 'todo', beforeId: b!.id });
    expect(out.completedAt).toBeNull();
    expect((await rowOf(a!.id)).completedAt).toBeNull();

    const activity = await t
      .http()
      .get(`${taskPath(w.orgId, w.projectId, a!.id)}/activity`)
      .set(w.viewer.auth);
    expectStatus(activity, 200);
    const actions = activity.body.data.map((e: { action: string }) => e.action);
    expect([...actions].sort()).toEqual(
      [
        'task.created',
        'task.moved',
        'task.moved',
        'task.moved',
        'task.status_changed',
        'task.status_changed',
      ].sort(),
    );
    expect(actions[actions.length - 1]).toBe('task.created');
    const lastMove = activity.body.data.find((e: { action: string }) => e.action === 'task.moved');
    expect(lastMove).toMatchObject({
      actorId: w.owner.id,
      metadata: {
        projectId: w.projectId,
        before: { status: 'done', rank: within.rank },
        after: { status: 'todo', rank: out.rank },
        afterId: null,
        beforeId: b!.id,
      },
    });

    const audit = await t
      .http()
      .get(api(`/orgs/${w.orgId}/audit-log`))
      .query({ action: 'task.moved', targetId: a!.id })
      .set(w.admin.auth);
    expectStatus(audit, 200);
    expect(audit.body.data).toHaveLength(3);
    expect(audit.body.data[2]).toMatchObject({
      action: 'task.moved',
      targetType: 'task',
      targetId: a!.id,
      metadata: {
        before: { status: 'todo', rank: a!.rank },
        after: { status: 'done', rank: into.rank },
        afterId: null,
        beforeId: d!.id,
      },
    });
  });

  it('ranks existing tasks by creation order within each column when the migration runs', async () => {
    const w = await projectWorld();
    const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 9, minute)).toISOString();
    // Inserted out of creation order, two sharing a creation instant (then by id).
    const seed = [5, 1, 4, 1, 3, 0, 2, 6, 7].map((minute, i) => ({
      projectId: w.projectId,
      title: `old ${i}`,
      status: i % 2 ? 'done' : 'todo',
      priority: 'medium',
      assigneeId: null,
      dueDate: null,
      createdBy: w.owner.id,
      createdAt: at(minute),
    }));
    await insertTasks(t, w.orgId, seed);

    // The migration runs on a copy of these rows as they were before it: a temporary
    // `tasks` (which shadows the real table for unqualified names) without a rank, in a
    // transaction rolled back afterwards. The real table is never locked for DDL, which
    // would stall the suites running beside this one.
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(
        `CREATE TEMP TABLE tasks (id uuid, org_id uuid, project_id uuid, status text,
                                  created_at timestamptz) ON COMMIT DROP`,
      );
      await runner.query(
        `INSERT INTO pg_temp.tasks SELECT id, org_id, project_id, status, created_at
           FROM public.tasks WHERE project_id = $1`,
        [w.projectId],
      );
      await new TaskRank1763900006000().up(runner);
      const rows: Array<{ id: string; status: Status; rank: string }> = await runner.query(
        `SELECT id::text AS id, status, rank FROM pg_temp.tasks ORDER BY rank, id`,
      );
      const created: Array<{ id: string; status: Status }> = await runner.query(
        `SELECT id::text AS id, status FROM pg_temp.tasks ORDER BY created_at, id`,
      );
      expect(rows).toHaveLength(seed.length);
      for (const status of ['todo', 'done'] as const) {
        const column = rows.filter((r) => r.status === status);
        expect(column.map((r) => r.id)).toEqual(
          created.filter((r) => r.status === status).map((r) => r.id),
        );
        expect(new Set(column.map((r) => r.rank)).size).toBe(column.length);
      }
      for (const row of rows) expect(row.rank).toMatch(/^[0-9A-Za-z]{1,48}$/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});
