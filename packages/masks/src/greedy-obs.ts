import { dampedCholesky, inverseFromFactor } from '@deprune/tensor';
import { DEFAULT_OBS_DAMPING, checkLength, needs } from './calibrated-scorers';
import type { ImportanceScorer, LayerStatistics, PrunableLayer, ScoreContext } from './types';
import { validateLayer } from './validate';
import { DEFAULT_TILE_ROWS } from './strategies/pcp';

/**
 * Greedy Optimal Brain Surgeon: the order in which to remove the inputs of a group of weight rows
 * that share them (a PW row tile shares its kept input columns; a DW channel has its own taps),
 * each removal chosen with the earlier ones already made and compensated.
 *
 * The one-shot `obs` scorer ranks every input by `sum_r w_rj^2 / [H^-1]_jj` once, as if each were
 * the only one removed. Removing several correlated inputs costs more (or less) than the sum of
 * their one-at-a-time costs, and the order misses that. Here, after each removal, the remaining
 * weights are re-fitted (the OBS update) and input j is dropped from H^-1, so the next choice sees
 * the compensated weights: the "ExactOBS" greedy of Frantar & Alistarh (Optimal Brain Compression,
 * 2022), applied to whole input columns.
 */

export interface GreedyRemoval {
  /** Removal step of each input (0 = removed first = least important). */
  step: Int32Array;
  /** Squared output error (over the statistics' vectors) that removing each input added at its step, indexed by input. */
  loss: Float64Array;
}

/**
 * Removes all `n` inputs of `rows` weight rows (`weights`, row-major rows x n, not modified) one at
 * a time: each step the input j with the least `sum_r w_rj^2 / [H^-1]_jj`, then for every row
 * `w_r -= (w_rj / [H^-1]_jj) [H^-1]_j` (the others re-fitted to make up for it) and
 * `H^-1 -= [H^-1]_:j [H^-1]_j: / [H^-1]_jj` (j leaves the problem). `inverse` is H^-1 of the
 * damped Gram matrix (n x n, not modified). Ties go to the lower index. O(n^2 (rows + n)).
 *
 * The inputs still in the problem are kept packed in positions 0..m-1 (`input[p]` is the input at
 * position p; the copies of W and H^-1 keep their stride n): a removal moves the last position's
 * row and column into the freed one. Every loop then runs over m = n - step dense positions with no
 * test for removed inputs, about a third of the work of scanning all n each step (PW layers with
 * row tiles of 4 rows run this once per tile), and each value gets the same arithmetic as before.
 */
export function greedyObsRemoval(weights: Float64Array, rows: number, n: number, inverse: Float64Array): GreedyRemoval {
  const w = Float64Array.from(weights);
  const h = Float64Array.from(inverse);
  const input = Int32Array.from({ length: n }, (_, j) => j);
  const step = new Int32Array(n);
  const loss = new Float64Array(n);
  for (let at = 0; at < n; at++) {
    const m = n - at;
    let best = -1;
    let bestLoss = Number.POSITIVE_INFINITY;
    for (let p = 0; p < m; p++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += w[r * n + p] * w[r * n + p];
      const cost = sum / h[p * n + p];
      if (cost < bestLoss || (cost === bestLoss && input[p] < input[best])) {
        bestLoss = cost;
        best = p;
      }
    }
    const pivot = h[best * n + best];
    const pivotRow = best * n;
    for (let r = 0; r < rows; r++) {
      const factor = w[r * n + best] / pivot;
      if (factor === 0) continue;
      const row = r * n;
      for (let p = 0; p < m; p++) w[row + p] -= factor * h[pivotRow + p];
    }
    for (let i = 0; i < m; i++) {
      if (i === best) continue;
      const scale = h[i * n + best] / pivot;
      if (scale === 0) continue;
      const row = i * n;
      for (let p = 0; p < m; p++) h[row + p] -= scale * h[pivotRow + p];
    }
    step[input[best]] = at;
    loss[input[best]] = Math.max(0, bestLoss);
    // The last position fills the freed one: its W column, then its H^-1 row and column (the row
    // first, so the column copy also brings the diagonal).
    const last = m - 1;
    if (best !== last) {
      input[best] = input[last];
      for (let r = 0; r < rows; r++) w[r * n + best] = w[r * n + last];
      for (let p = 0; p < m; p++) h[pivotRow + p] = h[last * n + p];
      for (let i = 0; i < m; i++) h[i * n + best] = h[i * n + last];
    }
  }
  return { step, loss };
}

/**
 * Scores of a group's inputs from its greedy removal: the square root of the running maximum of the
 * losses in removal order (so later-removed inputs never score lower), plus a step-sized nudge that
 * keeps the greedy order through ties. Units are those of `obs` (sqrt of squared output error), so
 * groups of different layers' tiles and channels compare as the one-shot scores do.
 */
function removalScores(removal: GreedyRemoval, n: number): Float64Array {
  const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => removal.step[a] - removal.step[b]);
  let largest = 0;
  for (const value of removal.loss) largest = Math.max(largest, value);
  const nudge = (largest > 0 ? largest : 1) * 1e-12;
  const scores = new Float64Array(n);
  let running = 0;
  for (const j of order) {
    running = Math.max(running, removal.loss[j]);
    scores[j] = Math.sqrt(running + nudge * removal.step[j]);
  }
  return scores;
}


/**
 * `obs-greedy`: greedy OBS removal order per DW channel (its K taps, its own K x K Gram) and per PW
 * row tile (`context.tileRows` rows sharing input columns, the Cin x Cin Gram): every weight of
 * column j in a tile gets that column's score (see `removalScores`), divided by sqrt(rows) so a
 * tile segment's L2 norm, which PCP and BWT rank, is the score itself.
 */
export const obsGreedyScorer: ImportanceScorer = {
  name: 'obs-greedy',
  needsStatistics: true,
  description: 'greedy OBS: removes inputs one at a time per DW channel / PW row tile, re-fitting the rest after each (needs calibration)',
  score(layer: PrunableLayer, stats?: LayerStatistics, context: ScoreContext = {}): Float64Array {
    validateLayer(layer);
    if (stats?.gram === undefined) throw needs('obs-greedy', 'gram', layer);
    const scores = new Float64Array(layer.weights.length);
    if (layer.kind === 'dw') {
      const taps = layer.kernel[0] * layer.kernel[1];
      checkLength('obs-greedy', 'gram', layer, stats.gram, layer.channels * taps * taps);
      for (let channel = 0; channel < layer.channels; channel++) {
        const gram = stats.gram.subarray(channel * taps * taps, (channel + 1) * taps * taps);
        const inverse = inverseFromFactor(dampedCholesky(gram, taps, DEFAULT_OBS_DAMPING).factor, taps);
        const weights = layer.weights.subarray(channel * taps, (channel + 1) * taps);
        scores.set(removalScores(greedyObsRemoval(weights, 1, taps, inverse), taps), channel * taps);
      }
      return scores;
    }
    const n = layer.inChannels;
    checkLength('obs-greedy', 'gram', layer, stats.gram, n * n);
    const inverse = inverseFromFactor(dampedCholesky(stats.gram, n, DEFAULT_OBS_DAMPING).factor, n);
    const tileRows = Math.max(1, Math.min(layer.outChannels, context.tileRows ?? DEFAULT_TILE_ROWS));
    for (let first = 0; first < layer.outChannels; first += tileRows) {
      const rows = Math.min(tileRows, layer.outChannels - first);
      const column = removalScores(greedyObsRemoval(layer.weights.subarray(first * n, (first + rows) * n), rows, n, inverse), n);
      const perWeight = 1 / Math.sqrt(rows);
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) scores[(first + r) * n + j] = column[j] * perWeight;
    }
    return scores;
  },
};
