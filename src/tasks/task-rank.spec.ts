import fc from 'fast-check';
import { compareCards, evenKeys, keyBetween, RANK_PATTERN, REBALANCE_AT } from './task-rank';

const card = (rank: string, id = '00000000-0000-4000-8000-000000000000') => ({ id, rank });

describe('task ranks', () => {
  it('gives a key strictly between two keys, byte-wise, and at either open end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 200 }), fc.nat(), (n, pick) => {
        const keys = evenKeys(n);
        const i = pick % (n - 1);
        const between = keyBetween({ lower: card(keys[i]!), upper: card(keys[i + 1]!) })!;
        expect(keys[i]! < between && between < keys[i + 1]!).toBe(true);
        expect(keyBetween({ lower: card(keys[n - 1]!), upper: null })! > keys[n - 1]!).toBe(true);
        expect(keyBetween({ lower: null, upper: card(keys[0]!) })! < keys[0]!).toBe(true);
      }),
      { seed: 16, numRuns: 100 },
    );
  });

  it('answers null when the ends tie or are inverted (the column needs a rebalance)', () => {
    expect(keyBetween({ lower: card('a0'), upper: card('a0') })).toBeNull();
    expect(keyBetween({ lower: card('a1'), upper: card('a0') })).toBeNull();
    expect(keyBetween({ lower: card('not a key!'), upper: null })).toBeNull();
  });

  it('hands out short ascending keys for a rebalanced column', () => {
    const keys = evenKeys(3000);
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]! < keys[i]!).toBe(true);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThan(REBALANCE_AT);
    for (const key of keys) expect(key).toMatch(RANK_PATTERN);
  });

  it('orders cards by rank, byte-wise, then by id', () => {
    expect(compareCards(card('Zz'), card('a0'))).toBeLessThan(0);
    expect(compareCards(card('a0', 'b'), card('a0', 'a'))).toBeGreaterThan(0);
    expect(compareCards(card('a0', 'a'), card('a0', 'a'))).toBe(0);
  });
});
