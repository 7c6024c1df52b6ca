import { api, createTestApp, TestApp } from './helpers/app';
import { createOrgWorld, OrgWorld } from './helpers/orgs';
import { PROBLEM } from './helpers/problems';
import { SignedInUser } from './helpers/users';
import {
  addDays,
  createProject,
  dbToday,
  insertTasks,
  PRIORITIES,
  SeedTask,
  STATUSES,
  tasksPath,
} from './helpers/work';

/**
 * Task lists (issue 4): every sort × order walked page by page against a brute-force sort of
 * the seeded rows, every filter against a brute-force filter, keyset stability under
 * concurrent inserts, and the 400s of bad list parameters.
 */

const RANK: Record<string, number> = { low: 0, medium: 1, high: 2, urgent: 3 };
const SORTS = ['createdAt', 'updatedAt', 'dueDate', 'priority', 'rank'] as const;
const ORDERS = ['asc', 'desc'] as const;
const RANKS = ['Zz', 'a0', 'a0', 'a1', 'b00', 'a0V', 'A', 'z', 'a0', 'Zzz'];
type Sort = (typeof SORTS)[number];
type Order = (typeof ORDERS)[number];

/** A task as it really is in the table (read as the table owner). */
interface Row {
  id: string;
  projectId: string;
  title: string;
  status: string;
  priority: string;
  assigneeId: string | null;
  dueDate: string | null;
  /** Fixed-width UTC text with microseconds: sorts like the timestamp. */
  createdAt: string;
  updatedAt: string;
  /** Board key: compared byte-wise, as JavaScript compares ASCII strings. */
  rank: string;
}

interface Filter {
  projectId?: string;
  statuses?: string[];
  priorities?: string[];
  assigneeId?: string;
  dueBefore?: string;
  dueAfter?: string;
  overdue?: boolean;
  q?: string;
}

async function loadRows(t: TestApp, orgId: string): Promise<Row[]> {
  const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
  return t.dataSource.query(
    `SELECT id::text AS id, project_id::text AS "projectId", title, status, priority,
            assignee_id::text AS "assigneeId", to_char(due_date, 'YYYY-MM-DD') AS "dueDate",
            ${ts('created_at')} AS "createdAt", ${ts('updated_at')} AS "updatedAt", rank
       FROM tasks WHERE org_id = $1`,
    [orgId],
  );
}

/** The contract's order, computed by brute force: ties by id in the same direction, undated last. */
function sortRows(rows: Row[], sort: Sort, order: Order): string[] {
  const dir = order === 'asc' ? 1 : -1;
  const key = (r: Row): string | number | null =>
    sort === 'createdAt'
      ? r.createdAt
      : sort === 'updatedAt'
        ? r.updatedAt
        : sort === 'dueDate'
          ? r.dueDate
          : sort === 'rank'
            ? r.rank
            : RANK[r.priority]!;
  return [...rows]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (sort === 'dueDate' && (ka === null) !== (kb === null)) return ka === null ? 1 : -1;
      if (ka !== kb) return (ka! < kb! ? -1 : 1) * dir;
      return (a.id < b.id ? -1 : 1) * dir;
    })
    .map((r) => r.id);
}

function filterRows(rows: Row[], f: Filter, today: string): Row[] {
  return rows.filter(
    (r) =>
      (!f.projectId || r.projectId === f.projectId) &&
      (!f.statuses || f.statuses.includes(r.status)) &&
      (!f.priorities || f.priorities.includes(r.priority)) &&
      (!f.assigneeId || r.assigneeId === f.assigneeId) &&
      (!f.dueBefore || (r.dueDate !== null && r.dueDate <= f.dueBefore)) &&
      (!f.dueAfter || (r.dueDate !== null && r.dueDate >= f.dueAfter)) &&
      (!f.overdue || (r.dueDate !== null && r.dueDate < today && r.status !== 'done')) &&
      (!f.q || r.title.toLowerCase().includes(f.q.toLowerCase())),
  );
}

/** Builds a query string exactly as written (repeated keys kept). */
function qs(params: Array<[string, string]>): string {
  return params.length ? `?${new URLSearchParams(params).toString()}` : '';
}

/** Follows nextCursor to the end; answers the ids in the order served, page by page. */
async function walk(
  t: TestApp,
  path: string,
  auth: Record<string, string>,
  params: Array<[string, string]> = [],
  limit = 7,
): Promise<{ ids: string[]; pages: number; items: any[] }> {
  const ids: string[] = [];
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: Array<[string, string]> = [...params, ['limit', String(limit)]];
    if (cursor) query.push(['cursor', cursor]);
    const res = await t
      .http()
      .get(api(path) + qs(query))
      .set(auth);
    if (res.status !== 200)
      throw new Error(`GET ${path}${qs(query)} → ${res.status} ${JSON.stringify(res.body)}`);
    expect(Array.isArray(res.body.data)).toBe(true);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    expect(res.body).toHaveProperty('nextCursor');
    for (const task of res.body.data) {
      ids.push(task.id);
      items.push(task);
    }
    cursor = res.body.nextCursor;
    pages += 1;
    if (pages > 200) throw new Error('the cursor never ends');
  } while (cursor);
  return { ids, pages, items };
}

function expectNoDuplicates(ids: string[]): void {
  const seen = new Set<string>();
  const dups = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  expect(dups).toEqual([]);
}

const SPECIAL_TITLES: Record<number, string> = {
  1: '100% done',
  2: 'snake_case_title',
  3: 'Mixed CASE Alpha',
  4: 'alphabet soup',
  5: 'path\\to\\file',
  6: 'percent sign free',
  7: 'under score',
  8: '50%_off sale',
  9: 'ALPHA release',
};

describe('task lists: sorts, keyset pages, filters', () => {
  let t: TestApp;
  let w: OrgWorld;
  let p1: string;
  let p2: string;
  let otherProject: string;
  let today: string;
  let rows: Row[];

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    today = await dbToday(t);
    p1 = await createProject(t, w.orgId, w.owner, 'Platform');
    p2 = await createProject(t, w.orgId, w.owner, 'Mobile');
    otherProject = await createProject(t, w.otherOrgId, w.stranger, 'Theirs');

    // A few through the API (real defaults and now() timestamps)…
    const viaApi = [
      {
        as: w.owner,
        body: {
          title: 'API alpha task',
          priority: 'urgent',
          dueDate: addDays(today, 3),
          assigneeId: w.member.id,
        },
      },
      { as: w.owner, body: { title: 'API done task', status: 'done' } },
      {
        as: w.owner,
        body: { title: 'API overdue 10%', dueDate: addDays(today, -2), assigneeId: w.admin.id },
      },
      { as: w.member, body: { title: 'API member default' } },
      {
        as: w.member,
        body: { title: 'API member blocked', status: 'blocked', priority: 'low', dueDate: today },
      },
      {
        as: w.member,
        body: { title: 'api_member_mine', assigneeId: w.member.id, dueDate: addDays(today, -1) },
      },
    ];
    for (const { as, body } of viaApi) {
      const res = await t.http().post(tasksPath(w.orgId, p1)).set(as.auth).send(body);
      expect(res.status).toBe(201);
    }

    // …and the rest as fixtures: ties on created_at (groups of 4), on updated_at, on due dates.
    const assignees = [null, w.owner.id, w.admin.id, w.member.id, null];
    const dueOffsets = [null, -30, -1, 0, 1, 7, -5, 2, 0, -1, null];
    const seeded: SeedTask[] = [];
    for (let i = 0; i < 57; i++) {
      const created = new Date(Date.UTC(2026, 0, 1, 9, Math.floor(i / 4)));
      const updated = new Date(Date.UTC(2026, 1, 1, 9, (i * 7) % 11));
      const offset = dueOffsets[i % dueOffsets.length]!;
      seeded.push({
        projectId: i % 3 === 0 ? p2 : p1,
        title: SPECIAL_TITLES[i] ?? `Seeded task ${i}`,
        status: STATUSES[Math.floor(i / 2) % 4]!,
        priority: PRIORITIES[(i * 3 + 1) % 4]!,
        assigneeId: assignees[i % assignees.length]!,
        dueDate: offset === null ? null : addDays(today, offset),
        createdBy: i % 2 ? w.member.id : w.owner.id,
        createdAt: created.toISOString(),
        updatedAt: updated.toISOString(),
        // Ties, and keys a linguistic collation would order otherwise ("Zz" < "a0" byte-wise).
        rank: RANKS[i % RANKS.length],
      });
    }
    await insertTasks(t, w.orgId, seeded);

    // Another org's tasks, matching every filter we try: they must never show.
    await insertTasks(
      t,
      w.otherOrgId,
      ['alpha 100% theirs', 'their_task', 'THEIR ALPHA', 'theirs overdue', 'theirs done'].map(
        (title, i) => ({
          projectId: otherProject,
          title,
          status: i === 4 ? 'done' : 'todo',
          priority: PRIORITIES[i % 4]!,
          assigneeId: null,
          dueDate: addDays(today, i - 3),
          createdBy: w.stranger.id,
          createdAt: new Date(Date.UTC(2026, 0, 1, 9, i)).toISOString(),
          updatedAt: new Date(Date.UTC(2026, 1, 1, 9, i)).toISOString(),
        }),
      ),
    );

    rows = await loadRows(t, w.orgId);
    expect(rows).toHaveLength(63);
  });
  afterAll(() => t.close());

  describe('every sort × order, walked 7 at a time', () => {
    for (const sort of SORTS) {
      for (const order of ORDERS) {
        it(`org list: sort=${sort}&order=${order} serves every task once, in the contract's order`, async () => {
          const { ids, pages } = await walk(t, `/orgs/${w.orgId}/tasks`, w.viewer.auth, [
            ['sort', sort],
            ['order', order],
          ]);
          expectNoDuplicates(ids);
          expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
          expect(ids).toEqual(sortRows(rows, sort, order));
          expect(pages).toBeGreaterThanOrEqual(9);
        });

        it(`project list: sort=${sort}&order=${order} serves the project's tasks once, in order`, async () => {
          const mine = rows.filter((r) => r.projectId === p2);
          const { ids } = await walk(t, `/orgs/${w.orgId}/projects/${p2}/tasks`, w.member.auth, [
            ['sort', sort],
            ['order', order],
          ]);
          expectNoDuplicates(ids);
          expect(ids).toEqual(sortRows(mine, sort, order));
        });
      }
    }

    it('defaults: createdAt desc; dueDate asc; priority desc (urgent first)', async () => {
      const byDefault = await walk(t, `/orgs/${w.orgId}/tasks`, w.owner.auth, [], 100);
      expect(byDefault.ids).toEqual(sortRows(rows, 'createdAt', 'desc'));
      const byDue = await walk(
        t,
        `/orgs/${w.orgId}/tasks`,
        w.owner.auth,
        [['sort', 'dueDate']],
        100,
      );
      expect(byDue.ids).toEqual(sortRows(rows, 'dueDate', 'asc'));
      const byPriority = await walk(
        t,
        `/orgs/${w.orgId}/tasks`,
        w.owner.auth,
        [['sort', 'priority']],
        100,
      );
      expect(byPriority.ids).toEqual(sortRows(rows, 'priority', 'desc'));
      expect(byPriority.items[0].priority).toBe('urgent');
    });

    it('undated tasks come last in dueDate sorts, whichever the direction', async () => {
      for (const order of ORDERS) {
        const { items } = await walk(t, `/orgs/${w.orgId}/tasks`, w.owner.auth, [
          ['sort', 'dueDate'],
          ['order', order],
        ]);
        const firstUndated = items.findIndex((task) => task.dueDate === null);
        expect(firstUndated).toBeGreaterThan(0);
        expect(items.slice(firstUndated).every((task) => task.dueDate === null)).toBe(true);
      }
    });

    it('serves the full task body on list pages', async () => {
      const res = await t
        .http()
        .get(api(`/orgs/${w.orgId}/tasks?limit=1&q=API%20alpha`))
        .set(w.owner.auth);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([
        {
          id: expect.any(String),
          orgId: w.orgId,
          projectId: p1,
          title: 'API alpha task',
          description: null,
          status: 'todo',
          priority: 'urgent',
          assigneeId: w.member.id,
          dueDate: addDays(today, 3),
          createdBy: w.owner.id,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          completedAt: null,
          version: 1,
          rank: expect.stringMatching(/^[0-9A-Za-z]{1,48}$/),
        },
      ]);
    });

    it('a filtered list walks in order too (status=todo,blocked by dueDate, 3 a page)', async () => {
      const { ids } = await walk(
        t,
        `/orgs/${w.orgId}/tasks`,
        w.owner.auth,
        [
          ['status', 'todo,blocked'],
          ['sort', 'dueDate'],
          ['order', 'desc'],
        ],
        3,
      );
      expectNoDuplicates(ids);
      expect(ids).toEqual(
        sortRows(filterRows(rows, { statuses: ['todo', 'blocked'] }, today), 'dueDate', 'desc'),
      );
    });
  });

  describe('filters, against a brute-force filter of the seeded rows', () => {
    const cases: Array<{
      name: string;
      params: () => Array<[string, string]>;
      filter: () => Filter;
      as?: () => SignedInUser;
    }> = [
      {
        name: 'status repeated',
        params: () => [
          ['status', 'todo'],
          ['status', 'done'],
        ],
        filter: () => ({ statuses: ['todo', 'done'] }),
      },
      {
        name: 'status comma list',
        params: () => [['status', 'todo,done']],
        filter: () => ({ statuses: ['todo', 'done'] }),
      },
      {
        name: 'one status',
        params: () => [['status', 'blocked']],
        filter: () => ({ statuses: ['blocked'] }),
      },
      {
        name: 'priority',
        params: () => [['priority', 'urgent']],
        filter: () => ({ priorities: ['urgent'] }),
      },
      {
        name: 'priority comma list',
        params: () => [['priority', 'low,high']],
        filter: () => ({ priorities: ['low', 'high'] }),
      },
      {
        name: 'assigneeId uuid',
        params: () => [['assigneeId', w.admin.id]],
        filter: () => ({ assigneeId: w.admin.id }),
      },
      {
        name: 'assigneeId=me (member)',
        params: () => [['assigneeId', 'me']],
        filter: () => ({ assigneeId: w.member.id }),
        as: () => w.member,
      },
      {
        name: 'assigneeId=me (owner)',
        params: () => [['assigneeId', 'me']],
        filter: () => ({ assigneeId: w.owner.id }),
        as: () => w.owner,
      },
      {
        name: 'assigneeId=me (viewer: nothing)',
        params: () => [['assigneeId', 'me']],
        filter: () => ({ assigneeId: w.viewer.id }),
        as: () => w.viewer,
      },
      {
        name: 'dueBefore (inclusive)',
        params: () => [['dueBefore', today]],
        filter: () => ({ dueBefore: today }),
      },
      {
        name: 'dueAfter (inclusive)',
        params: () => [['dueAfter', today]],
        filter: () => ({ dueAfter: today }),
      },
      {
        name: 'dueAfter..dueBefore window',
        params: () => [
          ['dueAfter', addDays(today, -1)],
          ['dueBefore', addDays(today, 1)],
        ],
        filter: () => ({ dueAfter: addDays(today, -1), dueBefore: addDays(today, 1) }),
      },
      {
        name: 'overdue=true',
        params: () => [['overdue', 'true']],
        filter: () => ({ overdue: true }),
      },
      {
        name: 'q case-insensitive',
        params: () => [['q', 'alpha']],
        filter: () => ({ q: 'alpha' }),
      },
      { name: 'q upper case', params: () => [['q', 'ALPHA']], filter: () => ({ q: 'ALPHA' }) },
      { name: 'q % literally', params: () => [['q', '%']], filter: () => ({ q: '%' }) },
      { name: 'q _ literally', params: () => [['q', '_']], filter: () => ({ q: '_' }) },
      { name: 'q %_ literally', params: () => [['q', '%_']], filter: () => ({ q: '%_' }) },
      { name: 'q backslash literally', params: () => [['q', '\\']], filter: () => ({ q: '\\' }) },
      {
        name: 'q matching nothing',
        params: () => [['q', 'zzz-no-such-title']],
        filter: () => ({ q: 'zzz-no-such-title' }),
      },
      {
        name: 'projectId (org list)',
        params: () => [['projectId', p2]],
        filter: () => ({ projectId: p2 }),
      },
      {
        name: 'everything at once',
        params: () => [
          ['projectId', p1],
          ['status', 'todo,in_progress'],
          ['priority', 'high'],
          ['priority', 'urgent'],
          ['dueAfter', addDays(today, -30)],
        ],
        filter: () => ({
          projectId: p1,
          statuses: ['todo', 'in_progress'],
          priorities: ['high', 'urgent'],
          dueAfter: addDays(today, -30),
        }),
      },
    ];

    for (const c of cases) {
      it(`org list filter: ${c.name}`, async () => {
        const as = c.as?.() ?? w.owner;
        const expected = sortRows(filterRows(rows, c.filter(), today), 'createdAt', 'desc');
        const { ids } = await walk(t, `/orgs/${w.orgId}/tasks`, as.auth, c.params(), 100);
        expect(ids).toEqual(expected);
      });
    }

    it('the seed makes every filter meaningful (non-trivial matches)', () => {
      for (const f of [
        { q: '%' },
        { q: '_' },
        { q: 'alpha' },
        { overdue: true },
        { assigneeId: w.member.id },
        { dueBefore: today },
        { statuses: ['blocked'] },
      ] as Filter[]) {
        const n = filterRows(rows, f, today).length;
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThan(rows.length);
      }
      // `%` and `_` must not act as wildcards: they match fewer rows than "everything".
      expect(
        filterRows(rows, { q: '%' }, today)
          .map((r) => r.title)
          .sort(),
      ).toEqual(['100% done', '50%_off sale', 'API overdue 10%'].sort());
      // A due date of today is neither overdue nor excluded from dueBefore=today.
      expect(rows.some((r) => r.dueDate === today && r.status !== 'done')).toBe(true);
    });

    it('project list filters too (status=done within the project)', async () => {
      const expected = sortRows(
        filterRows(rows, { projectId: p2, statuses: ['done'] }, today),
        'createdAt',
        'desc',
      );
      const { ids } = await walk(
        t,
        `/orgs/${w.orgId}/projects/${p2}/tasks`,
        w.viewer.auth,
        [['status', 'done']],
        100,
      );
      expect(ids).toEqual(expected);
      expect(ids.length).toBeGreaterThan(0);
    });

    it('project list: overdue and q combine', async () => {
      const expected = sortRows(
        filterRows(rows, { projectId: p1, overdue: true, q: 'a' }, today),
        'createdAt',
        'desc',
      );
      const { ids } = await walk(t, `/orgs/${w.orgId}/projects/${p1}/tasks`, w.member.auth, [
        ['overdue', 'true'],
        ['q', 'a'],
      ]);
      expect(ids).toEqual(expected);
    });

    it("a projectId of another org's project → 200 with no rows (never its tasks)", async () => {
      const res = await t
        .http()
        .get(api(`/orgs/${w.orgId}/tasks?projectId=${otherProject}`))
        .set(w.owner.auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: [], nextCursor: null });
    });

    it('every role lists; outsider and stranger get 404, anonymous 401', async () => {
      for (const user of [w.owner, w.admin, w.member, w.viewer]) {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/tasks?limit=100`))
          .set(user.auth);
        expect(res.status).toBe(200);
        expect(res.body.data).toHaveLength(63);
      }
      for (const user of [w.outsider, w.stranger]) {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/tasks`))
          .set(user.auth);
        expect(res.status).toBe(404);
      }
      expect((await t.http().get(api(`/orgs/${w.orgId}/tasks`))).status).toBe(401);
    });
  });

  describe('bad list parameters', () => {
    const bad: Array<[string, string]> = [
      ['sort', 'title'],
      ['sort', 'created_at'],
      ['order', 'up'],
      ['order', ''],
      ['status', 'open'],
      ['status', 'todo,bogus'],
      ['priority', 'critical'],
      ['assigneeId', 'not-a-uuid'],
      ['dueBefore', '2026-13-01'],
      ['dueBefore', 'tomorrow'],
      ['dueAfter', '2026-1-5'],
      ['overdue', 'yes'],
      ['limit', '0'],
      ['limit', '101'],
    ];
    for (const [key, value] of bad) {
      it(`${key}=${JSON.stringify(value)} → 400`, async () => {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/tasks`) + qs([[key, value]]))
          .set(w.owner.auth);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      });
    }

    it('bad sort/order/status on the project list → 400 as well', async () => {
      for (const pair of [
        ['sort', 'name'],
        ['order', 'sideways'],
        ['status', 'finished'],
      ] as Array<[string, string]>) {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/projects/${p1}/tasks`) + qs([pair]))
          .set(w.owner.auth);
        expect(res.status).toBe(400);
      }
    });

    it('a malformed cursor → 400', async () => {
      const malformed = [
        'not a cursor!',
        'garbage',
        Buffer.from('{"a":1}').toString('base64url'),
        Buffer.from('["only-one"]').toString('base64url'),
        Buffer.from('[1,2,3]').toString('base64url'),
      ];
      for (const cursor of malformed) {
        for (const path of [`/orgs/${w.orgId}/tasks`, `/orgs/${w.orgId}/projects/${p1}/tasks`]) {
          const res = await t
            .http()
            .get(api(path) + qs([['cursor', cursor]]))
            .set(w.owner.auth);
          expect({ cursor, status: res.status }).toEqual({ cursor, status: 400 });
          expect(res.headers['content-type']).toMatch(PROBLEM);
        }
      }
    });

    it('a cursor whose keys are not values of the sort (tampered) → 400, not 500', async () => {
      const tampered = [
        Buffer.from('["not a timestamp","not-a-uuid"]').toString('base64url'),
        Buffer.from(`["2026-01-01T00:00:00Z","not-a-uuid"]`).toString('base64url'),
      ];
      for (const cursor of tampered) {
        const res = await t
          .http()
          .get(api(`/orgs/${w.orgId}/tasks`) + qs([['cursor', cursor]]))
          .set(w.owner.auth);
        expect({ cursor, status: res.status }).toEqual({ cursor, status: 400 });
      }
    });

    it("another sort's cursor → 400, not 500", async () => {
      const page = await t
        .http()
        .get(api(`/orgs/${w.orgId}/tasks?sort=createdAt&limit=5`))
        .set(w.owner.auth);
      expect(page.status).toBe(200);
      const res = await t
        .http()
        .get(
          api(`/orgs/${w.orgId}/tasks`) +
            qs([
              ['sort', 'priority'],
              ['cursor', page.body.nextCursor],
            ]),
        )
        .set(w.owner.auth);
      expect(res.status).toBe(400);
    });
  });
});

describe('task lists: keyset pages under concurrent inserts', () => {
  let t: TestApp;
  let w: OrgWorld;
  let project: string;
  let today: string;

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    today = await dbToday(t);
    project = await createProject(t, w.orgId, w.owner, 'Busy');
    const seeded: SeedTask[] = [];
    for (let i = 0; i < 40; i++) {
      seeded.push({
        projectId: project,
        title: `Existing ${i}`,
        status: STATUSES[i % 4]!,
        priority: PRIORITIES[Math.floor(i / 3) % 4]!,
        assigneeId: null,
        dueDate: i % 5 === 0 ? null : addDays(today, (i % 7) - 3),
        createdBy: w.owner.id,
        createdAt: new Date(Date.UTC(2026, 2, 1, 9, Math.floor(i / 3))).toISOString(),
        updatedAt: new Date(Date.UTC(2026, 3, 1, 9, i % 6)).toISOString(),
      });
    }
    await insertTasks(t, w.orgId, seeded);
  });
  afterAll(() => t.close());

  let round = 0;
  /** Tasks at both ends of every sort, and some in the middle: some land before the cursor, some after. */
  function newcomers(): SeedTask[] {
    round += 1;
    const base = { projectId: project, status: 'todo', assigneeId: null, createdBy: w.member.id };
    return [
      {
        ...base,
        title: `New ${round} early`,
        priority: 'low',
        dueDate: addDays(today, -400),
        createdAt: '2001-01-01T00:00:00Z',
        updatedAt: '2001-01-01T00:00:00Z',
      },
      {
        ...base,
        title: `New ${round} late`,
        priority: 'urgent',
        dueDate: addDays(today, 400),
        createdAt: '2099-01-01T00:00:00Z',
        updatedAt: '2099-01-01T00:00:00Z',
      },
      {
        ...base,
        title: `New ${round} undated`,
        priority: 'medium',
        dueDate: null,
        createdAt: '2026-03-01T09:05:00Z',
        updatedAt: '2026-04-01T09:02:00Z',
      },
      {
        ...base,
        title: `New ${round} middle`,
        priority: 'high',
        dueDate: today,
        createdAt: '2026-03-01T09:07:00Z',
        updatedAt: '2026-04-01T09:03:00Z',
      },
    ];
  }

  for (const sort of SORTS) {
    for (const order of ORDERS) {
      it(`sort=${sort}&order=${order}: every task that existed at the start appears exactly once`, async () => {
        const before = (await loadRows(t, w.orgId)).map((r) => r.id);
        const path = api(`/orgs/${w.orgId}/tasks`);
        const params: Array<[string, string]> = [
          ['sort', sort],
          ['order', order],
          ['limit', '7'],
        ];
        const first = await t
          .http()
          .get(path + qs(params))
          .set(w.member.auth);
        expect(first.status).toBe(200);
        expect(first.body.nextCursor).toEqual(expect.any(String));
        const seen: string[] = first.body.data.map((x: { id: string }) => x.id);

        await insertTasks(t, w.orgId, newcomers());

        let cursor: string | null = first.body.nextCursor;
        let inserted = false;
        let pages = 1;
        while (cursor) {
          const res = await t
            .http()
            .get(path + qs([...params, ['cursor', cursor]]))
            .set(w.member.auth);
          expect(res.status).toBe(200);
          seen.push(...res.body.data.map((x: { id: string }) => x.id));
          cursor = res.body.nextCursor;
          pages += 1;
          // A second wave while the walk is half way through.
          if (!inserted && pages === 3) {
            await insertTasks(t, w.orgId, newcomers());
            inserted = true;
          }
          if (pages > 100) throw new Error('the cursor never ends');
        }
        expectNoDuplicates(seen);
        const counts = new Map<string, number>();
        for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
        const missing = before.filter((id) => counts.get(id) !== 1);
        expect(missing).toEqual([]);
      });
    }
  }
});
