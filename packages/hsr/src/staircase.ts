import { UsageError } from '@deprune/errors';

/**
 * Staircase statistics of a measured latency curve (kept count -> latency): pure functions that
 * read the chunk size t off the kernels' padding stairs. The profiler (`@deprune/profiler`) times
 * the curves; these say which step they show and whether the timing resolved it at all.
 */

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${what} must be an integer >= 1, got ${String(value)}`);
  return value;
}

/** Least-squares fit of latency = a + b * ceil(n / t); its residual sum of squares and R^2. */
export interface StaircaseFit {
  step: number;
  intercept: number;
  perStair: number;
  rss: number;
  r2: number;
}

function sortedPairs(kept: readonly number[], latency: readonly number[]): { n: number[]; y: number[] } {
  if (kept.length !== latency.length) throw new UsageError(`findStep needs as many latencies as kept counts (${kept.length} vs ${latency.length})`);
  const order = kept.map((_, index) => index).sort((a, b) => kept[a] - kept[b]);
  return { n: order.map((index) => kept[index]), y: order.map((index) => latency[index]) };
}

/** The least-squares staircase of chunk size `step` through the points (see `findStep`). */
export function fitStaircase(kept: readonly number[], latency: readonly number[], step: number): StaircaseFit {
  positiveInteger(step, 'step');
  const { n, y } = sortedPairs(kept, latency);
  const x = n.map((count) => Math.ceil(count / step));
  const count = x.length;
  const meanX = x.reduce((sum, value) => sum + value, 0) / count;
  const meanY = y.reduce((sum, value) => sum + value, 0) / count;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < count; i++) {
    sxx += (x[i] - meanX) ** 2;
    sxy += (x[i] - meanX) * (y[i] - meanY);
    syy += (y[i] - meanY) ** 2;
  }
  const perStair = sxx === 0 ? 0 : sxy / sxx;
  const intercept = meanY - perStair * meanX;
  let rss = 0;
  for (let i = 0; i < count; i++) rss += (y[i] - intercept - perStair * x[i]) ** 2;
  return { step, intercept, perStair, rss, r2: syy === 0 ? 0 : 1 - rss / syy };
}

export interface FindStepOptions {
  /** Largest step to try (default: half the largest count, at most 64). */
  maxStep?: number;
  /**
   * Smallest per-stair latency rise that counts as a staircase (same unit as the latencies).
   * Below it the stairs are lost in the noise and the step is reported as not detected. Default 0.
   */
  minJump?: number;
}

/** A staircase's per-stair rise must be this many of its standard errors (from the fit's residuals). */
export const STEP_SIGNIFICANCE = 3;

/**
 * The per-stair rise and its standard error in a fit that also has a ramp: latency = a +
 * b * ceil(n / t) + c * n. The ramp term takes whatever rises smoothly with n, so b measures only
 * the jumps at the stair edges: a curve that is really a ramp with noise gets b near 0, while a
 * staircase keeps b at its stair height. For t = 1 the two terms coincide, so b is the plain slope.
 */
export function stairRise(kept: readonly number[], latency: readonly number[], step: number): { rise: number; standardError: number } {
  const { n, y } = sortedPairs(kept, latency);
  const s = n.map((count) => Math.ceil(count / step));
  const count = n.length;
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / count;
  const [ms, mn, my] = [mean(s), mean(n), mean(y)];
  let sss = 0;
  let snn = 0;
  let ssn = 0;
  let ssy = 0;
  let sny = 0;
  let syy = 0;
  for (let i = 0; i < count; i++) {
    const [ds, dn, dy] = [s[i] - ms, n[i] - mn, y[i] - my];
    sss += ds * ds;
    snn += dn * dn;
    ssn += ds * dn;
    ssy += ds * dy;
    sny += dn * dy;
    syy += dy * dy;
  }
  if (step === 1 || count < 4) {
    // The plain slope and its usual error.
    if (count < 3 || sss === 0) return { rise: sss === 0 ? 0 : ssy / sss, standardError: Number.POSITIVE_INFINITY };
    const rise = ssy / sss;
    return { rise, standardError: Math.sqrt(Math.max(0, syy - rise * ssy) / (count - 2) / sss) };
  }
  const determinant = sss * snn - ssn * ssn;
  // Too few stairs in the counts to tell jumps from a ramp.
  if (determinant <= 1e-9 * sss * snn) return { rise: 0, standardError: Number.POSITIVE_INFINITY };
  const rise = (ssy * snn - sny * ssn) / determinant;
  const ramp = (sny * sss - ssy * ssn) / determinant;
  const residual = Math.max(0, syy - rise * ssy - ramp * sny);
  return { rise, standardError: Math.sqrt((residual / (count - 3)) * (snn / determinant)) };
}

/** `findStep`'s answer with the evidence. */
export interface StepEstimate {
  /** The chunk size found; 1 when no staircase shows (every count its own stair: HSR then recovers nothing). */
  step: number;
  /** Fit of the chosen step. */
  fit: StaircaseFit;
  /** Residual sum of squares of every candidate step tried. */
  candidates: { step: number; rss: number }[];
  /** False when the curve does not rise by at least `minJump` per stair, or a staircase explains less than half its variance. */
  detected: boolean;
}

/**
 * Detects the staircase step t in a measured latency curve. Method: for every candidate t from 1
 * to half the largest count (at most 64), fit latency = a + b * ceil(n / t) by least squares and
 * keep the t with the smallest residual. All candidates have two parameters, so none wins by being
 * more flexible: a t that is too small puts stair edges where the curve is flat, one too large
 * misses real edges, and both leave larger residuals than the true t. This uses every point, so one
 * noisy sample does not split a stair as it would for "the most common width of flat runs" (which
 * is what the fit agrees with on a clean curve). Counts need not be evenly spaced, but at least two
 * edges of the true staircase must lie inside the counts given (`maxStep` keeps the candidates to
 * what the counts can show). Returns 1 (not detected: HSR then moves nothing, the safe answer) when
 * - the curve does not rise by more than `minJump` per stair (a staircase lost in timing noise), or
 * - the jumps at the stair edges, fitted with a ramp beside them (`stairRise`), are less than 3 of
 *   their standard errors: the "stairs" would be noise around a ramp, or noise alone, or
 * - the best staircase explains less than half the variance (R^2 < 0.5).
 */
export function findStepDetail(kept: readonly number[], latency: readonly number[], options: FindStepOptions = {}): StepEstimate {
  const { n, y } = sortedPairs(kept, latency);
  if (n.some((count) => !Number.isInteger(count) || count < 0)) throw new UsageError('findStep: kept counts must be integers >= 0');
  if (y.some((value) => !Number.isFinite(value))) throw new UsageError('findStep: latencies must be finite numbers');
  const largest = n.length === 0 ? 0 : n[n.length - 1];
  const maxCandidate = Math.min(64, Math.floor(largest / 2), options.maxStep ?? Number.POSITIVE_INFINITY);
  const candidates: { step: number; rss: number }[] = [];
  let best: StaircaseFit | undefined;
  for (let step = 1; step <= Math.max(1, maxCandidate); step++) {
    const fit = fitStaircase(n, y, step);
    candidates.push({ step, rss: fit.rss });
    // Strictly smaller residual wins; ties (e.g. an exactly flat curve) keep the smaller step.
    if (best === undefined || fit.rss < best.rss * (1 - 1e-9)) best = fit;
  }
  const fit = best ?? fitStaircase(n, y, 1);
  const jumps = stairRise(n, y, fit.step);
  const detected =
    n.length >= 3 && fit.perStair > Math.max(0, options.minJump ?? 0) && fit.r2 >= 0.5 && jumps.rise >= STEP_SIGNIFICANCE * jumps.standardError;
  return { step: detected ? fit.step : 1, fit, candidates, detected };
}

/** The staircase step of a measured curve (see `findStepDetail` for the method). */
export function findStep(kept: readonly number[], latency: readonly number[], options: FindStepOptions = {}): number {
  return findStepDetail(kept, latency, options).step;
}
