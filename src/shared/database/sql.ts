import { EntityManager } from 'typeorm';
import { isUuid } from '../uuid';
import { RequestContext } from './request-context';

/**
 * Runs SQL and answers its rows. TypeORM's `query()` answers `[rows, rowCount]` for
 * UPDATE and DELETE (even with RETURNING) but plain rows otherwise; this evens that out.
 */
export async function rows<T = any>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result = await em.query(sql, params);
  return Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}

/** The first row, or undefined. */
export async function one<T = any>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T | undefined> {
  return (await rows<T>(em, sql, params))[0];
}

/** A unique constraint said no (optionally: this constraint). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as {
    code?: string;
    driverError?: { code?: string; constraint?: string };
    constraint?: string;
  };
  const code = e?.driverError?.code ?? e?.code;
  const name = e?.driverError?.constraint ?? e?.constraint;
  return code === '23505' && (!constraint || name === constraint);
}

/**
 * A uuid as an SQL literal, for the few statements that cannot bind parameters (the
 * simple-protocol opening batch). Anything but a uuid is a programming error.
 */
export function uuidLiteral(value: string): string {
  if (!isUuid(value)) throw new Error(`refusing to inline ${JSON.stringify(value)} as a uuid`);
  return `'${value}'::uuid`;
}

/**
 * `rows` for the statement that ends a read request: inside that request's transaction it
 * goes together with COMMIT, one round trip instead of two (`Transaction.finishWith`);
 * anywhere else (a longer unit of work, a write) it is plain `rows`.
 */
export function lastRows<T>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const transaction = RequestContext.current()?.transaction;
  if (transaction?.isOpen && transaction.mayEndWithRead && transaction.manager === em)
    return transaction.finishWith<T>(sql, params);
  return rows<T>(em, sql, params);
}
