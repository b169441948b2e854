/**
 * Non-uniform sparsity allocation: which ratio each layer gets when the model as a whole must
 * lose as much as the uniform ratios would remove.
 *
 * A uniform ratio treats a layer whose weights barely matter like one where every weight carries
 * the output. `saliency` allocation instead equalises the MARGINAL cost of pruning: every layer is
 * pruned up to one global threshold on each weight's normalised OBS saliency,
 * `w^2 / [H^-1]_kk / E`, where `E = sum_rows w^T H w` is the layer's output energy on the
 * calibration set. The normalised saliency is the share of the layer's output a weight's removal
 * costs after the others are re-fitted, so the threshold is a relative-error price. Summed losses
 * are convex in each layer's pruned count (the smallest go first), so one shared threshold
 * minimises the summed relative loss for the budget (the Lagrangian solution), up to the
 * structure a strategy imposes afterwards (tiles, balance, HSR).
 *
 * The budget is counted in weights, or in MACs (each weight of a layer costs its output pixels):
 * then the threshold is on loss per MAC saved, and layers where a weight costs more time give
 * more of them, so the speedup stays near the uniform ratios' while the loss is spread by saliency.
 */
import { UsageError } from '@deprune/errors';
import { getScorer, type LayerStatistics, type PrunableLayer } from '@deprune/masks';

export interface AllocationLayer {
  name: string;
  /** Per-weight loss of removing it (any non-negative unit shared by all layers), any order. */
  losses: Float64Array;
  /** The ratio the layer would get without allocation. */
  ratio: number;
  /** A ratio the user set for this layer, or 0 (dense): kept as it is, and outside the budget. */
  fixed: boolean;
  /** What removing one of its weights saves, in the budget's unit (default 1: the budget counts weights). */
  cost?: number;
}

export interface AllocationBounds {
  minRatio: number;
  maxRatio: number;
}

export interface Allocation {
  /** One ratio per input layer, in order. */
  ratios: number[];
  /** What the free layers must lose together: sum of ratio x weights x cost, as uniform would remove. */
  budget: number;
  /** What the allocation removes from the free layers (>= budget unless the bounds forbid it). */
  allocated: number;
  /** The shared threshold on loss per unit of cost (a weight at or below it is pruned, within the bounds). */
  threshold: number;
  /** False when even every free layer at maxRatio (or minRatio) cannot match the budget. */
  budgetMet: boolean;
}

function ascending(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

/** Count of values <= threshold in an ascending array. */
function countAtMost(sorted: Float64Array, threshold: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= threshold) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Ratios that remove at least `sum(ratio x weights x cost)` from the free layers with one shared
 * threshold on loss per unit of cost, each layer's count clamped to
 * [ceil(minRatio n), floor(maxRatio n)]. Fixed layers and layers at ratio 0 keep their ratio. Pure.
 */
export function allocateRatios(layers: readonly AllocationLayer[], bounds: AllocationBounds): Allocation {
  const { minRatio, maxRatio } = bounds;
  const free = layers.map((layer, position) => ({ layer, position })).filter(({ layer }) => !layer.fixed && layer.ratio > 0 && layer.losses.length > 0);
  const costs = free.map(({ layer }) => layer.cost ?? 1);
  const budget = free.reduce((sum, { layer }, index) => sum + layer.ratio * layer.losses.length * costs[index], 0);
  // Prices: loss per unit of budget a weight's removal saves (one that saves nothing is never worth it).
  const sorted = free.map(({ layer }, index) => ascending(costs[index] > 0 ? layer.losses.map((loss) => loss / costs[index]) : layer.losses.map(() => Infinity)));
  // Whole weights per layer: the bounds round inwards, so a ratio is always count / size exactly.
  const countsAt = (threshold: number) =>
    sorted.map((losses) => {
      const low = Math.ceil(minRatio * losses.length - 1e-9);
      const high = Math.floor(maxRatio * losses.length + 1e-9);
      return Math.min(high, Math.max(low, countAtMost(losses, threshold)));
    });
  const removedAt = (threshold: number) => countsAt(threshold).reduce((sum, count, index) => sum + count * costs[index], 0);

  // The smallest candidate threshold (one of the losses) that meets the budget; bisect over all of them.
  const candidates = new Float64Array(sorted.reduce((sum, losses) => sum + losses.length, 0));
  let offset = 0;
  for (const losses of sorted) {
    candidates.set(losses, offset);
    offset += losses.length;
  }
  candidates.sort();
  let threshold = -Infinity;
  if (budget > 0 && candidates.length > 0) {
    let low = 0;
    let high = candidates.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (removedAt(candidates[middle]) >= budget * (1 - 1e-12)) high = middle;
      else low = middle + 1;
    }
    threshold = candidates[low];
  }
  const counts = countsAt(threshold);
  const ratios = layers.map((layer) => layer.ratio);
  free.forEach(({ position }, index) => {
    ratios[position] = counts[index] / sorted[index].length;
  });
  const allocated = counts.reduce((sum, count, index) => sum + count * costs[index], 0);
  return { ratios, budget, allocated, threshold, budgetMet: allocated >= budget * (1 - 1e-12) };
}

/**
 * The layer's output energy on the calibration set, `sum_rows w^T H w`: DW has C rows of K taps,
 * each with its own K x K Gram block; PW Cout rows of Cin sharing one Cin x Cin Gram.
 */
function outputEnergy(layer: PrunableLayer, gram: Float64Array): number {
  const size = layer.kind === 'dw' ? layer.kernel[0] * layer.kernel[1] : layer.inChannels;
  const rows = layer.kind === 'dw' ? layer.channels : layer.outChannels;
  let energy = 0;
  for (let row = 0; row < rows; row++) {
    const weights = layer.weights.subarray(row * size, (row + 1) * size);
    const block = layer.kind === 'dw' ? row * size * size : 0;
    for (let a = 0; a < size; a++) {
      if (weights[a] === 0) continue;
      let dot = 0;
      for (let b = 0; b < size; b++) dot += gram[block + a * size + b] * weights[b];
      energy += weights[a] * dot;
    }
  }
  return energy;
}

/**
 * Per-weight normalised OBS saliency of a layer (see the module comment): the `obs` scorer's
 * saliency over the layer's output energy. Needs the layer's Gram statistics. `obsScores`: the
 * `obs` scorer's output for this layer and statistics when the caller has it already.
 */
export function normalizedSaliency(layer: PrunableLayer, stats: LayerStatistics | undefined, obsScores?: Float64Array): Float64Array {
  if (stats?.gram === undefined) {
    throw new UsageError(`allocation 'saliency' needs calibration statistics (gram) for layer '${layer.name}'`, {
      node: layer.name,
      hint: "calibrate first (deprune prune --calib <images or .npy>), or use allocation 'uniform'",
    });
  }
  const scores = obsScores ?? getScorer('obs').score(layer, stats);
  const energy = outputEnergy(layer, stats.gram);
  // A layer whose output is identically zero on the calibration set costs nothing to prune.
  const scale = energy > 0 ? 1 / energy : 0;
  return scores.map((score) => score * score * scale);
}
