import { UsageError } from '@deprune/errors';
import { dampedCholesky, inverseDiagonalFromFactor } from '@deprune/tensor';
import type { ImportanceScorer, LayerStatistics, PrunableLayer } from './types';
import { validateLayer } from './validate';

/**
 * Scorers that use calibration statistics (`LayerStatistics`, from `@deprune/calibrate`).
 *
 * Both return the SQUARE ROOT of their saliency, in the units of `|w|`: the per-weight order is the
 * saliency's, and the L2 aggregation that PCP segments, channels and HSR apply to scores then sums
 * saliencies (sqrt(sum s^2) = sqrt(sum saliency)), which is what removing a group costs.
 */

/** Default relative damping of the Gram matrix for `obs` (lambda = 0.01 x mean diagonal, as in OBS/GPTQ practice). */
export const DEFAULT_OBS_DAMPING = 0.01;

/** Input rows per weight row: K taps for DW, Cin columns for PW. */
function rowLength(layer: PrunableLayer): number {
  return layer.kind === 'dw' ? layer.kernel[0] * layer.kernel[1] : layer.inChannels;
}

/** Index into per-input statistics (length C*K for DW, Cin for PW) of weight `index`. */
function inputIndex(layer: PrunableLayer, index: number): number {
  return layer.kind === 'dw' ? index : index % layer.inChannels;
}

export function needs(scorer: string, field: string, layer: PrunableLayer): UsageError {
  return new UsageError(`scorer '${scorer}' needs calibration statistics (${field}) for layer '${layer.name}'`, {
    node: layer.name,
    hint: 'calibrate first (deprune prune --calib <images or .npy>), or use --importance magnitude',
  });
}

export function checkLength(scorer: string, field: string, layer: PrunableLayer, values: Float64Array, expected: number): void {
  if (values.length !== expected) {
    throw new UsageError(`scorer '${scorer}': ${field} of layer '${layer.name}' has ${values.length} values, expected ${expected}`, {
      node: layer.name,
      hint: 'the statistics were collected for another model or layer shape; calibrate this model again',
    });
  }
}

/** The per-input squared norms: `inputNormSquared`, else the diagonal of `gram`. */
function inputNorms(scorer: string, layer: PrunableLayer, stats: LayerStatistics | undefined): Float64Array {
  const inputs = layer.kind === 'dw' ? layer.weights.length : layer.inChannels;
  if (stats?.inputNormSquared !== undefined) {
    checkLength(scorer, 'inputNormSquared', layer, stats.inputNormSquared, inputs);
    return stats.inputNormSquared;
  }
  if (stats?.gram !== undefined) {
    const size = rowLength(layer);
    checkLength(scorer, 'gram', layer, stats.gram, layer.kind === 'dw' ? layer.channels * size * size : size * size);
    // Input row `index` is entry (k, k) of block floor(index / size), k = index % size (PW: one block).
    const gram = stats.gram;
    return Float64Array.from({ length: inputs }, (_, index) => gram[Math.floor(index / size) * size * size + (index % size) * (size + 1)]);
  }
  throw needs(scorer, 'inputNormSquared or gram', layer);
}

/**
 * Wanda-style: `|w| * ||x||`, the weight times the L2 norm (over the calibration set) of the input
 * row it multiplies (DW: its tap's im2col row; PW: its input channel).
 */
export const activationScorer: ImportanceScorer = {
  name: 'activation',
  needsStatistics: true,
  description: '|w| times the L2 norm of its input over the calibration set (Wanda); needs calibration',
  score(layer: PrunableLayer, stats?: LayerStatistics): Float64Array {
    validateLayer(layer);
    const norms = inputNorms('activation', layer, stats);
    const scores = new Float64Array(layer.weights.length);
    for (let index = 0; index < scores.length; index++) scores[index] = Math.abs(layer.weights[index]) * Math.sqrt(Math.max(0, norms[inputIndex(layer, index)]));
    return scores;
  },
};

/**
 * Optimal Brain Surgeon saliency `w^2 / [H^-1]_kk` with `H` the damped Gram matrix of the layer's
 * input (DW: each channel's K x K patch Gram; PW: the Cin x Cin Gram, shared by every output row):
 * the increase of the layer's squared output error when weight k goes and the others are
 * re-fitted. Returned as its square root (see above).
 */
export const obsScorer: ImportanceScorer = {
  name: 'obs',
  needsStatistics: true,
  description: 'second-order (OBS) saliency w^2 / [H^-1]_kk from the damped input Gram matrix (as its square root); needs calibration',
  score(layer: PrunableLayer, stats?: LayerStatistics): Float64Array {
    validateLayer(layer);
    if (stats?.gram === undefined) throw needs('obs', 'gram', layer);
    const size = rowLength(layer);
    const blocks = layer.kind === 'dw' ? layer.channels : 1;
    checkLength('obs', 'gram', layer, stats.gram, blocks * size * size);
    const inverseDiagonal = new Float64Array(blocks * size);
    for (let block = 0; block < blocks; block++) {
      const gram = stats.gram.subarray(block * size * size, (block + 1) * size * size);
      const { factor } = dampedCholesky(gram, size, DEFAULT_OBS_DAMPING);
      inverseDiagonal.set(inverseDiagonalFromFactor(factor, size), block * size);
    }
    const scores = new Float64Array(layer.weights.length);
    for (let index = 0; index < scores.length; index++) {
      scores[index] = Math.abs(layer.weights[index]) / Math.sqrt(inverseDiagonal[inputIndex(layer, index)]);
    }
    return scores;
  },
};
