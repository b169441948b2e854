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
 * damped Gram matrix (n x n, symmetric, not modified). Ties go to the lower index. O(n^2 (rows + n/6)).
 *
 * H^-1 is never downdated in place. A step needs only its diagonal (for the choice) and the chosen
 * input's row (for the re-fit and the diagonal's update), and after k removals
 * `[H^-1]_jp = inverse_jp - sum_{t<k} (u_t[j] / d_t) u_t[p]`, where u_t is step t's pivot row and
 * d_t its pivot: the same terms, subtracted in the same order, as the in-place downdate. So the
 * pivot rows are kept (`past`, one row of up to n steps per input) and a step computes the one row
 * it needs, m dot products of length k, and updates the diagonal in O(m): n^3/6 multiply-adds in
 * all where the in-place downdate of the whole matrix took n^3/3, and dot products, which keep
 * their sums in registers, run faster in V8 than the downdate's read-modify-write of every entry.
 * The values differ from a full downdate's only in rounding (the downdate's H^-1 is not exactly
 * symmetric; this reads one triangle), not in what is computed.
 *
 * The inputs still in the problem are kept packed in positions 0..m-1 (`input[p]` is the input at
 * position p): a removal moves the last position's weights, diagonal and past pivot-row entries
 * into the freed one, so every loop runs over the m = n - step remaining positions with no test
 * for removed inputs.
 */
export function greedyObsRemoval(weights: Float64Array, rows: number, n: number, inverse: Float64Array): GreedyRemoval {
  // Callers' counts can arrive as boxed doubles (a Math.min result is one in V8's optimized code);
  // one such call deoptimizes this function, and its re-optimized code then does the index
  // arithmetic in floating point: 17 ms instead of 10 ms on a 480-input tile after a rec prune.
  rows |= 0;
  n |= 0;
  const w = Float64Array.from(weights);
  const input = new Int32Array(n);
  const diagonal = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    input[j] = j;
    diagonal[j] = inverse[j * n + j];
  }
  // past[p * n + t]: step t's pivot-row entry at the input now in position p.
  const past = new Float64Array(n * n);
  const pivots = new Float64Array(n);
  const scale = new Float64Array(n);
  const pivotRow = new Float64Array(n);
  const step = new Int32Array(n);
  const loss = new Float64Array(n);
  for (let at = 0; at < n; at++) {
    const m = n - at;
    let best = -1;
    let bestLoss = Number.POSITIVE_INFINITY;
    for (let p = 0; p < m; p++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        const value = w[r * n + p];
        sum += value * value;
      }
      const cost = sum / diagonal[p];
      if (cost < bestLoss || (cost === bestLoss && input[p] < input[best])) {
        bestLoss = cost;
        best = p;
      }
    }
    const pivot = diagonal[best];
    const bestPast = best * n;
    for (let t = 0; t < at; t++) scale[t] = past[bestPast + t] / pivots[t];
    pivotRowAt(inverse, input[best] * n, input, past, scale, n, m, at, pivotRow);
    for (let r = 0; r < rows; r++) {
      const row = r * n;
      const factor = w[row + best] / pivot;
      if (factor === 0) continue;
      for (let p = 0; p < m; p++) w[row + p] -= factor * pivotRow[p];
    }
    for (let p = 0; p < m; p++) {
      const value = pivotRow[p];
      diagonal[p] -= (value / pivot) * value;
      past[p * n + at] = value;
    }
    pivots[at] = pivot;
    step[input[best]] = at;
    loss[input[best]] = Math.max(0, bestLoss);
    const last = m - 1;
    if (best !== last) {
      input[best] = input[last];
      diagonal[best] = diagonal[last];
      for (let r = 0; r < rows; r++) w[r * n + best] = w[r * n + last];
      past.copyWithin(bestPast, last * n, last * n + at + 1);
    }
  }
  return { step, loss };
}

/**
 * The chosen input's current H^-1 row at positions 0..m-1 into `out`: `inverse[base + input[p]]`
 * less `scale[t] * past[p * n + t]` for t = 0..at-1, in that order. Eight positions at a time, so
 * each `scale[t]` load serves eight independent sums (the loop is bound by loads, not arithmetic).
 */
function pivotRowAt(inverse: Float64Array, base: number, input: Int32Array, past: Float64Array, scale: Float64Array, n: number, m: number, at: number, out: Float64Array): void {
  let p = 0;
  for (; p + 8 <= m; p += 8) {
    const o0 = p * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const o4 = o3 + n;
    const o5 = o4 + n;
    const o6 = o5 + n;
    const o7 = o6 + n;
    let a0 = inverse[base + input[p]];
    let a1 = inverse[base + input[p + 1]];
    let a2 = inverse[base + input[p + 2]];
    let a3 = inverse[base + input[p + 3]];
    let a4 = inverse[base + input[p + 4]];
    let a5 = inverse[base + input[p + 5]];
    let a6 = inverse[base + input[p + 6]];
    let a7 = inverse[base + input[p + 7]];
    for (let t = 0; t < at; t++) {
      const s = scale[t];
      a0 -= s * past[o0 + t];
      a1 -= s * past[o1 + t];
      a2 -= s * past[o2 + t];
      a3 -= s * past[o3 + t];
      a4 -= s * past[o4 + t];
      a5 -= s * past[o5 + t];
      a6 -= s * past[o6 + t];
      a7 -= s * past[o7 + t];
    }
    out[p] = a0;
    out[p + 1] = a1;
    out[p + 2] = a2;
    out[p + 3] = a3;
    out[p + 4] = a4;
    out[p + 5] = a5;
    out[p + 6] = a6;
    out[p + 7] = a7;
  }
  for (; p < m; p++) {
    const offset = p * n;
    let sum = inverse[base + input[p]];
    for (let t = 0; t < at; t++) sum -= scale[t] * past[offset + t];
    out[p] = sum;
  }
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
