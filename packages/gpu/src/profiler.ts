import { UsageError } from '@deprune/errors';
import { tableLatencyModel, type LatencyModel, type LatencyTable, type LatencyTableEntry, type TableLatencyModelOptions } from '@deprune/hsr';
import { buildDwPlan, buildPwPlan, roundCount, type DwLayer, type PwLayer } from '@deprune/masks';
import { createRng, randomTensor, toFloat32, type Rng, type Tensor } from '@deprune/tensor';
import { disposeBackend } from './backend';
import type { ConvAttrs } from './kernels/conv-params';
import { isGpuMode, type GpuMode } from './modes';
import { getKernel } from './registry';
import { buildColumnTable, buildDiagonalTable, buildTapTable, DEFAULT_DIAGONAL_GROUP_SIZE, DEFAULT_STEP } from './tables';
import { median, type Measurement } from './timing';

/**
 * The latency profiler: times the real sparse kernels of this package at many kept counts for
 * each prunable layer shape of a model and writes `@deprune/hsr`'s `LatencyTable`, so HSR
 * recalibrates against measured latency instead of the analytic `ceil(n / t)` model.
 *
 * What is timed, per layer (random input of the layer's shape, random weights, seeded):
 * - DW, unit `channel` (default): `dwSparse` on a channel-balanced plan, every channel keeps m taps,
 *   for m = 0..K (K = kh * kw). This is what a BWT `channel` plan runs.
 * - DW, unit `group`: `dwDiagonal` (the DR sub-GEMM form, method.md section 1) on a group-balanced
 *   plan, every group of G channels keeps n taps, n on a grid over 0..G*K. The DR form is the kernel
 *   whose work follows n_g; `dwSparse` pads every channel to the largest m_c, so a group plan's
 *   latency there is not a function of n.
 * - PW: `pwSparse` on a tile-balanced plan, every row tile of T rows keeps q input columns (a random
 *   subset per tile), q on a grid over 0..Cin.
 * The default grid: every count in 0..stepWindow (the **window**, where the stairs are large
 * relative to the layer's total work, so the step shows through timing noise; timed with
 * `windowRepeats`, 2 * repeats by default, as small counts are cheap), then `findStep` on the
 * window alone, with the noise of the window's own samples, then the top of every stair up to full
 * (multiples of the table's stair: the step found, kept to a divisor of the kernel's t; the
 * kernel's t when none was found), and full itself. Explicit `keptCounts` replace the grid; their
 * consecutive run from 0 is the window.
 *
 * Each kept count is one kernel configuration. All configurations of a layer are timed
 * **interleaved**: `warmup` untimed calls each (the first compiles), then `repeats` rounds that call
 * every configuration once, so a slow spell of the machine hits every count alike instead of a few.
 * The table's latency for a count is the median of its stair: every count the kernel pads up to the
 * same number of slots runs the same compiled code, so their samples are pooled (the raw per-count
 * medians are kept in `rawLatencyUs`). Stairs are then made strictly increasing (a stair that noise
 * put at or below the one under it is raised to `STAIR_TIE_BREAK_US` above it), so HSR's recover
 * stops at the top of a stair, as the kernel's padding says it should, instead of walking across
 * edges whose cost the timing could not resolve.
 */

/** The kernels' chunk size t, unless a profile asks for another. */
export const PROFILE_DEFAULT_STEP = DEFAULT_STEP;
/**
 * In the table a stair is at least this many microseconds above the one below: the tie-break for
 * stairs that timing noise inverted or left equal (far below anything measurable).
 */
export const STAIR_TIE_BREAK_US = 0.01;
/** gpu.js as pinned in this package's dependencies (recorded in tables and reports). */
export const GPU_JS_VERSION = '2.24.1';

/** A DW layer to profile: its input shape and conv geometry. */
export interface DwProfileLayer {
  kind: 'dw';
  /** The name HSR will look the layer up by: the ONNX node name. */
  name: string;
  /** NCHW input shape [N, C, H, W]. */
  inputShape: readonly number[];
  kernel: readonly [number, number];
  strides?: readonly [number, number];
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  /** Balanced unit the table is for: 'channel' (default, dwSparse, m per channel) or 'group' (dwDiagonal, n per group). */
  unit?: 'channel' | 'group';
  /** G for unit 'group'. Default 32 (BWT's default), clamped to C. */
  groupSize?: number;
}

/** A PW layer to profile. */
export interface PwProfileLayer {
  kind: 'pw';
  name: string;
  /** NCHW input shape [N, Cin, H, W]. */
  inputShape: readonly number[];
  outChannels: number;
  /** T, output rows per tile. Default 32 (BWT's default), clamped to Cout. */
  tileRows?: number;
}

export type ProfileLayer = DwProfileLayer | PwProfileLayer;

export interface ProfileProgress {
  /** The layer being timed and its position. */
  layer: string;
  layerIndex: number;
  layers: number;
  /** 'window': counts timed to find the step; 'grid': the rest; 'done': the layer is finished. */
  phase: 'window' | 'grid' | 'done';
  /** Rounds done of this phase (warmup counts as round 0). */
  round: number;
  rounds: number;
}

export interface ProfileOptions {
  mode: GpuMode;
  /** Untimed calls per kept count before timing (the first compiles). Default 1. */
  warmup?: number;
  /** Timed calls per kept count (interleaved rounds). Default 7. */
  repeats?: number;
  /** Chunk size t the kernels' tables are built with. Default 4 (the kernels' DEFAULT_STEP). */
  kernelStep?: number;
  /**
   * Explicit kept counts per layer name, replacing the default grid (0 and full are always added).
   * The step is then found from these counts.
   */
  keptCounts?: Readonly<Record<string, readonly number[]>>;
  /** Counts 0..stepWindow are all timed to find the step (DW channel units always time 0..K). Default 16. */
  stepWindow?: number;
  /**
   * Timed calls per count of the window when it is a prefix of the counts (PW tiles, DW groups):
   * small counts are cheap to time and their stairs are the ones the step is read from. Default
   * 2 * repeats. A DW channel layer's window is all of 0..K, timed with `repeats`.
   */
  windowRepeats?: number;
  /** Timing grid above the window: every `gridStride`-th stair top (1 = every stair, the default). */
  gridStride?: number;
  /** Seed of the random inputs, weights and kept sets. Default 1. */
  seed?: number;
  /** One line describing the machine, recorded in the table. Default: what the runtime tells. */
  machine?: string;
  /** Destroy the mode's backend after each layer (frees compiled kernels). Default true. */
  disposeBetweenLayers?: boolean;
  onProgress?: (event: ProfileProgress) => void;
}

/** One layer of a profiled table: hsr's entry plus what was measured and how. */
export interface ProfiledLatencyEntry extends LatencyTableEntry {
  /**
   * Width of the table's stairs: the step found, kept to a divisor of the kernel's t (their gcd),
   * 1 when none was found. HSR's recover moves within a stair, so a stair never spans one of the
   * kernel's own padding edges, even when timing noise made two stairs look like one.
   */
  step: number;
  /** The step `findStep` read off the window's timings (1: not resolved); equals the kernel's t when the staircase shows. */
  foundStep: number;
  kind: 'dw' | 'pw';
  /** What `kept` counts: taps per channel, taps per group, or columns per tile. */
  unit: 'channel' | 'group' | 'tile';
  /** Capacity of a full unit (K, G*K or Cin): the largest count timed. */
  full: number;
  /** Channels per group (unit group) or rows per tile (unit tile). */
  unitSize: number;
  kernel: 'dwSparse' | 'dwDiagonal' | 'pwSparse';
  inputShape: number[];
  /** Median of each count's own samples, in microseconds (before pooling by stair). */
  rawLatencyUs: number[];
  /** Each count's fastest call, in microseconds: what the step is read from in the window. */
  fastestUs: number[];
  /** max - min of each count's samples, in microseconds. */
  spreadUs: number[];
  /** How well a staircase of the found step explains the window's curve (R^2 of the least-squares fit). */
  fitR2: number;
  /**
   * Whether the timing resolved a staircase, on the window's fastest calls: the jump at the kernel's
   * own stair edges (every t counts, fitted beside a ramp: `stairRise`) against the smallest jump
   * the timing resolves (3 of its standard errors; -1 when the window is too short to tell), and
   * the counts and timed calls per count the step was read from.
   */
  resolution: { kernelStep: number; perStairUs: number; minJumpUs: number; detected: boolean; windowCounts: number; windowRepeats: number };
  /** Stairs whose pooled median was raised to STAIR_TIE_BREAK_US above the stair below (noise had inverted or tied them). */
  raisedStairs: number;
}

export interface ProfileMetadata {
  tool: string;
  machine: string;
  date: string;
  gpuJs: string;
  mode: GpuMode;
  kernelStep: number;
  warmup: number;
  repeats: number;
  interleaved: true;
  seconds: number;
}

/** `@deprune/hsr`'s LatencyTable (what `tableLatencyModel` and the prune config take), plus how it was made. */
export interface ProfiledLatencyTable extends LatencyTable {
  layers: Record<string, ProfiledLatencyEntry>;
  meta: ProfileMetadata;
}

function positiveInteger(value: number, what: string, minimum = 1): number {
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`${what} must be an integer >= ${minimum}, got ${String(value)}`);
  return value;
}


function measurementOf(samples: number[]): Measurement {
  return { medianMs: median(samples), spreadMs: Math.max(...samples) - Math.min(...samples), samples };
}

export interface InterleavedOptions {
  /** Untimed calls of each function first. Default 1. */
  warmup?: number;
  /** Timed rounds; each round calls every function once. Default 7. */
  repeats?: number;
  /** Called after the warmup (round 0) and after every round. */
  onRound?: (round: number, rounds: number) => void;
  /**
   * Called, untimed, before every timed call: e.g. a full garbage collection, so the garbage one
   * call left behind is not collected inside the next call's timing (what made prune() timings
   * of the same variant differ by a third between runs).
   */
  beforeCall?: () => void;
}

/**
 * Times several functions side by side: `warmup` untimed calls of each, then `repeats` rounds
 * that call each function once (awaited, one after another; the order rotates every round so
 * none is always first). A slow spell of a shared machine then lands on every function alike,
 * which is what comparisons between them need. Returns one measurement per function (median,
 * spread = max - min, samples in round order), in milliseconds.
 */
export async function measureInterleaved(fns: readonly (() => unknown)[], options: InterleavedOptions = {}): Promise<Measurement[]> {
  const warmup = options.warmup ?? 1;
  const repeats = options.repeats ?? 7;
  if (!Number.isInteger(warmup) || warmup < 0) throw new UsageError(`warmup must be an integer >= 0, got ${String(warmup)}`);
  positiveInteger(repeats, 'repeats');
  for (let call = 0; call < warmup; call++) for (const fn of fns) await fn();
  options.onRound?.(0, repeats);
  const samples = fns.map((): number[] => []);
  for (let round = 0; round < repeats; round++) {
    for (let offset = 0; offset < fns.length; offset++) {
      const index = (offset + round) % fns.length;
      options.beforeCall?.();
      const start = performance.now();
      await fns[index]();
      samples[index].push(performance.now() - start);
    }
    options.onRound?.(round + 1, repeats);
  }
  return samples.map(measurementOf);
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
const STEP_SIGNIFICANCE = 3;

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

/**
 * HSR's latency model over a profiled table: `tableLatencyModel` of `@deprune/hsr` (the latency of
 * n is the one measured at the smallest timed count >= n; running maximum over n), with the
 * analytic staircase as the fallback for layers the table lacks.
 */
export function measuredLatencyModel(table: LatencyTable, options: TableLatencyModelOptions = {}): LatencyModel {
  return tableLatencyModel(table, options);
}

interface LayerSetup {
  unit: 'channel' | 'group' | 'tile';
  unitSize: number;
  full: number;
  kernel: ProfiledLatencyEntry['kernel'];
  /** A function that runs the kernel with every unit keeping `count`. */
  runner(count: number): () => Promise<unknown>;
}

function checkShape(layer: ProfileLayer): [number, number, number, number] {
  const shape = layer.inputShape;
  if (!Array.isArray(shape) || shape.length !== 4 || shape.some((dim) => !Number.isInteger(dim) || dim < 1)) {
    throw new UsageError(`profile layer '${layer.name}' needs a concrete NCHW inputShape, got ${JSON.stringify(shape)}`);
  }
  return [shape[0], shape[1], shape[2], shape[3]];
}

function randomFloat32(shape: readonly number[], rng: Rng): Tensor<Float32Array> {
  return toFloat32(randomTensor(shape, rng)) as Tensor<Float32Array>;
}

/** `count` distinct values from 0..size-1, ascending (a random subset: real kept sets are scattered). */
function randomSubset(size: number, count: number, rng: Rng): number[] {
  const values = Array.from({ length: size }, (_, index) => index);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(size - i);
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values.slice(0, count).sort((a, b) => a - b);
}

function setupDw(layer: DwProfileLayer, mode: GpuMode, step: number, rng: Rng): LayerSetup {
  const [batch, channels, height, width] = checkShape(layer);
  const [kernelH, kernelW] = layer.kernel;
  const taps = positiveInteger(kernelH, `${layer.name} kernel height`) * positiveInteger(kernelW, `${layer.name} kernel width`);
  const x = randomFloat32([batch, channels, height, width], rng);
  const weight = randomFloat32([channels, 1, kernelH, kernelW], rng);
  const dwLayer: DwLayer = { kind: 'dw', name: layer.name, channels, kernel: [kernelH, kernelW], weights: Float64Array.from(weight.data) };
  const attrs: ConvAttrs = {
    ...(layer.strides ? { strides: layer.strides } : {}),
    ...(layer.pads ? { pads: layer.pads } : {}),
    ...(layer.dilations ? { dilations: layer.dilations } : {}),
  };
  // Which taps a channel keeps does not change the work; spread them like real plans do.
  const tapOrder = Array.from({ length: channels }, () => randomSubset(taps, taps, rng));
  if ((layer.unit ?? 'channel') === 'channel') {
    return {
      unit: 'channel',
      unitSize: 1,
      full: taps,
      kernel: 'dwSparse',
      runner(count) {
        const kept = tapOrder.map((order) => order.slice(0, count).sort((a, b) => a - b));
        const table = buildTapTable(buildDwPlan(dwLayer, kept, { strategy: 'dcp', granularity: 'channel', groupSize: 1 }), weight, { step });
        const kernel = getKernel('dwSparse', mode);
        return () => kernel(x, table, null, attrs);
      },
    };
  }
  const groupSize = Math.min(channels, positiveInteger(layer.groupSize ?? DEFAULT_DIAGONAL_GROUP_SIZE, `${layer.name} groupSize`));
  return {
    unit: 'group',
    unitSize: groupSize,
    full: groupSize * taps,
    kernel: 'dwDiagonal',
    runner(count) {
      const kept: number[][] = [];
      for (let first = 0; first < channels; first += groupSize) {
        const size = Math.min(groupSize, channels - first);
        // A partial last group keeps round(n * s / G), as BWT's rule; spread evenly over its channels.
        const inGroup = size === groupSize ? count : Math.min(size * taps, roundCount((count * size) / groupSize));
        for (let offset = 0; offset < size; offset++) {
          const share = Math.floor(inGroup / size) + (offset < inGroup % size ? 1 : 0);
          kept.push(tapOrder[first + offset].slice(0, share).sort((a, b) => a - b));
        }
      }
      const plan = buildDwPlan(dwLayer, kept, { strategy: 'dcp', granularity: 'group', groupSize });
      const table = buildDiagonalTable(plan, weight, { step, groupSize });
      const kernel = getKernel('dwDiagonal', mode);
      return () => kernel(x, table, null, attrs);
    },
  };
}

function setupPw(layer: PwProfileLayer, mode: GpuMode, step: number, rng: Rng): LayerSetup {
  const [batch, inChannels, height, width] = checkShape(layer);
  const outChannels = positiveInteger(layer.outChannels, `${layer.name} outChannels`);
  const tileRows = Math.min(outChannels, positiveInteger(layer.tileRows ?? 32, `${layer.name} tileRows`));
  const tiles = Math.ceil(outChannels / tileRows);
  const x = randomFloat32([batch, inChannels, height, width], rng);
  const weight = randomFloat32([outChannels, inChannels], rng);
  const pwLayer: PwLayer = { kind: 'pw', name: layer.name, outChannels, inChannels, weights: Float64Array.from(weight.data) };
  const columnOrder = Array.from({ length: tiles }, () => randomSubset(inChannels, inChannels, rng));
  return {
    unit: 'tile',
    unitSize: tileRows,
    full: inChannels,
    kernel: 'pwSparse',
    runner(count) {
      const kept = columnOrder.map((order) => order.slice(0, count).sort((a, b) => a - b));
      const table = buildColumnTable(buildPwPlan(pwLayer, kept, { strategy: 'pcp', granularity: 'tile', tileRows }), weight, { step });
      const kernel = getKernel('pwSparse', mode);
      return () => kernel(x, table, null);
    },
  };
}

/** Stair index of a count under step t: 0 alone, then (k-1)t < n <= kt is stair k. */
function stairOf(count: number, step: number): number {
  return Math.ceil(count / step);
}

/** 0..run: the counts timed consecutively from 0 (where a step can show). */
function consecutiveRun(counts: ReadonlySet<number> | ReadonlyMap<number, unknown>): number[] {
  let run = 0;
  while (counts.has(run + 1)) run++;
  return counts.has(0) ? Array.from({ length: run + 1 }, (_, count) => count) : [];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Window counts 0..w, then every stride-th stair top above it, and full. */
export function defaultKeptGrid(full: number, step: number, window: number, stride = 1): number[] {
  const counts = new Set<number>();
  for (let count = 0; count <= Math.min(full, window); count++) counts.add(count);
  for (let top = step * stride; top < full; top += step * stride) if (top > window) counts.add(top);
  counts.add(full);
  return [...counts].sort((a, b) => a - b);
}

/**
 * Measures the latency staircase of every layer (see the module comment for what is timed and
 * how) and returns a LatencyTable for `@deprune/hsr`, layer names as keys, microseconds for the
 * whole layer, plus per-layer evidence and run metadata. Layers are timed one after another; the
 * mode's backend is disposed after each (unless `disposeBetweenLayers: false`).
 */
export async function profileLayers(layers: readonly ProfileLayer[], options: ProfileOptions): Promise<ProfiledLatencyTable> {
  if (!isGpuMode(options.mode)) throw new UsageError(`profileLayers needs a gpu mode, got '${String(options.mode)}'`);
  const mode = options.mode;
  const warmup = options.warmup ?? 1;
  if (!Number.isInteger(warmup) || warmup < 0) throw new UsageError(`warmup must be an integer >= 0, got ${String(warmup)}`);
  const repeats = positiveInteger(options.repeats ?? 7, 'repeats');
  const kernelStep = positiveInteger(options.kernelStep ?? PROFILE_DEFAULT_STEP, 'kernelStep');
  const stepWindow = positiveInteger(options.stepWindow ?? 16, 'stepWindow', 2);
  const gridStride = positiveInteger(options.gridStride ?? 1, 'gridStride');
  const seen = new Set<string>();
  for (const layer of layers) {
    if (seen.has(layer.name)) throw new UsageError(`profileLayers got layer '${layer.name}' twice`);
    seen.add(layer.name);
  }
  const rng = createRng(options.seed ?? 1);
  const started = performance.now();
  const table: ProfiledLatencyTable = {
    backend: `gpu.js-${mode}`,
    mode,
    layers: {},
    meta: {
      tool: '@deprune/gpu profileLayers',
      machine: options.machine ?? describeRuntime(),
      date: new Date().toISOString(),
      gpuJs: GPU_JS_VERSION,
      mode,
      kernelStep,
      warmup,
      repeats,
      interleaved: true,
      seconds: 0,
    },
  };
  for (const [layerIndex, layer] of layers.entries()) {
    const setup = layer.kind === 'dw' ? setupDw(layer, mode, kernelStep, rng) : layer.kind === 'pw' ? setupPw(layer, mode, kernelStep, rng) : undefined;
    if (setup === undefined) throw new UsageError(`profile layer '${(layer as ProfileLayer).name}' has unknown kind '${String((layer as ProfileLayer).kind)}'`);
    const report = (phase: ProfileProgress['phase'], round: number, rounds: number) =>
      options.onProgress?.({ layer: layer.name, layerIndex, layers: layers.length, phase, round, rounds });
    const measured = new Map<number, number[]>();
    const time = async (counts: readonly number[], phase: 'window' | 'grid', timedRepeats: number) => {
      const todo = counts.filter((count) => !measured.has(count));
      if (todo.length === 0) return;
      const results = await measureInterleaved(
        todo.map((count) => setup.runner(count)),
        { warmup, repeats: timedRepeats, onRound: (round, rounds) => report(phase, round, rounds) },
      );
      todo.forEach((count, index) => measured.set(count, results[index].samples));
    };
    // The counts to time: explicit ones (plus 0 and full), or the default grid; the window is
    // their consecutive run from 0, where the step is read off.
    const explicit = options.keptCounts?.[layer.name];
    if (explicit !== undefined) {
      for (const count of explicit) {
        if (!Number.isInteger(count) || count < 0 || count > setup.full) {
          throw new UsageError(`kept count ${String(count)} for '${layer.name}' is outside 0..${setup.full}`);
        }
      }
    }
    const windowEnd = layer.kind === 'dw' && setup.unit === 'channel' ? setup.full : Math.min(setup.full, stepWindow);
    const requested = new Set(explicit === undefined ? Array.from({ length: windowEnd + 1 }, (_, count) => count) : [0, ...explicit, setup.full]);
    const window = consecutiveRun(requested);
    // A window that is a prefix of the counts is cheap (small counts) and is where the step shows:
    // more timed calls there. A window of every count is the whole curve: `repeats`.
    const windowRepeats = window.length < setup.full + 1 ? positiveInteger(options.windowRepeats ?? 2 * repeats, 'windowRepeats') : repeats;
    await time(window, 'window', windowRepeats);
    // The step is a property of the compiled kernels, read off each count's fastest call: on a
    // CPU, other work only ever adds time, so the fastest call is the least disturbed one. A
    // median is pulled up wherever a slow spell of a shared machine covered most of a count's
    // calls, and one such count can hide a stair edge.
    const windowMs = window.map((count) => Math.min(...measured.get(count)!));
    // Steps up to half the window (two stair edges must show inside it). What the timing resolves
    // is read off the fit itself: the stair jumps must stand 3 standard errors above the scatter of
    // these fastest calls around the staircase (findStepDetail, stairRise). A median's standard
    // error from the calls' spread would say how noisy the medians are, not the fastest calls.
    const found = findStepDetail(window, windowMs, { maxStep: Math.max(1, Math.floor((window.length - 1) / 2)) });
    const kernelJumps = stairRise(window, windowMs, kernelStep);
    // The table's stairs: the step found, kept to a divisor of the kernel's own t, so that a
    // stair never spans a padding edge of the kernel (noise can merge two real stairs into one).
    const stairStep = found.detected ? gcd(found.step, kernelStep) : 1;
    // Above the window: the explicit counts, or the top of every stair (of the stair found, else
    // of the kernel's t), and full. The table's lookup (latency at the smallest timed count >= n)
    // is then exact for a staircase.
    const rest = explicit === undefined ? defaultKeptGrid(setup.full, stairStep === 1 ? kernelStep : stairStep, window.length - 1, gridStride) : [...requested];
    await time(rest, 'grid', repeats);
    const kept = [...measured.keys()].sort((a, b) => a - b);
    const rawMs = kept.map((count) => median(measured.get(count)!));
    // Pool every count of a stair: they run the same compiled kernel (same slots), so their
    // samples measure one quantity.
    const pooled = new Map<number, number[]>();
    for (const count of kept) {
      const stair = stairOf(count, stairStep);
      pooled.set(stair, [...(pooled.get(stair) ?? []), ...measured.get(count)!]);
    }
    const toUs = (ms: number) => Math.round(ms * 1000 * 100) / 100;
    // A stair with more chunks does more work, so it is never cheaper: where noise inverted two
    // stairs (or left them equal), the higher one is raised to STAIR_TIE_BREAK_US above the lower.
    // Without this, HSR's recover would walk across stair edges that cost real (if unresolved)
    // time; `raisedStairs` counts the stairs changed.
    const stairLatency = new Map<number, number>();
    let raisedStairs = 0;
    let previous = Number.NEGATIVE_INFINITY;
    for (const stair of [...pooled.keys()].sort((a, b) => a - b)) {
      const measuredUs = toUs(median(pooled.get(stair)!));
      const value = Math.max(measuredUs, Math.round((previous + STAIR_TIE_BREAK_US) * 100) / 100);
      if (value !== measuredUs) raisedStairs++;
      stairLatency.set(stair, value);
      previous = value;
    }
    table.layers[layer.name] = {
      kept,
      latencyUs: kept.map((count) => stairLatency.get(stairOf(count, stairStep))!),
      raisedStairs,
      step: stairStep,
      foundStep: found.step,
      kind: layer.kind,
      unit: setup.unit,
      full: setup.full,
      unitSize: setup.unitSize,
      kernel: setup.kernel,
      inputShape: [...layer.inputShape],
      rawLatencyUs: rawMs.map(toUs),
      fastestUs: kept.map((count) => toUs(Math.min(...measured.get(count)!))),
      spreadUs: kept.map((count) => {
        const samples = measured.get(count)!;
        return toUs(Math.max(...samples) - Math.min(...samples));
      }),
      fitR2: Math.round(found.fit.r2 * 10000) / 10000,
      resolution: {
        kernelStep,
        perStairUs: toUs(kernelJumps.rise),
        minJumpUs: Number.isFinite(kernelJumps.standardError) ? toUs(STEP_SIGNIFICANCE * kernelJumps.standardError) : -1,
        detected: found.detected,
        windowCounts: window.length,
        windowRepeats,
      },
    };
    report('done', repeats, repeats);
    if (options.disposeBetweenLayers ?? true) await disposeBackend(mode);
  }
  table.meta.seconds = Math.round((performance.now() - started) / 100) / 10;
  return table;
}

/** What the runtime says about itself, for tables made without a machine line. */
function describeRuntime(): string {
  const scope = globalThis as { process?: { versions?: { node?: string }; platform?: string; arch?: string }; navigator?: { userAgent?: string; hardwareConcurrency?: number } };
  if (scope.process?.versions?.node) return `Node ${scope.process.versions.node} (${scope.process.platform ?? '?'} ${scope.process.arch ?? '?'})`;
  const navigator = scope.navigator;
  return navigator?.userAgent ? `${navigator.userAgent}, ${navigator.hardwareConcurrency ?? '?'} threads` : 'unknown runtime';
}
