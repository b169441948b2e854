import { describe, expect, it } from 'vitest';
import { ShapeError, UsageError } from '@deprune/errors';
import { CLS_LABELS, ctcGreedyDecode, ppocrCharset } from '../src/index';

/** Scores that pick `classes[t]` at step t. */
function oneHot(classes: number[], count: number): number[] {
  return classes.flatMap((best) => Array.from({ length: count }, (_, c) => (c === best ? 0.9 : 0.1 / (count - 1))));
}

describe('ppocrCharset', () => {
  it('puts the blank first and the space last, one class per key-file line (CRLF too)', () => {
    expect(ppocrCharset('x\r\ny\r\n')).toEqual(['', 'x', 'y', ' ']);
    expect(ppocrCharset('x\ny')).toEqual(['', 'x', 'y', ' ']);
  });

  it('refuses an empty key file', () => {
    expect(() => ppocrCharset('')).toThrow(UsageError);
  });
});

describe('ctcGreedyDecode', () => {
  const charset = ['', 'h', 'i', ' '];

  it('merges repeats, drops blanks, and keeps a letter repeated across a blank', () => {
    expect(ctcGreedyDecode(oneHot([1, 1, 0, 2, 2, 3, 0, 2, 0, 2], 4), [1, 10, 4], charset).text).toBe('hi ii');
    expect(ctcGreedyDecode(oneHot([0, 0, 0], 4), [3, 4], charset)).toEqual({ text: '', confidence: 1 });
  });

  it('averages the emitted characters\' scores', () => {
    expect(ctcGreedyDecode(oneHot([1, 2], 4), [1, 2, 4], charset).confidence).toBeCloseTo(0.9, 12);
  });

  it('refuses a shape it cannot read and a charset of the wrong size', () => {
    expect(() => ctcGreedyDecode([0, 1], [2], charset)).toThrow(ShapeError);
    expect(() => ctcGreedyDecode(oneHot([1], 5), [1, 1, 5], charset)).toThrow(/5 classes but the charset has 4/);
  });

  it('names the classifier labels', () => {
    expect(CLS_LABELS).toEqual(['0', '180']);
  });
});
