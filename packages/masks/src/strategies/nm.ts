import { UsageError } from '@deprune/errors';
import { topKIndices } from '@deprune/tensor';
import { planFromMask } from '../plan';
import type { LayerPlan, MaskStrategy, PrunableLayer } from '../types';
import { assertPositiveInteger, optionsObject, roundCount, validateLayer, validateScores } from '../validate';

export type NmOptions = {
  /** Weights kept per block. Default 2. */
  n?: number;
  /** Block length along the GEMM inner dimension. Default 4. */
  m?: number;
};

/** How many of a block of `size` consecutive weights N:M keeps: N for a full block, round(N * size / M) for a short last one. */
export function nmKeptInBlock(n: number, m: number, size: number): number {
  return size === m ? n : Math.min(size, roundCount((n * size) / m));
}

/**
 * N:M sparsity along the GEMM inner dimension: DW along the K taps of each channel, PW along Cin
 * for each output row. Blocks are M consecutive weights; each keeps its N best (ties: lower index);
 * a short last block keeps round(N * size / M). The sparsity is n:m's, so `ratio` carries no
 * information: it must equal 1 - n/m (within 1e-9) or be undefined (from JavaScript), else
 * UsageError. Because of short blocks the layer's real sparsity can differ slightly from 1 - n/m.
 */
export const nmStrategy: MaskStrategy<NmOptions> = {
  name: 'nm',
  description: 'N:M sparsity along the GEMM inner dimension (DW: taps of a channel, PW: Cin of a row); default 2:4',
  appliesTo: ['dw', 'pw'],
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array, options?: NmOptions): LayerPlan {
    validateLayer(layer);
    validateScores(layer, scores);
    const opts = optionsObject(options, 'nm', layer.name);
    const n = opts.n ?? 2;
    const m = opts.m ?? 4;
    assertPositiveInteger('nm option m', m, layer.name);
    assertPositiveInteger('nm option n', n, layer.name);
    if (n > m) throw new UsageError(`nm needs n <= m, got ${n}:${m}`, { node: layer.name });
    const implied = 1 - n / m;
    if (ratio !== undefined && !(typeof ratio === 'number' && Math.abs(ratio - implied) <= 1e-9)) {
      throw new UsageError(`nm ${n}:${m} prunes a fraction ${implied} of weights, but ratio ${String(ratio)} was asked`, {
        node: layer.name,
        hint: `pass ratio ${implied}, or choose n and m for the ratio you want`,
      });
    }
    // Rows of the inner dimension: DW channels (K taps each), PW output rows (Cin columns each).
    const rowLength = layer.kind === 'dw' ? layer.kernel[0] * layer.kernel[1] : layer.inChannels;
    const mask = new Uint8Array(layer.weights.length);
    for (let start = 0; start < layer.weights.length; start += rowLength) {
      for (let block = 0; block < rowLength; block += m) {
        const size = Math.min(m, rowLength - block);
        const from = start + block;
        for (const offset of topKIndices(scores.subarray(from, from + size), nmKeptInBlock(n, m, size))) mask[from + offset] = 1;
      }
    }
    return planFromMask(layer, mask, { strategy: 'nm', granularity: 'nm', tileRows: 1 });
  },
};
