import { DeprunError, ShapeError } from '@deprune/errors';
import { choleskySolve, dampedCholesky } from '@deprune/tensor';
import type { PairedStatistics } from './paired';

/**
 * Closed-form reconstruction of one pruned layer, row by row (a PW output row, or a DW channel):
 * with its kept set S fixed by the mask, find kept weights a_S and a bias b minimising, over the
 * calibration set, the squared difference between the pruned layer's output on its PRUNED-network
 * input and the dense layer's output on its DENSE-network input,
 *
 *   E(a, b) = mean (a_S . x_p[S] + b - w . x_d - b_d)^2,
 *
 * plus `lambda ||a_S - a0_S||^2`, a0 the masked weights. With the bias free, the optimum is the
 * centred least-squares problem (Cov_pp[S,S] + lambda I) a_S = Cov_pd[S,:] w + lambda a0_S, then
 * b = b_d + w . mu_d - a_S . mu_p[S] (the bias absorbs the mean shift). Damping toward a0 rather
 * than toward 0 matters: a direction the calibration data never excites (a tap that only ever
 * reads padding at the calibration size, a column that is always 0) keeps its original weight
 * instead of being zeroed, so the layer still works at other input sizes and no kept weight dies. Weights outside S stay exactly 0: the zero pattern, the kept counts and
 * therefore BWT's balance and HSR's steps do not change.
 *
 * Too few calibration vectors for a row's kept weights (fewer than `MIN_VECTORS_PER_WEIGHT` x |S|:
 * a late, spatially tiny layer on a small calibration set) make the fit interpolate the calibration
 * set rather than the data; such rows only get the bias correction (`underdeterminedRows`).
 *
 * A row whose damped solution would not lower E (possible in principle with heavy damping) keeps
 * its weights and only gets the optimal bias, which never raises E: every row ends at or below its
 * error before.
 */

/** Calibration vectors needed per kept weight of a row before its weights are re-fitted. */
export const MIN_VECTORS_PER_WEIGHT = 4;

export interface LayerProblem {
  name: string;
  kind: 'dw' | 'pw';
  /** Rows of the pruned layer (PW: output channels; DW: channels) and the length of each (PW: P; DW: K). */
  rows: number;
  rowLength: number;
  /** The pruned layer's current weights, rows x rowLength; zero outside `mask`. */
  weights: Float64Array;
  bias: Float64Array;
  /** 1 = kept, same layout as `weights`. */
  mask: Uint8Array;
  /** The dense layer: denseRows x denseLength weights and its bias. */
  denseWeights: Float64Array;
  denseBias: Float64Array;
  denseLength: number;
  /** Dense row of each pruned row (identity unless a `channel` plan removed rows). */
  rowMap: Int32Array;
  stats: PairedStatistics;
  /** Per dense row, a factor the row's error is weighted by in the layer error (a following BN's gamma / sigma). */
  outputScale?: Float64Array;
  /** Relative damping: lambda = damping x mean diagonal of the kept inputs' covariance. */
  damping: number;
}

export interface LayerSolution {
  weights: Float64Array;
  bias: Float64Array;
  /** sum_rows scale^2 E / sum_rows scale^2 mean(y_dense^2), over the pruned layer's rows. */
  errorBefore: number;
  errorAfter: number;
  /** Relative damping used: the requested one, or more where a matrix needed it. */
  dampingUsed: { min: number; max: number };
  /** Rows that kept their weights (only the bias moved) because the solve did not help. */
  biasOnlyRows: number;
  /** Rows with too few calibration vectors for their kept weights: bias corrected only. */
  underdeterminedRows: number;
}

/** The quadratic pieces of E for one row, all from the (uncentred) means. */
interface RowMoments {
  /** M_pp[S,S] (|S| x |S|). */
  mpp: Float64Array;
  /** (M_pd w)[S]. */
  t: Float64Array;
  /** mu_p[S]. */
  mu: Float64Array;
  /** w^T M_dd w. */
  wdd: number;
  /** w . mu_d. */
  wmu: number;
  denseBias: number;
}

function rowError(moments: RowMoments, a: Float64Array, b: number): number {
  const size = a.length;
  let quadratic = 0;
  let linear = 0;
  let mean = 0;
  for (let i = 0; i < size; i++) {
    let row = 0;
    for (let j = 0; j < size; j++) row += moments.mpp[i * size + j] * a[j];
    quadratic += a[i] * row;
    linear += a[i] * moments.t[i];
    mean += a[i] * moments.mu[i];
  }
  const shift = b - moments.denseBias;
  return Math.max(0, quadratic - 2 * linear + moments.wdd + 2 * shift * (mean - moments.wmu) + shift * shift);
}

export function solveLayer(problem: LayerProblem): LayerSolution {
  const { rows, rowLength, denseLength, stats, name } = problem;
  if (problem.weights.length !== rows * rowLength || problem.mask.length !== rows * rowLength || problem.bias.length !== rows || problem.rowMap.length !== rows) {
    throw new ShapeError(`layer '${name}': weights, mask, bias and row map do not fit ${rows} rows of ${rowLength}`, { node: name });
  }
  if (stats.prunedLength !== rowLength || stats.denseLength !== denseLength || stats.blocks !== (problem.kind === 'dw' ? rows : 1)) {
    throw new ShapeError(`layer '${name}': statistics were collected for another shape`, { node: name });
  }
  if (!(stats.count > 0)) throw new DeprunError('BAD_USAGE', `layer '${name}': no calibration data reached this layer`, { node: name, hint: 'pass at least one calibration sample' });
  const inverseCount = 1 / stats.count;
  const weights = Float64Array.from(problem.weights);
  const bias = Float64Array.from(problem.bias);
  let errorBefore = 0;
  let errorAfter = 0;
  let energy = 0;
  let minDamping = Number.POSITIVE_INFINITY;
  let maxDamping = 0;
  let biasOnlyRows = 0;
  let underdeterminedRows = 0;
  // PW rows of one tile share S: factor each distinct kept set once.
  const factors = new Map<string, { factor: Float64Array; relative: number; lambda: number }>();

  for (let row = 0; row < rows; row++) {
    const block = problem.kind === 'dw' ? row : 0;
    const denseRow = problem.rowMap[row];
    const w = problem.denseWeights.subarray(denseRow * denseLength, (denseRow + 1) * denseLength);
    const kept: number[] = [];
    for (let k = 0; k < rowLength; k++) {
      if (problem.mask[row * rowLength + k]) kept.push(k);
      else if (weights[row * rowLength + k] !== 0) {
        throw new ShapeError(`layer '${name}': row ${row} has a non-zero weight at pruned position ${k}`, { node: name, hint: 'the model and its plan do not match' });
      }
    }
    const size = kept.length;
    const ppBase = block * rowLength * rowLength;
    const pdBase = block * rowLength * denseLength;
    const ddBase = block * denseLength * denseLength;
    const muP = stats.sumP.subarray(block * rowLength, (block + 1) * rowLength);
    const muD = stats.sumD.subarray(block * denseLength, (block + 1) * denseLength);
    let wmu = 0;
    for (let j = 0; j < denseLength; j++) wmu += w[j] * muD[j] * inverseCount;
    let wdd = 0;
    for (let i = 0; i < denseLength; i++) {
      if (w[i] === 0) continue;
      let sum = 0;
      for (let j = 0; j < denseLength; j++) sum += stats.dd[ddBase + i * denseLength + j] * w[j];
      wdd += w[i] * sum * inverseCount;
    }
    const mpp = new Float64Array(size * size);
    const t = new Float64Array(size);
    const mu = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const p = kept[i];
      mu[i] = muP[p] * inverseCount;
      for (let j = 0; j < size; j++) mpp[i * size + j] = stats.pp[ppBase + p * rowLength + kept[j]] * inverseCount;
      let sum = 0;
      for (let j = 0; j < denseLength; j++) sum += stats.pd[pdBase + p * denseLength + j] * w[j];
      t[i] = sum * inverseCount;
    }
    const denseBias = problem.denseBias[denseRow];
    const moments: RowMoments = { mpp, t, mu, wdd, wmu, denseBias };
    const scale = problem.outputScale ? problem.outputScale[denseRow] ** 2 : 1;
    const current = Float64Array.from(kept, (k) => weights[row * rowLength + k]);
    const before = rowError(moments, current, bias[row]);
    energy += scale * (wdd + 2 * denseBias * wmu + denseBias * denseBias);
    errorBefore += scale * before;

    let solved: Float64Array = current;
    const underdetermined = stats.count < MIN_VECTORS_PER_WEIGHT * size;
    if (underdetermined) underdeterminedRows += 1;
    if (size > 0 && !underdetermined) {
      const key = problem.kind === 'pw' ? kept.join(',') : '';
      let entry: { factor: Float64Array; relative: number; lambda: number } | undefined = key === '' ? undefined : factors.get(key);
      if (entry === undefined) {
        // Covariance of the kept inputs: M_pp[S,S] - mu mu^T.
        const covariance = new Float64Array(size * size);
        for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) covariance[i * size + j] = mpp[i * size + j] - mu[i] * mu[j];
        const damped = dampedCholesky(covariance, size, problem.damping);
        entry = { factor: damped.factor, relative: damped.relativeDamping, lambda: damped.damping };
        if (key !== '') factors.set(key, entry);
      }
      minDamping = Math.min(minDamping, entry.relative);
      maxDamping = Math.max(maxDamping, entry.relative);
      // Cov_pd[S,:] w = (M_pd w)[S] - mu_p[S] (mu_d . w), plus the pull toward the masked weights.
      const lambda = entry.lambda;
      const rhs = Float64Array.from(t, (value, i) => value - mu[i] * wmu + lambda * current[i]);
      solved = choleskySolve(entry.factor, size, rhs);
    }
    const optimalBias = (a: Float64Array) => denseBias + wmu - a.reduce((sum, value, i) => sum + value * mu[i], 0);
    let chosen: Float64Array = solved;
    let chosenBias = optimalBias(solved);
    let after = rowError(moments, chosen, chosenBias);
    if (!underdetermined && (!(after <= before) || !solved.every(Number.isFinite))) {
      chosen = current;
      chosenBias = optimalBias(current);
      after = rowError(moments, chosen, chosenBias);
      biasOnlyRows += 1;
    }
    kept.forEach((k, i) => (weights[row * rowLength + k] = chosen[i]));
    bias[row] = chosenBias;
    errorAfter += scale * after;
  }
  const relative = (error: number) => (energy > 0 ? error / energy : 0);
  return {
    weights,
    bias,
    errorBefore: relative(errorBefore),
    errorAfter: relative(errorAfter),
    dampingUsed: { min: Number.isFinite(minDamping) ? minDamping : problem.damping, max: Math.max(maxDamping, Number.isFinite(minDamping) ? 0 : problem.damping) },
    biasOnlyRows,
    underdeterminedRows,
  };
}
