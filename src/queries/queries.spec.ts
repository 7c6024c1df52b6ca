import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntityManager } from 'typeorm';
import { EmailTokensRepository } from '../accounts/email-tokens.repository';
import { SessionsRepository } from '../accounts/sessions.repository';
import { UsersRepository } from '../accounts/users.repository';
import { AuditLogRepository } from '../activity/audit-log.repository';
import { EventTicketsRepository } from '../activity/event-tickets.repository';
import { InvitesRepository } from '../organizations/invites.repository';
import { OrganizationsRepository } from '../organizations/organizations.repository';
import { ProjectsRepository } from '../projects/projects.repository';
import { DatabaseTopology } from '../shared/database/topology';
import { EventLogRepository } from '../shared/events/event-log.repository';
import { IdempotencyKeysRepository } from '../shared/http/idempotency-keys.repository';
import { MailRepository } from '../shared/mail/mail.repository';
import { TaskFilter, TaskOrder, TasksRepository } from '../tasks/tasks.repository';
import { WebhookDeliveriesRepository } from '../webhooks/webhook-deliveries.repository';
import { WebhooksRepository } from '../webhooks/webhooks.repository';
import { OrgCreated } from '../organizations/organization.events';

/**
 * Every statement each repository sends, written to `src/queries/<repository>.sql` (as
 * immich's `src/queries/*.sql`): a change to a statement shows in review as a diff of
 * that file. This spec fails when a file drifts from the code; `UPDATE_SQL=1 npx jest
 * src/queries` rewrites them. No database: each method runs against a recording manager,
 * once with every lookup finding a row and once with none, so both branches' statements
 * are written. A repository method with no call below fails the spec too.
 */

const ID = '00000000-0000-4000-8000-000000000001';
/** The statements of one PostgreSQL server (Citus has its own variants of a few). */
const ONE_SERVER = { citus: false } as DatabaseTopology;
const HASH = Buffer.from('hash');
const AT = new Date('2026-01-01T00:00:00Z');

/** A row that has whatever column is asked for (never a thenable). */
const anyRow: object = new Proxy(
  {},
  { get: (_, key) => (key === 'then' || typeof key === 'symbol' ? undefined : '1') },
);

/** An EntityManager that keeps the SQL it is sent and answers one row, or none. */
function recordingManager(found: boolean, log: string[]): EntityManager {
  return new Proxy({} as EntityManager, {
    get(_, method) {
      if (method === 'then' || typeof method === 'symbol') return undefined;
      if (method === 'query')
        return async (sql: string) => {
          log.push(sql);
          return found ? [anyRow] : [];
        };
      // TypeORM's own calls: named, not rendered (`create` is synchronous, the rest async).
      return (...args: unknown[]) => {
        const [target, ...rest] = args;
        const entity = typeof target === 'function' ? target.name : JSON.stringify(target);
        log.push(
          `-- TypeORM: em.${String(method)}(${[entity, ...rest.map((a) => JSON.stringify(a))].join(', ')})`,
        );
        if (method === 'create') return rest[0];
        return Promise.resolve(method === 'save' ? target : found ? anyRow : null);
      };
    },
  });
}

type Calls<R> = Record<string, (repo: R, em: EntityManager) => unknown>;

const taskFilter: TaskFilter = {
  projectId: ID,
  statuses: ['todo', 'done'],
  priorities: ['high'],
  assigneeId: ID,
  dueBefore: '2026-12-31',
  dueAfter: '2026-01-01',
  overdue: true,
  q: 'report',
};
const sorts: TaskOrder[] = (
  ['createdAt', 'updatedAt', 'priority', 'rank', 'dueDate'] as const
).flatMap((sort) => (['asc', 'desc'] as const).map((direction) => ({ sort, direction })));
const column = { orgId: ID, projectId: ID, status: 'todo' as const };
const card = { id: ID, projectId: ID, status: 'todo' as const, rank: 'a0' };

const repositories: Array<[object, Calls<any>]> = [
  [
    new EmailTokensRepository(),
    {
      insert: (r: EmailTokensRepository, em) =>
        r.insert(em, {
          tokenHash: HASH,
          userId: ID,
          purpose: 'verify_email',
          email: 'a@b.c',
          expiresAt: AT,
        }),
      retire: (r: EmailTokensRepository, em) => r.retire(em, ID, ['verify_email']),
      spend: (r: EmailTokensRepository, em) => r.spend(em, HASH, ['verify_email']),
    },
  ],
  [
    new SessionsRepository(),
    {
      create: (r: SessionsRepository, em) => r.create(em, { userId: ID, expiresAt: AT }),
      addToken: (r: SessionsRepository, em) => r.addToken(em, ID, HASH, AT),
      spendToken: (r: SessionsRepository, em) => r.spendToken(em, ID, HASH),
      isLive: (r: SessionsRepository, em) => r.isLive(em, ID, ID),
      findForUpdate: (r: SessionsRepository, em) => r.findForUpdate(em, ID),
      touch: (r: SessionsRepository, em) => r.touch(em, ID, AT),
      sessionOfToken: (r: SessionsRepository, em) => r.sessionOfToken(em, ID, HASH),
      revoke: (r: SessionsRepository, em) => r.revoke(em, ID, 'logout'),
      revokeAllOf: async (r: SessionsRepository, em) => {
        await r.revokeAllOf(em, ID, 'logout_all');
        await r.revokeAllOf(em, ID, 'password_changed', ID);
      },
    },
  ],
  [
    new UsersRepository(),
    {
      findById: (r: UsersRepository, em) => r.findById(em, ID),
      findByEmail: (r: UsersRepository, em) => r.findByEmail(em, 'a@b.c'),
      insert: (r: UsersRepository, em) =>
        r.insert(em, { email: 'a@b.c', name: 'A', passwordHash: 'h' }),
      update: (r: UsersRepository, em) => r.update(em, ID, { name: 'A' }),
      markVerified: (r: UsersRepository, em) => r.markVerified(em, ID, 'a@b.c'),
      cards: (r: UsersRepository, em) => r.cards(em, [ID]),
      idByEmail: (r: UsersRepository, em) => r.idByEmail(em, 'a@b.c'),
    },
  ],
  [
    new AuditLogRepository(),
    {
      append: (r: AuditLogRepository, em) =>
        r.append(em, [
          {
            orgId: ID,
            actorId: ID,
            action: 'task.created',
            targetType: 'task',
            targetId: ID,
            changes: {},
            requestId: null,
            createdAt: AT,
          } as never,
        ]),
      list: async (r: AuditLogRepository, em) => {
        await r.list(em, ID, {}, 20, null);
        await r.list(
          em,
          ID,
          {
            action: 'task.created',
            actorId: ID,
            targetType: 'task',
            targetId: ID,
            since: AT,
            until: AT,
          },
          20,
          '10',
        );
      },
    },
  ],
  [
    new EventTicketsRepository(),
    {
      issue: (r: EventTicketsRepository, em) =>
        r.issue(em, { orgId: ID, hash: HASH, userId: ID, sessionId: ID, expiresAt: AT }),
      redeem: (r: EventTicketsRepository, em) => r.redeem(em, ID, HASH),
    },
  ],
  [
    new InvitesRepository(),
    {
      insert: (r: InvitesRepository, em) =>
        r.insert(em, {
          orgId: ID,
          kind: 'email',
          email: 'a@b.c',
          role: 'member',
          tokenHash: HASH,
          maxUses: 1,
          expiresAt: AT,
          createdBy: ID,
          mailId: ID,
        }),
      lockAddress: (r: InvitesRepository, em) => r.lockAddress(em, ID, 'a@b.c'),
      revokePendingBy: (r: InvitesRepository, em) =>
        r.revokePendingBy(em, ID, ID, ['owner', 'admin'], 'creator_demoted'),
      revokeLiveTo: (r: InvitesRepository, em) => r.revokeLiveTo(em, ID, 'a@b.c'),
      listPending: async (r: InvitesRepository, em) => {
        await r.listPending(em, ID, 20, null);
        await r.listPending(em, ID, 20, ['2026-01-01T00:00:00Z', ID]);
      },
      findWithDelivery: (r: InvitesRepository, em) => r.findWithDelivery(em, ID, ID),
      findForUpdate: (r: InvitesRepository, em) => r.findForUpdate(em, ID, ID),
      rotateToken: (r: InvitesRepository, em) =>
        r.rotateToken(em, { orgId: ID, id: ID }, HASH, ID, AT),
      isRetiredToken: (r: InvitesRepository, em) => r.isRetiredToken(em, ID, HASH),
      revoke: (r: InvitesRepository, em) => r.revoke(em, ID, ID),
      findByTokenForUpdate: (r: InvitesRepository, em) => r.findByTokenForUpdate(em, ID, HASH),
      countUse: (r: InvitesRepository, em) => r.countUse(em, ID, ID),
    },
  ],
  [
    new OrganizationsRepository(ONE_SERVER),
    {
      insertOrg: (r: OrganizationsRepository, em) =>
        r.insertOrg(em, { id: ID, name: 'O', createdBy: ID }),
      findOrg: (r: OrganizationsRepository, em) => r.findOrg(em, ID),
      lockOrg: (r: OrganizationsRepository, em) => r.lockOrg(em, ID),
      renameOrg: (r: OrganizationsRepository, em) => r.renameOrg(em, ID, 'O'),
      deleteOrg: (r: OrganizationsRepository, em) => r.deleteOrg(em, ID),
      listForUser: (r: OrganizationsRepository, em) => r.listForUser(em, ID, 20, null),
      insertMembership: (r: OrganizationsRepository, em) =>
        r.insertMembership(em, ID, ID, 'member'),
      roleOf: (r: OrganizationsRepository, em) => r.roleOf(em, ID, ID),
      callerRole: async (r: OrganizationsRepository, em) => {
        await r.callerRole(em, ID, ID, ID, { lockOrg: false });
        await r.callerRole(em, ID, ID, ID, { lockOrg: true });
      },
      // Not run by the repository: it rides in the guard's opening batch, values inlined.
      callerRoleRead: async (r: OrganizationsRepository, em) => {
        for (const lockOrg of [false, true])
          for (const sql of r.callerRoleRead(ID, ID, ID, { lockOrg }).statements)
            await em.query(sql);
      },
      lockOwners: (r: OrganizationsRepository, em) => r.lockOwners(em, ID),
      findMemberForUpdate: (r: OrganizationsRepository, em) => r.findMemberForUpdate(em, ID, ID),
      listMembers: (r: OrganizationsRepository, em) => r.listMembers(em, ID, 20, null),
      updateRole: (r: OrganizationsRepository, em) => r.updateRole(em, ID, ID, 'admin'),
      deleteMembership: (r: OrganizationsRepository, em) => r.deleteMembership(em, ID, ID),
      isMember: (r: OrganizationsRepository, em) => r.isMember(em, ID, ID),
    },
  ],
  [
    new ProjectsRepository(),
    {
      insert: (r: ProjectsRepository, em) =>
        r.insert(em, { orgId: ID, name: 'P', description: null, createdBy: ID }),
      find: async (r: ProjectsRepository, em) => {
        await r.find(em, ID, ID);
        await r.find(em, ID, ID, 'share');
        await r.find(em, ID, ID, 'update');
      },
      list: (r: ProjectsRepository, em) => r.list(em, ID, false, 20, null),
      update: (r: ProjectsRepository, em) =>
        r.update(em, ID, ID, { name: 'P', description: 'd', archived: true }),
      delete: (r: ProjectsRepository, em) => r.delete(em, ID, ID),
    },
  ],
  [
    new TasksRepository(),
    {
      insert: (r: TasksRepository, em) =>
        r.insert(em, {
          orgId: ID,
          projectId: ID,
          title: 'T',
          description: null,
          status: 'todo',
          priority: 'medium',
          assigneeId: null,
          dueDate: null,
          createdBy: ID,
          rank: 'a0',
        }),
      find: async (r: TasksRepository, em) => {
        await r.find(em, ID, ID, ID, false);
        await r.find(em, ID, ID, ID, true);
      },
      list: async (r: TasksRepository, em) => {
        await r.list(em, ID, {}, sorts[0], 20, null);
        for (const order of sorts) await r.list(em, ID, taskFilter, order, 20, ['1', ID]);
      },
      update: (r: TasksRepository, em) =>
        r.update(em, ID, ID, {
          title: 'T',
          description: 'd',
          status: 'done',
          priority: 'high',
          assigneeId: ID,
          dueDate: '2026-01-01',
          rank: 'a1',
        }),
      lockColumn: (r: TasksRepository, em) => r.lockColumn(em, column),
      places: (r: TasksRepository, em) => r.places(em, ID, [ID]),
      gap: async (r: TasksRepository, em) => {
        await r.gap(em, column, ID, card, card);
        await r.gap(em, column, ID, card, null);
        await r.gap(em, column, ID, null, card);
        await r.gap(em, column, null, null, null);
      },
      lockForRebalance: async (r: TasksRepository, em) => {
        await r.lockForRebalance(em, column, ID, true);
        await r.lockForRebalance(em, column, null, false);
      },
      rebalance: (r: TasksRepository, em) => r.rebalance(em, column, ID, ['a0']),
      board: (r: TasksRepository, em) => r.board(em, ID, { ...taskFilter, projectId: ID }, 20),
      delete: (r: TasksRepository, em) => r.delete(em, ID, ID),
      unassignAll: (r: TasksRepository, em) => r.unassignAll(em, ID, ID),
      stats: (r: TasksRepository, em) => r.stats(em, ID, ID),
      stream: async (r: TasksRepository, em) => {
        for await (const _ of r.stream(em, ID, taskFilter)) void _;
      },
    },
  ],
  [
    new WebhookDeliveriesRepository(ONE_SERVER),
    {
      fanOut: (r: WebhookDeliveriesRepository, em) =>
        r.fanOut(em, ID, [{ type: 'task.created', position: 1, body: '{}' }]),
      // As Citus runs it: the org's webhooks, then the deliveries as VALUES.
      fanOutOnCitus: (_: WebhookDeliveriesRepository, em) =>
        new WebhookDeliveriesRepository({ citus: true } as DatabaseTopology).fanOut(em, ID, [
          { type: 'task.created', position: 1, body: '{}' },
        ]),
      find: (r: WebhookDeliveriesRepository, em) => r.find(em, ID, ID, ID),
      forAttempt: (r: WebhookDeliveriesRepository, em) => r.forAttempt(em, ID, ID),
      list: (r: WebhookDeliveriesRepository, em) => r.list(em, ID, ID, 20, null),
      recordAttempt: (r: WebhookDeliveriesRepository, em) =>
        r.recordAttempt(
          em,
          ID,
          ID,
          { at: AT.toISOString(), httpStatus: 500, latencyMs: 1, error: null },
          { status: 'pending', nextAttemptInSeconds: 5 },
        ),
      abandon: (r: WebhookDeliveriesRepository, em) => r.abandon(em, ID, ID),
      reopen: (r: WebhookDeliveriesRepository, em) => r.reopen(em, ID, ID),
      pruneFinishedOlderThan: (r: WebhookDeliveriesRepository, em) =>
        r.pruneFinishedOlderThan(em, 30, 5000),
    },
  ],
  [
    new WebhooksRepository(),
    {
      insert: (r: WebhooksRepository, em) =>
        r.insert(em, {
          orgId: ID,
          url: 'https://example.com/hook',
          events: ['*'],
          description: null,
          enabled: true,
          secret: 's',
          createdBy: ID,
        }),
      find: async (r: WebhooksRepository, em) => {
        await r.find(em, ID, ID);
        await r.find(em, ID, ID, true);
      },
      list: (r: WebhooksRepository, em) => r.list(em, ID, 20, null),
      update: (r: WebhooksRepository, em) =>
        r.update(em, ID, ID, {
          url: 'https://example.com/h',
          events: ['*'],
          description: 'd',
          enabled: false,
        }),
      rotateSecret: (r: WebhooksRepository, em) => r.rotateSecret(em, ID, ID, 's', 24),
      delete: (r: WebhooksRepository, em) => r.delete(em, ID, ID),
      signing: (r: WebhooksRepository, em) => r.signing(em, ID, ID),
      markHealthy: (r: WebhooksRepository, em) => r.markHealthy(em, ID, ID),
      markFailing: (r: WebhooksRepository, em) => r.markFailing(em, ID, ID, 'timeout', 72),
    },
  ],
  [
    new EventLogRepository(ONE_SERVER),
    {
      append: (r: EventLogRepository, em) => r.append(em, ID, [new OrgCreated(ID, ID, 'O')], null),
      // The same append as Citus runs it: head, rows and NOTIFY as statements of their own.
      appendOnCitus: (_: EventLogRepository, em) =>
        new EventLogRepository({ citus: true } as DatabaseTopology).append(
          em,
          ID,
          [new OrgCreated(ID, ID, 'O')],
          null,
        ),
      after: (r: EventLogRepository, em) => r.after(em, ID, 1, 100),
      bounds: (r: EventLogRepository, em) => r.bounds(em, ID),
      pruneOlderThan: (r: EventLogRepository, em) => r.pruneOlderThan(em, 30, 5000),
    },
  ],
  [
    new IdempotencyKeysRepository(),
    {
      claim: (r: IdempotencyKeysRepository, em) =>
        r.claim(em, { userId: ID, digest: 'd', orgId: ID, requestHash: HASH }),
      lockExisting: (r: IdempotencyKeysRepository, em) => r.lockExisting(em, ID, 'd'),
      restart: (r: IdempotencyKeysRepository, em) =>
        r.restart(em, { userId: ID, digest: 'd', orgId: ID, requestHash: HASH }),
      complete: (r: IdempotencyKeysRepository, em) => r.complete(em, ID, 'd', 201, HASH),
      purgeExpired: (r: IdempotencyKeysRepository, em) => r.purgeExpired(em),
    },
  ],
  [
    new MailRepository(),
    {
      insert: (r: MailRepository, em) =>
        r.insert(em, {
          orgId: ID,
          purpose: 'invite',
          to: 'a@b.c',
          subject: 's',
          text: 't',
          html: 'h',
        }),
      find: (r: MailRepository, em) => r.find(em, ID),
      markSent: (r: MailRepository, em) => r.markSent(em, ID, 1),
      markAttemptFailed: async (r: MailRepository, em) => {
        await r.markAttemptFailed(em, ID, 1, 'refused', false);
        await r.markAttemptFailed(em, ID, 5, 'refused', true);
      },
      cancel: (r: MailRepository, em) => r.cancel(em, [ID]),
    },
  ],
];

/** `TasksRepository` → `tasks.repository.sql`. */
const fileOf = (repo: object) =>
  `${repo.constructor.name
    .replace(/Repository$/, '')
    .replace(/(?<!^)([A-Z])/g, '-$1')
    .toLowerCase()}.repository.sql`;

/** The SQL each method sends, with and without rows found, in order, each statement once. */
async function render(repo: object, calls: Calls<any>): Promise<string> {
  const sections: string[] = [];
  for (const [method, call] of Object.entries(calls)) {
    const log: string[] = [];
    for (const found of [true, false]) {
      try {
        await call(repo, recordingManager(found, log));
      } catch {
        // A method that needs a real row after a statement stops there: what it sent is kept.
      }
    }
    const statements = [...new Set(log)];
    sections.push(
      `-- ${repo.constructor.name}.${method}\n${statements.map((s) => (s.startsWith('--') ? s : `${s.trim()};`)).join('\n\n')}\n`,
    );
  }
  return `-- Generated by src/queries/queries.spec.ts (UPDATE_SQL=1 npx jest src/queries): do not edit.\n\n${sections.join('\n')}`;
}

describe('repository SQL', () => {
  it.each(repositories.map(([repo, calls]) => [repo.constructor.name, repo, calls] as const))(
    '%s: every method has a call, and its statements match src/queries',
    async (_name, repo, calls) => {
      const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(repo)).filter(
        (m) => m !== 'constructor',
      );
      expect(methods.filter((m) => !(m in calls))).toEqual([]);
      const path = join(__dirname, fileOf(repo));
      const rendered = await render(repo, calls);
      if (process.env.UPDATE_SQL === '1') writeFileSync(path, rendered);
      if (!existsSync(path))
        throw new Error(`${path} is missing: UPDATE_SQL=1 npx jest src/queries`);
      expect(rendered).toBe(readFileSync(path, 'utf8'));
    },
  );
});
