import { UsageError } from '@deprune/errors';
import { buildColumnTable, buildDiagonalTable, buildTapTable, DEFAULT_DIAGONAL_GROUP_SIZE, DEFAULT_STEP } from '@deprune/kernels';
import { findStepDetail, stairRise, STEP_SIGNIFICANCE, tableLatencyModel, type LatencyModel, type LatencyTable, type LatencyTableEntry, type TableLatencyModelOptions } from '@deprune/hsr';
import type { ConvAttrs, KernelBackend } from '@deprune/kernels';
import { DEFAULT_TILE_ROWS, roundCount } from '@deprune/masks';
import { createRng, randomTensor, toFloat32, type Rng, type Tensor } from '@deprune/tensor';
import { measureInterleaved, median } from './timing';

/**
 * The latency profiler: times a kernel backend's real sparse kernels at many kept counts for each
 * prunable layer shape of a model and writes `@deprune/hsr`'s `LatencyTable`, so HSR recalibrates
 * against measured latency instead of the analytic `ceil(n / t)` model. It sees the backend only
 * through the kernel contract (`KernelBackend` of `@deprune/kernels`): any backend, the wasm one
 * or a gpu.js mode, is profiled the same way.
 *
 * What is timed, per layer (random input of the layer's shape, random weights, seeded):
 * - DW, unit `channel` (default): `dwSparse` on a channel-balanced plan, every channel keeps m taps,
 *   for m = 0..K (K = kh * kw). This is what a BWT `channel` plan runs.
 * - DW, unit `group`: `dwDiagonal` (the DR sub-GEMM form, method.md section 1) on a group-balanced
 *   plan, every group of G channels keeps n taps, n on a grid over 0..G*K. The DR form is the kernel
 *   whose work follows n_g; `dwSparse` pads every channel to the largest m_c, so a group plan's
 *   latency there is not a function of n. A backend without `dwDiagonal` (the wasm backend) skips
 *   such layers: the table lists them in `meta.skipped` with the reason, and the progress says so.
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
 * **interleaved**: `warmup` untimed calls each (the first compiles or packs the table), then
 * `repeats` rounds that call every configuration once, so a slow spell of the machine hits every
 * count alike instead of a few. The table's latency for a count is the median of its stair: every
 * count the kernel pads up to the same number of slots runs the same code, so their samples are
 * pooled (the raw per-count medians are kept in `rawLatencyUs`). Stairs are then made strictly
 * increasing (a stair that noise put at or below the one under it is raised to
 * `STAIR_TIE_BREAK_US` above it), so HSR's recover stops at the top of a stair, as the kernel's
 * padding says it should, instead of walking across edges whose cost the timing could not resolve.
 * A backend whose loops run over exactly the kept entries (no padding) shows step 1: every count
 * is its own stair, and HSR then moves nothing, which is right for it.
 */

/** The kernels' chunk size t, unless a profile asks for another. */
export const PROFILE_DEFAULT_STEP = DEFAULT_STEP;
/**
 * In the table a stair is at least this many microseconds above the one below: the tie-break for
 * stairs that timing noise inverted or left equal (far below anything measurable).
 */
export const STAIR_TIE_BREAK_US = 0.01;

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
  /** T, output rows per tile. Default DEFAULT_TILE_ROWS of @deprune/masks (4, as BWT), clamped to Cout. */
  tileRows?: number;
}

export type ProfileLayer = DwProfileLayer | PwProfileLayer;

/** The kernel each layer is timed on. */
export type ProfiledKernel = 'dwSparse' | 'dwDiagonal' | 'pwSparse';

export interface ProfileProgress {
  /** The layer being timed and its position. */
  layer: string;
  layerIndex: number;
  layers: number;
  /**
   * 'window': counts timed to find the step; 'grid': the rest; 'done': the layer is finished;
   * 'skipped': the backend lacks the layer's kernel (`reason` says which), nothing was timed.
   */
  phase: 'window' | 'grid' | 'done' | 'skipped';
  /** Rounds done of this phase (warmup counts as round 0). */
  round: number;
  rounds: number;
  /** Why a layer was skipped. */
  reason?: string;
}

export interface ProfileOptions {
  /** The kernel backend to time (`await createKernelBackend(mode)` of @deprune/runtime, `createWasmBackend()`, `gpuKernelBackend(mode)`). */
  backend: KernelBackend;
  /** The table's `backend` field, e.g. 'wasm' or 'gpu.js-webasm'. Default: the backend's name. */
  backendName?: string;
  /** One line about the backend recorded in `meta.backendDetail`, e.g. 'gpu.js 2.24.1' or 'WebAssembly relaxed SIMD'. */
  backendDetail?: string;
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
  /**
   * Called after each layer (skipped ones too), awaited: e.g. free what the backend compiled for
   * it (`disposeBackend(mode)` of @deprune/gpu frees a gpu.js mode's kernels).
   */
  afterLayer?: () => unknown;
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
  kernel: ProfiledKernel;
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

/** A layer the backend could not time: it lacks the layer's kernel. */
export interface SkippedLayer {
  layer: string;
  kernel: ProfiledKernel;
  reason: string;
}

export interface ProfileMetadata {
  tool: string;
  /** The table's backend (as in its `backend` field) and what the caller said about it. */
  backend: string;
  backendDetail?: string;
  machine: string;
  date: string;
  /** The backend's name (`KernelBackend.name`): 'wasm', 'webasm', 'webgl2', ... */
  mode: string;
  kernelStep: number;
  warmup: number;
  repeats: number;
  interleaved: true;
  seconds: number;
  /** Layers not in the table because the backend lacks their kernel (e.g. dwDiagonal on wasm). */
  skipped: SkippedLayer[];
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
  kernel: ProfiledKernel;
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

/** The kernel a layer is timed on. */
function kernelOf(layer: ProfileLayer): ProfiledKernel {
  if (layer.kind === 'pw') return 'pwSparse';
  return (layer.unit ?? 'channel') === 'channel' ? 'dwSparse' : 'dwDiagonal';
}

/**
 * One timed call: the kernel's result is handed back to the backend right away (the wasm backend
 * keeps results in its own memory until released), so every call of a count runs alike.
 */
function timedCall(backend: KernelBackend, call: () => Promise<Tensor>): () => Promise<unknown> {
  return async () => {
    const result = await call();
    backend.release?.(result);
  };
}

function setupDw(layer: DwProfileLayer, backend: KernelBackend, step: number, rng: Rng): LayerSetup {
  const [batch, channels, height, width] = checkShape(layer);
  const [kernelH, kernelW] = layer.kernel;
  const taps = positiveInteger(kernelH, `${layer.name} kernel height`) * positiveInteger(kernelW, `${layer.name} kernel width`);
  const x = randomFloat32([batch, channels, height, width], rng);
  const weight = randomFloat32([channels, 1, kernelH, kernelW], rng);
  const attrs: ConvAttrs = {
    ...(layer.strides ? { strides: layer.strides } : {}),
    ...(layer.pads ? { pads: layer.pads } : {}),
    ...(layer.dilations ? { dilations: layer.dilations } : {}),
  };
  // Which taps a channel keeps does not change the work; spread them like real plans do.
  const tapOrder = Array.from({ length: channels }, () => randomSubset(taps, taps, rng));
  if ((layer.unit ?? 'channel') === 'channel') {
    const kernel = backend.kernel('dwSparse');
    return {
      unit: 'channel',
      unitSize: 1,
      full: taps,
      kernel: 'dwSparse',
      runner(count) {
        const kept = tapOrder.map((order) => order.slice(0, count).sort((a, b) => a - b));
        const table = buildTapTable({ name: layer.name, channels, kernel: [kernelH, kernelW], keptTaps: kept }, weight, { step });
        return timedCall(backend, () => kernel(x, table, null, attrs));
      },
    };
  }
  const groupSize = Math.min(channels, positiveInteger(layer.groupSize ?? DEFAULT_DIAGONAL_GROUP_SIZE, `${layer.name} groupSize`));
  const kernel = backend.kernel('dwDiagonal');
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
      const table = buildDiagonalTable({ name: layer.name, channels, kernel: [kernelH, kernelW], keptTaps: kept, groupSize }, weight, { step, groupSize });
      return timedCall(backend, () => kernel(x, table, null, attrs));
    },
  };
}

function setupPw(layer: PwProfileLayer, backend: KernelBackend, step: number, rng: Rng): LayerSetup {
  const [batch, inChannels, height, width] = checkShape(layer);
  const outChannels = positiveInteger(layer.outChannels, `${layer.name} outChannels`);
  const tileRows = Math.min(outChannels, positiveInteger(layer.tileRows ?? DEFAULT_TILE_ROWS, `${layer.name} tileRows`));
  const tiles = Math.ceil(outChannels / tileRows);
  const x = randomFloat32([batch, inChannels, height, width], rng);
  const weight = randomFloat32([outChannels, inChannels], rng);
  const columnOrder = Array.from({ length: tiles }, () => randomSubset(inChannels, inChannels, rng));
  const kernel = backend.kernel('pwSparse');
  return {
    unit: 'tile',
    unitSize: tileRows,
    full: inChannels,
    kernel: 'pwSparse',
    runner(count) {
      const kept = columnOrder.map((order) => order.slice(0, count).sort((a, b) => a - b));
      const table = buildColumnTable({ name: layer.name, outChannels, inChannels, tileRows, keptColumns: kept }, weight, { step });
      return timedCall(backend, () => kernel(x, table, null));
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

function isKernelBackend(value: unknown): value is KernelBackend {
  const backend = value as KernelBackend | null | undefined;
  return typeof backend === 'object' && backend !== null && typeof backend.name === 'string' && typeof backend.has === 'function' && typeof backend.kernel === 'function';
}

/**
 * Measures the latency staircase of every layer (see the module comment for what is timed and
 * how) on `options.backend` and returns a LatencyTable for `@deprune/hsr`, layer names as keys,
 * microseconds for the whole layer, plus per-layer evidence and run metadata. Layers are timed one
 * after another; `afterLayer` runs after each. A layer whose kernel the backend lacks is skipped
 * (listed in `meta.skipped`), not an error.
 */
export async function profileLayers(layers: readonly ProfileLayer[], options: ProfileOptions): Promise<ProfiledLatencyTable> {
  if (options === null || typeof options !== 'object' || !isKernelBackend(options.backend)) {
    throw new UsageError('profileLayers needs options.backend: a kernel backend (e.g. await createKernelBackend(mode) of @deprune/runtime)');
  }
  const backend = options.backend;
  const warmup = options.warmup ?? 1;
  if (!Number.isInteger(warmup) || warmup < 0) throw new UsageError(`warmup must be an integer >= 0, got ${String(warmup)}`);
  const repeats = positiveInteger(options.repeats ?? 7, 'repeats');
  const kernelStep = positiveInteger(options.kernelStep ?? PROFILE_DEFAULT_STEP, 'kernelStep');
  const stepWindow = positiveInteger(options.stepWindow ?? 16, 'stepWindow', 2);
  const gridStride = positiveInteger(options.gridStride ?? 1, 'gridStride');
  const seen = new Set<string>();
  for (const layer of layers) {
    if (seen.has(layer.name)) throw new UsageError(`profileLayers got layer '${layer.name}' twice`);
    if (layer.kind !== 'dw' && layer.kind !== 'pw') throw new UsageError(`profile layer '${(layer as ProfileLayer).name}' has unknown kind '${String((layer as ProfileLayer).kind)}'`);
    seen.add(layer.name);
  }
  const rng = createRng(options.seed ?? 1);
  const started = performance.now();
  const backendName = options.backendName ?? backend.name;
  const table: ProfiledLatencyTable = {
    backend: backendName,
    mode: backend.name,
    layers: {},
    meta: {
      tool: '@deprune/profiler profileLayers',
      backend: backendName,
      ...(options.backendDetail === undefined ? {} : { backendDetail: options.backendDetail }),
      machine: options.machine ?? describeRuntime(),
      date: new Date().toISOString(),
      mode: backend.name,
      kernelStep,
      warmup,
      repeats,
      interleaved: true,
      seconds: 0,
      skipped: [],
    },
  };
  for (const [layerIndex, layer] of layers.entries()) {
    const report = (phase: ProfileProgress['phase'], round: number, rounds: number, reason?: string) =>
      options.onProgress?.({ layer: layer.name, layerIndex, layers: layers.length, phase, round, rounds, ...(reason === undefined ? {} : { reason }) });
    const kernelName = kernelOf(layer);
    if (!backend.has(kernelName)) {
      const reason = `the ${backend.name} backend has no ${kernelName} kernel${kernelName === 'dwDiagonal' ? ' (the DR form): DR layers are not profiled on it' : ''}`;
      table.meta.skipped.push({ layer: layer.name, kernel: kernelName, reason });
      report('skipped', 0, 0, reason);
      await options.afterLayer?.();
      continue;
    }
    const setup = layer.kind === 'dw' ? setupDw(layer, backend, kernelStep, rng) : setupPw(layer, backend, kernelStep, rng);
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
    // The step is a property of the kernels, read off each count's fastest call: on a CPU, other
    // work only ever adds time, so the fastest call is the least disturbed one. A median is pulled
    // up wherever a slow spell of a shared machine covered most of a count's calls, and one such
    // count can hide a stair edge.
    const windowMs = window.map((count) => Math.min(...measured.get(count)!));
    // Steps up to half the window (two stair edges must show inside it). What the timing resolves
    // is read off the fit itself: the stair jumps must stand 3 standard errors above the scatter of
    // these fastest calls around the staircase (findStepDetail, stairRise of @deprune/hsr).
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
    // Pool every count of a stair: they run the same code (same slots), so their samples measure
    // one quantity.
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
    await options.afterLayer?.();
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
