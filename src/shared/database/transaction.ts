import { Logger } from '@nestjs/common';
import { EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { inlineParameters } from './inline-parameters';
import { isUuid } from '../uuid';

export type DatabaseRole = 'worklane_app' | 'worklane_system';

export interface TransactionScope {
  role: DatabaseRole;
  orgId?: string;
  userId?: string;
}

/**
 * A read that rides in the transaction's opening batch, saving a round trip: statements
 * whose values are already inlined (checked literals only, see `uuidLiteral`), and how to
 * turn their rows (one list per statement) into an answer.
 */
export interface OpeningRead<T> {
  statements: string[];
  read(results: Array<Array<Record<string, unknown>>>): T;
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
  /**
   * Whether the transaction may end with a read (`finishWith`): set for a read request,
   * whose last statement is its answer, by the guard that opened it.
   */
  mayEndWithRead = false;

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
    options: { citus?: boolean } = {},
  ): Promise<Transaction> {
    const [transaction] = await Transaction.beginWith(runner, scope, [], options);
    return transaction;
  }

  /**
   * BEGIN, the settings and `reads` in one round trip: the membership guard's lookup goes
   * this way (and the path's project and task), so a tenant request's first answers cost
   * no trip of their own. Answers come in the order of `reads`. With `commit`, a read
   * whose answer is all in `reads` ends here too. On Citus the reads (and the COMMIT) go
   * in a third string, after the settings' own.
   */
  static async beginWith(
    runner: QueryRunner,
    scope: TransactionScope,
    reads: ReadonlyArray<OpeningRead<unknown>>,
    { commit = false, citus = false }: { commit?: boolean; citus?: boolean } = {},
  ): Promise<[Transaction, unknown[]]> {
    const role = setLocal('role', scope.role);
    const tenant = [
      setLocal('app.org_id', scope.orgId ?? ''),
      setLocal('app.user_id', scope.userId ?? ''),
    ].join('; ');
    const tail = [...reads.flatMap((r) => r.statements), ...(commit ? ['COMMIT'] : [])];
    let answers: unknown[];
    for (let attempt = 1; ; attempt++) {
      try {
        // The driver's own client: for a batch it answers one result per statement, which
        // TypeORM's query() would flatten away.
        const client = (await runner.connect()) as { query(sql: string): Promise<unknown> };
        const send = async (text: string) => {
          const answer = (await client.query(text)) as Result | Result[];
          return Array.isArray(answer) ? answer : [answer];
        };
        let results: Result[];
        if (citus) {
          await send(
            `START TRANSACTION; ${role}; SET LOCAL citus.propagate_set_commands = 'local'`,
          );
          await send(tenant);
          results = tail.length > 0 ? await send(tail.join('; ')) : [];
        } else {
          results = await send([`START TRANSACTION; ${role}; ${tenant}`, ...tail].join('; '));
        }
        markActive(runner, true);
        // The reads' results are the batch's last ones (before COMMIT's), in order.
        let next =
          results.length - (commit ? 1 : 0) - reads.reduce((n, r) => n + r.statements.length, 0);
        answers = reads.map((read) => {
          const own = results.slice(next, (next += read.statements.length));
          return read.read(own.map((result) => result.rows));
        });
        break;
      } catch (error) {
        await runner.query('ROLLBACK').catch(() => undefined);
        // A tenant's shard split or moved between the plan and the run: nothing was done
        // yet, so the opening goes again once, on the new placement.
        if (citus && attempt === 1 && SHARD_RETIRED.test(String((error as Error)?.message))) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        await runner.release();
        throw error;
      }
    }
    const transaction = new Transaction(runner, scope);
    if (commit) {
      markActive(runner, false);
      transaction.state = 'committed';
      await runner.release();
    }
    return [transaction, answers];
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
    await this.end(() => this.runner.query('COMMIT'));
  }

  /**
   * The transaction's last statement, a read, and COMMIT in one round trip: a simple-
   * protocol batch, so the values are inlined — as the driver itself renders them, as
   * text of no declared type, which is exactly what it would send as bound parameters.
   */
  async finishWith<T>(sql: string, params: unknown[]): Promise<T[]> {
    if (this.state !== 'open' || !this.mayEndWithRead)
      throw new Error('finishWith: not allowed here');
    const results = await this.end(async () => {
      const client = (await this.runner.connect()) as { query(sql: string): Promise<unknown> };
      try {
        return (await client.query(`${inlineParameters(sql, params)}; COMMIT`)) as Array<{
          rows: T[];
        }>;
      } catch (error) {
        // What TypeORM would have thrown, so the problem filter reads it the same way.
        throw new QueryFailedError(sql, params, error as Error);
      }
    });
    return results[0]!.rows;
  }

  /** Sends what commits; on success marks it committed, then runs the after-commit work. */
  private async end<R>(send: () => Promise<R>): Promise<R> {
    let result: R;
    try {
      result = await send();
      markActive(this.runner, false);
      this.state = 'committed';
    } catch (error) {
      // The commit's own failure is the answer; a ROLLBACK on a dead connection must not
      // replace it.
      await this.rollback().catch(() => undefined);
      throw error;
    } finally {
      if (!this.runner.isReleased) await this.runner.release();
    }
    await this.runAfterCommit();
    return result;
  }

  private async runAfterCommit(): Promise<void> {
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

type Result = { rows: Array<Record<string, unknown>> };

/** Citus's answer to a statement planned for a shard that a split or move just retired. */
const SHARD_RETIRED = /could not find valid entry for shard/;

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
