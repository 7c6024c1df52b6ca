import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { RequestContext } from './request-context';
import { DatabaseTopology } from './topology';
import { OpeningRead, Transaction, TransactionScope } from './transaction';

/**
 * Every database access runs in a transaction that carries the caller's tenant:
 * `app.org_id` / `app.user_id` set locally and the role dropped to `worklane_app`, so
 * row-level security holds even where a query forgets its `where`.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger(UnitOfWork.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly topology: DatabaseTopology,
  ) {}

  /**
   * Runs `fn` in the current request's transaction, or in a new one scoped to the
   * context's tenant and user, committed when `fn` resolves and rolled back if it throws.
   */
  async run<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const context = RequestContext.current();
    if (context?.transaction?.isOpen) return fn(context.transaction.manager);
    return this.transaction(
      { role: 'worklane_app', orgId: context?.membership?.orgId, userId: context?.user?.id },
      fn,
    );
  }

  /**
   * Runs `fn` scoped to an org that is being created: in the request's transaction if one
   * is open (its org setting switched), else in a new one.
   */
  async runInOrg<T>(
    orgId: string,
    userId: string,
    fn: (em: EntityManager) => Promise<T>,
  ): Promise<T> {
    const transaction = RequestContext.current()?.transaction;
    if (!transaction?.isOpen) return this.transaction({ role: 'worklane_app', orgId, userId }, fn);
    await transaction.setOrg(orgId);
    return fn(transaction.manager);
  }

  /**
   * A named cross-tenant operation (sign-up, invite lookup by token, a user's own
   * memberships). It runs as `worklane_system`, which the policies of each table it may
   * touch name explicitly — there is no global bypass.
   */
  async system<T>(operation: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    this.logger.debug(`system operation: ${operation}`);
    const context = RequestContext.current();
    // Inside an open transaction, switch roles on the same connection: a second
    // connection would wait behind this transaction on the embedded database.
    if (context?.transaction?.isOpen) return context.transaction.withRole('worklane_system', fn);
    return this.transaction({ role: 'worklane_system', userId: context?.user?.id }, fn);
  }

  /** Opens a transaction and makes it the context's until it ends. */
  async transaction<T>(scope: TransactionScope, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const transaction = await this.begin(scope);
    const state = { ...RequestContext.current(), transaction };
    try {
      const result = await RequestContext.run(state, () => fn(transaction.manager));
      await transaction.commit();
      return result;
    } catch (error) {
      await transaction.rollback();
      throw error;
    }
  }

  /** Starts a transaction the caller must end (the request pipeline does, for guards). */
  begin(scope: TransactionScope): Promise<Transaction> {
    return Transaction.begin(this.dataSource.createQueryRunner(), scope, {
      citus: this.topology.citus,
    });
  }

  /**
   * `begin`, with `read` (and `more`) answered in the same round trip as BEGIN; with
   * `commit`, the transaction ends in that trip too.
   */
  async beginWith<T>(
    scope: TransactionScope,
    read: OpeningRead<T>,
    more: ReadonlyArray<OpeningRead<unknown>> = [],
    options: { commit?: boolean } = {},
  ): Promise<[Transaction, T, unknown[]]> {
    const [transaction, [answer, ...rest]] = await Transaction.beginWith(
      this.dataSource.createQueryRunner(),
      scope,
      [read, ...more],
      { ...options, citus: this.topology.citus },
    );
    return [transaction, answer as T, rest];
  }

  /** Registers work to run after the current transaction commits (or now, if none). */
  afterCommit(fn: () => Promise<void> | void): void {
    const transaction = RequestContext.current()?.transaction;
    if (transaction?.isOpen) transaction.onCommit(fn);
    else void Promise.resolve().then(fn);
  }
}
