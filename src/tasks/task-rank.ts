import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

/**
 * Board ranks: fractional-indexing keys (base 62, compared byte-wise; the column is
 * `COLLATE "C"`). The arithmetic is the library's; this file only decides when a key is
 * too long to keep.
 *
 * Moving into the same gap again and again grows a key by about one character every six
 * moves. Past REBALANCE_AT the column is rebalanced (fresh short keys, same order) when
 * every card of it can be locked at once; past RANK_MAX_LENGTH (the database's CHECK) it is
 * rebalanced whatever it waits for. Each operation adds at most one character, so with
 * the gap between the two no key ever reaches the CHECK.
 */
export const RANK_MAX_LENGTH = 48;
export const REBALANCE_AT = 32;

/** What a cursor's rank key may hold (the database's CHECK). */
export const RANK_PATTERN = /^[0-9A-Za-z]{1,48}$/;

/** A column's place for a card: the ranks of the cards that end up above and below it. */
export interface Gap {
  lower: { id: string; rank: string } | null;
  upper: { id: string; rank: string } | null;
}

/**
 * The key strictly between the gap's ends, or null when there is none to give: the ends
 * tie (rows loaded with the default rank) or are not keys the library accepts.
 */
export function keyBetween(gap: Gap): string | null {
  const lower = gap.lower?.rank ?? null;
  const upper = gap.upper?.rank ?? null;
  if (lower !== null && upper !== null && lower >= upper) return null;
  try {
    return generateKeyBetween(lower, upper);
  } catch {
    return null;
  }
}

/** n keys in ascending order, as short as they come: a rebalanced column's. */
export function evenKeys(n: number): string[] {
  return generateNKeysBetween(null, null, n);
}

/** `(rank, id)` order, the order of every column (the database's, byte-wise). */
export function compareCards(
  a: { rank: string; id: string },
  b: { rank: string; id: string },
): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
