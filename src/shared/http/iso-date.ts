import { Transform } from 'class-transformer';
import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * Strict ISO 8601, within what PostgreSQL stores: four-digit years 0001–9999, real calendar
 * days (no 31 February), times 00:00:00–23:59:59, offsets up to ±15:59. No lenient parsing
 * (`Date.parse('hello 5')` is a date), so a bad value is a 400 naming its field, never a 500.
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))$/;
/** PostgreSQL's text form of timestamptz (DateStyle ISO), as lists hand it out in cursors. */
const PG_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-](\d{2})(?::(\d{2})(?::(\d{2}))?)?$/;

function isCalendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  return d <= days;
}

const isTime = (h: number, min: number, s: number) => h <= 23 && min <= 59 && s <= 59;
const isOffset = (h = 0, m = 0, s = 0) => h <= 15 && m <= 59 && s <= 59;
const nums = (match: RegExpExecArray, from: number, to: number) =>
  match.slice(from, to + 1).map((v) => (v === undefined ? undefined : Number(v)));

/** YYYY-MM-DD, a real day. */
export function isIsoDate(value: unknown): value is string {
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  return !!m && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** YYYY-MM-DDTHH:MM:SS[.ffffff] with Z or ±HH:MM. */
export function isIsoDateTime(value: unknown): value is string {
  const m = typeof value === 'string' ? DATE_TIME.exec(value) : null;
  if (!m) return false;
  const [y, mo, d, h, min, s] = nums(m, 1, 6) as number[];
  const [oh, om] = nums(m, 9, 10);
  return isCalendarDate(y!, mo!, d!) && isTime(h!, min!, s!) && isOffset(oh, om);
}

/** PostgreSQL's own timestamptz output, e.g. `2026-12-04 17:32:16.123456+00`. */
export function isPgTimestamp(value: unknown): value is string {
  const m = typeof value === 'string' ? PG_TIMESTAMP.exec(value) : null;
  if (!m) return false;
  const [y, mo, d, h, min, s] = nums(m, 1, 6) as number[];
  const [oh, om, os] = nums(m, 8, 10);
  return isCalendarDate(y!, mo!, d!) && isTime(h!, min!, s!) && isOffset(oh, om, os);
}

/** A date field or parameter: strict `YYYY-MM-DD`, kept as the string. */
export const IsIsoDate = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isIsoDate',
      validator: {
        validate: (value) => isIsoDate(value),
        defaultMessage: (args) => `${args?.property ?? 'value'} must be a real date as YYYY-MM-DD`,
      },
    },
    options,
  );

/**
 * A date-time field or parameter: strict ISO 8601 with Z or an offset; becomes a Date once
 * valid (an invalid value stays as sent, so the validator names it).
 */
export function IsIsoDateTime(options?: ValidationOptions): PropertyDecorator {
  const transform = Transform(({ value }) => (isIsoDateTime(value) ? new Date(value) : value));
  const validate = ValidateBy(
    {
      name: 'isIsoDateTime',
      validator: {
        validate: (value) => value instanceof Date && !Number.isNaN(value.getTime()),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an ISO 8601 date-time with Z or an offset, e.g. 2026-12-31T23:59:59Z`,
      },
    },
    options,
  );
  return (target, key) => {
    transform(target, key);
    validate(target, key);
  };
}
