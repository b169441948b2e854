import { topKIndices } from '@deprune/tensor';
import { buildDwPlan } from '../plan';
import type { LayerPlan, MaskStrategy, PrunableLayer } from '../types';
import { expectKind, kernelSize, prunedCount, validateInputs } from '../validate';

/**
 * DCP (method section 2): prune the lowest-scoring round(r * C * K) DW weights of the layer,
 * globally. Ties: among equal scores the higher flat index is pruned first (the lower kept), so
 * the result never depends on the sort algorithm. Channels end up with different kept counts m_c;
 * `@deprune/bwt` balances them.
 */
export const dcpStrategy: MaskStrategy<Record<string, never>> = {
  name: 'dcp',
  description: 'Depth-wise column pruning: the lowest-scoring round(r*C*K) DW weights of the layer, globally (unbalanced)',
  appliesTo: ['dw'],
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array): LayerPlan {
    expectKind(layer, ['dw'], 'dcp');
    validateInputs(layer, ratio, scores);
    const taps = kernelSize(layer);
    const total = layer.weights.length;
    const keep = topKIndices(scores, total - prunedCount(ratio, total));
    const perChannel: number[][] = Array.from({ length: layer.channels }, () => []);
    for (const index of keep) perChannel[Math.floor(index / taps)].push(index % taps);
    return buildDwPlan(layer, perChannel, { strategy: 'dcp', granularity: 'none' });
  },
};
