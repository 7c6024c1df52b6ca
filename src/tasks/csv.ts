const NEEDS_QUOTES = /[",\r\n]/;
/** Spreadsheets run cells that start like a formula; such cells get a leading quote. */
const FORMULA = /^[=+\-@\t\r]/;

/** One CSV cell: RFC 4180 quoting, formula-injection safe. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: unknown[]): string {
  return values.map(csvCell).join(',') + '\r\n';
}
