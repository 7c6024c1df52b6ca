/**
 * The yardstick: the API's secured work on the benchmarked routes, done the fastest honest
 * way a careful engineer would — `node:http` + `pg`, no framework.
 *
 * Per request: the bearer token verified (HS256, issuer, audience, exp / nbf, iat and
 * sub / sid present, as the API's JWT strategy), then ONE round trip (bench/raw/pipeline.ts)
 * carrying the tenant settings (role worklane_app, app.org_id, app.user_id:
 * transaction-local), the membership guard's statement (role + session liveness; the org
 * row key-share locked for writes), the route's SQL built by the API's own query builders,
 * and the commit. Writes take two: the first holds the locks and reads the column's bottom
 * key, the second writes the task, its event-log (outbox) rows, its audit entry and commits.
 * Statements are prepared once per connection. Bodies and headers are the API's, byte for
 * byte (the bench checks before it measures), apart from date and x-request-id.
 *
 * Env: DATABASE_URL, JWT_SECRET, PORT, DB_POOL_SIZE (default 10, as the API).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { Pool, PoolClient } from 'pg';
import { HELMET_OPTIONS } from '../../src/shared/http/http-edges';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/shared/auth/jwt-key';
import { isUuid } from '../../src/shared/uuid';
import { decodeCursor, encodeCursor, toPage } from '../../src/shared/http/pagination';
import {
  boardQuery,
  BOARD_STATUSES,
  exportQuery,
  listQuery,
  STATS_SQL,
  TASK_COLUMNS,
} from '../../src/tasks/task-queries';
import { TaskResponse } from '../../src/tasks/dto/task.dto';
import { mayUpdate, TaskPermissions } from '../../src/tasks/task.policy';
import { EVENT_CHANNEL } from '../../src/shared/events/event-log.repository';
import type { TaskFields } from '../../src/tasks/task.events';
import { OrganizationsRepository } from '../../src/organizations/organizations.repository';
import type { DatabaseTopology } from '../../src/shared/database/topology';
import { ProjectsRepository } from '../../src/projects/projects.repository';
import { TasksRepository, TaskRow, TaskStatus } from '../../src/tasks/tasks.repository';
import { RANK_SORT } from '../../src/tasks/task-board.service';
import { statsOf } from '../../src/tasks/task-stats.service';
import { pipeline, Step } from './pipeline';

const SECRET = Buffer.from(process.env.JWT_SECRET ?? '', 'utf8');
if (SECRET.length === 0 && require.main === module) throw new Error('JWT_SECRET is required');
const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_SIZE ?? 10),
});

// ---------------------------------------------------------------------------------------
// The API's own SQL, captured from its repositories (a recording stand-in for the manager)
// ---------------------------------------------------------------------------------------

const names = new Map<string, string>();
function step(text: string, values: unknown[]): Step {
  let name = names.get(text);
  if (!name) names.set(text, (name = `raw_${names.size + 1}`));
  return { name, text, values };
}

/** The statement a repository method sends, without sending it. */
function captured(call: (em: never) => Promise<unknown>): Step {
  let out: Step | undefined;
  const em = {
    query: (text: string, values: unknown[] = []) => {
      out ??= step(text, values);
      return Promise.resolve([]);
    },
  };
  void call(em as never).catch(() => undefined);
  if (!out) throw new Error('the repository sent no statement');
  return out;
}

// The bench runs on one PostgreSQL server: the statements of that topology.
const orgs = new OrganizationsRepository({ citus: false } as DatabaseTopology);
const projects = new ProjectsRepository();
const tasks = new TasksRepository();

/**
 * The tenant settings. `custom`: plans made for each execution's values (as the API's
 * unnamed statements get) for the list, stats and board queries, whose generic plans are
 * poor (`$2 IS NULL OR project_id = $2` cannot be simplified away; the assignee filter's
 * selectivity differs per value); the other statements keep their generic plans.
 */
const settings = (orgId: string, userId: string, custom = false) =>
  step(
    `SELECT set_config('role', 'worklane_app', true), set_config('app.org_id', $1, true), set_config('app.user_id', $2, true)` +
      (custom ? `, set_config('plan_cache_mode', 'force_custom_plan', true)` : ''),
    [orgId, userId],
  );
const membership = (orgId: string, user: Caller, lockOrg: boolean) =>
  captured((em) => orgs.callerRole(em, orgId, user.id, user.sessionId, { lockOrg }));
const BEGIN = () => step('BEGIN', []);

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

/** helmet's headers, computed once on a stub (as the API's edges do). */
const SECURITY: Array<[string, string]> = (() => {
  const collected: Array<[string, string]> = [];
  const stub = {
    setHeader: (name: string, value: string) => collected.push([name.toLowerCase(), value]),
    removeHeader: () => undefined,
  };
  helmet(HELMET_OPTIONS)({} as never, stub as never, () => undefined);
  return collected;
})();

const REQUEST_ID = /^[\w.:-]{1,128}$/;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}
const notFound = (what: string) =>
  new HttpFailure(404, 'Not Found', `No ${what} with this id here.`);

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  extra?: Array<[string, string]>,
): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const headers: Array<[string, string]> = [...SECURITY, ['x-request-id', id]];
  if (extra) headers.push(...extra);
  headers.push(['content-type', type], ['content-length', String(Buffer.byteLength(body))]);
  res.writeHead(status, headers.flat() as never);
  res.end(body);
}

function json(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  extra?: Array<[string, string]>,
) {
  send(req, res, status, JSON.stringify(body), 'application/json; charset=utf-8', extra);
}

// ---------------------------------------------------------------------------------------
// Authentication: HS256 JWT, the API's claims checks
// ---------------------------------------------------------------------------------------

interface Caller {
  id: string;
  sessionId: string;
}

const HEADER_OK = new Set<string>();
function authenticate(req: IncomingMessage): Caller {
  const fail = () => new HttpFailure(401, 'Unauthorized', 'A valid bearer token is required.');
  const auth = req.headers.authorization;
  if (!auth || !auth.startsWith('Bearer ')) throw fail();
  const token = auth.slice(7);
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  if (dot1 < 0 || dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) throw fail();
  const headerPart = token.slice(0, dot1);
  if (!HEADER_OK.has(headerPart)) {
    let header: { alg?: unknown };
    try {
      header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as {
        alg?: unknown;
      };
    } catch {
      throw fail();
    }
    if (header.alg !== 'HS256') throw fail();
    if (HEADER_OK.size < 16) HEADER_OK.add(headerPart);
  }
  const expected = createHmac('sha256', SECRET).update(token.slice(0, dot2)).digest();
  const given = Buffer.from(token.slice(dot2 + 1), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw fail();
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(
      Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
  } catch {
    throw fail();
  }
  const now = Math.floor(Date.now() / 1000);
  const aud = claims.aud;
  if (claims.iss !== JWT_ISSUER) throw fail();
  if (!(aud === JWT_AUDIENCE || (Array.isArray(aud) && aud.includes(JWT_AUDIENCE)))) throw fail();
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw fail();
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now))
    throw fail();
  if (typeof claims.iat !== 'number') throw fail();
  if (!isUuid(claims.sub) || !isUuid(claims.sid)) throw fail();
  return { id: claims.sub as string, sessionId: claims.sid as string };
}

/** The membership guard's answer: 401 for a dead session, 404 for no membership, 403 by role. */
function member(row: Record<string, unknown> | undefined, allowed: readonly string[]): string {
  if (row?.live !== true)
    throw new HttpFailure(401, 'Unauthorized', 'The session has ended. Sign in again.');
  const role = row.role as string | null;
  if (!role) throw notFound('organization');
  if (!allowed.includes(role))
    throw new HttpFailure(403, 'Forbidden', 'Your role does not allow this.');
  return role;
}

async function withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } catch (error) {
    // An explicit transaction left open by a failed batch: end it before the client goes back.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

async function listTasks(
  req: IncomingMessage,
  res: ServerResponse,
  user: Caller,
  orgId: string,
  query: URLSearchParams,
) {
  for (const key of query.keys())
    if (key !== 'limit' && key !== 'assigneeId' && key !== 'cursor')
      throw new HttpFailure(501, 'Not Implemented', `raw server: ${key}`);
  const limit = query.has('limit') ? Number(query.get('limit')) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new HttpFailure(400, 'Bad Request', 'limit');
  const assignee = query.get('assigneeId');
  if (assignee !== null && assignee !== 'me' && !isUuid(assignee))
    throw new HttpFailure(400, 'Bad Request', 'assigneeId');
  const sortName = 'createdAt:desc';
  const keys = decodeCursor(query.get('cursor') ?? undefined, [
    { equals: sortName },
    'timestamp',
    'uuid',
  ]);
  const after = keys ? ([keys[1], keys[2]] as [string, string]) : null;
  const filter = assignee ? { assigneeId: assignee === 'me' ? user.id : assignee } : {};
  const q = listQuery(orgId, filter, { sort: 'createdAt', direction: 'desc' }, limit, after);
  const [, m, found] = await withClient((c) =>
    pipeline(c, [
      settings(orgId, user.id, true),
      membership(orgId, user, false),
      step(q.sql, q.params),
    ]),
  );
  member(m![0], TaskPermissions.read);
  const page = toPage(
    found as unknown as Array<TaskRow & { sortKey: string }>,
    limit,
    (t) => [sortName, t.sortKey, t.id],
    TaskResponse.of,
  );
  json(req, res, 200, page);
}

async function stats(req: IncomingMessage, res: ServerResponse, user: Caller, orgId: string) {
  const [, m, groups] = await withClient((c) =>
    pipeline(c, [
      settings(orgId, user.id, true),
      membership(orgId, user, false),
      step(STATS_SQL, [orgId, null]),
    ]),
  );
  member(m![0], TaskPermissions.read);
  json(req, res, 200, statsOf(groups as unknown as Parameters<typeof statsOf>[0]));
}

async function getTask(
  req: IncomingMessage,
  res: ServerResponse,
  user: Caller,
  orgId: string,
  projectId: string,
  taskId: string,
) {
  if (!isUuid(projectId)) throw notFound('project');
  if (!isUuid(taskId)) throw notFound('task');
  const [, m, p, t] = await withClient((c) =>
    pipeline(c, [
      settings(orgId, user.id),
      membership(orgId, user, false),
      captured((em) => projects.find(em, orgId, projectId)),
      captured((em) => tasks.find(em, orgId, projectId, taskId, false)),
    ]),
  );
  member(m![0], TaskPermissions.read);
  if (!p![0]) throw notFound('project');
  const task = t![0] as unknown as TaskRow | undefined;
  if (!task) throw notFound('task');
  json(req, res, 200, TaskResponse.of(task), [['etag', `"${task.version}"`]]);
}

async function board(
  req: IncomingMessage,
  res: ServerResponse,
  user: Caller,
  orgId: string,
  projectId: string,
  query: URLSearchParams,
) {
  if ([...query.keys()].length > 0)
    throw new HttpFailure(501, 'Not Implemented', 'raw server: board filters');
  if (!isUuid(projectId)) throw notFound('project');
  const q = boardQuery(orgId, { projectId }, 20);
  const [, m, p, found] = await withClient((c) =>
    pipeline(c, [
      settings(orgId, user.id, true),
      membership(orgId, user, false),
      captured((em) => projects.find(em, orgId, projectId)),
      step(q.sql, q.params),
    ]),
  );
  member(m![0], TaskPermissions.read);
  if (!p![0]) throw notFound('project');
  const columns = BOARD_STATUSES.map((status) => ({
    status,
    total: 0,
    tasks: [] as TaskResponse[],
    nextCursor: null as string | null,
  }));
  const byStatus = new Map(columns.map((c) => [c.status as string, c]));
  for (const row of found as Array<Record<string, unknown>>) {
    const column = byStatus.get(row.column as string)!;
    column.total = row.total as number;
    if (row.id) column.tasks.push(TaskResponse.of(row as unknown as TaskRow));
  }
  for (const column of columns) {
    const last = column.tasks[column.tasks.length - 1];
    if (last && column.total > column.tasks.length)
      column.nextCursor = encodeCursor([RANK_SORT, last.rank, last.id]);
  }
  json(req, res, 200, { columns });
}

const STATUSES = new Set(['todo', 'in_progress', 'done', 'blocked']);
const PRIORITIES = new Set(['low', 'medium', 'high', 'urgent']);

/** ISO 8601 in UTC with milliseconds, as JSON.stringify writes a Date. */
const iso = (x: string) => `to_char(${x} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The column's bottom key from its last key `rank` (null: an empty column): what
 * fractional-indexing's generateKeyBetween(last, null) answers (TaskPlacement.bottom), in
 * SQL so that a write needs no round trip to read it first. The integer part's length
 * comes from its head ('a'…'z': 2…27, 'Z'…'A': 2…27); its last digit that is not 'z' goes
 * up by one, the 'z's after it become '0'; all 'z': the head goes up (a digit more or less).
 * `l` (the last key) is MATERIALIZED: inlined, its subquery ran once per reference here.
 */
const BOTTOM_KEY = `CASE WHEN l.rank IS NULL THEN 'a0' ELSE (
  SELECT CASE WHEN x.m IS NOT NULL
              THEN left(x.ip, 1) || x.m[1] || substr(x.d, strpos(x.d, x.m[2]) + 1, 1) || repeat('0', length(x.m[3]))
              WHEN left(x.ip, 1) = 'Z' THEN 'a0'
              WHEN left(x.ip, 1) = 'z' THEN NULL
              WHEN ascii(x.ip) + 1 > 97 THEN chr(ascii(x.ip) + 1) || repeat('0', length(x.ip))
              ELSE chr(ascii(x.ip) + 1) || repeat('0', length(x.ip) - 2) END
    FROM (SELECT i.ip, regexp_match(substr(i.ip, 2), '^(.*)([^z])(z*)$') AS m,
                 '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' AS d
            FROM (SELECT left(l.rank, CASE WHEN ascii(l.rank) BETWEEN 97 AND 122 THEN ascii(l.rank) - 95
                                           ELSE 92 - ascii(l.rank) END) AS ip) i) x) END`;

/** The API's response of a task row `r`, built where the row is. */
const RESOURCE = (
  r: string,
) => `jsonb_build_object('id', ${r}.id, 'orgId', ${r}."orgId", 'projectId', ${r}."projectId",
  'title', ${r}.title, 'description', ${r}.description, 'status', ${r}.status, 'priority', ${r}.priority,
  'assigneeId', ${r}."assigneeId", 'dueDate', ${r}."dueDate", 'createdBy', ${r}."createdBy",
  'createdAt', ${iso(`${r}."createdAt"`)}, 'updatedAt', ${iso(`${r}."updatedAt"`)},
  'completedAt', ${iso(`${r}."completedAt"`)}, 'version', ${r}.version, 'rank', ${r}.rank)`;

/**
 * The event-log append (APPEND_SQL's: the org's head, the row, the NOTIFY) and the audit
 * entry of one event about the written row `res`, as the API's bus writes them. The
 * `$actor`, `$type` … placeholders are the statement's own parameters.
 */
const PUBLISH = (p: {
  org: string;
  actor: string;
  type: string;
  target: string;
  payload: string;
  requestId: string;
  at: string;
}) => `
head AS (
  INSERT INTO event_log_heads AS h (org_id, position) SELECT ${p.org}, 1 FROM res
  ON CONFLICT (org_id) DO UPDATE SET position = h.position + 1
  RETURNING h.position),
logged AS (
  INSERT INTO outbox_events (org_id, position, type, actor_id, payload, request_id, occurred_at)
  SELECT ${p.org}, head.position, ${p.type}, ${p.actor},
         jsonb_build_object('target', jsonb_build_object('type', 'task', 'id', ${p.target}), 'resource', res.resource) || ${p.payload},
         ${p.requestId}, ${p.at}
    FROM head, res
  RETURNING 1),
audited AS (
  INSERT INTO audit_log (org_id, actor_id, action, target_type, target_id, metadata, request_id, created_at)
  SELECT ${p.org}, ${p.actor}, ${p.type}, 'task', ${p.target}, ${p.payload}, ${p.requestId}, ${p.at} FROM res
  RETURNING 1)
SELECT res.*, pg_notify('${EVENT_CHANNEL}', ${p.org}::text || ':' || head.position) IS NULL AS quiet,
       (SELECT count(*) FROM logged)::int + (SELECT count(*) FROM audited)::int AS written
  FROM res, head`;

/**
 * A create in one statement, guarded by the same checks as the guards that ran before it
 * in the batch (so a refused request writes nothing): the bottom key, the task, its event
 * and its audit entry. $1 org, $2 project, $3 status, $4 id, $5 title, $6 description,
 * $7 priority, $8 due date, $9 caller, $10 session, $11 the event's payload, $12 request
 * id, $13 when it occurred.
 */
export const CREATE_TASK = `WITH ok AS (
  SELECT 1 FROM memberships m
   WHERE m.org_id = $1::uuid AND m.user_id = $9::uuid AND m.role IN ('owner', 'admin', 'member')
     AND session_is_live($9::uuid, $10::uuid)
     AND EXISTS (SELECT 1 FROM projects p WHERE p.org_id = $1::uuid AND p.id = $2::uuid AND NOT p.archived)
     -- The API's fan-out statement finds no webhook here; the raw server writes no deliveries.
     AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = $1::uuid AND w.enabled)),
l AS MATERIALIZED (SELECT (SELECT t.rank FROM tasks t WHERE t.org_id = $1::uuid AND t.project_id = $2::uuid AND t.status = $3::text
               ORDER BY t.rank DESC, t.id DESC LIMIT 1) AS rank),
k AS MATERIALIZED (SELECT ${BOTTOM_KEY} AS rank FROM l),
ins AS (
  INSERT INTO tasks AS t (id, org_id, project_id, title, description, status, priority, assignee_id, due_date,
                          created_by, rank, completed_at)
  SELECT $4::uuid, $1::uuid, $2::uuid, $5::text, $6::text, $3::text, $7::text, NULL, $8::date, $9::uuid, k.rank,
         CASE WHEN $3::text = 'done' THEN now() END
    FROM ok, k
  RETURNING ${TASK_COLUMNS}),
res AS (SELECT ins.*, ${RESOURCE('ins')} AS resource FROM ins),
${PUBLISH({ org: '$1::uuid', actor: '$9::uuid', type: "'task.created'", target: '$4::uuid::text', payload: '$11::jsonb', requestId: '$12::text', at: '$13::timestamptz' })}`;

/**
 * A status change in one statement, guarded likewise (and by the update policy): nothing
 * when the status is already that one. $1 org, $2 project, $3 task, $4 status, $5 caller,
 * $6 session, $7 request id, $8 when it occurred.
 */
export const CHANGE_STATUS = `WITH ok AS (
  SELECT m.role FROM memberships m
   WHERE m.org_id = $1::uuid AND m.user_id = $5::uuid AND m.role IN ('owner', 'admin', 'member')
     AND session_is_live($5::uuid, $6::uuid)
     AND EXISTS (SELECT 1 FROM projects p WHERE p.org_id = $1::uuid AND p.id = $2::uuid)
     -- The API's fan-out statement finds no webhook here; the raw server writes no deliveries.
     AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = $1::uuid AND w.enabled)),
old AS (
  SELECT t.id, t.status FROM tasks t, ok
   WHERE t.org_id = $1::uuid AND t.project_id = $2::uuid AND t.id = $3::uuid AND t.status <> $4::text
     AND (ok.role IN ('owner', 'admin') OR t.created_by = $5::uuid OR t.assignee_id = $5::uuid)),
l AS MATERIALIZED (SELECT (SELECT t.rank FROM tasks t WHERE t.org_id = $1::uuid AND t.project_id = $2::uuid AND t.status = $4::text
                 AND t.id <> $3::uuid ORDER BY t.rank DESC, t.id DESC LIMIT 1) AS rank),
k AS MATERIALIZED (SELECT ${BOTTOM_KEY} AS rank FROM l),
upd AS (
  UPDATE tasks t SET status = $4::text, rank = k.rank, version = t.version + 1, updated_at = now(),
         completed_at = CASE WHEN $4::text = 'done' THEN coalesce(t.completed_at, now()) END
    FROM old, k
   WHERE t.org_id = $1::uuid AND t.id = $3::uuid
  RETURNING ${TASK_COLUMNS}, old.status AS "oldStatus"),
res AS (
  SELECT upd.*, ${RESOURCE('upd')} AS resource,
         jsonb_build_object('projectId', $2::uuid::text, 'before', jsonb_build_object('status', upd."oldStatus"),
                            'after', jsonb_build_object('status', $4::text)) AS payload
    FROM upd),
${PUBLISH({ org: '$1::uuid', actor: '$5::uuid', type: "'task.status_changed'", target: '$3::uuid::text', payload: 'res.payload', requestId: '$7::text', at: '$8::timestamptz' })}`;

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        if (!body || typeof body !== 'object' || Array.isArray(body))
          throw new Error('not an object');
        resolve(body as Record<string, unknown>);
      } catch {
        reject(new HttpFailure(400, 'Bad Request', 'The body is not valid JSON.'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * The API's write limits (per user and per org, fixed 60 s windows, in memory without
 * REDIS_URL), with its RateLimit-Policy / RateLimit headers.
 */
const LIMITS = {
  user: Number(process.env.WRITE_LIMIT_PER_USER ?? 600),
  org: Number(process.env.WRITE_LIMIT_PER_ORG ?? 6000),
};
const counters = new Map<string, { count: number; resetAt: number }>();
function writeLimit(userId: string, orgId: string): Array<[string, string]> {
  const now = Date.now();
  const standing: string[] = [];
  for (const [scope, key] of [
    ['user', `u:${userId}`],
    ['org', `o:${orgId}`],
  ] as const) {
    let c = counters.get(key);
    if (!c || c.resetAt <= now) counters.set(key, (c = { count: 0, resetAt: now + 60_000 }));
    c.count++;
    if (c.count > LIMITS[scope])
      throw new HttpFailure(429, 'Too Many Requests', 'Write limit reached.');
    standing.push(
      `"${scope}";r=${LIMITS[scope] - c.count};t=${Math.ceil((c.resetAt - now) / 1000)}`,
    );
  }
  return [
    ['ratelimit-policy', `"user";q=${LIMITS.user};w=60, "org";q=${LIMITS.org};w=60`],
    ['ratelimit', standing.join(', ')],
  ];
}

const requestIdOf = (req: IncomingMessage) => {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.headers['x-request-id'] = id;
  return id;
};

async function createTask(
  req: IncomingMessage,
  res: ServerResponse,
  user: Caller,
  orgId: string,
  projectId: string,
) {
  const body = await readBody(req);
  for (const key of Object.keys(body))
    if (!['title', 'description', 'status', 'priority', 'dueDate'].includes(key))
      throw new HttpFailure(501, 'Not Implemented', `raw server: ${key}`);
  const title = typeof body.title === 'string' ? body.title.trim() : '';
  if (title.length < 1 || title.length > 200 || title.includes('\u0000'))
    throw new HttpFailure(400, 'Bad Request', 'title');
  const description = body.description ?? null;
  if (description !== null && (typeof description !== 'string' || description.length > 10_000))
    throw new HttpFailure(400, 'Bad Request', 'description');
  const status = (body.status ?? 'todo') as TaskStatus;
  const priority = (body.priority ?? 'medium') as TaskRow['priority'];
  if (!STATUSES.has(status) || !PRIORITIES.has(priority))
    throw new HttpFailure(400, 'Bad Request', 'status / priority');
  const dueDate = (body.dueDate ?? null) as string | null;
  if (
    dueDate !== null &&
    !(
      typeof dueDate === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(dueDate) &&
      !Number.isNaN(Date.parse(dueDate))
    )
  )
    throw new HttpFailure(400, 'Bad Request', 'dueDate');
  if (!isUuid(projectId)) throw notFound('project');
  const requestId = requestIdOf(req);
  const column = { orgId, projectId, status };
  const limits = writeLimit(user.id, orgId);

  const id = randomUUID();
  // The event as the API's TaskCreated carries it: its payload and when it occurred.
  const after: TaskFields = {
    title,
    description: description as string | null,
    status,
    priority,
    assigneeId: null,
    dueDate,
  };
  const [, m, p, , created] = await withClient((c) =>
    pipeline(c, [
      settings(orgId, user.id),
      membership(orgId, user, true),
      captured((em) => projects.find(em, orgId, projectId, 'share')),
      captured((em) => tasks.lockColumn(em, column)),
      step(CREATE_TASK, [
        orgId,
        projectId,
        status,
        id,
        title,
        description,
        priority,
        dueDate,
        user.id,
        user.sessionId,
        JSON.stringify({ projectId, after }),
        requestId,
        new Date(),
      ]),
    ]),
  );
  member(m![0], TaskPermissions.create);
  const project = p![0];
  if (!project) throw notFound('project');
  if (project.archived) throw new HttpFailure(409, 'Conflict', 'The project is archived.');
  const row = created![0];
  if (!row || row.written !== 2)
    throw new HttpFailure(
      501,
      'Not Implemented',
      'raw server: the create wrote nothing (the org has webhooks: no fan-out here)',
    );
  if (typeof row.rank !== 'string' || row.rank.length > 32)
    throw new Error('the column needs a rebalance (not in the raw server)');
  const response = TaskResponse.of(row as unknown as TaskRow);
  json(req, res, 201, response, [...limits, ['etag', `"${response.version}"`]]);
}

async function updateTask(
  req: IncomingMessage,
  res: ServerResponse,
  user: Caller,
  orgId: string,
  projectId: string,
  taskId: string,
) {
  const body = await readBody(req);
  for (const key of Object.keys(body))
    if (key !== 'status') throw new HttpFailure(501, 'Not Implemented', `raw server: ${key}`);
  const status = body.status as TaskStatus | undefined;
  if (status !== undefined && !STATUSES.has(status))
    throw new HttpFailure(400, 'Bad Request', 'status');
  if (req.headers['if-match'] !== undefined)
    throw new HttpFailure(501, 'Not Implemented', 'raw server: If-Match');
  if (!isUuid(projectId)) throw notFound('project');
  if (!isUuid(taskId)) throw notFound('task');
  const requestId = requestIdOf(req);
  const limits = writeLimit(user.id, orgId);

  const column = { orgId, projectId, status: status ?? 'todo' };
  const [, m, p, t, , changed] = await withClient((c) =>
    pipeline(c, [
      settings(orgId, user.id),
      membership(orgId, user, true),
      captured((em) => projects.find(em, orgId, projectId, 'share')),
      captured((em) => tasks.find(em, orgId, projectId, taskId, true)),
      // The new column's lock, then the change itself (which does nothing when refused).
      captured((em) => tasks.lockColumn(em, column)),
      step(CHANGE_STATUS, [
        orgId,
        projectId,
        taskId,
        column.status,
        user.id,
        user.sessionId,
        requestId,
        new Date(),
      ]),
    ]),
  );
  const role = member(m![0], TaskPermissions.write);
  if (!p![0]) throw notFound('project');
  const task = t![0] as unknown as TaskRow | undefined;
  if (!task) throw notFound('task');
  if (!mayUpdate({ orgId, userId: user.id, role: role as never }, task))
    throw new HttpFailure(
      403,
      'Forbidden',
      'Members may update only the tasks they created or are assigned to.',
    );
  const row = changed![0];
  if (status !== undefined && status !== task.status && (!row || row.written !== 2))
    throw new HttpFailure(
      501,
      'Not Implemented',
      'raw server: the change wrote nothing (the org has webhooks: no fan-out here)',
    );
  if (row && (typeof row.rank !== 'string' || row.rank.length > 32))
    throw new Error('the column needs a rebalance (not in the raw server)');
  const response = TaskResponse.of((row ?? task) as unknown as TaskRow);
  json(req, res, 200, response, [...limits, ['etag', `"${response.version}"`]]);
}

/** The export: settings and membership, then `COPY (the API's export query) TO STDOUT` streamed. */
async function exportCsv(req: IncomingMessage, res: ServerResponse, user: Caller, orgId: string) {
  const client = await pool.connect();
  let done = false;
  try {
    const [, , m] = await pipeline(client, [
      BEGIN(),
      settings(orgId, user.id),
      membership(orgId, user, false),
    ]);
    member(m![0], TaskPermissions.export);
    const q = exportQuery(orgId, {});
    // COPY takes no parameters: the org id is a checked uuid, inlined as a literal.
    const sql = q.sql.replace('$1', `'${orgId}'::uuid`);
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.writeHead(
      200,
      [
        ...SECURITY,
        ['x-request-id', id],
        ['content-type', 'text/csv; charset=utf-8'],
        ['content-disposition', 'attachment; filename="tasks.csv"'],
      ].flat() as never,
    );
    await new Promise<void>((resolve, reject) => {
      const conn = (
        client as unknown as {
          connection: { stream: NodeJS.ReadableStream & { pause(): void; resume(): void } };
        }
      ).connection;
      const copy = {
        callback: undefined as unknown,
        error: undefined as Error | undefined,
        submit(connection: { query: (t: string) => void }) {
          connection.query(`COPY (${sql}) TO STDOUT WITH (FORMAT csv, HEADER)`);
          return null;
        },
        paused: false,
        handleCopyData(msg: { chunk: Buffer }) {
          // Backpressure: stop reading PostgreSQL's socket until the client has drained.
          if (!res.write(msg.chunk) && !this.paused) {
            this.paused = true;
            conn.stream.pause();
            res.once('drain', () => {
              this.paused = false;
              conn.stream.resume();
            });
          }
        },
        handleError(error: Error) {
          this.error ??= error;
        },
        handleReadyForQuery() {
          if (this.error) reject(this.error);
          else resolve();
        },
        handleRowDescription() {},
        handleDataRow() {},
        handleCommandComplete() {},
        handleEmptyQuery() {},
        handlePortalSuspended() {},
        handleCopyInResponse() {},
      };
      void client.query(copy as never);
    });
    await client.query('COMMIT');
    done = true;
    res.end();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (res.headersSent) res.destroy(error as Error);
    else throw error;
  } finally {
    client.release(!done && res.headersSent);
  }
}

// ---------------------------------------------------------------------------------------

const server = createServer((req, res) => {
  void route(req, res).catch((error: unknown) => {
    if (res.headersSent) return res.destroy();
    const failure =
      error instanceof HttpFailure
        ? error
        : new HttpFailure(500, 'Internal Server Error', String(error));
    if (!(error instanceof HttpFailure)) console.error(error);
    send(
      req,
      res,
      failure.status,
      JSON.stringify({
        type: 'about:blank',
        title: failure.title,
        status: failure.status,
        detail: failure.detail,
      }),
      'application/problem+json',
    );
  });
});
server.keepAliveTimeout = 65_000; // what the API answers in Keep-Alive

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const qmark = url.indexOf('?');
  const path = qmark < 0 ? url : url.slice(0, qmark);
  const query = new URLSearchParams(qmark < 0 ? '' : url.slice(qmark + 1));
  if (path === '/health/ready')
    return send(req, res, 200, '{"status":"ok"}', 'application/json; charset=utf-8');
  const parts = path.split('/'); // '', 'api', 'v1', 'orgs', orgId, ...
  if (parts[1] !== 'api' || parts[2] !== 'v1' || parts[3] !== 'orgs' || parts.length < 6)
    throw new HttpFailure(404, 'Not Found', 'No such route on the raw server.');
  const user = authenticate(req);
  const orgId = parts[4]!;
  if (!isUuid(orgId)) throw notFound('organization');
  const [, , , , , a, b, c, d, e] = parts;
  const method = req.method;
  if (method === 'GET' && a === 'tasks' && b === undefined)
    return listTasks(req, res, user, orgId, query);
  if (method === 'GET' && a === 'tasks' && b === 'export.csv' && c === undefined)
    return exportCsv(req, res, user, orgId);
  if (method === 'GET' && a === 'stats' && b === undefined) return stats(req, res, user, orgId);
  if (a === 'projects' && b !== undefined) {
    if (method === 'GET' && c === 'board' && d === undefined)
      return board(req, res, user, orgId, b, query);
    if (c === 'tasks' && d === undefined && method === 'POST')
      return createTask(req, res, user, orgId, b);
    if (c === 'tasks' && d !== undefined && e === undefined) {
      if (method === 'GET') return getTask(req, res, user, orgId, b, d);
      if (method === 'PATCH') return updateTask(req, res, user, orgId, b, d);
    }
  }
  throw new HttpFailure(404, 'Not Found', 'No such route on the raw server.');
}

if (require.main === module) start();

function start(): void {
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address() as { port: number };
    console.log(`raw server listening on ${address.port}`);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      server.close();
      server.closeAllConnections();
      void pool.end().finally(() => process.exit(0));
    });
}
