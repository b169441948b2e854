import { topKIndices } from '@deprune/tensor';
import { planFromMask } from '../plan';
import type { LayerPlan, MaskStrategy, PrunableLayer } from '../types';
import { prunedCount, validateInputs } from '../validate';

/**
 * Unstructured magnitude pruning (the 'unstructured' variant): the lowest round(r * N) weights of
 * the layer go, ties pruning the higher index first. PW plans use tileRows 1 (a column list per
 * output row); DW plans list kept taps per channel.
 */
export const unstructuredStrategy: MaskStrategy<Record<string, never>> = {
  name: 'unstructured',
  description: 'Per-weight pruning: the lowest-scoring round(r*N) weights of the layer (DW and PW)',
  appliesTo: ['dw', 'pw'],
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array): LayerPlan {
    validateInputs(layer, ratio, scores);
    const total = layer.weights.length;
    const mask = new Uint8Array(total);
    for (const index of topKIndices(scores, total - prunedCount(ratio, total))) mask[index] = 1;
    return planFromMask(layer, mask, { strategy: 'unstructured', granularity: 'none', tileRows: 1 });
  },
};
