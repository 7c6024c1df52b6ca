import { EntityManager } from 'typeorm';
import { isUuid } from '../uuid';
import { RequestContext } from './request-context';

/**
 * What `rows` and `one` answer when the caller names no row type: a type nothing reads or
 * assigns, so every statement's call site has to say what it returns (`rows<TaskRow>(…)`).
 */
export interface UnnamedRow {
  readonly 'name the row type: rows<Row>(em, sql)': never;
}

/**
 * Runs SQL and answers its rows. TypeORM's `query()` answers `[rows, rowCount]` for
 * UPDATE and DELETE (even with RETURNING) but plain rows otherwise; this evens that out.
 * The row type is the caller's to name (never inferred from where the result goes).
 */
export async function rows<T = UnnamedRow>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<NoInfer<T>[]> {
  const result = await em.query(sql, params);
  return Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}

/** The row of a `SELECT 1 …`: only whether there is one counts. */
export interface Presence {
  '?column?': number;
}

/** The first row, or undefined. */
export async function one<T = UnnamedRow>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<NoInfer<T> | undefined> {
  return (await rows<T>(em, sql, params))[0];
}

/**
 * The keyset predicate of a list paged by `(timestamp, id)`: the rows past the cursor's
 * pair in the list's direction (`>` ascending, `<` descending), the pair bound at `$n`
 * and `$n+1`; a null cursor (the first page) passes every row. Its parameters:
 * `cursorParams(after)`.
 */
export function pastCursor(columns: readonly [string, string], op: '>' | '<', n: number): string {
  return `($${n}::timestamptz IS NULL OR (${columns[0]}, ${columns[1]}) ${op} ($${n}::timestamptz, $${n + 1}::uuid))`;
}

/** The two parameters of `pastCursor`: the cursor's timestamp and id, or nulls. */
export function cursorParams(
  cursor: readonly [string, string] | null,
): [string | null, string | null] {
  return [cursor?.[0] ?? null, cursor?.[1] ?? null];
}

/**
 * For `.catch()`: a unique violation (of `constraint`, if named) becomes the domain error
 * `toError()` makes; any other error goes on as it was.
 */
export function onUniqueViolation(toError: () => Error, constraint?: string) {
  return (error: unknown): never => {
    throw isUniqueViolation(error, constraint) ? toError() : error;
  };
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
export function lastRows<T = UnnamedRow>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<NoInfer<T>[]> {
  const transaction = RequestContext.current()?.transaction;
  if (transaction?.isOpen && transaction.mayEndWithRead && transaction.manager === em)
    return transaction.finishWith<T>(sql, params);
  return rows<T>(em, sql, params);
}
