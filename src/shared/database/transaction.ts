import { Logger } from '@nestjs/common';
import { EntityManager, QueryRunner } from 'typeorm';

export type DatabaseRole = 'worklane_app' | 'worklane_system';

export interface TransactionScope {
  role: DatabaseRole;
  orgId?: string;
  userId?: string;
}

/**
 * One database transaction with its tenant settings, plus the work to run once it
 * commits (after-commit event handlers). Settings are transaction-local
 * (`set_config(..., true)`), so the connection goes back to the pool carrying none.
 */
export class Transaction {
  private static readonly logger = new Logger('Transaction');
  private readonly afterCommit: Array<() => Promise<void> | void> = [];
  private state: 'open' | 'committed' | 'rolled back' = 'open';

  private constructor(
    private readonly runner: QueryRunner,
    readonly scope: TransactionScope,
  ) {}

  static async begin(runner: QueryRunner, scope: TransactionScope): Promise<Transaction> {
    try {
      await runner.connect();
      await runner.startTransaction();
      await runner.query(
        `SELECT set_config('role', $1, true), set_config('app.org_id', $2, true), set_config('app.user_id', $3, true)`,
        [scope.role, scope.orgId ?? '', scope.userId ?? ''],
      );
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
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
    await this.runner.query(`SELECT set_config('app.org_id', $1, true)`, [orgId]);
    (this.scope as { orgId?: string }).orgId = orgId;
  }

  /** Runs `fn` under another role inside this transaction, then returns to this one's. */
  async withRole<T>(role: DatabaseRole, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    if (role === this.scope.role) return fn(this.manager);
    await this.runner.query(`SELECT set_config('role', $1, true)`, [role]);
    try {
      return await fn(this.manager);
    } finally {
      if (this.isOpen && this.runner.isTransactionActive) {
        await this.runner.query(`SELECT set_config('role', $1, true)`, [this.scope.role]);
      }
    }
  }

  onCommit(fn: () => Promise<void> | void): void {
    this.afterCommit.push(fn);
  }

  async commit(): Promise<void> {
    if (this.state !== 'open') return;
    try {
      await this.runner.commitTransaction();
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
        .catch((error) => Transaction.logger.error(`after-commit handler failed: ${String(error)}`));
    }
  }

  async rollback(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'rolled back';
    try {
      if (this.runner.isTransactionActive) await this.runner.rollbackTransaction();
    } finally {
      if (!this.runner.isReleased) await this.runner.release();
    }
  }
}
