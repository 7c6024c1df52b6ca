import { randomUUID } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import { DataSource, EntityManager } from 'typeorm';
import { AccountsUserDirectory } from '../../src/accounts/user-directory';
import { InvitesRepository } from '../../src/organizations/invites.repository';
import { MembersService } from '../../src/organizations/members.service';
import { OrganizationsMembershipDirectory } from '../../src/organizations/membership-directory';
import { OrganizationsRepository } from '../../src/organizations/organizations.repository';
import { ProjectsRepository } from '../../src/projects/projects.repository';
import { ProjectsService } from '../../src/projects/projects.service';
import { UsersRepository } from '../../src/accounts/users.repository';
import { Env, validateEnv } from '../../src/shared/config/env';
import { dataSourceOptions } from '../../src/shared/database/data-source-options';
import { OrgRole, RequestContext } from '../../src/shared/database/request-context';
import { Transaction } from '../../src/shared/database/transaction';
import { UnitOfWork } from '../../src/shared/database/unit-of-work';
import { DomainEvent } from '../../src/shared/events/domain-event';
import { EventBus } from '../../src/shared/events/event-bus';
import { EventFeed } from '../../src/shared/events/event-feed';
import { EventLogRepository } from '../../src/shared/events/event-log.repository';
import type { Jobs } from '../../src/shared/jobs/jobs';
import { MailQueue } from '../../src/shared/mail/mail-queue';
import { MailRepository } from '../../src/shared/mail/mail.repository';
import type { MailService } from '../../src/shared/mail/mail.service';
import { DatabaseTopology } from '../../src/shared/database/topology';

/**
 * The medium tier (immich's `test/medium`): use cases run against the real, migrated test
 * database (DATABASE_URL of the worker), each inside a transaction that is rolled back, so
 * a case costs a few milliseconds and leaves nothing behind. No HTTP, no Nest app: the
 * services are built by hand from their real repositories; only what leaves the process
 * (the job queue, the SMTP transport) is a stub.
 */
export interface Medium {
  dataSource: DataSource;
  uow: UnitOfWork;
  bus: EventBus;
  config: ConfigService<Env, true>;
  users: AccountsUserDirectory;
  /** A mail queue that keeps emails in `queued_mail` and sends none. */
  mail: MailQueue;
  topology: DatabaseTopology;
  close(): Promise<void>;
}

export async function openMedium(): Promise<Medium> {
  const dataSource = await new DataSource(
    dataSourceOptions(process.env.DATABASE_URL!, 2),
  ).initialize();
  const topology = new DatabaseTopology(dataSource);
  await topology.onModuleInit();
  const uow = new UnitOfWork(dataSource, topology);
  const config = new ConfigService<Env, true>(validateEnv(process.env));
  const jobs = { enqueue: async () => null, register: () => undefined } as unknown as Jobs;
  return {
    dataSource,
    uow,
    bus: new EventBus(uow, new EventLogRepository(topology), new EventFeed(dataSource)),
    config,
    users: new AccountsUserDirectory(new UsersRepository()),
    mail: new MailQueue(jobs, uow, new MailRepository(), {} as MailService, config),
    topology,
    close: () => dataSource.destroy(),
  };
}

/**
 * Other modules' services, wired as their modules wire them: what a spec of one module
 * may use of another (this tier's composition root; a module's own spec builds its own).
 */
export function neighbours(medium: Medium) {
  const orgs = new OrganizationsRepository(medium.topology);
  return {
    memberships: new OrganizationsMembershipDirectory(orgs),
    members: new MembersService(
      medium.uow,
      orgs,
      new InvitesRepository(),
      medium.bus,
      medium.mail,
      medium.users,
    ),
    projects: new ProjectsService(medium.uow, new ProjectsRepository(), medium.bus),
  };
}

export type WorldRole = OrgRole | 'outsider';

/** One org with a user in each role, and a user of no org; made in the case's transaction. */
export interface World {
  orgId: string;
  users: Record<WorldRole, { id: string; email: string; name: string }>;
  /** The case's transaction manager, as the table owner (fixtures, ground truth). */
  em: EntityManager;
  /** Runs `fn` as `who`, a member of the org: the request context a route would have. */
  as<T>(who: OrgRole, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` as another user (one `addUser` made) with `role`. */
  asUser<T>(user: { id: string }, role: OrgRole, fn: () => Promise<T>): Promise<T>;
  /** Every event published so far in this case, in order. */
  events: DomainEvent[];
  /** Adds a user to the org (no role: a user of no org). */
  addUser(name: string, role?: OrgRole): Promise<{ id: string; email: string; name: string }>;
}

/**
 * Runs `fn` with a fresh world inside one transaction, rolled back afterwards whatever
 * happens: the database is as it was. Services join the transaction (the unit of work
 * finds it in the context), as they join a request's.
 */
export async function inRolledBackWorld(
  medium: Medium,
  fn: (world: World) => Promise<void>,
): Promise<void> {
  const orgId = randomUUID();
  const transaction = await medium.uow.begin({ role: 'worklane_app', orgId });
  const em = transaction.manager;
  const events: DomainEvent[] = [];
  const unsubscribe = medium.bus.subscribe('*', 'in-transaction', (event) => {
    events.push(event);
  });
  try {
    // Fixtures as the connection's own role (the table owner), then back to the app's.
    await em.query('RESET ROLE');
    const users = {} as World['users'];
    const addUser = async (name: string, role?: OrgRole) => {
      const user = { id: randomUUID(), email: `${name}-${randomUUID()}@example.test`, name };
      await em.query(
        `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, 'x')`,
        [user.id, user.email, user.name],
      );
      if (role) await addMembership(em, orgId, user.id, role);
      return user;
    };
    for (const role of ['owner', 'admin', 'member', 'viewer', 'outsider'] as const) {
      users[role] = await addUser(role);
      if (role === 'owner')
        await em.query(`INSERT INTO organizations (id, name, created_by) VALUES ($1, 'Acme', $2)`, [
          orgId,
          users.owner.id,
        ]);
      if (role !== 'outsider') await addMembership(em, orgId, users[role].id, role);
    }
    const world: World = {
      orgId,
      users,
      em,
      events,
      addUser: async (name, role) => {
        await em.query('RESET ROLE');
        try {
          return await addUser(name, role);
        } finally {
          await appRole(transaction);
        }
      },
      as: (who, fn) => actAs(transaction, orgId, users[who].id, who, fn),
      asUser: (user, role, fn) => actAs(transaction, orgId, user.id, role, fn),
    };
    await appRole(transaction);
    await fn(world);
  } finally {
    unsubscribe();
    await transaction.rollback();
  }
}

function actAs<T>(
  transaction: Transaction,
  orgId: string,
  userId: string,
  role: OrgRole,
  fn: () => Promise<T>,
): Promise<T> {
  return RequestContext.run(
    {
      membership: { orgId, userId, role },
      user: { id: userId, sessionId: randomUUID() },
      transaction,
    },
    async () => {
      await transaction.manager.query(`SELECT set_config('app.user_id', $1, true)`, [userId]);
      return fn();
    },
  );
}

async function addMembership(em: EntityManager, orgId: string, userId: string, role: OrgRole) {
  await em.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)`, [
    orgId,
    userId,
    role,
  ]);
}

async function appRole(transaction: Transaction): Promise<void> {
  await transaction.manager.query(`SELECT set_config('role', 'worklane_app', true)`);
}

/** Asks the database as the table owner (ground truth, past row-level security). */
export async function asOwner<T>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  await em.query('RESET ROLE');
  try {
    return await em.query(sql, params);
  } finally {
    await em.query(`SELECT set_config('role', 'worklane_app', true)`);
  }
}
