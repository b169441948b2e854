import { UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { createRng, kthLargest, kthSmallest, topKIndices } from '../src/index';

/** Reference: sort by value descending, lower index first among equals, keep k, return sorted by index. */
function topKBySorting(values: readonly number[], k: number): number[] {
  return values
    .map((value, index) => ({ value, index }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, k)
    .map(({ index }) => index)
    .sort((a, b) => a - b);
}

describe('kth value selection, hand-checked', () => {
  const values = [5, 1, 3, 3, 9, 1, 3]; // sorted: 1 1 3 3 3 5 9

  it('finds the k-th smallest and largest with ties', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => kthSmallest(values, k))).toEqual([1, 1, 3, 3, 3, 5, 9]);
    expect([0, 1, 2, 3, 4, 5, 6].map((k) => kthLargest(values, k))).toEqual([9, 5, 3, 3, 3, 1, 1]);
    expect(kthSmallest(new Float32Array([2.5]), 0)).toBe(2.5);
  });

  it('does not mutate its input', () => {
    const input = [...values];
    const typed = Float64Array.from(values);
    kthSmallest(input, 3);
    kthLargest(typed, 1);
    topKIndices(input, 4);
    expect(input).toEqual(values);
    expect(Array.from(typed)).toEqual(values);
  });

  it('picks the top k indices, lower index first among ties, sorted by index', () => {
    expect(Array.from(topKIndices(values, 0))).toEqual([]);
    expect(Array.from(topKIndices(values, 1))).toEqual([4]);
    expect(Array.from(topKIndices(values, 3))).toEqual([0, 2, 4]);
    expect(Array.from(topKIndices(values, 4))).toEqual([0, 2, 3, 4]);
    expect(Array.from(topKIndices(values, 6))).toEqual([0, 1, 2, 3, 4, 6]);
    expect(Array.from(topKIndices(values, 7))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(topKIndices([2, 2, 2, 2], 2))).toEqual([0, 1]);
    expect(topKIndices(values, 3)).toBeInstanceOf(Int32Array);
  });

  it('rejects k out of range and NaN values', () => {
    expect(() => kthSmallest(values, 7)).toThrow(UsageError);
    expect(() => kthSmallest(values, -1)).toThrow('kthSmallest: k must be an integer in [0, 6] for 7 values, got -1');
    expect(() => kthLargest(values, 1.5)).toThrow(UsageError);
    expect(() => kthSmallest([], 0)).toThrow(UsageError);
    expect(() => topKIndices(values, 8)).toThrow(/k must be an integer in \[0, 7\]/);
    expect(() => kthSmallest([1, Number.NaN], 0)).toThrow(/values\[1\] is NaN/);
    expect(() => topKIndices([Number.NaN], 0)).toThrow(UsageError);
  });
});

describe('kth value selection agrees with sorting on random arrays', () => {
  const rng = createRng(11);
  // Sizes above 600 exercise Floyd-Rivest's sampling step; small value ranges force many duplicates.
  const cases = [1, 2, 5, 17, 100, 601, 2000, 10_000].flatMap((size) =>
    [3, 50, 0].map((distinct) => {
      const values = Array.from({ length: size }, () => (distinct === 0 ? rng.normal() : rng.int(distinct) - distinct / 2));
      return { size, distinct, values };
    }),
  );

  it.each(cases.map((c) => [c.size, c.distinct === 0 ? 'continuous' : `${c.distinct} distinct`, c.values] as const))(
    'n=%i, %s',
    (_size, _kind, values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const ranks = new Set([0, values.length - 1, values.length >> 1, rng.int(values.length), rng.int(values.length)]);
      for (const k of ranks) {
        expect(kthSmallest(values, k)).toBe(sorted[k]);
        expect(kthLargest(values, k)).toBe(sorted[values.length - 1 - k]);
        const kept = k + 1;
        expect(Array.from(topKIndices(values, kept))).toEqual(topKBySorting(values, kept));
      }
    },
  );
});
