import { ShapeError, UsageError } from '@deprune/errors';
import { topKIndices } from '@deprune/tensor';
import { afterAll, describe, expect, it } from 'vitest';
// Only the public entry point: this is what a contributor's own package would import.
import {
  getStrategy,
  maskLayer,
  planEntryToJson,
  maskFromPlanEntry,
  planFromMask,
  prunedCount,
  registerScorer,
  registerStrategy,
  unregisterScorer,
  unregisterStrategy,
  validateRatio,
  type ImportanceScorer,
  type LayerPlan,
  type MaskStrategy,
  type PrunableLayer,
} from '../src/index';
import { dwLayer, pwLayer } from './helpers';

/**
 * A contributed strategy: "row-balanced" unstructured pruning, every DW channel / PW row prunes
 * round(r * rowLength) of its own weights. Written against the public API only.
 */
type RowOptions = { minKept?: number };
const rowBalanced: MaskStrategy<RowOptions> = {
  name: 'row-balanced',
  description: 'Each DW channel / PW output row prunes round(r * length) of its own lowest-scoring weights',
  appliesTo: ['dw', 'pw'],
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array, options?: RowOptions): LayerPlan {
    validateRatio(ratio, layer.name);
    const rowLength = layer.kind === 'dw' ? layer.kernel[0] * layer.kernel[1] : layer.inChannels;
    const minKept = options?.minKept ?? 0;
    const mask = new Uint8Array(layer.weights.length);
    for (let start = 0; start < mask.length; start += rowLength) {
      const keep = Math.max(minKept, rowLength - prunedCount(ratio, rowLength));
      for (const offset of topKIndices(scores.subarray(start, start + rowLength), keep)) mask[start + offset] = 1;
    }
    return planFromMask(layer, mask, { strategy: 'row-balanced', granularity: 'channel', tileRows: 1 });
  },
};

/** A contributed scorer using calibration statistics: |w| * ||x|| (Wanda-style). */
const activationWeighted: ImportanceScorer = {
  name: 'activation-weighted',
  description: '|w| times the L2 norm of the input it multiplies',
  score(layer, stats) {
    const norms = stats?.inputNormSquared;
    if (norms === undefined) throw new UsageError('activation-weighted needs stats.inputNormSquared', { node: layer.name });
    return layer.weights.map((weight, index) => {
      const normIndex = layer.kind === 'dw' ? index : index % layer.inChannels;
      return Math.abs(weight) * Math.sqrt(norms[normIndex]);
    });
  },
};

afterAll(() => {
  unregisterStrategy('row-balanced');
  unregisterStrategy('broken');
  unregisterScorer('activation-weighted');
});

describe('a strategy contributed from outside the package', () => {
  it('runs end to end through the registry', () => {
    registerStrategy(rowBalanced);
    registerScorer(activationWeighted);
    const layer = dwLayer(2, [1, 4], [4, 3, 2, 1, -1, 2, -3, 4]);
    const plan = maskLayer(layer, { strategy: 'row-balanced', ratio: 0.5 });
    expect(plan.keptIndices).toEqual([[0, 1], [2, 3]]);
    expect(plan.strategy).toBe('row-balanced');
    // Round trip through the plan file format.
    const entry = JSON.parse(JSON.stringify(planEntryToJson(plan)));
    expect(Array.from(maskFromPlanEntry(entry, layer))).toEqual(Array.from(plan.mask));

    // With the contributed scorer, input 0 is silent, so column 0 goes in every row.
    const pw = pwLayer(2, 3, [5, 1, 1, 5, 1, 1]);
    const weighted = maskLayer(pw, {
      strategy: 'row-balanced',
      scorer: 'activation-weighted',
      stats: { inputNormSquared: Float64Array.of(0, 1, 4) },
      ratio: 0.3,
      options: { minKept: 1 },
    });
    expect(weighted.keptIndices).toEqual([[1, 2], [1, 2]]);
    expect(getStrategy('row-balanced').appliesTo).toEqual(['dw', 'pw']);
  });

  it('is checked: a plan whose mask disagrees with its kept indices is refused', () => {
    registerStrategy({
      ...rowBalanced,
      name: 'broken',
      mask: (layer, ratio, scores) => ({ ...rowBalanced.mask(layer, ratio, scores), mask: new Uint8Array(layer.weights.length) }),
    });
    expect(() => maskLayer(dwLayer(1, [1, 2], [1, 2]), { strategy: 'broken', ratio: 0.5 })).toThrow(ShapeError);
  });
});
