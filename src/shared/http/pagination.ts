import { Type as ClassType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
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
export function encodeCursor(keys: Array<string | number | null>): string {
  return Buffer.from(JSON.stringify(keys)).toString('base64url');
}

/** Decodes a cursor into `arity` keys, or throws InvalidCursor (400). */
export function decodeCursor(cursor: string | undefined, arity: number): Array<string | number | null> | null {
  if (cursor === undefined) return null;
  try {
    const keys = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(keys) &&
      keys.length === arity &&
      keys.every((k) => k === null || typeof k === 'string' || typeof k === 'number')
    ) {
      return keys;
    }
  } catch {
    // falls through
  }
  throw new InvalidCursor();
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says there is more. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  keysOf: (row: R) => Array<string | number | null>,
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
