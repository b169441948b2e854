import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { getStrategy, imbalance, maskLayer, validatePlan } from '../src/index';
import { abs, dwLayer, pwLayer } from './helpers';

describe('dcp', () => {
  it('prunes the lowest round(r*C*K) weights of the layer globally', () => {
    const layer = dwLayer(2, [1, 3], [0.1, -0.5, 0.3, 0.2, 0.05, -0.9]);
    const plan = maskLayer(layer, { strategy: 'dcp', ratio: 0.5 });
    expect(plan.keptIndices).toEqual([[1, 2], [2]]);
    expect(plan.kept).toEqual([2, 1]);
    expect(Array.from(plan.mask)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(plan.sparsity).toBe(0.5);
    expect(plan).toMatchObject({ strategy: 'dcp', granularity: 'none', groupSize: null, tileRows: null, step: null, shape: { channels: 2, kernel: [1, 3] } });
  });

  it('breaks ties by pruning the higher index first', () => {
    const layer = dwLayer(2, [2, 2], [1, 1, 1, 1, 1, 1, 1, 1]);
    expect(maskLayer(layer, { strategy: 'dcp', ratio: 0.5 }).keptIndices).toEqual([[0, 1, 2, 3], []]);
    expect(maskLayer(layer, { strategy: 'dcp', ratio: 0.3 }).keptIndices).toEqual([[0, 1, 2, 3], [0, 1]]);
  });

  it('keeps everything at ratio 0 and rounds half up (0.7 * 5 = 3.5 -> 4)', () => {
    const layer = dwLayer(1, [1, 5], [5, 4, 3, 2, 1]);
    expect(maskLayer(layer, { ratio: 0 }).kept).toEqual([5]);
    expect(maskLayer(layer, { ratio: 0.7 }).keptIndices).toEqual([[0]]);
  });
});

describe('pcp', () => {
  // Tiles of 2 rows: rows 0-1 and row 2 (Cout = 3 is not a multiple of T = 2).
  const layer = pwLayer(3, 4, [1, 0, 2, 0.1, 1, 0, 2, 0.1, 0, 3, 0, 0.2]);

  it('plain: prunes the lowest segments globally, so tiles keep different counts', () => {
    const plan = maskLayer(layer, { strategy: 'pcp', ratio: 0.25, options: { tileRows: 2 } });
    // Segments t0: [1.41, 0, 2.83, 0.14], t1: [0, 3, 0, 0.2]. Two go: the zero ties at t1c2 and t1c0.
    expect(plan.keptIndices).toEqual([[0, 1, 2, 3], [1, 3]]);
    expect(plan.kept).toEqual([4, 2]);
    expect(plan).toMatchObject({ granularity: 'none', tileRows: 2, groupSize: null });
    expect(Array.from(plan.mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1]);
    expect(plan.sparsity).toBeCloseTo(2 / 12, 15);
    expect(imbalance(plan.kept)).toBeCloseTo(4 / 3, 12);
  });

  it('balanced: every tile keeps q = Cin - round(r*Cin) columns', () => {
    const plan = maskLayer(layer, { strategy: 'pcp', ratio: 0.25, options: { tileRows: 2, balanced: true } });
    expect(plan.keptIndices).toEqual([[0, 2, 3], [0, 1, 3]]);
    expect(plan).toMatchObject({ granularity: 'tile', kept: [3, 3] });
  });

  it('defaults T to 32 clamped to Cout (plain input-channel pruning here)', () => {
    const plan = maskLayer(layer, { strategy: 'pcp', ratio: 0.5 });
    expect(plan.tileRows).toBe(3);
    expect(plan.keptIndices).toEqual([[1, 2]]);
  });
});

describe('unstructured', () => {
  it('PW: per weight, one column list per output row', () => {
    const plan = maskLayer(pwLayer(2, 2, [4, -1, 2, 3]), { strategy: 'unstructured', ratio: 0.5 });
    expect(plan.keptIndices).toEqual([[0], [1]]);
    expect(plan).toMatchObject({ tileRows: 1, granularity: 'none', sparsity: 0.5 });
  });

  it('DW: per weight, kept taps per channel', () => {
    const plan = maskLayer(dwLayer(2, [1, 2], [4, -1, 2, 3]), { strategy: 'unstructured', ratio: 0.25 });
    expect(plan.keptIndices).toEqual([[0], [0, 1]]);
  });
});

describe('nm', () => {
  it('DW 3x3, 2:4 along the taps of a channel; the last 1-tap block keeps round(2/4) = 1', () => {
    const plan = maskLayer(dwLayer(1, [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]), { strategy: 'nm', ratio: 0.5 });
    expect(plan.keptIndices).toEqual([[2, 3, 6, 7, 8]]);
    expect(plan).toMatchObject({ granularity: 'nm', strategy: 'nm' });
  });

  it('PW along Cin per output row, ties to the lower column', () => {
    const plan = maskLayer(pwLayer(2, 6, [6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1]), { strategy: 'nm', ratio: 0.5 });
    expect(plan.keptIndices).toEqual([[0, 1, 4], [0, 1, 4]]);
    expect(plan.tileRows).toBe(1);
  });

  it('1:4 with ratio 0.75; ratio must equal 1 - n/m', () => {
    const layer = pwLayer(1, 8, [1, 2, 3, 4, 8, 7, 6, 5]);
    expect(maskLayer(layer, { strategy: 'nm', ratio: 0.75, options: { n: 1, m: 4 } }).keptIndices).toEqual([[3, 4]]);
    expect(() => maskLayer(layer, { strategy: 'nm', ratio: 0.5, options: { n: 1, m: 4 } })).toThrow(/prunes a fraction 0.75/);
    expect(() => getStrategy('nm').mask(layer, 0.3, abs(layer.weights))).toThrow(UsageError);
    expect(() => getStrategy('nm').mask(layer, 0.5, abs(layer.weights), { n: 5, m: 4 })).toThrow(/n <= m/);
    expect(() => getStrategy('nm').mask(layer, 0.5, abs(layer.weights), { n: 0, m: 4 })).toThrow(UsageError);
  });
});

describe('channel', () => {
  it('DW: removes round(r*C) whole channels with the lowest L2 norm', () => {
    const plan = maskLayer(dwLayer(3, [1, 2], [3, 0, 1, 1, 2, 2]), { strategy: 'channel', ratio: 0.34 });
    expect(plan.removedChannels).toEqual([1]);
    expect(plan.kept).toEqual([2, 0, 2]);
    expect(plan.granularity).toBe('structured');
  });

  it('PW: removes whole input columns (one tile of Cout rows)', () => {
    const plan = maskLayer(pwLayer(2, 3, [1, 0, 3, 1, 0, 4]), { strategy: 'channel', ratio: 0.5 });
    expect(plan.removedChannels).toEqual([0, 1]);
    expect(plan).toMatchObject({ tileRows: 2, kept: [1], keptIndices: [[2]] });
    expect(Array.from(plan.mask)).toEqual([0, 0, 1, 0, 0, 1]);
  });
});

describe('validation', () => {
  const layer = dwLayer(1, [1, 2], [1, 2]);
  it('rejects ratios outside [0, 1)', () => {
    expect(() => maskLayer(layer, { ratio: 1 })).toThrow(/would remove every weight/);
    for (const ratio of [-0.1, Number.NaN, Infinity, 1.5]) expect(() => maskLayer(layer, { ratio })).toThrow(UsageError);
    expect(() => getStrategy('dcp').mask(layer, 1, abs(layer.weights))).toThrow(UsageError);
  });

  it('rejects shapes that disagree with the weights, naming the layer', () => {
    expect(() => maskLayer(dwLayer(2, [3, 3], new Float64Array(9), 'conv_7'), { ratio: 0.5 })).toThrow(ShapeError);
    expect(() => maskLayer(dwLayer(2, [3, 3], new Float64Array(9), 'conv_7'), { ratio: 0.5 })).toThrow(/conv_7/);
    expect(() => maskLayer(pwLayer(2, 3, new Float64Array(5)), { ratio: 0.5 })).toThrow(ShapeError);
    expect(() => maskLayer(layer, { ratio: 0.5, scores: new Float64Array(3) })).toThrow(ShapeError);
    expect(() => maskLayer(layer, { ratio: 0.5, scores: Float64Array.of(1, Number.NaN) })).toThrow(/NaN/);
  });

  it('rejects bad tileRows and a strategy on the wrong layer kind', () => {
    const pw = pwLayer(2, 2, [1, 2, 3, 4]);
    for (const tileRows of [0, 1.5, -3]) expect(() => maskLayer(pw, { strategy: 'pcp', ratio: 0.5, options: { tileRows } })).toThrow(UsageError);
    expect(() => maskLayer(pw, { strategy: 'dcp', ratio: 0.5 })).toThrow(/applies to dw/);
    expect(() => getStrategy('pcp').mask(layer, 0.5, abs(layer.weights))).toThrow(/applies to pw/);
  });

  it('validatePlan catches a mask that disagrees with keptIndices', () => {
    const plan = maskLayer(layer, { ratio: 0.5 });
    expect(() => validatePlan({ ...plan, mask: Uint8Array.of(1, 1) }, layer)).toThrow(ShapeError);
    expect(() => validatePlan({ ...plan, sparsity: 0 }, layer)).toThrow(/sparsity/);
  });
});
