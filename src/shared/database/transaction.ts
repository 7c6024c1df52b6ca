import { Logger } from '@nestjs/common';
import { EntityManager, QueryRunner } from 'typeorm';
import { isUuid } from '../uuid';

export type DatabaseRole = 'worklane_app' | 'worklane_system';

export interface TransactionScope {
  role: DatabaseRole;
  orgId?: string;
  userId?: string;
}

/**
 * One database transaction with its tenant settings, plus the work to run once it
 * commits (after-commit event handlers). Settings are transaction-local (`SET LOCAL`), so
 * the connection goes back to the pool carrying none. `SET LOCAL`, not `set_config`: on
 * Citus only the former reaches the shards (with `citus.propagate_set_commands = 'local'`),
 * where row-level security reads them; on one server the two are the same.
 */
export class Transaction {
  private static readonly logger = new Logger('Transaction');
  private readonly afterCommit: Array<() => Promise<void> | void> = [];
  private state: 'open' | 'committed' | 'rolled back' = 'open';

  private constructor(
    private readonly runner: QueryRunner,
    readonly scope: TransactionScope,
  ) {}

  /**
   * BEGIN and the tenant settings go in one round trip (a simple-protocol batch), which is
   * why the values are checked and inlined here rather than bound: roles come from a
   * closed set and ids must be uuids. On Citus, two: Citus forwards a `SET LOCAL` to the
   * workers as the whole query string that carried it, so the tenant settings travel in a
   * string of their own (with BEGIN or the role in it, workers would get those too).
   */
  static async begin(
    runner: QueryRunner,
    scope: TransactionScope,
    { citus = false }: { citus?: boolean } = {},
  ): Promise<Transaction> {
    const role = setLocal('role', scope.role);
    const tenant = [
      setLocal('app.org_id', scope.orgId ?? ''),
      setLocal('app.user_id', scope.userId ?? ''),
    ].join('; ');
    try {
      await runner.connect();
      if (citus) {
        await runner.query(
          `START TRANSACTION; ${role}; SET LOCAL citus.propagate_set_commands = 'local'`,
        );
        await runner.query(tenant);
      } else {
        await runner.query(`START TRANSACTION; ${role}; ${tenant}`);
      }
      markActive(runner, true);
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      await runner.release();
      throw error;
    }
    return new Transaction(runner, scope);
  }

  get manager(): EntityManager {
    return this.runner.manager;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Narrows an open transaction to one org (the membership guard, once it knows it). */
  async setOrg(orgId: string): Promise<void> {
    await this.runner.query(setLocal('app.org_id', orgId));
    (this.scope as { orgId?: string }).orgId = orgId;
  }

  /** Runs `fn` under another role inside this transaction, then returns to this one's. */
  async withRole<T>(role: DatabaseRole, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (role === this.scope.role) return fn(this.manager);
    await this.runner.query(setLocal('role', role));
    try {
      return await fn(this.manager);
    } finally {
      if (this.isOpen && this.runner.isTransactionActive) {
        await this.runner.query(setLocal('role', this.scope.role));
      }
    }
  }

  onCommit(fn: () => Promise<void> | void): void {
    this.afterCommit.push(fn);
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') return;
    try {
      await this.runner.query('COMMIT');
      markActive(this.runner, false);
      this.state = 'committed';
    } catch (error) {
      await this.rollback();
      throw error;
    } finally {
      if (!this.runner.isReleased) await this.runner.release();
    }
    for (const fn of this.afterCommit) {
      // The change is committed: a failing follower must not turn it into an error.
      await Promise.resolve()
        .then(fn)
        .catch((error) =>
          Transaction.logger.error(`after-commit handler failed: ${String(error)}`),
        );
    }
  }

  async rollback(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'rolled back';
    try {
      await this.runner.query('ROLLBACK');
      markActive(this.runner, false);
    } finally {
      if (!this.runner.isReleased) await this.runner.release();
    }
  }
}

const ROLES = new Set<string>(['worklane_app', 'worklane_system']);

/**
 * A transaction-local setting of a checked value (SET takes no parameters, so values are
 * inlined). The tenant settings by `SET LOCAL`, which Citus sends to every worker
 * connection of the transaction. The role by `set_config`, which it does not: the
 * coordinator opens its worker connections as the current role, so they are the app
 * role's already, and a SECURITY DEFINER function's (`session_is_live`) must stay its
 * owner's on the workers too.
 */
function setLocal(name: string, value: string): string {
  return name === 'role'
    ? `SELECT set_config('role', '${checked(name, value)}', true)`
    : `SET LOCAL ${name} = '${checked(name, value)}'`;
}

/** A value that may be inlined in the BEGIN batch, or a programming error. */
function checked(name: string, value: string): string {
  const ok = name === 'role' ? ROLES.has(value) : value === '' || isUuid(value);
  if (!ok) throw new Error(`refusing ${name} = ${JSON.stringify(value)} in a transaction prologue`);
  return value;
}

/**
 * Tells TypeORM the runner is inside our transaction, so that its own helpers (`save`)
 * join it instead of opening a nested one. We issue BEGIN/COMMIT ourselves.
 */
function markActive(runner: QueryRunner, active: boolean): void {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = active;
  state.transactionDepth = active ? 1 : 0;
}
