import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { UUID } from '../uuid';
import { DomainError } from './domain-error';

/** `?limit=&cursor=` of every list. */
export class PageQuery {
  /** 1–100, default 20. */
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  /** The `nextCursor` of the previous page. */
  @ApiPropertyOptional()
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

/** What each key of a cursor must look like, so a tampered cursor is a 400, never a 500. */
export type CursorKey = 'timestamp' | 'date' | 'int' | 'uuid' | { equals: string };

const KEY_FORMATS: Record<Exclude<CursorKey, { equals: string }>, RegExp> = {
  // PostgreSQL's text form of timestamptz (DateStyle ISO), as the lists hand it out.
  timestamp: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2})?$/,
  date: /^(\d{4}-\d{2}-\d{2}|-?infinity)$/,
  int: /^-?\d{1,18}$/,
  uuid: UUID,
};

function fits(value: unknown, key: CursorKey): boolean {
  if (typeof value !== 'string') return false;
  return typeof key === 'object' ? value === key.equals : KEY_FORMATS[key].test(value);
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

    @ApiProperty({ type: String, nullable: true })
    nextCursor!: string | null;
  }
  Object.defineProperty(PageResponse, 'name', { value: `${item.name}Page` });
  return PageResponse;
}
