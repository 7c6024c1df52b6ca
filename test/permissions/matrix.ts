import { api } from '../helpers/app';
import { uniqueEmail } from '../helpers/users';
import {
  accountState,
  type Caller,
  type Ctx,
  type MatrixRow,
  signedIn,
  taskKind,
  tenant,
  tenantState,
} from './runner';

/**
 * Who may call what: one row per route, one status per caller. A diff here changes who can
 * reach an endpoint — review it as a permission change (DESIGN §4).
 *
 * Every path, query and body uses the world's real ids (the stranger and the outsider probe
 * the org with ids that exist); routes that destroy or spend their target make a fresh one
 * per cell, so no cell depends on another. `sideEffect` is the snapshot that must not move
 * when a cell is refused.
 */

const org = (ctx: Ctx, rest = '') => api(`/orgs/${ctx.w.orgId}${rest}`);
const project = (ctx: Ctx, rest = '') => org(ctx, `/projects/${ctx.w.projectId}${rest}`);
const task = (ctx: Ctx, taskId: string, rest = '') => project(ctx, `/tasks/${taskId}${rest}`);
const worldTask = (ctx: Ctx, caller: Caller) => ctx.w.tasks[taskKind(caller)];

const READ_ALL = { owner: 200, admin: 200, member: 200, viewer: 200 };
const MANAGERS = (ok: number) => ({ owner: ok, admin: ok, member: 403, viewer: 403 });
/** The task rules: owners, admins, and the member as creator or assignee (update) or creator (delete). */
const TASK_READ = { ...READ_ALL, memberCreator: 200, memberAssignee: 200 };
const TASK_UPDATE = { ...TASK_READ, member: 403, viewer: 403 };
const TASK_DELETE = {
  owner: 204,
  admin: 204,
  memberCreator: 204,
  memberAssignee: 403,
  member: 403,
  viewer: 403,
};

/** Public: anyone may call, a dead token changes nothing. */
const PUBLIC = (ok: number) => ({ anonymous: ok, revoked: ok });

export const MATRIX: MatrixRow[] = [
  // ---- ops and authentication (public) --------------------------------------------------
  { route: 'GET /health', request: () => ({ path: '/health' }), expect: PUBLIC(200) },
  { route: 'GET /health/ready', request: () => ({ path: '/health/ready' }), expect: PUBLIC(200) },
  {
    route: 'POST /api/v1/auth/register',
    request: () => ({
      path: api('/auth/register'),
      body: { email: uniqueEmail('matrix'), password: 'correct horse battery', name: 'New' },
    }),
    expect: PUBLIC(201),
  },
  {
    route: 'POST /api/v1/auth/login',
    request: async (ctx) => {
      const user = await ctx.freshUser();
      return { path: api('/auth/login'), body: { email: user.email, password: user.password } };
    },
    expect: PUBLIC(200),
  },
  {
    route: 'POST /api/v1/auth/refresh',
    request: async (ctx) => ({
      path: api('/auth/refresh'),
      body: { refreshToken: (await ctx.freshUser()).refreshToken },
    }),
    expect: PUBLIC(200),
  },
  {
    route: 'POST /api/v1/auth/logout',
    request: async (ctx) => ({
      path: api('/auth/logout'),
      body: { refreshToken: (await ctx.freshUser()).refreshToken },
    }),
    expect: PUBLIC(204),
  },
  {
    route: 'POST /api/v1/auth/password/forgot',
    request: async (ctx) => ({
      path: api('/auth/password/forgot'),
      body: { email: (await ctx.freshUser()).email },
    }),
    expect: PUBLIC(202),
  },
  {
    // Public (never 401); a token nobody was sent → 400. Real tokens: test/auth, test/mail-delivery.
    route: 'POST /api/v1/auth/password/reset',
    request: () => ({
      path: api('/auth/password/reset'),
      body: { token: 'x'.repeat(43), newPassword: 'another horse battery' },
    }),
    expect: PUBLIC(400),
  },
  {
    route: 'POST /api/v1/auth/verify-email',
    request: () => ({ path: api('/auth/verify-email'), body: { token: 'x'.repeat(43) } }),
    expect: PUBLIC(400),
  },
  {
    // Ends every session of the caller: signed in again after the cell.
    route: 'POST /api/v1/auth/logout-all',
    request: (ctx, caller) => ({
      path: api('/auth/logout-all'),
      after: async (status) => {
        const user = ctx.userOf(caller);
        if (status === 204 && user) await ctx.signInAgain(user);
      },
    }),
    expect: signedIn(204),
  },

  // ---- the signed-in user ---------------------------------------------------------------
  { route: 'GET /api/v1/me', request: () => ({ path: api('/me') }), expect: signedIn(200) },
  {
    route: 'PATCH /api/v1/me',
    request: () => ({ path: api('/me'), body: { name: 'Renamed' } }),
    sideEffect: accountState,
    expect: signedIn(200),
  },
  {
    // Changes the caller's password (their other sessions end): signed in again after.
    route: 'POST /api/v1/me/password',
    request: (ctx, caller) => {
      const user = ctx.userOf(caller);
      const password = user?.password ?? 'correct horse battery';
      const next = `${password}!`;
      return {
        path: api('/me/password'),
        body: { currentPassword: password, newPassword: next },
        after: async (status) => {
          if (status !== 204 || !user) return;
          user.password = next;
          await ctx.signInAgain(user);
        },
      };
    },
    sideEffect: accountState,
    expect: signedIn(204),
  },

  // ---- organizations --------------------------------------------------------------------
  {
    route: 'POST /api/v1/orgs',
    request: () => ({ path: api('/orgs'), body: { name: `Matrix ${Math.random()}` } }),
    sideEffect: async (ctx, req) =>
      ctx.t.dataSource.query(`SELECT count(*)::int AS n FROM organizations WHERE name = $1`, [
        (req.body as { name: string }).name,
      ]),
    expect: signedIn(201),
  },
  { route: 'GET /api/v1/orgs', request: () => ({ path: api('/orgs') }), expect: signedIn(200) },
  {
    route: 'GET /api/v1/orgs/{orgId}',
    request: (ctx) => ({ path: org(ctx) }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'PATCH /api/v1/orgs/{orgId}',
    request: (ctx) => ({ path: org(ctx), body: { name: 'Acme renamed' } }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'DELETE /api/v1/orgs/{orgId}',
    request: async (ctx) => {
      const orgId = await ctx.freshOrg();
      return { path: api(`/orgs/${orgId}`), orgId };
    },
    sideEffect: tenantState,
    expect: tenant({ owner: 204, admin: 403, member: 403, viewer: 403 }),
  },

  // ---- members --------------------------------------------------------------------------
  {
    route: 'GET /api/v1/orgs/{orgId}/members',
    request: (ctx) => ({ path: org(ctx, '/members') }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'PATCH /api/v1/orgs/{orgId}/members/{userId}',
    request: async (ctx) => {
      const target = await ctx.freshUser(ctx.w.orgId, 'member');
      return { path: org(ctx, `/members/${target.id}`), body: { role: 'viewer' } };
    },
    sideEffect: tenantState,
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'DELETE /api/v1/orgs/{orgId}/members/{userId}',
    request: async (ctx) => {
      const target = await ctx.freshUser(ctx.w.orgId, 'member');
      return { path: org(ctx, `/members/${target.id}`) };
    },
    sideEffect: tenantState,
    expect: tenant(MANAGERS(204)),
  },
  {
    // In a fresh org of the world's users: every role may leave, but not the last owner.
    route: 'POST /api/v1/orgs/{orgId}/leave',
    request: async (ctx) => {
      const orgId = await ctx.freshOrg();
      return { path: api(`/orgs/${orgId}/leave`), orgId };
    },
    sideEffect: tenantState,
    expect: tenant({ owner: 409, admin: 204, member: 204, viewer: 204 }),
  },

  // ---- invites --------------------------------------------------------------------------
  {
    route: 'POST /api/v1/orgs/{orgId}/invites',
    request: (ctx) => ({ path: org(ctx, '/invites'), body: { role: 'member', maxUses: 1 } }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(201)),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/invites',
    request: (ctx) => ({ path: org(ctx, '/invites') }),
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'DELETE /api/v1/orgs/{orgId}/invites/{inviteId}',
    request: async (ctx) => {
      const invite = await ctx.freshInvite(ctx.w.orgId);
      return { path: org(ctx, `/invites/${invite.id}`) };
    },
    sideEffect: tenantState,
    expect: tenant(MANAGERS(204)),
  },
  {
    route: 'POST /api/v1/orgs/{orgId}/invites/{inviteId}/resend',
    request: async (ctx) => {
      const res = await ctx.t
        .http()
        .post(org(ctx, '/invites'))
        .set(ctx.w.owner.auth)
        .send({ email: uniqueEmail('resend'), role: 'member' });
      return { path: org(ctx, `/invites/${res.body.id}/resend`) };
    },
    sideEffect: tenantState,
    expect: tenant(MANAGERS(200)),
  },
  {
    // A code of a fresh org: its members already belong (409); anyone else joins.
    route: 'POST /api/v1/invites/accept',
    request: async (ctx) => {
      const orgId = await ctx.freshOrg();
      const invite = await ctx.freshInvite(orgId);
      return { path: api('/invites/accept'), body: { token: invite.token }, orgId };
    },
    sideEffect: tenantState,
    expect: { ...signedIn(409), outsider: 200, stranger: 200 },
  },

  // ---- projects -------------------------------------------------------------------------
  {
    route: 'POST /api/v1/orgs/{orgId}/projects',
    request: (ctx) => ({ path: org(ctx, '/projects'), body: { name: `P ${Math.random()}` } }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(201)),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/projects',
    request: (ctx) => ({ path: org(ctx, '/projects') }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/projects/{projectId}',
    request: (ctx) => ({ path: project(ctx) }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'PATCH /api/v1/orgs/{orgId}/projects/{projectId}',
    request: (ctx) => ({ path: project(ctx), body: { description: 'changed' } }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'DELETE /api/v1/orgs/{orgId}/projects/{projectId}',
    request: async (ctx) => {
      const res = await ctx.t
        .http()
        .post(org(ctx, '/projects'))
        .set(ctx.w.owner.auth)
        .send({ name: `Doomed ${Math.random()}` });
      return { path: org(ctx, `/projects/${res.body.id}`) };
    },
    sideEffect: tenantState,
    expect: tenant(MANAGERS(204)),
  },

  // ---- tasks ----------------------------------------------------------------------------
  {
    route: 'POST /api/v1/orgs/{orgId}/projects/{projectId}/tasks',
    request: (ctx) => ({
      path: project(ctx, '/tasks'),
      body: { title: 'Matrix task', assigneeId: ctx.w.member.id },
    }),
    sideEffect: tenantState,
    expect: tenant({ owner: 201, admin: 201, member: 201, viewer: 403 }),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/projects/{projectId}/tasks',
    request: (ctx) => ({ path: project(ctx, '/tasks'), query: { assigneeId: ctx.w.member.id } }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/tasks',
    request: (ctx) => ({ path: org(ctx, '/tasks'), query: { projectId: ctx.w.projectId } }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/tasks/export.csv',
    request: (ctx) => ({
      path: org(ctx, '/tasks/export.csv'),
      query: { projectId: ctx.w.projectId },
    }),
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/stats',
    request: (ctx) => ({ path: org(ctx, '/stats'), query: { projectId: ctx.w.projectId } }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/projects/{projectId}/board',
    request: (ctx) => ({ path: project(ctx, '/board') }),
    expect: tenant(READ_ALL),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}',
    request: (ctx, caller) => ({ path: task(ctx, worldTask(ctx, caller)) }),
    expect: tenant(TASK_READ),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}/activity',
    request: (ctx, caller) => ({ path: task(ctx, worldTask(ctx, caller), '/activity') }),
    expect: tenant(TASK_READ),
  },
  {
    route: 'PATCH /api/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}',
    request: (ctx, caller) => ({
      path: task(ctx, worldTask(ctx, caller)),
      body: { title: `renamed by ${caller}`, priority: 'high' },
    }),
    sideEffect: tenantState,
    expect: tenant(TASK_UPDATE),
  },
  {
    route: 'POST /api/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}/move',
    request: async (ctx, caller) => ({
      path: task(ctx, await ctx.freshTask(caller), '/move'),
      body: { status: 'in_progress' },
    }),
    sideEffect: tenantState,
    expect: tenant(TASK_UPDATE),
  },
  {
    route: 'DELETE /api/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}',
    request: async (ctx, caller) => ({ path: task(ctx, await ctx.freshTask(caller)) }),
    sideEffect: tenantState,
    expect: tenant(TASK_DELETE),
  },

  // ---- activity -------------------------------------------------------------------------
  {
    route: 'GET /api/v1/orgs/{orgId}/audit-log',
    request: (ctx) => ({
      path: org(ctx, '/audit-log'),
      query: { targetId: ctx.w.projectId, actorId: ctx.w.owner.id },
    }),
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'POST /api/v1/orgs/{orgId}/events/ticket',
    request: (ctx) => ({ path: org(ctx, '/events/ticket') }),
    expect: tenant({ owner: 201, admin: 201, member: 201, viewer: 201 }),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/events',
    request: (ctx) => ({ path: org(ctx, '/events'), stream: true }),
    expect: tenant(READ_ALL),
  },

  // ---- webhooks (owners and admins) -----------------------------------------------------
  {
    route: 'POST /api/v1/orgs/{orgId}/webhooks',
    request: (ctx) => ({
      path: org(ctx, '/webhooks'),
      body: { url: 'https://hooks.example.test/new', enabled: false },
    }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(201)),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/webhooks',
    request: (ctx) => ({ path: org(ctx, '/webhooks') }),
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/webhooks/{webhookId}',
    request: async (ctx) => ({ path: org(ctx, `/webhooks/${await ctx.freshWebhook()}`) }),
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'PATCH /api/v1/orgs/{orgId}/webhooks/{webhookId}',
    request: async (ctx) => ({
      path: org(ctx, `/webhooks/${await ctx.freshWebhook()}`),
      body: { description: 'changed' },
    }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'DELETE /api/v1/orgs/{orgId}/webhooks/{webhookId}',
    request: async (ctx) => ({ path: org(ctx, `/webhooks/${await ctx.freshWebhook()}`) }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(204)),
  },
  {
    route: 'POST /api/v1/orgs/{orgId}/webhooks/{webhookId}/rotate-secret',
    request: async (ctx) => ({
      path: org(ctx, `/webhooks/${await ctx.freshWebhook()}/rotate-secret`),
    }),
    sideEffect: tenantState,
    expect: tenant(MANAGERS(200)),
  },
  {
    route: 'GET /api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries',
    request: async (ctx) => ({
      path: org(ctx, `/webhooks/${await ctx.freshWebhook()}/deliveries`),
    }),
    expect: tenant(MANAGERS(200)),
  },
  {
    // The delivery's own row: the job runner moves deliveries, so no org-wide hash here.
    route: 'POST /api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
    request: async (ctx) => {
      const webhookId = await ctx.freshWebhook(true);
      const deliveryId = await ctx.failedDelivery(webhookId);
      return { path: org(ctx, `/webhooks/${webhookId}/deliveries/${deliveryId}/redeliver`) };
    },
    sideEffect: async (ctx, req) =>
      ctx.t.dataSource.query(`SELECT status, attempts FROM webhook_deliveries WHERE id = $1`, [
        req.path.split('/').at(-2),
      ]),
    expect: tenant(MANAGERS(202)),
  },
];
