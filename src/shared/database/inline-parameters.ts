import * as pg from 'pg';

// The driver's own renderer of bound values (exported as `utils`, untyped).
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } })
  .utils;
const { escapeLiteral } = pg;

/**
 * `sql` with its `$n` placeholders replaced by the values, for the statements that must
 * go as a simple-protocol batch. Each value becomes what the driver sends as a bound
 * parameter — its text rendering (`prepareValue`: dates, arrays, JSON) with no declared
 * type — quoted by the driver's `escapeLiteral`, so it is resolved exactly as the bound
 * parameter would be: `$2::uuid` becomes `'…'::uuid`, a bare `$4` an untyped literal.
 * Placeholders are found outside quoted literals and identifiers; our statements carry
 * no dollar-quoted strings, and one that did is refused.
 */
export function inlineParameters(sql: string, params: readonly unknown[]): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end + 1);
      i = end + 1;
    } else if (c === '$') {
      const digits = /^\d+/.exec(sql.slice(i + 1))?.[0];
      if (!digits) throw new Error('inlineParameters: dollar quoting is not supported');
      const index = Number(digits) - 1;
      if (index < 0 || index >= params.length)
        throw new Error(`inlineParameters: no value for $${digits}`);
      out += literal(params[index]);
      i += 1 + digits.length;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const end = sql.indexOf(quote, i);
    if (end < 0) throw new Error('inlineParameters: unterminated quote');
    if (sql[end + 1] !== quote) return end;
    i = end + 2; // a doubled quote stands for itself
  }
}

function literal(value: unknown): string {
  const prepared = prepareValue(value) as unknown;
  if (prepared === null || prepared === undefined) return 'NULL';
  if (typeof prepared !== 'string')
    throw new Error(`inlineParameters: cannot inline a ${typeof prepared} value`);
  return escapeLiteral(prepared);
}
