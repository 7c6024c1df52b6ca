import { isDeepStrictEqual } from 'node:util';
import { api, listenOnLoopback, type TestApp } from '../helpers/app';
import { addMember, createOrg, createOrgWorld, type OrgWorld, type Role } from '../helpers/orgs';
import { openStream } from '../helpers/sse';
import { registerUser, type SignedInUser } from '../helpers/users';
import { createProject, createTask } from '../helpers/work';

/**
 * The generic runner of the permission matrix (matrix.ts): the fixtures, once; every cell
 * (route × caller) sent, its status compared with the row's, and — for every refused cell
 * of a route with a side-effect check — the state before and after compared; a compact
 * table of it all.
 */

/** Who calls: the four roles (the member three ways on tasks), the two kinds of non-member, no token, an ended session. */
export const CALLERS = [
  'owner',
  'admin',
  'memberCreator',
  'memberAssignee',
  'member',
  'viewer',
  'outsider',
  'stranger',
  'anonymous',
  'revoked',
] as const;
export type Caller = (typeof CALLERS)[number];

/** Column headings of the printed table. */
const SHORT: Record<Caller, string> = {
  owner: 'owner',
  admin: 'admin',
  memberCreator: 'm:crt',
  memberAssignee: 'm:asg',
  member: 'member',
  viewer: 'viewer',
  outsider: 'outsdr',
  stranger: 'strngr',
  anonymous: 'anon',
  revoked: 'revokd',
};

export interface MatrixRequest {
  path: string;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send as this user instead of the caller's own token (a session a cell may end). */
  auth?: Record<string, string>;
  /** A Server-Sent Events route: open it, read the status, close it. */
  stream?: boolean;
  /** The org the cell acts in, when it is not the world's (a fresh target). */
  orgId?: string;
  /** Runs after the cell (restores what the cell may spend: a session, a password). */
  after?: (status: number) => Promise<void>;
}

export type Expect = Partial<Record<Caller, number>>;

export interface MatrixRow {
  /** `METHOD /api/v1/path/{param}` exactly as the route walk names it. */
  route: string;
  request: (ctx: Ctx, caller: Caller) => MatrixRequest | Promise<MatrixRequest>;
  /** A snapshot of what the route may write; equal before and after every refused cell. */
  sideEffect?: (ctx: Ctx, request: MatrixRequest, caller: Caller) => Promise<unknown>;
  expect: Expect;
}

/** The statuses of a tenant route from those of its four roles (the member as creator and assignee too, when given). */
export function tenant(roles: Record<Role, number> & Expect): Expect {
  return { ...roles, outsider: 404, stranger: 404, anonymous: 401, revoked: 401 };
}
/** A route for any signed-in user, whatever their memberships. */
export function signedIn(status: number): Expect {
  return {
    owner: status,
    admin: status,
    member: status,
    viewer: status,
    outsider: status,
    stranger: status,
    anonymous: 401,
    revoked: 401,
  };
}

export interface World extends OrgWorld {
  /** An admin of `orgId` whose session ended (logout-all) before any cell ran. */
  revoked: SignedInUser;
  projectId: string;
  /** Tasks of `projectId`: created by the member; created by the admin, assigned to the member; the admin's own. */
  tasks: { creator: string; assignee: string; neither: string };
  /** A project and a task of the other org (the stranger's), for cross-tenant bodies and queries. */
  otherProjectId: string;
  otherTaskId: string;
}

export interface Ctx {
  t: TestApp;
  w: World;
  base: string;
  userOf(caller: Caller): SignedInUser | undefined;
  /** A fresh org where the world's users hold their roles (owner, admin, member, viewer, revoked). */
  freshOrg(): Promise<string>;
  /** A fresh user, in `orgId` with `role` when given. */
  freshUser(orgId?: string, role?: Role): Promise<SignedInUser>;
  /** A fresh task in the world's project, the way `caller` relates to it. */
  freshTask(caller: Caller): Promise<string>;
  /**
   * A fresh webhook of the world's org: disabled (no deliveries fan out to it), or enabled
   * for `invite.accepted` only (which never happens in the world's org).
   */
  freshWebhook(enabled?: boolean): Promise<string>;
  /** A failed delivery of `webhookId`, ready to be redelivered. */
  failedDelivery(webhookId: string): Promise<string>;
  /** A fresh link invite in `orgId`: its id and code. */
  freshInvite(orgId: string): Promise<{ id: string; token: string }>;
  /** Signs `user` in again (after a cell that ended their sessions) and updates its token in place. */
  signInAgain(user: SignedInUser): Promise<void>;
}

/** Which of the world's tasks a caller acts on: its own kind for the member, the "neither" task otherwise. */
export function taskKind(caller: Caller): keyof World['tasks'] {
  return caller === 'memberCreator'
    ? 'creator'
    : caller === 'memberAssignee'
      ? 'assignee'
      : 'neither';
}

export async function buildContext(t: TestApp): Promise<Ctx> {
  const base = (await listenOnLoopback(t)).base;
  const world = await createOrgWorld(t);
  const revoked = await registerUser(t, { name: 'revoked' });
  await addMember(t, world.orgId, revoked, 'admin');
  const projectId = await createProject(t, world.orgId, world.owner, 'Matrix');
  const task = async (by: SignedInUser, assignee: SignedInUser | null) =>
    (
      await createTask(t, world.orgId, projectId, by, {
        title: `by ${by.name}`,
        ...(assignee ? { assigneeId: assignee.id } : {}),
      })
    ).id;
  const tasks = {
    creator: await task(world.member, null),
    assignee: await task(world.admin, world.member),
    neither: await task(world.admin, world.admin),
  };
  const otherProjectId = await createProject(t, world.otherOrgId, world.stranger, 'Theirs');
  const otherTaskId = (await createTask(t, world.otherOrgId, otherProjectId, world.stranger)).id;
  const ended = await t.http().post(api('/auth/logout-all')).set(revoked.auth);
  if (ended.status !== 204) throw new Error(`logout-all failed: ${ended.status}`);
  const w: World = { ...world, revoked, projectId, tasks, otherProjectId, otherTaskId };

  const ctx: Ctx = {
    t,
    w,
    base,
    userOf(caller) {
      if (caller === 'anonymous') return undefined;
      if (caller === 'memberCreator' || caller === 'memberAssignee') return w.member;
      return w[caller];
    },
    async freshOrg() {
      const orgId = await createOrg(t, w.owner, 'Fresh');
      for (const [user, role] of [
        [w.admin, 'admin'],
        [w.member, 'member'],
        [w.viewer, 'viewer'],
        [w.revoked, 'admin'],
      ] as const)
        await addMember(t, orgId, user, role);
      return orgId;
    },
    async freshUser(orgId, role) {
      const user = await registerUser(t, { name: 'target' });
      if (orgId && role) await addMember(t, orgId, user, role);
      return user;
    },
    async freshTask(caller) {
      const kind = taskKind(caller);
      const by = kind === 'creator' ? w.member : w.admin;
      const assignee = kind === 'creator' ? null : kind === 'assignee' ? w.member : w.admin;
      return task(by, assignee);
    },
    async freshWebhook(enabled = false) {
      const res = await t
        .http()
        .post(api(`/orgs/${w.orgId}/webhooks`))
        .set(w.owner.auth)
        .send({ url: 'https://hooks.example.test/matrix', enabled, events: ['invite.accepted'] });
      if (res.status !== 201) throw new Error(`webhook failed: ${res.status}`);
      return res.body.id;
    },
    async failedDelivery(webhookId) {
      const [{ id }] = await t.dataSource.query(
        `INSERT INTO webhook_deliveries (org_id, webhook_id, event_type, event_position, body, status)
         VALUES ($1, $2, 'task.created', 1, '{}', 'failed') RETURNING id`,
        [w.orgId, webhookId],
      );
      return id;
    },
    async freshInvite(orgId) {
      const res = await t
        .http()
        .post(api(`/orgs/${orgId}/invites`))
        .set(w.owner.auth)
        .send({ role: 'member', maxUses: 1 });
      if (res.status !== 201) throw new Error(`invite failed: ${res.status}`);
      return { id: res.body.id, token: res.body.token };
    },
    async signInAgain(user) {
      const res = await t
        .http()
        .post(api('/auth/login'))
        .send({ email: user.email, password: user.password });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
      user.accessToken = res.body.accessToken;
      user.refreshToken = res.body.refreshToken;
      user.auth = { Authorization: `Bearer ${res.body.accessToken}` };
    },
  };
  return ctx;
}

// ---- side-effect snapshots -------------------------------------------------------------

/** (`webhook_deliveries` apart: the job runner moves those on its own; the redeliver row checks its delivery.) */
const TENANT_TABLES = [
  'memberships',
  'invites',
  'projects',
  'tasks',
  'audit_log',
  'outbox_events',
  'webhooks',
];

/**
 * Every row of the orgs a cell may touch (the world's two and the cell's own fresh one), of
 * every tenant table, hashed; and the world's users. Any write shows as a changed hash.
 */
export async function tenantState(ctx: Ctx, request: MatrixRequest): Promise<unknown> {
  const orgIds = [ctx.w.orgId, ctx.w.otherOrgId, ...(request.orgId ? [request.orgId] : [])];
  const hash = async (from: string, where: string, params: unknown[]) =>
    (
      await ctx.t.dataSource.query(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h
           FROM ${from} x WHERE ${where}`,
        params,
      )
    )[0];
  const state: Record<string, unknown> = {
    organizations: await hash('organizations', 'id = ANY($1)', [orgIds]),
  };
  for (const table of TENANT_TABLES) state[table] = await hash(table, 'org_id = ANY($1)', [orgIds]);
  state.users = await accountState(ctx);
  return state;
}

/** The world's user rows (profile, password hash, verification). */
export async function accountState(ctx: Ctx): Promise<unknown> {
  const ids = CALLERS.map((c) => ctx.userOf(c)?.id).filter(Boolean);
  return ctx.t.dataSource.query(
    `SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) AS h FROM users x WHERE id = ANY($1)`,
    [ids],
  );
}

// ---- running ---------------------------------------------------------------------------

export interface CellResult {
  route: string;
  caller: Caller;
  expected: number;
  actual: number | string;
  /** Why the cell is unexpected, when it is. */
  problem?: string;
}

/** What a cell answered: its status and, but for a stream, its content type and body. */
export interface Answer {
  status: number;
  contentType?: string;
  body?: unknown;
}

/**
 * Why a refused answer is not a bare problem document (RFC 9457 with this status, and none
 * of the resource's own fields), or undefined when it is. The suites' own matrices checked
 * this per route; the runner checks it for every refused cell.
 */
export function refusalProblem(answer: Answer): string | undefined {
  if (answer.contentType === undefined) return undefined;
  if (!/application\/problem\+json/.test(answer.contentType))
    return `refused as ${answer.contentType || 'no content type'}, not problem+json`;
  const body = (answer.body ?? {}) as Record<string, unknown>;
  if (body.status !== answer.status) return `refused, but the problem says status ${body.status}`;
  const leaked = ['id', 'data', 'secret', 'token'].filter((k) => k in body);
  if (leaked.length) return `refused, but the answer carries ${leaked.join(', ')}`;
  return undefined;
}

async function send(ctx: Ctx, row: MatrixRow, req: MatrixRequest, caller: Caller): Promise<Answer> {
  const [method] = row.route.split(' ') as [string];
  const user = ctx.userOf(caller);
  const headers = { ...(req.auth ?? user?.auth ?? {}), ...(req.headers ?? {}) };
  const qs = req.query
    ? `?${new URLSearchParams(Object.entries(req.query).map(([k, v]): [string, string] => [k, String(v)]))}`
    : '';
  if (req.stream) {
    const stream = await openStream(`${ctx.base}${req.path}${qs}`, headers);
    stream.close();
    return { status: stream.status };
  }
  let test = ctx.t.http()[method.toLowerCase() as 'get'](`${req.path}${qs}`).set(headers);
  if (req.body !== undefined) test = test.send(req.body as object);
  const res = await test;
  return { status: res.status, contentType: res.headers['content-type'] ?? '', body: res.body };
}

export async function runCell(ctx: Ctx, row: MatrixRow, caller: Caller): Promise<CellResult> {
  const expected = row.expect[caller]!;
  const cell: CellResult = { route: row.route, caller, expected, actual: '?' };
  try {
    const req = await row.request(ctx, caller);
    const before = row.sideEffect ? await row.sideEffect(ctx, req, caller) : undefined;
    const answer = await send(ctx, row, req, caller);
    const status = answer.status;
    cell.actual = status;
    if (status !== expected) cell.problem = `answered ${status}, expected ${expected}`;
    else if (status >= 400 && refusalProblem(answer)) cell.problem = refusalProblem(answer);
    else if (row.sideEffect && status >= 400) {
      const after = await row.sideEffect(ctx, req, caller);
      if (!isDeepStrictEqual(before, after)) cell.problem = 'refused, but changed state';
    }
    await req.after?.(status);
  } catch (error) {
    cell.actual = 'ERR';
    cell.problem = (error as Error).message.split('\n').slice(0, 3).join(' / ');
  }
  return cell;
}

export async function runMatrix(ctx: Ctx, rows: MatrixRow[]): Promise<CellResult[]> {
  const results: CellResult[] = [];
  for (const row of rows)
    for (const caller of CALLERS)
      if (row.expect[caller] !== undefined) results.push(await runCell(ctx, row, caller));
  return results;
}

/** Routes down, callers across: each cell its status, `!` when unexpected, `·` when not run. */
export function formatTable(rows: MatrixRow[], results: CellResult[]): string {
  const byCell = new Map(results.map((r) => [`${r.route}|${r.caller}`, r]));
  const names = rows.map((r) => r.route.replace('/api/v1', ''));
  const width = Math.max(...names.map((n) => n.length));
  const lines = [[''.padEnd(width), ...CALLERS.map((c) => SHORT[c].padStart(6))].join(' ')];
  rows.forEach((row, i) => {
    const cells = CALLERS.map((caller) => {
      const r = byCell.get(`${row.route}|${caller}`);
      if (!r) return '·'.padStart(6);
      return `${r.actual}${r.problem ? '!' : ''}`.padStart(6);
    });
    lines.push([names[i]!.padEnd(width), ...cells].join(' '));
  });
  const unexpected = results.filter((r) => r.problem);
  for (const r of unexpected) lines.push(`  ! ${r.route} as ${r.caller}: ${r.problem}`);
  lines.push(`${results.length} cells, ${unexpected.length} unexpected`);
  return lines.join('\n');
}
