import { UnsupportedError, UsageError } from '@deprune/errors';
import { GPU_JS_VERSION } from '@deprune/gpu';
import { getVariant } from '@deprune/masks';
import { measureInterleaved } from '@deprune/profiler';
import { indexGraph, serializeModel, type OnnxModel } from '@deprune/onnx';
import { prune, type PruneVariant } from '@deprune/pipeline';
import { backendLabel, createSession, type BackendMode, type HostTensor, type Session } from '@deprune/runtime';
import { cosineSimilarity, createRng, maxAbsDifference, randomTensor, toFloat32 } from '@deprune/tensor';
import type { MachineInfo } from '@deprune/profiler';
import { machineInfo } from './suite-common';
import { timingSettings, type CollectGarbage, type SuiteReportHeader } from './suite-common';
import { isUnavailable, reasonOf, type Yardstick, type YardstickUnavailable } from './yardsticks';

/**
 * The models suite: end-to-end latency of a whole model, dense and pruned by each variant at the
 * same nominal sparsity, on @deprune/runtime in one gpu.js mode, with yardsticks (onnxruntime-node
 * in Node, onnxruntime-web's wasm and webgpu backends in the browser page) running the dense model
 * on the same input in the same run. Everything is timed interleaved (each round runs every entry
 * once, rotating the order), so a slow spell of a shared machine lands on all of them alike and
 * the ratios hold. The same code runs in Node and in the page; only the yardsticks differ.
 */

/** The default set; `variants` may name any variant registered with @deprune/masks' registerVariant. */
export const MODEL_VARIANTS = ['dense', 'unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'] as const;
export type ModelVariant = 'dense' | PruneVariant;

export const DEFAULT_MODEL_RATIO = 0.5;

export interface ModelSuiteProgress {
  stage: 'prune' | 'warmup' | 'time';
  done: number;
  total: number;
  detail?: string;
}

export interface ModelSuiteOptions {
  model: OnnxModel;
  /** How the report names the model ('zoo:mobilenetv2', a file name). */
  modelName: string;
  /** The backend: 'wasm' (WebAssembly SIMD) or a gpu.js mode. */
  mode: BackendMode;
  /** The input shape (single-input models), e.g. [1, 3, 224, 224]. */
  inputShape: readonly number[];
  /** Nominal sparsity of every pruned variant. Default 0.5. */
  ratio?: number;
  variants?: readonly ModelVariant[];
  /** Untimed runs of each entry first. Default 2 (a GL mode compiles its shaders in the first call; the second lets the engine settle). */
  warmup?: number;
  /** Timed rounds (each runs every entry once). Default 7. */
  repeats?: number;
  /** Run untimed before every timed call (see `CollectGarbage`); the report records whether there was one. */
  collectGarbage?: CollectGarbage;
  /**
   * Other runtimes timed on the dense model in the same rounds: `onnxruntimeNodeYardstick()` in
   * Node, onnxruntime-web in the browser page. Default none.
   */
  yardsticks?: readonly Yardstick[];
  /**
   * Thread counts our runs are timed at (wasm mode; each count is its own row of every variant).
   * Default [1]. Speedups are within the first count's rows, against that count's dense run.
   */
  threads?: readonly number[];
  seed?: number;
  machine?: MachineInfo;
  /** The command line that ran the suite, recorded in the report. */
  command?: string;
  onProgress?: (event: ModelSuiteProgress) => void;
}

export interface ModelRow {
  variant: ModelVariant;
  /** What ran it: 'gpu.js webasm' (our runtime) or a yardstick's backend ('onnxruntime-node', 'onnxruntime-web wasm', ...) on the dense model. */
  backend: string;
  /** True for a yardstick's row (another runtime on the dense model). */
  yardstick: boolean;
  /** CPU threads the backend used (gpu.js's modes are single-threaded). */
  threads: number;
  /** How the backend ran, where it matters (a yardstick's execution provider). */
  detail?: string;
  /** Fraction of the pruned layers' weights that are zero or removed; 0 for dense. */
  sparsity: number;
  keptWeights: number;
  weights: number;
  /** Layers the plan prunes, and how many of them ran on a sparse kernel. */
  planLayers: number;
  sparseLayers: number;
  medianMs: number;
  spreadMs: number;
  /** The fastest call: other work on a shared machine only adds time, so it is the least disturbed view. */
  minMs: number;
  samplesMs: number[];
  /** Our dense run's median (at this row's thread count; a yardstick's: the reference's, see `summary.reference`) over this row's median. */
  speedupVsDense: number;
  /** The same from the fastest calls. */
  speedupVsDenseFromMin: number;
  /** This row's first output against the reference run's (our dense model's, see `summary.reference`): how much pruning changed it (1 = identical). */
  cosineVsDense: number;
  maxAbsDiffVsDense: number;
  /** Classifier outputs ([1, K]): whether the best class is the dense model's. */
  top1AgreesWithDense?: boolean;
}

export interface ModelSuiteReport extends SuiteReportHeader {
  suite: 'models';
  mode: BackendMode;
  /** gcBeforeCall: whether a full garbage collection ran (untimed) before every timed call. */
  settings: { ratio: number; warmup: number; repeats: number; seed: number; variants: ModelVariant[]; yardsticks: string[]; gcBeforeCall: boolean };
  /** Versions of what ran: gpu.js and every yardstick. */
  versions: Record<string, string>;
  rows: ModelRow[];
  /** Backends that could not run here, with the reason: a yardstick's (e.g. no WebGPU adapter), or ours for one variant (`variant` set). */
  unavailable: YardstickUnavailable[];
  summary: {
    /** The run every speedup and output comparison is against: our dense run ('gpu.js webasm dense'), or a yardstick's when ours could not run. */
    reference: string;
    /** Our dense time over each variant's, same backend. */
    speedup: Partial<Record<ModelVariant, number>>;
    best: { variant: ModelVariant; speedup: number };
    /** Each yardstick row's median over our dense median, by `yardstickLabel`: > 1 means the yardstick is slower. */
    yardstickVsDense: Record<string, number>;
  };
  seconds: number;
}

/** A run to time: the row's fields known before timing, and the call itself. */
type Entry = Pick<ModelRow, 'variant' | 'backend' | 'yardstick' | 'threads' | 'detail' | 'sparsity' | 'keptWeights' | 'weights' | 'planLayers' | 'sparseLayers'> & {
  run(): Promise<HostTensor>;
};

/** `onnxruntime-node (1 thread)`: how reports name a yardstick row. */
export function yardstickLabel(row: Pick<ModelRow, 'backend' | 'threads'>): string {
  return `${row.backend} (${row.threads} thread${row.threads === 1 ? '' : 's'})`;
}

function argmax(data: Float32Array): number {
  let best = 0;
  for (let index = 1; index < data.length; index++) if (data[index] > data[best]) best = index;
  return best;
}

/**
 * gpu.js's webasm backend gives every compiled kernel a WebAssembly memory of its own; a browser
 * page caps the address space those reserve (Node does not), so whole models at once run out.
 */
export function isWebasmMemoryFailure(message: string): boolean {
  return /WebAssembly\.Memory\(\): could not allocate memory/.test(message);
}

/** The way out of a webasm memory failure: the wasm backend has one memory per session. */
export const WEBASM_MEMORY_HINT =
  'gpu.js webasm gives every kernel its own WebAssembly memory and a browser page caps them: use --mode wasm (the WebAssembly SIMD backend, one memory per session), or fewer --variants';

/** The hint shown on the row of one of our variants that could not run: what to try instead. */
export function failedVariantHint(mode: BackendMode, variant: ModelVariant, reason: string): string {
  if (isWebasmMemoryFailure(reason)) return WEBASM_MEMORY_HINT;
  if (mode !== 'wasm') return `the other variants ran; --mode wasm runs every variant on the WebAssembly SIMD backend`;
  return `the other variants ran; --variants ${variant} --mode webasm tells a wasm kernel's limit from the variant's`;
}

/** The summary's best pruned variant: only rows that ran (failed variants are in `unavailable`, never here). */
function bestPrunedRow(ran: readonly ModelRow[]): ModelRow | undefined {
  return ran.filter((row) => row.variant !== 'dense').reduce<ModelRow | undefined>((best, row) => (best === undefined || row.speedupVsDense > best.speedupVsDense ? row : best), undefined);
}

export async function runModelSuite(options: ModelSuiteOptions): Promise<ModelSuiteReport> {
  const started = performance.now();
  const { ratio, warmup, repeats } = timingSettings(options, { ratio: DEFAULT_MODEL_RATIO, warmup: 2, repeats: 7 });
  const seed = options.seed ?? 0;
  const variants = [...new Set<ModelVariant>(['dense', ...(options.variants ?? MODEL_VARIANTS)])];
  // Refused by name with did-you-mean (getVariant); 'dense' is the unpruned model.
  for (const variant of variants) if (variant !== 'dense') getVariant(variant);
  const yardsticks = options.yardsticks ?? [];
  const { model, mode } = options;
  const inputName = indexGraph(model).inputs[0];
  const input = toFloat32(randomTensor(options.inputShape, createRng(seed))) as HostTensor;
  const feeds = { [inputName]: input };

  // Our runs: a session per variant, each run once now (it compiles the kernels). A variant the
  // mode cannot run (a kernel the mode lacks, a texture too large) is reported with the reason,
  // and the rest of the suite goes on.
  const entries: Entry[] = [];
  const unavailable: YardstickUnavailable[] = [];
  const backend = backendLabel(mode);
  const sessions: Session[] = [];
  const threadCounts = mode === 'wasm' ? [...new Set(options.threads ?? [1])] : [1];
  for (const count of threadCounts) if (!Number.isInteger(count) || count < 1) throw new UsageError(`threads must be whole numbers >= 1, got ${String(count)}`);
  for (const [index, variant] of variants.entries()) {
    options.onProgress?.({ stage: 'prune', done: index, total: variants.length, detail: variant });
    const pruned = variant === 'dense' ? null : prune(model, { variant: variant as PruneVariant, ratio, inputShapes: { [inputName]: [...options.inputShape] } });
    for (const threads of threadCounts) {
      let session: Session | undefined;
      try {
        const opened = await createSession(pruned?.model ?? model, { mode, plan: pruned?.plan ?? null, threads });
        session = opened;
        const uses = opened.compile({ [inputName]: options.inputShape }).planLayers;
        const layers = pruned?.report.layers ?? [];
        const weights = layers.reduce((sum, layer) => sum + layer.weights, 0);
        const keptWeights = layers.reduce((sum, layer) => sum + layer.keptWeights, 0);
        const entry: Entry = {
          variant,
          backend,
          yardstick: false,
          threads: opened.backendInfo.threads,
          sparsity: weights === 0 ? 0 : 1 - keptWeights / weights,
          keptWeights,
          weights,
          planLayers: uses.length,
          sparseLayers: uses.filter((use) => use.kernel === 'dwSparse' || use.kernel === 'pwSparse').length,
          ...(mode === 'wasm' ? { detail: `WebAssembly ${opened.backendInfo.simd === 'relaxed' ? 'relaxed SIMD (FMA)' : 'SIMD'}${opened.backendInfo.threads < threads ? `; ${threads} threads asked, ${opened.backendInfo.threads} without shared memory` : ''}` } : {}),
          run: async () => Object.values((await opened.run(feeds)).outputs)[0],
        };
        await entry.run();
        entries.push(entry);
        sessions.push(opened);
      } catch (error) {
        // A variant that failed frees its memory now, before the next one is built.
        session?.dispose();
        const reason = reasonOf(error);
        unavailable.push({ backend, variant, threads, reason, hint: failedVariantHint(mode, variant, reason) });
      }
    }
  }
  options.onProgress?.({ stage: 'prune', done: variants.length, total: variants.length });
  const bytes = yardsticks.length === 0 ? null : serializeModel(model);
  for (const yardstick of yardsticks) {
    for (const opened of await yardstick.open(bytes!, inputName, input)) {
      if (isUnavailable(opened)) {
        unavailable.push(opened);
        continue;
      }
      const { run, ...rest } = opened;
      entries.push({ variant: 'dense', yardstick: true, sparsity: 0, keptWeights: 0, weights: 0, planLayers: 0, sparseLayers: 0, ...rest, run });
    }
  }
  if (entries.length === 0) throw new UnsupportedError(`nothing of ${options.modelName} could run in ${backend}: ${unavailable.map((entry) => `${entry.variant ?? entry.backend}: ${entry.reason}`).join('; ')}`);
  // The reference of every speedup and output comparison: our dense run (ours come first), else
  // (it could not run here) a yardstick's run of the same dense model.
  const referenceIndex = Math.max(0, entries.findIndex((entry) => entry.variant === 'dense'));

  const outputs: HostTensor[] = new Array(entries.length);
  let measured: Awaited<ReturnType<typeof measureInterleaved>>;
  try {
    measured = await measureInterleaved(
      entries.map((entry, index) => async () => void (outputs[index] = await entry.run())),
      {
        warmup,
        repeats,
        ...(options.collectGarbage === undefined ? {} : { beforeCall: options.collectGarbage }),
        onRound: (round, rounds) => options.onProgress?.({ stage: round === 0 ? 'warmup' : 'time', done: round, total: rounds }),
      },
    );
  } finally {
    // Each variant's session holds its own wasm memory: free it before the next suite or variant set.
    for (const session of sessions) session.dispose();
  }

  const dense = outputs[referenceIndex];
  const denseMs = measured[referenceIndex].medianMs;
  const classifier = dense.shape.length === 2 && dense.shape[0] === 1 && dense.shape[1] > 1;
  // Our pruned runs compare with our dense run at the same thread count; yardsticks with the reference.
  const denseAt = (entry: Entry) => {
    const same = entries.findIndex((other) => !other.yardstick && other.variant === 'dense' && other.threads === entry.threads);
    return entry.yardstick || same < 0 ? referenceIndex : same;
  };
  const rows: ModelRow[] = entries.map((entry, index) => ({
    variant: entry.variant,
    backend: entry.backend,
    yardstick: entry.yardstick,
    threads: entry.threads,
    ...(entry.detail === undefined ? {} : { detail: entry.detail }),
    sparsity: entry.sparsity,
    keptWeights: entry.keptWeights,
    weights: entry.weights,
    planLayers: entry.planLayers,
    sparseLayers: entry.sparseLayers,
    medianMs: measured[index].medianMs,
    spreadMs: measured[index].spreadMs,
    minMs: Math.min(...measured[index].samples),
    samplesMs: measured[index].samples,
    speedupVsDense: measured[denseAt(entry)].medianMs / measured[index].medianMs,
    speedupVsDenseFromMin: Math.min(...measured[denseAt(entry)].samples) / Math.min(...measured[index].samples),
    cosineVsDense: cosineSimilarity(outputs[index].data, dense.data),
    maxAbsDiffVsDense: maxAbsDifference(outputs[index].data, dense.data),
    ...(classifier ? { top1AgreesWithDense: argmax(outputs[index].data) === argmax(dense.data) } : {}),
  }));
  // Speedups of the summary: the first thread count's rows (the reference's).
  const ours = rows.filter((row) => !row.yardstick && row.threads === rows[referenceIndex].threads);
  const speedup = Object.fromEntries(ours.map((row) => [row.variant, row.speedupVsDense])) as Partial<Record<ModelVariant, number>>;
  const bestRow = bestPrunedRow(ours);
  return {
    suite: 'models',
    command: options.command ?? '',
    machine: options.machine ?? machineInfo(),
    date: new Date().toISOString(),
    mode,
    model: options.modelName,
    input: { name: inputName, shape: [...options.inputShape] },
    settings: { ratio, warmup, repeats, seed, variants, yardsticks: yardsticks.map((yardstick) => yardstick.name), gcBeforeCall: options.collectGarbage !== undefined },
    versions: { 'gpu.js': GPU_JS_VERSION, ...Object.fromEntries(yardsticks.map((yardstick) => [yardstick.name, yardstick.version])) },
    rows,
    unavailable,
    summary: {
      reference: `${rows[referenceIndex].yardstick ? yardstickLabel(rows[referenceIndex]) : rows[referenceIndex].backend} ${rows[referenceIndex].variant}`,
      speedup,
      best: { variant: bestRow?.variant ?? 'dense', speedup: bestRow?.speedupVsDense ?? 1 },
      yardstickVsDense: Object.fromEntries(rows.filter((row) => row.yardstick).map((row) => [yardstickLabel(row), row.medianMs / denseMs])),
    },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
