import { topKIndices } from '@deprune/tensor';
import { buildDwPlan, buildPwPlan } from '../plan';
import { channelNorms, columnNorms } from '../segments';
import type { LayerPlan, MaskStrategy, PrunableLayer } from '../types';
import { kernelSize, prunedCount, validateInputs } from '../validate';

/**
 * Structured baseline: DW layers lose round(r * C) whole channels, PW layers round(r * Cin) whole
 * input columns (one tile of T = Cout rows), lowest L2 norm of scores first (ties: higher index
 * removed first). `removedChannels` lists what went. Coupling the producer's output row, the next
 * PW's input column, BN and SE is the pipeline's job; this is the per-layer decision only.
 */
export const channelStrategy: MaskStrategy<Record<string, never>> = {
  name: 'channel',
  description: 'Structured baseline: whole DW channels or whole PW input columns with the lowest L2 norm',
  appliesTo: ['dw', 'pw'],
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array): LayerPlan {
    validateInputs(layer, ratio, scores);
    if (layer.kind === 'dw') {
      const keep = new Set(topKIndices(channelNorms(layer, scores), layer.channels - prunedCount(ratio, layer.channels)));
      const allTaps = Array.from({ length: kernelSize(layer) }, (_, tap) => tap);
      const removed: number[] = [];
      const kept = Array.from({ length: layer.channels }, (_, channel) => {
        if (keep.has(channel)) return allTaps;
        removed.push(channel);
        return [];
      });
      return buildDwPlan(layer, kept, { strategy: 'channel', granularity: 'structured', removedChannels: removed });
    }
    const columns = layer.inChannels;
    const keep = Array.from(topKIndices(columnNorms(layer, scores), columns - prunedCount(ratio, columns)));
    const keepSet = new Set(keep);
    const removed = Array.from({ length: columns }, (_, column) => column).filter((column) => !keepSet.has(column));
    return buildPwPlan(layer, [keep], {
      strategy: 'channel',
      granularity: 'structured',
      tileRows: layer.outChannels,
      removedChannels: removed,
    });
  },
};
