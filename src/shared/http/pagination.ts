import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { UUID } from '../uuid';
import { DomainError } from './domain-error';
import { isIsoDate, isPgTimestamp } from './iso-date';

/** `?limit=&cursor=` of every list. */
export class PageQuery {
  /** 1–100, default 20. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  /** The `nextCursor` of the previous page. */
  @ApiPropertyOptional({
    type: String,
    maxLength: 1000,
    description: 'The previous page’s nextCursor',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export class InvalidCursor extends DomainError {
  constructor() {
    super('invalid_cursor', 'bad_request', 'The cursor is not one this list handed out.', [
      { field: 'cursor', message: 'invalid cursor' },
    ]);
  }
}

/** Cursors are opaque to clients: the keyset values of the last row, base64url JSON. */
export function encodeCursor(keys: string[]): string {
  return Buffer.from(JSON.stringify(keys)).toString('base64url');
}

/**
 * What each key of a cursor must hold, checked against what its column can take, so a
 * tampered cursor is a 400, never a 500: `timestamp` a real instant in PostgreSQL's text
 * form, `date` a real day (or ±infinity), `seq` a positive bigint, `rank` 0–3 (the
 * smallint priority rank), `uuid` a uuid, `{ equals }` that exact string, `{ matches }` a
 * string of that pattern (e.g. a task's board rank).
 */
export type CursorKey =
  'timestamp' | 'date' | 'seq' | 'rank' | 'uuid' | { equals: string } | { matches: RegExp };

const BIGINT_MAX = 9223372036854775807n;

const KEY_CHECKS: Record<Extract<CursorKey, string>, (v: string) => boolean> = {
  timestamp: isPgTimestamp,
  date: (v) => v === 'infinity' || v === '-infinity' || isIsoDate(v),
  seq: (v) => /^[1-9]\d{0,18}$/.test(v) && BigInt(v) <= BIGINT_MAX,
  rank: (v) => /^[0-3]$/.test(v),
  uuid: (v) => UUID.test(v),
};

function fits(value: unknown, key: CursorKey): boolean {
  if (typeof value !== 'string') return false;
  if (typeof key === 'string') return KEY_CHECKS[key](value);
  return 'equals' in key ? value === key.equals : key.matches.test(value);
}

/** Decodes a cursor into keys of the given shape, or throws InvalidCursor (400). */
export function decodeCursor(cursor: string | undefined, shape: CursorKey[]): string[] | null {
  if (cursor === undefined) return null;
  let keys: unknown;
  try {
    keys = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor();
  }
  if (
    !Array.isArray(keys) ||
    keys.length !== shape.length ||
    !keys.every((k, i) => fits(k, shape[i]!))
  ) {
    throw new InvalidCursor();
  }
  return keys as string[];
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says there is more. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  keysOf: (row: R) => string[],
  map: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const visible = more ? rows.slice(0, limit) : rows;
  return {
    data: visible.map(map),
    nextCursor: more ? encodeCursor(keysOf(visible[visible.length - 1]!)) : null,
  };
}

/** A documented `{ data: Item[], nextCursor }` response class for Swagger. */
export function PageOf<T>(item: ClassType<T>): ClassType<Page<T>> {
  class PageResponse implements Page<T> {
    @ApiProperty({ type: [item] })
    data!: T[];

    @ApiProperty({ type: String, nullable: true, description: 'null on the last page' })
    nextCursor!: string | null;
  }
  Object.defineProperty(PageResponse, 'name', { value: `${item.name}Page` });
  return PageResponse;
}
