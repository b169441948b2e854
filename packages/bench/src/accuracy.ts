/**
 * The accuracy suite: task accuracy of PP-OCR models against DSConv weight sparsity and measured
 * DSConv speedup, for every pruning variant, with magnitude or calibrated importance, with and
 * without reconstruction (issue 7: accuracy without retraining). Data is rendered here
 * (@deprune/textdata, seeded); nothing is downloaded.
 *
 * Every model is scored on several evaluation sets, one per text source (issue 17): the sources
 * held apart from the calibration source (other fonts, another rasterizer) give the headline
 * number, and the calibration source's own set (other seed) is reported beside them as
 * `same-source`, because on it a pruned model looks better than it is.
 *
 * What is timed is named: `pruneMs` (prune()) and `reconstruction.ms` (reconstruct()), both run
 * by @deprune/oneshot's `calibratedPrune`, `calibration.ms` (collectStatistics(), once per
 * model), and the DSConv latency of the runtime's steps (see
 * `measureDsconv`). Accuracy runs use the engine passed in (onnxruntime-node for the committed
 * reports: the models' weights are what is judged, and the runtime gives the same outputs up to
 * float error, as its parity tests check).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@deprune/errors';
import { collectStatistics, type CalibrationSample, type ForwardEngine } from '@deprune/calibrate';
import { evaluate, readDataset, type DatasetItem, type TaskMetrics } from '@deprune/evaluate';
import { preprocessImage, type PresetName } from '@deprune/images';
import { disposeBackend } from '@deprune/gpu';
import { ppocrCharset } from '@deprune/ocr';
import { findDsconvBlocks, indexGraph, listLayers, serializeModel, type OnnxModel } from '@deprune/onnx';
import { calibratedPrune } from '@deprune/oneshot';
import { ALLOCATION_PRESETS, allocationApplies, type AllocationPreset, type PrunePlan, type PruneVariant } from '@deprune/pipeline';
import { createSession } from '@deprune/runtime';
import {
  assertDisjointSets,
  CALIBRATION_SOURCE,
  generateSet,
  sourceRelation,
  TEXT_SOURCE_NAMES,
  TEXT_SOURCES,
  writeDataset,
  type DatasetKind,
  type TextSourceName,
} from '@deprune/textdata';
import type { MachineInfo } from '@deprune/profiler';
import { machineInfo } from './suite-common';

export type AccuracyModel = 'ppocr-rec' | 'ppocr-cls' | 'ppocr-det';
export type Importance = 'magnitude' | 'activation' | 'obs' | 'obs-greedy';

interface ModelSetup {
  task: AccuracyModel;
  preset: PresetName;
  kind: DatasetKind;
  /** The input the runtime is timed on. */
  timingShape: number[];
  /** Which metric the table and chart use. */
  primary: string;
}

export const ACCURACY_MODELS: Readonly<Record<AccuracyModel, ModelSetup>> = {
  'ppocr-rec': { task: 'ppocr-rec', preset: 'ppocr-rec', kind: 'rec', timingShape: [1, 3, 48, 320], primary: 'lineAccuracy' },
  'ppocr-cls': { task: 'ppocr-cls', preset: 'ppocr-cls', kind: 'cls', timingShape: [1, 3, 48, 192], primary: 'accuracy' },
  'ppocr-det': { task: 'ppocr-det', preset: 'ppocr-det', kind: 'det', timingShape: [1, 3, 320, 320], primary: 'f1' },
};

export interface AccuracyConfig {
  variant: PruneVariant;
  ratio: number;
  importance: Importance;
  /** How the ratio is spread over the layers (default uniform; see ALLOCATION_PRESETS). */
  allocation?: AllocationPreset;
  /** Also reconstruct (the row without it is always measured: it is the same prune). */
  reconstruct: boolean;
}

export interface AccuracySuiteOptions {
  model: AccuracyModel;
  dense: OnnxModel;
  /** ppocr-rec: the key file's text. */
  keys?: string;
  configs: readonly AccuracyConfig[];
  engine: ForwardEngine;
  evalCount: number;
  calibSamples: number;
  /** Seeds of the evaluation and calibration sets (different images). */
  evalSeed?: number;
  calibSeed?: number;
  /** The sources of the evaluation sets, one set each (default: every source, held-out ones first). */
  evalSets?: readonly TextSourceName[];
  /** The source of the calibration set (default @deprune/textdata's CALIBRATION_SOURCE). */
  calibSource?: TextSourceName;
  /** Time the DSConv layers on the deprune runtime (gpu.js webasm) per (variant, ratio). */
  speed?: boolean;
  /** Interleaved timing rounds (default 5). */
  speedRepeats?: number;
  onProgress?: (message: string) => void;
  /** Called after every row (so a long run can be saved as it goes). */
  onRow?: (report: AccuracySuiteReport) => void;
}

/** One model's score on one evaluation set. */
export interface AccuracySetResult {
  /** The set's name (its text source). */
  set: TextSourceName;
  relation: 'same-source' | 'held-out';
  metric: number;
  metrics: TaskMetrics;
  /** The dense model's metric on this set minus this model's (0.025 = 2.5 points lost). */
  drop: number;
}

export interface AccuracyRow {
  variant: PruneVariant | 'dense';
  ratio: number;
  importance: Importance | null;
  /** Present for a non-uniform allocation. */
  allocation?: AllocationPreset;
  /** With a non-uniform allocation: the ratio each layer got (before balance and HSR round it). */
  layerRatios?: Record<string, number>;
  reconstructed: boolean;
  dsconvSparsity: number;
  /**
   * The model's primary metric (rec: line accuracy; cls: accuracy; det: F1), the mean over the
   * held-out sets (over every set when none is held out: see `settings.headline`).
   */
  metric: number;
  /** Dense's `metric` minus this one. */
  drop: number;
  /** Per evaluation set, in the order of `settings.evalSets`. */
  sets: AccuracySetResult[];
  pruneMs?: number;
  reconstruction?: { meanErrorBefore: number; meanErrorAfter: number; ms: number; passes: number };
}

export interface SpeedRow {
  variant: PruneVariant | 'dense';
  ratio: number;
  allocation?: AllocationPreset;
  /** Summed wall time of the DSConv layers' runtime steps (median of the interleaved rounds), ms. */
  dsconvMs: number;
  speedup: number;
  /** The whole model's run on the same backend (median), ms, and the dense model's over it. */
  modelMs: number;
  modelSpeedup: number;
  /** onnxruntime-node's dense run (1 thread, same rounds) over this row's whole-model run: > 1 means we are faster. */
  vsOnnxruntime: number | null;
}

export interface AccuracySuiteReport {
  suite: 'accuracy';
  model: AccuracyModel;
  machine: MachineInfo;
  settings: {
    evalCount: number;
    calibSamples: number;
    evalSeed: number;
    calibSeed: number;
    engine: string;
    primary: string;
    speedMode: string | null;
    calibSource: TextSourceName;
    /** Each evaluation set: its source, how it stands to the calibration source, what it is. */
    evalSets: { name: TextSourceName; relation: 'same-source' | 'held-out'; description: string }[];
    /** Which sets `metric` averages: the held-out ones, or (none asked) the same-source ones. */
    headline: 'held-out' | 'same-source';
  };
  calibration: { samples: number; ms: number; rssMiB: number; engine: string } | null;
  rows: AccuracyRow[];
  speed: SpeedRow[];
  /** onnxruntime-node on the dense model, 1 thread, timed in the speed rows' rounds (ms); null when it did not load or speed was not asked. */
  onnxruntimeMs?: number | null;
  started: string;
  ms: number;
}

function primaryOf(metrics: TaskMetrics, key: string): number {
  return (metrics as unknown as Record<string, number>)[key];
}

/** Names of the DSConv layers (every DW, and the PW of each DSConv block) of the dense model. */
export function dsconvLayerNames(model: OnnxModel): Set<string> {
  const infos = listLayers(model);
  const names = new Set(infos.filter((info) => info.kind === 'dw').map((info) => info.name));
  for (const block of findDsconvBlocks(model, infos)) names.add(block.pw);
  return names;
}

/** The backend the accuracy suite times on: the wasm kernels on one thread (beside onnxruntime-node on one). */
export const ACCURACY_SPEED_MODE = 'wasm';
/** Untimed rounds before the timed ones: V8 settles a model's JavaScript over about ten runs. */
const SPEED_WARMUP = 10;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Latency on the deprune runtime (wasm, one thread): per entry, the DSConv layers' share (per-step
 * wall times of a profiled run summed over the steps that compute a DSConv layer, fused
 * BN/activation included) and the whole model (the run's wall time), each the median of its
 * rounds. All models are timed INTERLEAVED: warm-up runs, then `rounds` rounds that run every
 * model once (a profiled run and a plain one), so load from other work on a shared machine falls
 * on every model alike. A plan makes DCP/PCP layers run on the sparse kernels. `yardstick`, when
 * given, runs in the same rounds (onnxruntime-node on the dense model).
 */
export async function measureDsconvInterleaved(
  entries: readonly { model: OnnxModel; plan: PrunePlan | null }[],
  layers: ReadonlySet<string>,
  shape: number[],
  rounds: number,
  yardstick?: () => Promise<unknown>,
): Promise<{ dsconvMs: number[]; modelMs: number[]; yardstickMs: number | null }> {
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, index) => Math.sin(index) * 0.5);
  const prepared = await Promise.all(
    entries.map(async ({ model, plan }) => {
      const session = await createSession(model, { mode: ACCURACY_SPEED_MODE, plan, threads: 1 });
      const input = indexGraph(model).inputs[0];
      const steps = session.compile({ [input]: shape }).steps;
      const timed = steps.map((step) => step.nodes.some((node) => layers.has(node)));
      return { session, input, timed };
    }),
  );
  const dsconv: number[][] = entries.map(() => []);
  const whole: number[][] = entries.map(() => []);
  const yardstickSamples: number[] = [];
  try {
    for (let round = 0; round < SPEED_WARMUP + rounds; round++) {
      const timedRound = round >= SPEED_WARMUP;
      for (const [position, { session, input, timed }] of prepared.entries()) {
        const feeds = { [input]: { data, shape } };
        const { profile } = await session.run(feeds, { profile: true });
        const started = performance.now();
        await session.run(feeds);
        const ms = performance.now() - started;
        if (!timedRound) continue;
        dsconv[position].push(profile!.reduce((sum, timing, step) => sum + (timed[step] ? timing.ms : 0), 0));
        whole[position].push(ms);
      }
      if (yardstick !== undefined) {
        const started = performance.now();
        await yardstick();
        if (timedRound) yardstickSamples.push(performance.now() - started);
      }
    }
  } finally {
    for (const { session } of prepared) session.dispose();
  }
  return { dsconvMs: dsconv.map(median), modelMs: whole.map(median), yardstickMs: yardstickSamples.length > 0 ? median(yardstickSamples) : null };
}

/** One model's DSConv latency (see {@link measureDsconvInterleaved}). */
export async function measureDsconv(model: OnnxModel, plan: PrunePlan | null, layers: ReadonlySet<string>, shape: number[], rounds: number): Promise<number> {
  return (await measureDsconvInterleaved([{ model, plan }], layers, shape, rounds)).dsconvMs[0];
}

/** onnxruntime-node running the dense model on one thread, as a timed function; undefined when it does not load. */
async function onnxruntimeDense(model: OnnxModel, shape: number[]): Promise<{ run: () => Promise<unknown>; close: () => Promise<void>; version: string } | undefined> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return undefined;
  }
  const session = await ort.InferenceSession.create(serializeModel(model), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, index) => Math.sin(index) * 0.5);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  return { run: () => session.run(feeds), close: () => session.release(), version: ort.env.versions.node ?? 'unknown' };
}


function calibrationSet(setup: ModelSetup, count: number, seed: number, source: TextSourceName): CalibrationSample[] {
  return generateSet(setup.kind, count, seed, { source }).map(({ image }, index) => ({ tensor: preprocessImage(image, setup.preset).tensor, source: `${setup.kind} calibration ${source} ${index}` }));
}

function writeEvalSet(setup: ModelSetup, count: number, seed: number, source: TextSourceName, folder: string): DatasetItem[] {
  writeDataset(folder, setup.kind, generateSet(setup.kind, count, seed, { source }));
  return readDataset(folder, setup.task);
}

/** The default evaluation sets: the held-out sources first (they are the headline), then the same-source one. */
export function defaultEvalSets(calibSource: TextSourceName = CALIBRATION_SOURCE): TextSourceName[] {
  const held = TEXT_SOURCE_NAMES.filter((name) => sourceRelation(calibSource, name) === 'held-out');
  return [...held, ...TEXT_SOURCE_NAMES.filter((name) => !held.includes(name))];
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export async function runAccuracySuite(options: AccuracySuiteOptions): Promise<AccuracySuiteReport> {
  const started = performance.now();
  const setup = ACCURACY_MODELS[options.model];
  const evalSeed = options.evalSeed ?? 1000;
  const calibSeed = options.calibSeed ?? 7;
  const calibSource = options.calibSource ?? CALIBRATION_SOURCE;
  const evalSets = [...(options.evalSets ?? defaultEvalSets(calibSource))];
  if (evalSets.length === 0) throw new UsageError('the accuracy suite needs at least one evaluation set', { hint: `choose from ${TEXT_SOURCE_NAMES.join(', ')}` });
  if (new Set(evalSets).size !== evalSets.length) throw new UsageError(`an evaluation set is named twice: ${evalSets.join(', ')}`);
  // Structural disjointness: the calibration images are never an evaluation set (same source and
  // seed is refused); a same-source set is kept but reported apart from the held-out ones.
  for (const name of evalSets) assertDisjointSets({ source: calibSource, seed: calibSeed }, { source: name, seed: evalSeed, name });
  const relations = evalSets.map((name) => sourceRelation(calibSource, name));
  const headline = relations.includes('held-out') ? 'held-out' : 'same-source';
  const log = options.onProgress ?? (() => {});
  const folder = mkdtempSync(join(tmpdir(), 'deprune-accuracy-'));
  const { engine, dense } = options;
  const report: AccuracySuiteReport = {
    suite: 'accuracy',
    model: options.model,
    machine: machineInfo(),
    settings: {
      evalCount: options.evalCount,
      calibSamples: options.calibSamples,
      evalSeed,
      calibSeed,
      engine: engine.name,
      primary: setup.primary,
      speedMode: options.speed ? `${ACCURACY_SPEED_MODE} (1 thread)` : null,
      calibSource,
      evalSets: evalSets.map((name, index) => ({ name, relation: relations[index], description: TEXT_SOURCES[name].description })),
      headline,
    },
    calibration: null,
    rows: [],
    speed: [],
    started: new Date().toISOString(),
    ms: 0,
  };
  try {
    const itemsBySet = evalSets.map((name) => writeEvalSet(setup, options.evalCount, evalSeed, name, join(folder, `eval-${name}`)));
    const charset = options.keys ? ppocrCharset(options.keys) : undefined;
    // The dense model's metric per set, filled once dense is scored (it is scored first).
    const denseBySet: number[] = [];
    // Scores a model on every evaluation set; the drops are against the dense row (scored first).
    const score = async (model: OnnxModel) => {
      const sets: AccuracySetResult[] = [];
      for (const [index, items] of itemsBySet.entries()) {
        const metrics = (await evaluate(model, setup.task, items, { engine, ...(charset ? { charset } : {}) })).metrics;
        const metric = primaryOf(metrics, setup.primary);
        sets.push({ set: evalSets[index], relation: relations[index], metric, metrics, drop: denseBySet.length > 0 ? denseBySet[index] - metric : 0 });
      }
      const metric = mean(sets.filter((set) => set.relation === headline).map((set) => set.metric));
      return { sets, metric, drop: denseBySet.length > 0 ? mean(denseBySet.filter((_, index) => relations[index] === headline)) - metric : 0 };
    };
    const perSet = (scored: { sets: AccuracySetResult[] }) => scored.sets.map((set) => `${set.set} ${(100 * set.metric).toFixed(1)}`).join(', ');
    const denseScore = await score(dense);
    denseBySet.push(...denseScore.sets.map((set) => set.metric));
    report.rows.push({ variant: 'dense', ratio: 0, importance: null, reconstructed: false, dsconvSparsity: 0, ...denseScore });
    log(`dense ${setup.primary}: ${perSet(denseScore)}`);
    const samples = calibrationSet(setup, options.calibSamples, calibSeed, calibSource);
    const rssBefore = process.memoryUsage().rss;
    const calibrated = await collectStatistics(dense, samples, { engine });
    report.calibration = { samples: samples.length, ms: calibrated.ms, rssMiB: Math.round(Math.max(rssBefore, process.memoryUsage().rss) / 2 ** 20), engine: engine.name };
    log(`calibration: ${samples.length} samples in ${(calibrated.ms / 1000).toFixed(1)} s`);
    options.onRow?.(report);
    const inputShapes = { [indexGraph(dense).inputs[0]]: setup.timingShape };
    const layers = dsconvLayerNames(dense);
    // (variant, ratio) -> the first pruned model: timed together at the end (interleaved).
    const toTime = new Map<string, { variant: PruneVariant; ratio: number; allocation?: AllocationPreset; model: OnnxModel; plan: PrunePlan }>();
    for (const config of options.configs) {
      // A variant that ignores the allocation runs uniform (and its row is not labelled allocated).
      const allocates = config.allocation !== undefined && config.allocation !== 'uniform' && allocationApplies(config.variant);
      const nonUniform = allocates ? { allocation: config.allocation } : {};
      const label = `${config.variant} r=${config.ratio} ${config.importance}${nonUniform.allocation ? ` ${nonUniform.allocation} allocation` : ''}`;
      // The one call the CLI makes too, on the statistics collected above (the same samples): the
      // config names importance and allocation, so no one-shot default applies.
      const result = await calibratedPrune(
        dense,
        samples,
        { variant: config.variant, ratio: config.ratio, importance: config.importance, inputShapes, allocation: { ...ALLOCATION_PRESETS[nonUniform.allocation ?? 'uniform'] } },
        { engine, statistics: calibrated.statistics, reconstruct: config.reconstruct },
      );
      const { pruned } = result;
      const { pruneMs } = result.oneShot;
      const sparsity = pruned.report.totals.dsconvSparsity;
      const plain = await score(pruned.model);
      const allocated = pruned.report.allocation ? { layerRatios: pruned.report.allocation.ratios } : {};
      const common = { variant: config.variant, ratio: config.ratio, importance: config.importance, ...nonUniform, ...allocated, dsconvSparsity: sparsity };
      report.rows.push({ ...common, reconstructed: false, ...plain, pruneMs });
      log(`${label}: ${setup.primary} ${perSet(plain)}`);
      options.onRow?.(report);
      const rebuilt = result.reconstruction;
      if (rebuilt !== null) {
        const scored = await score(result.model);
        report.rows.push({
          ...common,
          reconstructed: true,
          ...scored,
          pruneMs,
          reconstruction: { meanErrorBefore: rebuilt.meanErrorBefore, meanErrorAfter: rebuilt.meanErrorAfter, ms: rebuilt.ms, passes: rebuilt.passes },
        });
        log(`${label} + reconstruction: ${setup.primary} ${perSet(scored)} (${(rebuilt.ms / 1000).toFixed(0)} s)`);
        options.onRow?.(report);
      }
      const key = `${config.variant}@${config.ratio}@${nonUniform.allocation ?? 'uniform'}`;
      if (options.speed && !toTime.has(key)) toTime.set(key, { variant: config.variant, ratio: config.ratio, ...nonUniform, model: pruned.model, plan: pruned.plan });
    }
    if (options.speed) {
      log(`timing DSConv layers of dense and ${toTime.size} pruned models, interleaved`);
      const entries = [{ model: dense, plan: null }, ...toTime.values()];
      const ort = await onnxruntimeDense(dense, setup.timingShape);
      if (ort === undefined) log('onnxruntime-node does not load here: no yardstick beside the timings');
      let times: Awaited<ReturnType<typeof measureDsconvInterleaved>>;
      try {
        times = await measureDsconvInterleaved(entries, layers, setup.timingShape, options.speedRepeats ?? 5, ort?.run);
      } finally {
        await ort?.close();
      }
      report.speed = entries.map((entry, position) => {
        const { variant, ratio, allocation } = entry as { variant?: PruneVariant; ratio?: number; allocation?: AllocationPreset };
        return {
          variant: variant ?? 'dense',
          ratio: ratio ?? 0,
          ...(allocation ? { allocation } : {}),
          dsconvMs: times.dsconvMs[position],
          speedup: times.dsconvMs[0] / times.dsconvMs[position],
          modelMs: times.modelMs[position],
          modelSpeedup: times.modelMs[0] / times.modelMs[position],
          vsOnnxruntime: times.yardstickMs === null ? null : times.yardstickMs / times.modelMs[position],
        };
      });
      report.onnxruntimeMs = times.yardstickMs;
      for (const row of report.speed) {
        log(`${row.variant}@${row.ratio}${row.allocation ? ` (${row.allocation})` : ''}: DSConv ${row.dsconvMs.toFixed(1)} ms, ${row.speedup.toFixed(2)}x; model ${row.modelMs.toFixed(1)} ms${row.vsOnnxruntime === null ? '' : `, onnxruntime-node dense ${(times.yardstickMs ?? 0).toFixed(1)} ms (${row.vsOnnxruntime.toFixed(2)}x ours)`}`);
      }
      options.onRow?.(report);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
    if (options.speed) await disposeBackend();
  }
  report.ms = performance.now() - started;
  return report;
}
