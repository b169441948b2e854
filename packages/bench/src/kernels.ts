import { UsageError } from '@deprune/errors';
import { buildColumnTable, buildDiagonalTable, buildTapTable, DEFAULT_STEP, type ColumnTable, type ConvAttrs, type DsconvLayers, type TapTable } from '@deprune/gpu';
import { analyticStaircase, type HsrMove, type LatencyModel } from '@deprune/hsr';
import { applyMask, BUILTIN_VARIANTS, DEFAULT_TILE_ROWS, getVariant, keptWeightCount, listVariants, maskLayer, type DwLayer, type LayerPlan, type PwLayer } from '@deprune/masks';
import { effectiveConvWeights, indexGraph, type OnnxModel } from '@deprune/onnx';
import { planVariantLayers, type BwtConfig, type VariantLayerPlans } from '@deprune/pipeline';
import { measureInterleaved, measuredLatencyModel, median, medianStandardError, profileLayers, type ProfiledLatencyEntry } from '@deprune/profiler';
import { BACKEND_MODES, DEVICE_RESIDENT_MODES, isBackendMode, keptColumnsOf, keptTapsOf, sparseKernelOf, type BackendMode, type SessionBackend } from '@deprune/runtime';
import { createRng, randomTensor, tensor, toFloat32, type Rng, type Tensor } from '@deprune/tensor';
import type { MachineInfo } from '@deprune/profiler';
import { machineInfo } from './suite-common';
import { suiteBackend } from './kernel-backend';
import { modelDsconvBlocks, type ShapedBlock } from '@deprune/profiler';

/**
 * The kernel suite: for every DSConv block of a model, the DW, the PW and the DW+PW pair timed
 * for each pruning variant at the same nominal sparsity, on one backend's kernels (the wasm
 * backend or a gpu.js mode, through the kernel contract: `createKernelBackend` of @deprune/runtime).
 */

/** The standard set, timed on every run. */
export const KERNEL_VARIANTS = ['dense', 'unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh', 'dr'] as const;
export type StandardKernelVariant = (typeof KERNEL_VARIANTS)[number];
/** A standard variant, or a registered pruning variant timed besides them (`extraVariants`). */
export type KernelVariant = StandardKernelVariant | (string & {});
/**
 * A value per variant that ran, standard or registered (a variant that did not run has no key): the
 * standard ones by name, the registered ones by any string.
 */
export type PerVariant<T> = Partial<Record<StandardKernelVariant, T>> & Record<string, T>;
/** The standard variants that are masking variants: their plans come from the registry through planVariantLayers. */
const MASKING_VARIANTS = ['unstructured', 'deprune', 'deprune-b', 'deprune-bh'] as const;
/**
 * 'dsconv' is DW then PW as the runtime runs the pair in the mode: one `dsconv` step with the
 * intermediate kept on the device when the suite chains (`settings.chain`), else two calls.
 * 'dsconv-unchained' rows exist only when it chains: the same pair as two calls (the DW result
 * read back, then uploaded for the PW), for dense and DEPrune-BH, timed in the same rounds.
 */
export type KernelOp = 'dw' | 'pw' | 'dsconv' | 'dsconv-unchained';

/** What each standard variant runs (the report's legend). */
export const VARIANT_DESCRIPTIONS: Readonly<Record<StandardKernelVariant, string>> = {
  dense: 'dwDense + pwDense on the original weights',
  unstructured: 'magnitude per weight (DW and PW), executed dense: dwDense + pwDense on the masked weights',
  channel: 'round(rC) whole DW channels removed with their PW input columns: dwDense + pwDense on the physically smaller layers',
  deprune: 'DCP (unbalanced: every channel padded to the largest kept count) + plain PCP (tiles padded to the largest): dwSparse + pwSparse',
  'deprune-b': 'DCP + BWT at channel granularity (every channel keeps m taps) + PCP + BWT (every tile keeps q columns): dwSparse + pwSparse',
  'deprune-bh': 'DEPrune-B + HSR recover against the latency measured for this layer: dwSparse + pwSparse',
  dr: 'DR form: DCP + BWT at group granularity (G channels keep n taps) on dwDiagonal, + the DEPrune-B PW on pwSparse',
};

export interface KernelRow {
  /** The DSConv block, named by its DW node. */
  layer: string;
  op: KernelOp;
  variant: KernelVariant;
  /** The node(s) timed. */
  node: string;
  /** The kernel(s) that ran. */
  kernel: string;
  /** Fraction of the op's dense weights that are zero or removed. */
  sparsity: number;
  keptWeights: number;
  /** The op's dense weight count. */
  weights: number;
  medianMs: number;
  /** max - min of the timed calls. */
  spreadMs: number;
  /** Fastest timed call: noise from other work on the machine only ever adds time, so this is the least disturbed view. */
  minMs: number;
  /** Every timed call in round order: round r of every kernel of a block ran side by side, so rows of one block pair up by round. */
  samplesMs: number[];
  /** Dense median / this median, same layer and op. */
  speedupVsDense: number;
}

export interface KeptStats {
  min: number;
  max: number;
  mean: number;
  /** The kernel's trip count: roundUp(max, t); null for dense kernels. */
  slots: number | null;
}

export interface StaircaseCurve {
  kernel: string;
  unit: string;
  kept: number[];
  /** Median of each count's samples (ms). */
  medianMs: number[];
  /** The table's stair width (the step found, kept to a divisor of the kernel's t; 1 when none was found). */
  step: number;
  /** The step findStep read off the window's timings (1 = not resolved): what the staircase check compares with the kernel's t. */
  foundStep: number;
  /** How well the found staircase fits the window (R^2). */
  r2: number;
  /** Jump (ms) at the stair edges of the kernel's t, fitted beside a ramp to the window's fastest calls (`stairRise`), and the smallest jump the timing resolves (3 standard errors; -1: window too short). */
  perStairMs: number;
  resolvableMs: number;
  /** The window the step was read from: counts 0..windowCounts-1, each timed windowRepeats times. */
  windowCounts: number;
  windowRepeats: number;
}

export interface KernelLayerDetail {
  layer: string;
  dw: { node: string; channels: number; kernel: [number, number]; strides: [number, number]; inputShape: number[]; outputShape: number[]; outputElements: number };
  pw: { node: string; inChannels: number; outChannels: number; inputShape: number[] };
  squeezeExcitation: boolean;
  /** Kept taps per DW channel (DR: per group) and columns per PW tile, per variant. */
  plans: PerVariant<{ dw: KeptStats; pw: KeptStats }>;
  /** HSR's moves for DEPrune-BH. */
  hsr: { dw: HsrMove | null; pw: HsrMove | null; model: string };
  /** The measured latency staircases (the profiler's curves for this layer). */
  staircase: { dw: StaircaseCurve | null; pw: StaircaseCurve | null };
}

export interface KernelSuiteSettings {
  warmup: number;
  repeats: number;
  ratio: number;
  groupSize: number;
  tileRows: number;
  step: number;
  quick: boolean;
  hsrModel: 'measured' | 'analytic';
  includeDr: boolean;
  layers: string | null;
  seed: number;
  interleaved: true;
  /** DW layers with at least this many output elements (C * Ho * Wo) count as large. */
  largeLayerMinOutputs: number;
  /** DW + PW timed as one `dsconv` step (intermediate on the device); absent in reports from before it existed. */
  chain?: boolean;
  /**
   * Each block's inputs were put in the backend's memory once (untimed), so the timed calls read
   * them in place as a model's layers do; false: every call got host tensors (a backend without
   * memory of its own, or the wasm backend in a page that is not cross-origin isolated). Absent in
   * reports from before the suite uploaded them (host tensors).
   */
  residentInputs?: boolean;
  /** Why the DR form was not timed though asked for (the backend has no `dwDiagonal`); absent when it ran or was not asked for. */
  drSkipped?: string;
  /** Registered variants timed besides the standard set (absent in reports from before they could be). */
  extraVariants?: string[];
}

export interface DwIdealCheck {
  layer: string;
  variant: 'deprune-bh' | 'deprune-b';
  kernelTaps: number;
  /** Kept taps per channel m. */
  kept: number;
  slots: number;
  /** K / m: the speedup if time followed the kept taps exactly. */
  ideal: number;
  /** Dense DW median / sparse DW median. */
  achieved: number;
  fraction: number;
  /** The fraction from the fastest calls (minMs) instead of the medians. */
  fractionFromMin: number;
  pass: boolean;
}

export interface KernelChecks {
  /** DEPrune-B's summed DSConv time is below DEPrune's. */
  bFasterThanDeprune: { pass: boolean; speedupB: number; speedupDeprune: number; layersWhereBFaster: number; layers: number };
  /**
   * DEPrune-BH is not measurably slower than DEPrune-B, keeps at least as many weights, and HSR
   * moved no layer across a stair edge of the kernel. "Measurably": the paired comparison of the
   * timed rounds (`pairedBhMinusB`) puts BH above B by more than `significance` standard errors.
   */
  bhNoSlowerThanB: {
    pass: boolean;
    /** Summed BH / summed B DSConv medians, and the same from the fastest calls. */
    timeRatio: number;
    timeRatioFromMin: number;
    /** BH minus B (ms): per block the median over the paired rounds, summed over blocks, with its standard error. */
    pairedDiffMs: number;
    pairedStandardErrorMs: number;
    /** 1 + pairedDiffMs / summed B median: the time ratio the paired rounds say. */
    pairedRatio: number;
    significance: number;
    /** BH's paired excess over B is more than `significance` standard errors: slower beyond timing noise. */
    significantlySlower: boolean;
    strictlyNoSlower: boolean;
    keptB: number;
    keptBH: number;
    keptAtLeast: boolean;
    /** Every layer's BH kernel runs the same slots (trip count) as B's: HSR stayed within the stair. */
    sameStairs: boolean;
    /** Layers where it did not (none when sameStairs). */
    stairCrossings: { layer: string; op: 'dw' | 'pw'; keptB: number; keptBH: number; slotsB: number; slotsBH: number }[];
  };
  /**
   * The balanced sparse DW kernel reaches `threshold` of the ideal K/m speedup on the large layers
   * (DEPrune-BH): `pass` judged on the medians, `passFromMin` on each kernel's fastest call (on a
   * loaded machine most of a kernel's calls can be slowed, and then only the fastest is undisturbed).
   */
  dwIdeal: { pass: boolean; passFromMin: boolean; threshold: number; layers: DwIdealCheck[] };
  /** The measured staircases show the kernel's step. */
  staircase: { kernelStep: number; dwMatching: number; dwLayers: number; pwMatching: number; pwLayers: number; dwSteps: number[]; pwSteps: number[] };
}

export interface KernelSuiteReport {
  suite: 'kernels';
  machine: MachineInfo;
  /** The backend: 'wasm' or a gpu.js mode. */
  mode: BackendMode;
  model: string;
  date: string;
  command: string;
  settings: KernelSuiteSettings;
  variants: Record<KernelVariant, string>;
  rows: KernelRow[];
  layers: KernelLayerDetail[];
  summary: {
    /** Per variant: summed dense DSConv time / summed variant DSConv time, over the layers. */
    dsconvSpeedup: PerVariant<number>;
    /** The same from each kernel's fastest call (`minMs`) instead of its median: less sensitive to a loaded machine. */
    dsconvSpeedupFromMin: PerVariant<number>;
    dwSpeedup: PerVariant<number>;
    pwSpeedup: PerVariant<number>;
    /**
     * When the suite chains: per variant, summed 'dsconv-unchained' time / summed 'dsconv' time
     * (above 1: keeping the intermediate on the device pays); null when it does not chain.
     */
    unchainedOverChained: PerVariant<number> | null;
    /** Per variant: DSConv weights kept / dense DSConv weights. */
    keptFraction: PerVariant<number>;
    /** The largest dsconvSpeedup and its variant. */
    best: { variant: KernelVariant; dsconvSpeedup: number; ratio: number; dsconvSparsity: number };
    checks: KernelChecks;
  };
  seconds: number;
}

export interface KernelSuiteProgress {
  layer: string;
  index: number;
  total: number;
  stage: 'profile' | 'time' | 'done';
  round: number;
  rounds: number;
}

export interface KernelSuiteOptions {
  model: OnnxModel;
  /** Label in the report (e.g. 'zoo:mobilenetv2'); default the model file or 'model'. */
  modelName?: string;
  /** The backend: 'wasm' (WebAssembly SIMD) or a gpu.js mode. */
  mode: BackendMode;
  inputShapes?: Record<string, readonly number[]>;
  /** Fewer timed calls (warmup 1, repeats 3) for smoke runs; numbers are then rough. */
  quick?: boolean;
  /** Nominal sparsity of every DW and PW layer. Default 0.56 (see DEFAULT_KERNEL_RATIO). */
  ratio?: number;
  /** Glob(s) on DW/PW node names: only matching blocks. */
  layers?: string | readonly string[];
  warmup?: number;
  repeats?: number;
  /** Chunk size t the sparse kernels' tables are built with. Default 4. */
  step?: number;
  /** PW row tile T (PCP, BWT). Default 32. */
  tileRows?: number;
  /** DW group G of the DR variant. Default 32. */
  groupSize?: number;
  /** Time the DR form (dwDiagonal). Default true; skipped, with the reason in `settings.drSkipped`, on a backend without it (wasm). */
  includeDr?: boolean;
  /** DEPrune-BH's latency model: the profiler's table for each layer (default) or the analytic ceil(n/t). */
  hsrModel?: 'measured' | 'analytic';
  /**
   * Time DW + PW as one `dsconv` step, the intermediate kept on the device, as the runtime runs
   * them. Default: as the runtime does in the mode (`DEVICE_RESIDENT_MODES`: wasm, the GL and WebGPU modes).
   */
  chain?: boolean;
  /** The command line that ran the suite, recorded in the report. */
  command?: string;
  /**
   * Registered pruning variants (`registerVariant` of @deprune/masks) to time besides the standard
   * set, each on the kernels the runtime runs for its plans. Default: every registered variant
   * that is not built in (none unless this process registered one).
   */
  extraVariants?: readonly string[];
  seed?: number;
  /** The machine record of the report. Default: `machineInfo()` of this Node process (a browser page gets it from the Node side). */
  machine?: MachineInfo;
  onProgress?: (event: KernelSuiteProgress) => void;
}

/**
 * Default nominal sparsity. With the kernels' step t = 4, r = 0.56 puts a 3x3 layer's balanced
 * kept count exactly on a step edge (9 - round(0.56 * 9) = 4 taps per channel), a 5x5 layer one
 * tap below one (25 - 14 = 11, HSR recovers to 12); r = 0.5 would keep 5 of 9 taps, one past the
 * edge at 4, so the kernel would pay for 8 slots.
 */
export const DEFAULT_KERNEL_RATIO = 0.56;
export const LARGE_LAYER_MIN_OUTPUTS = 100_000;
/**
 * BH counts as slower than B only when the paired rounds put it above B by more than this many
 * standard errors (about 95% one-sided for roughly normal noise): a spread-aware comparison,
 * instead of a fixed tolerance that a loaded machine can exceed by chance or hide a real cost in.
 */
export const BH_SIGNIFICANCE = 2;
export const DW_IDEAL_THRESHOLD = 0.7;

function stats(values: readonly number[], step: number | null): KeptStats {
  const max = Math.max(0, ...values);
  return {
    min: Math.min(...values),
    max,
    mean: Math.round((values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length)) * 1000) / 1000,
    slots: step === null ? null : Math.ceil(max / step) * step,
  };
}

function float32(data: ArrayLike<number>, shape: readonly number[]): Tensor<Float32Array> {
  return tensor(Float32Array.from(data), shape);
}

function randomInput(shape: readonly number[], rng: Rng): Tensor<Float32Array> {
  return toFloat32(randomTensor(shape, rng)) as Tensor<Float32Array>;
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function range(from: number, to: number): number[] {
  const values: number[] = [];
  for (let value = Math.max(0, from); value <= to; value++) values.push(value);
  return values;
}

function sumBy<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((sum, item) => sum + value(item), 0);
}

function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function curveOf(entry: ProfiledLatencyEntry | undefined): StaircaseCurve | null {
  if (entry === undefined) return null;
  return {
    kernel: entry.kernel,
    unit: entry.unit,
    kept: entry.kept,
    medianMs: entry.rawLatencyUs.map((us) => round(us / 1000, 5)),
    step: entry.step,
    foundStep: entry.foundStep,
    r2: entry.fitR2,
    perStairMs: round(entry.resolution.perStairUs / 1000, 5),
    resolvableMs: round(entry.resolution.minJumpUs / 1000, 5),
    windowCounts: entry.resolution.windowCounts,
    windowRepeats: entry.resolution.windowRepeats,
  };
}

interface Timed {
  variant: KernelVariant;
  op: KernelOp;
  node: string;
  kernel: string;
  keptWeights: number;
  weights: number;
  run: () => Promise<unknown>;
}

/** The extra variants to time: the given names, checked against the registry, or every contributed one. */
function extraVariantsOf(names: readonly string[] | undefined): string[] {
  const builtin = new Set<string>(BUILTIN_VARIANTS);
  const chosen = names === undefined ? listVariants().map((variant) => variant.name).filter((name) => !builtin.has(name)) : [...new Set(names)];
  for (const name of chosen) {
    // getVariant names the closest registered variant of an unknown name.
    const variant = getVariant(name);
    if ((KERNEL_VARIANTS as readonly string[]).includes(name)) {
      throw new UsageError(`extraVariants: '${name}' is in the standard set already`, { hint: `the standard set is ${KERNEL_VARIANTS.join(', ')}; built-in variants outside it (${BUILTIN_VARIANTS.filter((other) => !(KERNEL_VARIANTS as readonly string[]).includes(other)).join(', ')}) and registered ones may be added` });
    }
    if (variant.removal !== undefined) throw new UsageError(`extraVariants: '${name}' removes channels; the suite times masking variants besides 'channel'`);
  }
  return chosen;
}

/** Variants of the rows, standard ones first in their order, then the registered extras as they first appear. */
export function variantsOf(rows: readonly KernelRow[]): KernelVariant[] {
  const present = [...new Set(rows.map((row) => row.variant))];
  return [...KERNEL_VARIANTS.filter((variant) => present.includes(variant)), ...present.filter((variant) => !(KERNEL_VARIANTS as readonly string[]).includes(variant))];
}

/** Runs the kernel suite (see the package README for what each variant is and how it is timed). */
export async function runKernelSuite(options: KernelSuiteOptions): Promise<KernelSuiteReport> {
  const started = performance.now();
  if (!isBackendMode(options.mode)) throw new UsageError(`unknown mode '${String(options.mode)}' (choose one of ${BACKEND_MODES.join(', ')})`);
  const mode = options.mode;
  const quick = options.quick ?? false;
  const ratio = options.ratio ?? DEFAULT_KERNEL_RATIO;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio < 1)) throw new UsageError(`ratio must be a number in [0, 1), got ${String(ratio)}`);
  const settings: KernelSuiteSettings = {
    warmup: options.warmup ?? (quick ? 1 : 2),
    repeats: options.repeats ?? (quick ? 3 : 7),
    ratio,
    groupSize: options.groupSize ?? 32,
    tileRows: options.tileRows ?? DEFAULT_TILE_ROWS,
    step: options.step ?? DEFAULT_STEP,
    quick,
    hsrModel: options.hsrModel ?? 'measured',
    includeDr: options.includeDr ?? true,
    layers: options.layers === undefined ? null : typeof options.layers === 'string' ? options.layers : options.layers.join(','),
    seed: options.seed ?? 1,
    interleaved: true,
    largeLayerMinOutputs: LARGE_LAYER_MIN_OUTPUTS,
    chain: options.chain ?? DEVICE_RESIDENT_MODES.includes(mode),
    extraVariants: extraVariantsOf(options.extraVariants),
  };
  const extraVariants = settings.extraVariants!;
  const machine = options.machine ?? machineInfo();
  const blocks = modelDsconvBlocks(options.model, { ...(options.inputShapes ? { inputShapes: options.inputShapes } : {}), ...(options.layers ? { layers: options.layers } : {}) });
  if (blocks.length === 0) {
    throw new UsageError(settings.layers ? `no DSConv block matches --layers '${settings.layers}'` : 'the model has no DSConv block (a depth-wise conv followed by a point-wise conv)');
  }
  const index = indexGraph(options.model);
  const rng = createRng(settings.seed);
  const rows: KernelRow[] = [];
  const details: KernelLayerDetail[] = [];
  const kernels = await suiteBackend(mode);
  settings.residentInputs = keepsUploads(kernels.backend);
  if (settings.includeDr && !kernels.backend.has('dwDiagonal')) {
    settings.includeDr = false;
    settings.drSkipped = `the ${mode} backend has no dwDiagonal kernel (the DR form): no DR rows`;
  }
  try {
    for (const [position, block] of blocks.entries()) {
      const progress = (stage: KernelSuiteProgress['stage'], round: number, rounds: number) =>
        options.onProgress?.({ layer: block.dw.name, index: position, total: blocks.length, stage, round, rounds });
      const { timed, detail, release } = await prepareBlock(block, index, kernels.backend, settings, rng, (round, rounds) => progress('profile', round, rounds));
      const measurements = await measureInterleaved(
        timed.map((item) => item.run),
        { warmup: settings.warmup, repeats: settings.repeats, onRound: (round, rounds) => progress('time', round, rounds) },
      ).finally(release);
      const dense = new Map<KernelOp, number>();
      timed.forEach((item, at) => {
        if (item.variant === 'dense') dense.set(item.op, measurements[at].medianMs);
      });
      timed.forEach((item, at) => {
        const { medianMs, spreadMs, samples } = measurements[at];
        rows.push({
          layer: block.dw.name,
          op: item.op,
          variant: item.variant,
          node: item.node,
          kernel: item.kernel,
          sparsity: round(1 - item.keptWeights / item.weights, 6),
          keptWeights: item.keptWeights,
          weights: item.weights,
          medianMs: round(medianMs, 5),
          spreadMs: round(spreadMs, 5),
          minMs: round(Math.min(...samples), 5),
          samplesMs: samples.map((sample) => round(sample, 5)),
          speedupVsDense: round(dense.get(item.op)! / medianMs, 5),
        });
      });
      details.push(detail);
      // Frees what the block compiled (a gpu.js mode's kernels); the wasm backend frees as it goes.
      await kernels.settle();
      progress('done', settings.repeats, settings.repeats);
    }
  } finally {
    await kernels.dispose();
  }
  const opOrder: KernelOp[] = ['dw', 'pw', 'dsconv', 'dsconv-unchained'];
  const variantOrder: string[] = [...KERNEL_VARIANTS, ...extraVariants];
  rows.sort(
    (a, b) =>
      details.findIndex((detail) => detail.layer === a.layer) - details.findIndex((detail) => detail.layer === b.layer) ||
      opOrder.indexOf(a.op) - opOrder.indexOf(b.op) ||
      variantOrder.indexOf(a.variant) - variantOrder.indexOf(b.variant),
  );
  return {
    suite: 'kernels',
    machine,
    mode,
    model: options.modelName ?? options.model.source ?? 'model',
    date: new Date().toISOString(),
    command: options.command ?? '',
    settings,
    variants: { ...VARIANT_DESCRIPTIONS, ...Object.fromEntries(extraVariants.map((variant) => [variant, `${getVariant(variant).description} (registered)`])) },
    rows,
    layers: details,
    summary: summarize(rows, details, settings),
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

/**
 * Whether the backend keeps an uploaded tensor in its own memory: the wasm backend does when its
 * memory is shared (always in Node; in a page only when it is cross-origin isolated), and else
 * hands back a host copy that every kernel call copies in again.
 */
function keepsUploads(backend: SessionBackend): boolean {
  if (backend.upload === undefined) return false;
  const probe = backend.upload(tensor(new Float32Array(1), [1]));
  const kept = backend.owns?.(probe) === true;
  backend.release?.(probe);
  return kept;
}

async function prepareBlock(
  block: ShapedBlock,
  index: ReturnType<typeof indexGraph>,
  backend: SessionBackend,
  settings: KernelSuiteSettings,
  rng: Rng,
  onProfileRound: (round: number, rounds: number) => void,
): Promise<{ timed: Timed[]; detail: KernelLayerDetail; release: () => void }> {
  const { ratio, step, tileRows: requestedTileRows, groupSize } = settings;
  const dwInfo = block.dw;
  const pwInfo = block.pw;
  const channels = dwInfo.outChannels;
  const [kernelH, kernelW] = dwInfo.kernel;
  const taps = kernelH * kernelW;
  if (pwInfo.inChannels !== channels) {
    throw new UsageError(`DSConv block ${dwInfo.name} -> ${pwInfo.name}: the PW reads ${pwInfo.inChannels} channels but the DW writes ${channels}`, { node: pwInfo.name });
  }
  const outChannels = pwInfo.outChannels;
  const [, , outH, outW] = dwInfo.outputShape;
  const batch = dwInfo.inputShape[0];
  const dwEffective = effectiveConvWeights(index, dwInfo.name);
  const pwEffective = effectiveConvWeights(index, pwInfo.name);
  const pixels = outH * outW;
  const dwLayer: DwLayer = { kind: 'dw', name: dwInfo.name, channels, kernel: [kernelH, kernelW], weights: dwEffective.weight.data, outputPixels: pixels };
  const pwLayer: PwLayer = { kind: 'pw', name: pwInfo.name, outChannels, inChannels: channels, weights: pwEffective.weight.data, outputPixels: pwInfo.outputShape[2] * pwInfo.outputShape[3] };
  const dwScores = dwLayer.weights.map(Math.abs);
  const pwScores = pwLayer.weights.map(Math.abs);
  const tileRows = Math.min(outChannels, requestedTileRows);

  // Plans, all at the same nominal sparsity, through each variant's registered recipe (the same
  // code prune() runs): magnitude scores, the suite's PW tile and HSR step.
  const planned = (variant: string, bwt: BwtConfig = {}, latencyModel?: LatencyModel) =>
    planVariantLayers([dwLayer, pwLayer], [dwScores, pwScores], { variant, ratio, bwt: { tileRows, ...bwt }, hsr: { step } }, latencyModel ? { latencyModel } : {});
  const maskingVariants = [...MASKING_VARIANTS, ...(settings.extraVariants ?? [])];
  const plans = new Map<string, VariantLayerPlans>();
  for (const variant of maskingVariants) if (getVariant(variant).hsr !== true) plans.set(variant, planned(variant));
  // 'channel': the DW recipe's whole channels, run as the physically narrower layers built below.
  const channelDw = maskLayer(dwLayer, { strategy: 'channel', ratio, scores: dwScores });
  const removed = new Set(channelDw.removedChannels ?? []);
  const keptChannels = range(0, channels - 1).filter((channel) => !removed.has(channel));
  // DR: DEPrune-B's recipe at group granularity (G channels keep n taps), for dwDiagonal.
  const drDw = planned('deprune-b', { granularity: 'group', groupSize }).plans[0];

  // HSR (DEPrune-BH, and any variant that turns it on) against the latency measured for this layer.
  const qB = plans.get('deprune-b')!.plans[1].kept[0];
  const dwInputShape = [batch, channels, dwInfo.inputShape[2], dwInfo.inputShape[3]];
  const pwInputShape = [batch, channels, pwInfo.outputShape[2], pwInfo.outputShape[3]];
  const profiled = await profileLayers(
    [
      { kind: 'dw', name: dwInfo.name, inputShape: dwInputShape, kernel: [kernelH, kernelW], strides: dwInfo.strides, pads: dwInfo.pads, dilations: dwInfo.dilations, unit: 'channel' },
      { kind: 'pw', name: pwInfo.name, inputShape: pwInputShape, outChannels, tileRows },
    ],
    {
      backend,
      warmup: 1,
      repeats: settings.repeats,
      kernelStep: step,
      keptCounts: {
        [dwInfo.name]: range(0, taps),
        // The step shows where stairs are large (small q); HSR needs the stairs around q_B and full.
        [pwInfo.name]: [...new Set([...range(0, Math.min(channels, 16)), ...range(roundUp(qB, step) - 2 * step + 1, Math.min(channels, roundUp(qB, step) + 2 * step))])],
      },
      seed: settings.seed,
      onProgress: (event) => onProfileRound(event.layerIndex * event.rounds + event.round, 2 * event.rounds),
    },
  );
  const staircase = analyticStaircase({ step });
  const latencyModel: LatencyModel = settings.hsrModel === 'measured' ? measuredLatencyModel(profiled, { fallback: staircase }) : staircase;
  for (const variant of maskingVariants) if (!plans.has(variant)) plans.set(variant, planned(variant, {}, latencyModel));
  const moves = plans.get('deprune-bh')!.hsr?.moves ?? [];
  const moveOf = (name: string) => moves.find((move) => move.layer === name) ?? null;

  // Tensors.
  const dwWeight = float32(dwEffective.weight.data, [channels, 1, kernelH, kernelW]);
  const dwBias = float32(dwEffective.bias.data, [channels]);
  const pwWeight = float32(pwEffective.weight.data, [outChannels, channels]);
  const pwBias = float32(pwEffective.bias.data, [outChannels]);
  // Inputs live where a layer inside a model finds them: in the backend's memory when it has its
  // own (the wasm backend), put there once, untimed. A host tensor would add a copy-in to every
  // timed call that a model pays only at its first layer.
  const inputs: Tensor[] = [];
  const input = (shape: readonly number[]): Tensor => {
    const host = randomInput(shape, rng);
    if (settings.residentInputs !== true || backend.upload === undefined) return host;
    const resident = backend.upload(host);
    inputs.push(resident);
    return resident;
  };
  const x = input(dwInputShape);
  const xPw = input(pwInputShape);
  const narrow = keptChannels.length;
  const xNarrow = input([batch, narrow, dwInputShape[2], dwInputShape[3]]);
  const xPwNarrow = input([batch, narrow, pwInputShape[2], pwInputShape[3]]);
  const channelDwWeight = float32(
    keptChannels.flatMap((channel) => Array.from(dwEffective.weight.data.subarray(channel * taps, (channel + 1) * taps))),
    [narrow, 1, kernelH, kernelW],
  );
  const channelDwBias = float32(keptChannels.map((channel) => dwEffective.bias.data[channel]), [narrow]);
  const channelPwWeight = float32(
    range(0, outChannels - 1).flatMap((row) => keptChannels.map((channel) => pwEffective.weight.data[row * channels + channel])),
    [outChannels, narrow],
  );
  const attrs: ConvAttrs = { strides: dwInfo.strides, pads: dwInfo.pads, dilations: dwInfo.dilations };

  const dwDense = backend.kernel('dwDense');
  const dwSparse = backend.kernel('dwSparse');
  const pwDense = backend.kernel('pwDense');
  const pwSparse = backend.kernel('pwSparse');
  const dsconv = backend.kernel('dsconv');

  interface Pair {
    variant: KernelVariant;
    dwKernel: string;
    pwKernel: string;
    dwKept: number;
    pwKept: number;
    dw: (input: Tensor) => Promise<Tensor>;
    pw: ((input: Tensor) => Promise<Tensor>) | null;
    dwInput: Tensor;
    pwInput: Tensor;
    /** The pair as `dsconv` takes it (not for DR, whose DW is the DR form). */
    layers?: DsconvLayers;
  }
  /** A pair on the dense kernels (dense, channel): its weights as the pair runs them. */
  const densePair = (variant: KernelVariant, layers: { dw: Tensor; dwBias: Tensor; pw: Tensor; pwBias: Tensor }, kept: [number, number], inputs: [Tensor, Tensor]): Pair => ({
    variant,
    dwKernel: 'dwDense',
    pwKernel: 'pwDense',
    dwKept: kept[0],
    pwKept: kept[1],
    dw: (input) => dwDense(input, layers.dw, layers.dwBias, attrs),
    pw: (input) => pwDense(input, layers.pw, layers.pwBias),
    dwInput: inputs[0],
    pwInput: inputs[1],
    layers,
  });
  // Each half runs the kernel the runtime runs for its plan entry (sparseKernelOf): a table built
  // from the kept indices (the backend takes kept indices; the runtime's converters read them off
  // the entries), or the dense kernel on the masked weights (unstructured, N:M, dense entries).
  const dwHalf = (plan: LayerPlan) => {
    if (sparseKernelOf(plan) === null) {
      const weight = float32(applyMask(dwEffective.weight.data, plan.mask), dwWeight.shape);
      return { kernel: 'dwDense', layer: weight as TapTable | Tensor, run: (input: Tensor) => dwDense(input, weight, dwBias, attrs), slotsStep: null };
    }
    const table = buildTapTable(keptTapsOf(plan), dwWeight, { step });
    return { kernel: 'dwSparse', layer: table as TapTable | Tensor, run: (input: Tensor) => dwSparse(input, table, dwBias, attrs), slotsStep: step };
  };
  const pwHalf = (plan: LayerPlan) => {
    if (sparseKernelOf(plan) === null) {
      const weight = float32(applyMask(pwEffective.weight.data, plan.mask), pwWeight.shape);
      return { kernel: 'pwDense', layer: weight as ColumnTable | Tensor, run: (input: Tensor) => pwDense(input, weight, pwBias), slotsStep: null };
    }
    const table = buildColumnTable(keptColumnsOf(plan), pwWeight, { step });
    return { kernel: 'pwSparse', layer: table as ColumnTable | Tensor, run: (input: Tensor) => pwSparse(input, table, pwBias), slotsStep: step };
  };
  /** A masking variant's pair, from its DW and PW plans. */
  const variantPair = (variant: KernelVariant): Pair & { slotsStep: { dw: number | null; pw: number | null } } => {
    const [dwPlan, pwPlan] = plans.get(variant)!.plans;
    const dw = dwHalf(dwPlan);
    const pw = pwHalf(pwPlan);
    return {
      variant,
      dwKernel: dw.kernel,
      pwKernel: pw.kernel,
      dwKept: keptWeightCount(dwPlan),
      pwKept: keptWeightCount(pwPlan),
      dw: dw.run,
      pw: pw.run,
      dwInput: x,
      pwInput: xPw,
      layers: { dw: dw.layer, dwBias, pw: pw.layer, pwBias },
      slotsStep: { dw: dw.slotsStep, pw: pw.slotsStep },
    };
  };
  const masking = new Map(maskingVariants.map((variant) => [variant, variantPair(variant)]));
  const pairs: Pair[] = [
    densePair('dense', { dw: dwWeight, dwBias, pw: pwWeight, pwBias }, [channels * taps, outChannels * channels], [x, xPw]),
    masking.get('unstructured')!,
    densePair('channel', { dw: channelDwWeight, dwBias: channelDwBias, pw: channelPwWeight, pwBias }, [narrow * taps, outChannels * narrow], [xNarrow, xPwNarrow]),
    ...maskingVariants.filter((variant) => variant !== 'unstructured').map((variant) => masking.get(variant)!),
  ];
  // DR's PW is DEPrune-B's.
  const bPw = plans.get('deprune-b')!.plans[1];
  const bPair = masking.get('deprune-b')!;
  if (settings.includeDr) {
    const dwDiagonal = backend.kernel('dwDiagonal');
    const drTable = buildDiagonalTable(keptTapsOf(drDw), dwWeight, { step, groupSize });
    // Before the contributed variants: the built-ins keep their place in the interleaved rounds.
    pairs.splice(1 + MASKING_VARIANTS.length + 1, 0, { variant: 'dr', dwKernel: 'dwDiagonal', pwKernel: 'pwSparse', dwKept: keptWeightCount(drDw), pwKept: keptWeightCount(bPw), dw: (input) => dwDiagonal(input, drTable, dwBias, attrs), pw: null, dwInput: x, pwInput: xPw });
  }
  const dwWeights = channels * taps;
  const pwWeights = outChannels * channels;
  // Every timed call hands its result back to the backend (the wasm backend keeps results in its
  // memory until released), so the calls of a round all run on the same memory.
  const done = async (result: Promise<Tensor>) => backend.release?.(await result);
  const timed: Timed[] = [];
  for (const pair of pairs) {
    timed.push({ variant: pair.variant, op: 'dw', node: dwInfo.name, kernel: pair.dwKernel, keptWeights: pair.dwKept, weights: dwWeights, run: () => done(pair.dw(pair.dwInput)) });
    if (pair.pw !== null) {
      const pw = pair.pw;
      timed.push({ variant: pair.variant, op: 'pw', node: pwInfo.name, kernel: pair.pwKernel, keptWeights: pair.pwKept, weights: pwWeights, run: () => done(pw(pair.pwInput)) });
    }
    // DW then PW on the DW's output: the pair as the runtime runs it, one chained `dsconv` step
    // in the device modes (and then also as two calls, for dense and DEPrune-BH, to show what
    // the chaining saves). DR reuses DEPrune-B's PW, always as two calls.
    const pwOfPair = pair.pw ?? bPair.pw!;
    const pairItem = { variant: pair.variant, node: `${dwInfo.name} + ${pwInfo.name}`, keptWeights: pair.dwKept + pair.pwKept, weights: dwWeights + pwWeights };
    const unchained = { ...pairItem, kernel: `${pair.dwKernel} + ${pair.pwKernel}`, run: async () => {
        const intermediate = await pair.dw(pair.dwInput);
        await done(pwOfPair(intermediate));
        backend.release?.(intermediate);
      },
    };
    const layers = pair.layers;
    if (settings.chain !== true || layers === undefined) {
      timed.push({ ...unchained, op: 'dsconv' });
      continue;
    }
    timed.push({ ...pairItem, op: 'dsconv', kernel: `dsconv(${pair.dwKernel} + ${pair.pwKernel})`, run: () => done(dsconv(pair.dwInput, layers, { dw: attrs })) });
    if (pair.variant === 'dense' || pair.variant === 'deprune-bh') timed.push({ ...unchained, op: 'dsconv-unchained' });
  }

  const planStats = (dw: LayerPlan | number[], pw: LayerPlan | number[], sparse: boolean | { dw: number | null; pw: number | null }) => {
    const slotsStep = typeof sparse === 'boolean' ? { dw: sparse ? step : null, pw: sparse ? step : null } : sparse;
    return { dw: stats(Array.isArray(dw) ? dw : dw.kept, slotsStep.dw), pw: stats(Array.isArray(pw) ? pw : pw.kept, slotsStep.pw) };
  };
  const maskingStats = (variant: string) => planStats(plans.get(variant)!.plans[0], plans.get(variant)!.plans[1], masking.get(variant)!.slotsStep);
  const drGroups: number[] = [];
  for (let first = 0; first < channels; first += Math.min(groupSize, channels)) {
    drGroups.push(sumBy(drDw.kept.slice(first, first + Math.min(groupSize, channels)), (count) => count));
  }
  const detail: KernelLayerDetail = {
    layer: dwInfo.name,
    dw: {
      node: dwInfo.name,
      channels,
      kernel: [kernelH, kernelW],
      strides: dwInfo.strides,
      inputShape: dwInputShape,
      outputShape: dwInfo.outputShape,
      outputElements: channels * pixels,
    },
    pw: { node: pwInfo.name, inChannels: channels, outChannels, inputShape: pwInputShape },
    squeezeExcitation: block.squeezeExcitation,
    plans: {
      dense: planStats(new Array<number>(channels).fill(taps), [channels], false),
      unstructured: maskingStats('unstructured'),
      channel: planStats(keptChannels.map(() => taps), [narrow], false),
      ...Object.fromEntries(maskingVariants.filter((variant) => variant !== 'unstructured').map((variant) => [variant, maskingStats(variant)])),
      ...(settings.includeDr ? { dr: planStats(drGroups, bPw, true) } : {}),
    },
    hsr: { dw: moveOf(dwInfo.name), pw: moveOf(pwInfo.name), model: latencyModel.name },
    staircase: { dw: curveOf(profiled.layers[dwInfo.name]), pw: curveOf(profiled.layers[pwInfo.name]) },
  };
  return { timed, detail, release: () => inputs.forEach((resident) => backend.release?.(resident)) };
}

function speedups(rows: readonly KernelRow[], op: KernelOp, statistic: 'medianMs' | 'minMs' = 'medianMs'): PerVariant<number> {
  const result: PerVariant<number> = {};
  const ofOp = rows.filter((row) => row.op === op);
  const denseByLayer = new Map(ofOp.filter((row) => row.variant === 'dense').map((row) => [row.layer, row[statistic]]));
  for (const variant of variantsOf(rows)) {
    const mine = ofOp.filter((row) => row.variant === variant && denseByLayer.has(row.layer));
    if (mine.length === 0) continue;
    result[variant] = round(sumBy(mine, (row) => denseByLayer.get(row.layer)!) / sumBy(mine, (row) => row[statistic]), 5);
  }
  return result;
}

/** Per variant with 'dsconv-unchained' rows: their summed time over the same blocks' 'dsconv' time. */
function unchainedOverChained(rows: readonly KernelRow[]): PerVariant<number> {
  const result: PerVariant<number> = {};
  for (const variant of variantsOf(rows)) {
    const unchained = rows.filter((row) => row.op === 'dsconv-unchained' && row.variant === variant);
    const chained = rows.filter((row) => row.op === 'dsconv' && row.variant === variant && unchained.some((other) => other.layer === row.layer));
    if (unchained.length > 0) result[variant] = round(sumBy(unchained, (row) => row.medianMs) / sumBy(chained, (row) => row.medianMs), 5);
  }
  return result;
}

/**
 * Paired comparison of two variants' DSConv timings. Within a block the two calls of a timed round
 * ran side by side (interleaved), so a slow spell of the machine hits both and cancels in their
 * difference. Per block: the median over rounds of (a's call - b's call) and that median's
 * standard error (`medianStandardError`); summed over blocks, the errors added in quadrature.
 * Taking the median per block first keeps one block's disturbed rounds from deciding the total
 * (a first version summed the rounds over blocks before the median, and one noisy block of
 * MobileNetV2 then made identical kernels look 8% apart).
 */
export function pairedDifference(rows: readonly KernelRow[], a: KernelVariant, b: KernelVariant): { medianMs: number; standardErrorMs: number; blocks: number } {
  const others = new Map(rows.filter((row) => row.variant === b).map((row) => [row.layer, row.samplesMs]));
  let total = 0;
  let variance = 0;
  let blocks = 0;
  for (const row of rows) {
    const other = others.get(row.layer);
    if (row.variant !== a || other === undefined) continue;
    const rounds = Math.min(row.samplesMs.length, other.length);
    if (rounds === 0) continue;
    const differences = row.samplesMs.slice(0, rounds).map((sample, round) => sample - other[round]);
    total += median(differences);
    variance += medianStandardError(differences) ** 2;
    blocks++;
  }
  return { medianMs: total, standardErrorMs: Math.sqrt(variance), blocks };
}

/**
 * A report's summary (speedups, kept fractions, checks) from its rows, blocks and settings: what
 * `runKernelSuite` computes at the end, and a way to recompute a stored report's checks after a
 * change to how they are judged (the measurements, every call included, are in the rows).
 */
export function kernelSummary(report: Pick<KernelSuiteReport, 'rows' | 'layers' | 'settings'>): KernelSuiteReport['summary'] {
  return summarize(report.rows, report.layers, report.settings);
}

function summarize(rows: readonly KernelRow[], details: readonly KernelLayerDetail[], settings: KernelSuiteSettings): KernelSuiteReport['summary'] {
  const dsconvSpeedup = speedups(rows, 'dsconv');
  const dsconvRows = rows.filter((row) => row.op === 'dsconv');
  const keptFraction: PerVariant<number> = {};
  for (const variant of variantsOf(rows)) {
    const mine = dsconvRows.filter((row) => row.variant === variant);
    if (mine.length > 0) keptFraction[variant] = round(sumBy(mine, (row) => row.keptWeights) / sumBy(mine, (row) => row.weights), 5);
  }
  let best: KernelVariant = 'dense';
  for (const variant of variantsOf(rows)) if ((dsconvSpeedup[variant] ?? 0) > (dsconvSpeedup[best] ?? 0)) best = variant;

  const timeOf = (variant: KernelVariant, op: KernelOp, layer?: string, statistic: 'medianMs' | 'minMs' = 'medianMs') =>
    sumBy(
      rows.filter((row) => row.variant === variant && row.op === op && (layer === undefined || row.layer === layer)),
      (row) => row[statistic],
    );
  const keptOf = (variant: KernelVariant) => sumBy(dsconvRows.filter((row) => row.variant === variant), (row) => row.keptWeights);
  const layersWhereBFaster = details.filter((detail) => timeOf('deprune-b', 'dsconv', detail.layer) < timeOf('deprune', 'dsconv', detail.layer)).length;
  const timeRatio = timeOf('deprune-bh', 'dsconv') / timeOf('deprune-b', 'dsconv');
  const paired = pairedDifference(dsconvRows, 'deprune-bh', 'deprune-b');
  const pairedRatio = 1 + paired.medianMs / timeOf('deprune-b', 'dsconv');
  const significantlySlower = paired.medianMs > BH_SIGNIFICANCE * paired.standardErrorMs;
  const stairCrossings = details.flatMap((detail) =>
    (['dw', 'pw'] as const).flatMap((op) => {
      const b = detail.plans['deprune-b']?.[op];
      const bh = detail.plans['deprune-bh']?.[op];
      if (b === undefined || bh === undefined || b.slots === bh.slots) return [];
      return [{ layer: detail.layer, op, keptB: b.max, keptBH: bh.max, slotsB: b.slots ?? b.max, slotsBH: bh.slots ?? bh.max }];
    }),
  );

  const dwIdeal: DwIdealCheck[] = [];
  for (const detail of details) {
    if (detail.dw.outputElements < settings.largeLayerMinOutputs) continue;
    const dense = rows.find((row) => row.layer === detail.layer && row.op === 'dw' && row.variant === 'dense')!;
    for (const variant of ['deprune-b', 'deprune-bh'] as const) {
      const row = rows.find((candidate) => candidate.layer === detail.layer && candidate.op === 'dw' && candidate.variant === variant)!;
      const plan = detail.plans[variant]!.dw;
      const taps = detail.dw.kernel[0] * detail.dw.kernel[1];
      const ideal = plan.max === 0 ? Number.POSITIVE_INFINITY : taps / plan.max;
      const achieved = dense.medianMs / row.medianMs;
      dwIdeal.push({
        layer: detail.layer,
        variant,
        kernelTaps: taps,
        kept: plan.max,
        slots: plan.slots ?? plan.max,
        ideal: round(ideal, 4),
        achieved: round(achieved, 4),
        fraction: round(achieved / ideal, 4),
        fractionFromMin: round(dense.minMs / row.minMs / ideal, 4),
        pass: achieved / ideal >= DW_IDEAL_THRESHOLD,
      });
    }
  }
  const bhIdeal = dwIdeal.filter((check) => check.variant === 'deprune-bh');
  const dwSteps = details.map((detail) => detail.staircase.dw?.foundStep ?? 0);
  const pwSteps = details.map((detail) => detail.staircase.pw?.foundStep ?? 0);
  return {
    dsconvSpeedup,
    dsconvSpeedupFromMin: speedups(rows, 'dsconv', 'minMs'),
    dwSpeedup: speedups(rows, 'dw'),
    pwSpeedup: speedups(rows, 'pw'),
    unchainedOverChained: settings.chain === true ? unchainedOverChained(rows) : null,
    keptFraction,
    best: { variant: best, dsconvSpeedup: dsconvSpeedup[best] ?? 1, ratio: settings.ratio, dsconvSparsity: round(1 - (keptFraction[best] ?? 1), 5) },
    checks: {
      bFasterThanDeprune: {
        pass: (dsconvSpeedup['deprune-b'] ?? 0) > (dsconvSpeedup.deprune ?? 0),
        speedupB: dsconvSpeedup['deprune-b'] ?? 0,
        speedupDeprune: dsconvSpeedup.deprune ?? 0,
        layersWhereBFaster,
        layers: details.length,
      },
      bhNoSlowerThanB: {
        pass: !significantlySlower && keptOf('deprune-bh') >= keptOf('deprune-b') && stairCrossings.length === 0,
        timeRatio: round(timeRatio, 5),
        timeRatioFromMin: round(timeOf('deprune-bh', 'dsconv', undefined, 'minMs') / timeOf('deprune-b', 'dsconv', undefined, 'minMs'), 5),
        pairedDiffMs: round(paired.medianMs, 5),
        pairedStandardErrorMs: round(paired.standardErrorMs, 5),
        pairedRatio: round(pairedRatio, 5),
        significance: BH_SIGNIFICANCE,
        significantlySlower,
        strictlyNoSlower: timeRatio <= 1,
        keptB: keptOf('deprune-b'),
        keptBH: keptOf('deprune-bh'),
        keptAtLeast: keptOf('deprune-bh') >= keptOf('deprune-b'),
        sameStairs: stairCrossings.length === 0,
        stairCrossings,
      },
      dwIdeal: {
        pass: bhIdeal.length > 0 && bhIdeal.every((check) => check.pass),
        passFromMin: bhIdeal.length > 0 && bhIdeal.every((check) => check.fractionFromMin >= DW_IDEAL_THRESHOLD),
        threshold: DW_IDEAL_THRESHOLD,
        layers: dwIdeal,
      },
      staircase: {
        kernelStep: settings.step,
        dwMatching: dwSteps.filter((step) => step === settings.step).length,
        dwLayers: dwSteps.length,
        pwMatching: pwSteps.filter((step) => step === settings.step).length,
        pwLayers: pwSteps.length,
        dwSteps,
        pwSteps,
      },
    },
  };
}
