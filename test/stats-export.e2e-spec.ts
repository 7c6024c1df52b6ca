import { createTestApp, TestApp } from './helpers/app';
import { createOrg, createOrgWorld, OrgWorld } from './helpers/orgs';
import { PROBLEM } from './helpers/problems';
import { registerUser, SignedInUser } from './helpers/users';
import {
  addDays,
  createProject,
  createTask,
  CSV_COLUMNS,
  dbToday,
  exportPath,
  insertTasks,
  orgTasksPath,
  PRIORITIES,
  SeedTask,
  statsPath,
  STATUSES,
  taskPath,
} from './helpers/work';

/**
 * Dashboard stats against a brute-force count of the table, and the CSV export: header,
 * every row, RFC 4180 quoting read back by a parser of our own, formula-injection guard,
 * filters, permissions, and a large export.
 */

/** What an org or project without tasks counts. */
const NO_STATS = {
  total: 0,
  byStatus: { todo: 0, in_progress: 0, done: 0, blocked: 0 },
  completed: 0,
  pending: 0,
  overdue: 0,
  byAssignee: [],
};

interface Stats {
  total: number;
  byStatus: Record<string, number>;
  completed: number;
  pending: number;
  overdue: number;
  byAssignee: Array<{ assigneeId: string | null; count: number }>;
}

/** The dashboard computed by brute force from the rows themselves. */
async function bruteStats(t: TestApp, orgId: string, projectId?: string): Promise<Stats> {
  const rows: Array<{
    status: string;
    assigneeId: string | null;
    past: boolean;
    projectId: string;
  }> = await t.dataSource.query(
    `SELECT status, assignee_id::text AS "assigneeId", project_id::text AS "projectId",
            coalesce(due_date < current_date, false) AS past
       FROM tasks WHERE org_id = $1`,
    [orgId],
  );
  const scoped = rows.filter((r) => !projectId || r.projectId === projectId);
  const byStatus: Record<string, number> = { todo: 0, in_progress: 0, done: 0, blocked: 0 };
  const byAssignee = new Map<string | null, number>();
  for (const r of scoped) {
    byStatus[r.status]! += 1;
    byAssignee.set(r.assigneeId, (byAssignee.get(r.assigneeId) ?? 0) + 1);
  }
  return {
    total: scoped.length,
    byStatus,
    completed: byStatus.done!,
    pending: scoped.length - byStatus.done!,
    overdue: scoped.filter((r) => r.past && r.status !== 'done').length,
    byAssignee: sortAssignees(
      [...byAssignee].map(([assigneeId, count]) => ({ assigneeId, count })),
    ),
  };
}

function sortAssignees(list: Array<{ assigneeId: string | null; count: number }>) {
  return [...list].sort((a, b) => (a.assigneeId ?? '').localeCompare(b.assigneeId ?? ''));
}

async function getStats(
  t: TestApp,
  orgId: string,
  user: SignedInUser,
  projectId?: string,
): Promise<Stats> {
  const res = await t
    .http()
    .get(statsPath(orgId) + (projectId ? `?projectId=${projectId}` : ''))
    .set(user.auth);
  if (res.status !== 200) throw new Error(`stats: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, byAssignee: sortAssignees(res.body.byAssignee) };
}

/** A small RFC 4180 reader: quoted fields may hold commas, doubled quotes, CR and LF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
      i += 1;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' || c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i += 1;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** What a task's title must look like in a cell. */
const guarded = (title: string) => (/^[=+\-@]/.test(title) ? `'${title}` : title);

async function exportCsv(t: TestApp, orgId: string, user: SignedInUser, query = '') {
  const res = await t
    .http()
    .get(exportPath(orgId) + query)
    .buffer(true)
    .parse((response, callback) => {
      let data = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (data += chunk));
      response.on('end', () => callback(null, data));
    })
    .set(user.auth);
  return { res, text: typeof res.body === 'string' ? (res.body as string) : '' };
}

/** The org list, every page. */
async function listAll(
  t: TestApp,
  orgId: string,
  user: SignedInUser,
  query: Array<[string, string]> = [],
): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const pairs: Array<[string, string]> = [...query, ['limit', '100']];
    if (cursor) pairs.push(['cursor', cursor]);
    const params = new URLSearchParams(pairs);
    const res: { status: number; body: any } = await t
      .http()
      .get(`${orgTasksPath(orgId)}?${params}`)
      .set(user.auth);
    if (res.status !== 200) throw new Error(`list: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

describe('dashboard stats', () => {
  let t: TestApp;
  let w: OrgWorld;
  let p1: string;
  let p2: string;
  let theirs: string;
  let today: string;

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    today = await dbToday(t);
    p1 = await createProject(t, w.orgId, w.owner, 'One');
    p2 = await createProject(t, w.orgId, w.owner, 'Two');
    theirs = await createProject(t, w.otherOrgId, w.stranger, 'Theirs');
    const assignees = [null, w.owner.id, w.admin.id, w.member.id, w.member.id, null, null];
    const dues = [null, -9, -1, 0, 1, 12];
    const seed: SeedTask[] = [];
    for (let i = 0; i < 45; i++) {
      const due = dues[i % dues.length]!;
      seed.push({
        projectId: i % 4 === 0 ? p2 : p1,
        title: `Stat ${i}`,
        status: STATUSES[Math.floor(i / 3) % 4]!,
        priority: PRIORITIES[i % 4]!,
        assigneeId: assignees[i % assignees.length]!,
        dueDate: due === null ? null : addDays(today, due),
        createdBy: w.owner.id,
      });
    }
    await insertTasks(t, w.orgId, seed);
    // The other org: overdue, unassigned, done… none of it may be counted here.
    await insertTasks(
      t,
      w.otherOrgId,
      Array.from({ length: 12 }, (_, i) => ({
        projectId: theirs,
        title: `Their ${i}`,
        status: STATUSES[i % 4]!,
        priority: 'high',
        assigneeId: i % 2 ? w.stranger.id : null,
        dueDate: addDays(today, -3),
        createdBy: w.stranger.id,
      })),
    );
  });
  afterAll(() => t.close());

  it('the seed has something in every bucket', async () => {
    const s = await bruteStats(t, w.orgId);
    expect(s.total).toBe(45);
    for (const status of STATUSES) expect(s.byStatus[status]).toBeGreaterThan(0);
    expect(s.overdue).toBeGreaterThan(0);
    expect(s.byAssignee.find((a) => a.assigneeId === null)?.count).toBeGreaterThan(0);
  });

  it('the org stats equal a brute-force count of its rows', async () => {
    const stats = await getStats(t, w.orgId, w.owner);
    expect(stats).toEqual(await bruteStats(t, w.orgId));
    expect(stats.byAssignee).toContainEqual({ assigneeId: null, count: expect.any(Number) });
  });

  it('every role sees the same stats; outsider and stranger 404; anonymous 401', async () => {
    const expected = await bruteStats(t, w.orgId);
    for (const user of [w.admin, w.member, w.viewer]) {
      expect(await getStats(t, w.orgId, user)).toEqual(expected);
    }
    for (const user of [w.outsider, w.stranger]) {
      expect((await t.http().get(statsPath(w.orgId)).set(user.auth)).status).toBe(404);
    }
    expect((await t.http().get(statsPath(w.orgId))).status).toBe(401);
  });

  it('?projectId= counts that project only', async () => {
    for (const projectId of [p1, p2]) {
      const stats = await getStats(t, w.orgId, w.member, projectId);
      expect(stats).toEqual(await bruteStats(t, w.orgId, projectId));
      expect(stats.total).toBeGreaterThan(0);
      expect(stats.total).toBeLessThan(45);
    }
  });

  it("a projectId of another org → all zeros, never that org's numbers", async () => {
    const res = await t
      .http()
      .get(`${statsPath(w.orgId)}?projectId=${theirs}`)
      .set(w.owner.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(NO_STATS);
  });

  it("the other org's stats count only its own tasks", async () => {
    const stats = await getStats(t, w.otherOrgId, w.stranger);
    expect(stats).toEqual(await bruteStats(t, w.otherOrgId));
    expect(stats.total).toBe(12);
    expect(stats.overdue).toBe(9);
  });

  it('follows changes made through the API (create, complete, reassign, delete)', async () => {
    const task = await createTask(t, w.orgId, p1, w.member, {
      title: 'Moving target',
      assigneeId: w.member.id,
      dueDate: addDays(today, -4),
    });
    expect(await getStats(t, w.orgId, w.owner)).toEqual(await bruteStats(t, w.orgId));
    const done = await t
      .http()
      .patch(taskPath(w.orgId, p1, task.id))
      .set(w.owner.auth)
      .send({ status: 'done', assigneeId: null });
    expect(done.status).toBe(200);
    const after = await getStats(t, w.orgId, w.owner);
    expect(after).toEqual(await bruteStats(t, w.orgId));
    const del = await t
      .http()
      .delete(taskPath(w.orgId, p1, task.id))
      .set(w.owner.auth);
    expect(del.status).toBe(204);
    expect(await getStats(t, w.orgId, w.owner)).toEqual(await bruteStats(t, w.orgId));
  });

  it('an org without tasks → zeros', async () => {
    const user = await registerUser(t, { name: 'Empty' });
    const orgId = await createOrg(t, user, 'Empty Co');
    const res = await t.http().get(statsPath(orgId)).set(user.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(NO_STATS);
  });
});

describe('CSV export', () => {
  let t: TestApp;
  let w: OrgWorld;
  let p1: string;
  let p2: string;
  let today: string;

  const TRICKY = [
    'Plain title',
    'Comma, separated',
    'Say "hello"',
    'Two\nlines',
    'Windows\r\nlines',
    '"Quoted", with comma\nand newline',
    '=SUM(A1:A9)',
    '+1 555 0100',
    '-2 degrees',
    '@import',
    '=HYPERLINK("http://x","y"), oops',
    'mid-dash=plus+at@ fine',
  ];

  beforeAll(async () => {
    t = await createTestApp();
    w = await createOrgWorld(t);
    today = await dbToday(t);
    p1 = await createProject(t, w.orgId, w.owner, 'Export one');
    p2 = await createProject(t, w.orgId, w.owner, 'Export two');
    for (const [i, title] of TRICKY.entries()) {
      await createTask(t, w.orgId, i % 2 ? p2 : p1, i % 3 ? w.member : w.owner, {
        title,
        status: STATUSES[i % 4],
        priority: PRIORITIES[(i + 1) % 4],
        ...(i % 3 === 1 ? { assigneeId: w.member.id } : {}),
        ...(i % 4 !== 3 ? { dueDate: addDays(today, i - 5) } : {}),
      });
    }
    const theirs = await createProject(t, w.otherOrgId, w.stranger, 'Theirs');
    await createTask(t, w.otherOrgId, theirs, w.stranger, { title: 'Their secret, do not export' });
  });
  afterAll(() => t.close());

  it('answers 200 text/csv with the exact header row', async () => {
    const { res, text } = await exportCsv(t, w.orgId, w.owner);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const firstLine = text.split(/\r?\n/)[0];
    expect(firstLine).toBe(CSV_COLUMNS.join(','));
  });

  it('has one row per task of the org, each cell equal to the task, quoting round-tripped', async () => {
    const { res, text } = await exportCsv(t, w.orgId, w.admin);
    expect(res.status).toBe(200);
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual(CSV_COLUMNS);
    const tasks = await listAll(t, w.orgId, w.owner);
    expect(tasks).toHaveLength(TRICKY.length);
    expect(records).toHaveLength(tasks.length);
    for (const record of records) expect(record).toHaveLength(CSV_COLUMNS.length);

    const byId = new Map(records.map((r) => [r[0], r]));
    expect(byId.size).toBe(records.length);
    for (const task of tasks) {
      const record = byId.get(task.id);
      expect(record).toBeDefined();
      const cell = Object.fromEntries(CSV_COLUMNS.map((h, i) => [h, record![i]]));
      expect(cell).toEqual({
        id: task.id,
        projectId: task.projectId,
        title: guarded(task.title),
        status: task.status,
        priority: task.priority,
        assigneeId: task.assigneeId ?? '',
        dueDate: task.dueDate ?? '',
        createdBy: task.createdBy ?? '',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        completedAt: task.completedAt ? expect.any(String) : '',
      });
      expect(new Date(cell.createdAt!).getTime()).toBe(new Date(task.createdAt).getTime());
      expect(new Date(cell.updatedAt!).getTime()).toBe(new Date(task.updatedAt).getTime());
      if (task.completedAt)
        expect(new Date(cell.completedAt!).getTime()).toBe(new Date(task.completedAt).getTime());
    }
    expect(text).not.toContain('Their secret');
  });

  it('RFC 4180: commas, quotes and line breaks are quoted (quotes doubled) and read back intact', async () => {
    const { text } = await exportCsv(t, w.orgId, w.owner);
    const titles = parseCsv(text)
      .slice(1)
      .map((r) => r[2]);
    for (const title of [
      'Comma, separated',
      'Say "hello"',
      'Two\nlines',
      'Windows\r\nlines',
      '"Quoted", with comma\nand newline',
    ]) {
      expect(titles).toContain(title);
    }
    expect(text).toContain('"Comma, separated"');
    expect(text).toContain('"Say ""hello"""');
    expect(text).toContain('"Two\nlines"');
    expect(text).toContain('"Windows\r\nlines"');
    expect(text).toContain('Plain title');
    expect(text).not.toContain('"Plain title"');
  });

  it("formula injection: cells starting with = + - @ are prefixed with '", async () => {
    const { text } = await exportCsv(t, w.orgId, w.owner);
    const titles = parseCsv(text)
      .slice(1)
      .map((r) => r[2]);
    expect(titles).toEqual(
      expect.arrayContaining([
        "'=SUM(A1:A9)",
        "'+1 555 0100",
        "'-2 degrees",
        "'@import",
        '\'=HYPERLINK("http://x","y"), oops',
        'mid-dash=plus+at@ fine',
      ]),
    );
    for (const title of titles) expect(title).not.toMatch(/^[=+\-@]/);
  });

  it('applies the list filters (status, projectId, q, assigneeId=me, dueBefore)', async () => {
    const cases: Array<[string, Array<[string, string]>, SignedInUser]> = [
      ['status=done', [['status', 'done']], w.owner],
      ['status=todo,blocked', [['status', 'todo,blocked']], w.owner],
      ['projectId', [['projectId', p2]], w.admin],
      ['q', [['q', 'LINES']], w.owner],
      ['assigneeId=me', [['assigneeId', 'me']], w.admin],
      [
        'priority+dueBefore',
        [
          ['priority', 'high,urgent'],
          ['dueBefore', today],
        ],
        w.owner,
      ],
    ];
    for (const [name, query, user] of cases) {
      const listed = await listAll(t, w.orgId, user, query);
      const { res, text } = await exportCsv(t, w.orgId, user, `?${new URLSearchParams(query)}`);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      const ids = parseCsv(text)
        .slice(1)
        .map((r) => r[0]);
      expect({ name, ids: [...ids].sort() }).toEqual({ name, ids: listed.map((x) => x.id).sort() });
    }
    const done = parseCsv((await exportCsv(t, w.orgId, w.owner, '?status=done')).text).slice(1);
    expect(done.length).toBeGreaterThan(0);
    expect(done.every((r) => r[3] === 'done' && r[10] !== '')).toBe(true);
  });

  it('bad filters → 400', async () => {
    for (const query of [
      '?status=nope',
      '?sort=title',
      '?dueBefore=someday',
      '?projectId=not-a-uuid',
    ]) {
      const { res } = await exportCsv(t, w.orgId, w.owner, query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  });

  it('member and viewer → 403; outsider and stranger → 404; anonymous → 401', async () => {
    for (const user of [w.member, w.viewer]) {
      const { res } = await exportCsv(t, w.orgId, user);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    }
    for (const user of [w.outsider, w.stranger]) {
      const { res } = await exportCsv(t, w.orgId, user);
      expect(res.status).toBe(404);
    }
    const anonymous = await t.http().get(exportPath(w.orgId));
    expect(anonymous.status).toBe(401);
  });

  it('an org without tasks exports the header only', async () => {
    const user = await registerUser(t, { name: 'Lonely' });
    const orgId = await createOrg(t, user, 'Nothing yet');
    const { res, text } = await exportCsv(t, orgId, user);
    expect(res.status).toBe(200);
    expect(parseCsv(text)).toEqual([CSV_COLUMNS]);
  });
});

describe('CSV export at scale', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('a 1,500-task export returns every row, each once', async () => {
    const owner = await registerUser(t, { name: 'Bulk' });
    const orgId = await createOrg(t, owner, 'Bulk Co');
    const projectId = await createProject(t, orgId, owner, 'Bulk');
    await t.dataSource.query(
      `INSERT INTO tasks (org_id, project_id, title, status, priority, due_date, created_by, created_at, completed_at)
       SELECT $1, $2,
              CASE WHEN n % 10 = 0 THEN 'Bulk, "task" ' || n ELSE 'Bulk task ' || n END,
              CASE WHEN n % 3 = 0 THEN 'done' ELSE 'todo' END,
              (ARRAY['low','medium','high','urgent'])[1 + n % 4],
              CASE WHEN n % 2 = 0 THEN current_date + (n % 30) END,
              $3,
              timestamptz '2026-01-01 00:00:00+00' + (n / 7) * interval '1 second',
              CASE WHEN n % 3 = 0 THEN now() END
         FROM generate_series(1, 1500) AS n`,
      [orgId, projectId, owner.id],
    );
    const expected: Array<{ id: string }> = await t.dataSource.query(
      `SELECT id::text AS id FROM tasks WHERE org_id = $1`,
      [orgId],
    );
    expect(expected).toHaveLength(1500);

    const { res, text } = await exportCsv(t, orgId, owner);
    expect(res.status).toBe(200);
    const [header, ...records] = parseCsv(text);
    expect(header).toEqual(CSV_COLUMNS);
    expect(records).toHaveLength(1500);
    const ids = records.map((r) => r[0]);
    expect(new Set(ids).size).toBe(1500);
    expect(new Set(ids)).toEqual(new Set(expected.map((r) => r.id)));
    expect(records.filter((r) => r[2]!.startsWith('Bulk, "task" '))).toHaveLength(150);

    const done = parseCsv((await exportCsv(t, orgId, owner, '?status=done')).text).slice(1);
    expect(done).toHaveLength(500);
  });
});
