/**
 * `calibratedPrune(model, samples, config)`: collect -> prune -> reconstruct as one call, with the
 * one-shot defaults. `prune()` stays pure (no forward passes) and `@deprune/calibrate` knows
 * nothing of the pruner; this package is where the two meet, so the CLI, the demo and the
 * accuracy bench run the same sequence instead of each writing it out.
 */
import { ShapeError } from '@deprune/errors';
import {
  checkSamples,
  collectStatistics,
  declaredChannels,
  reconstruct,
  runtimeEngine,
  singleInputName,
  type CalibrationSample,
  type ForwardEngine,
  type ReconstructionReport,
} from '@deprune/calibrate';
import { getScorer, type LayerStatistics } from '@deprune/masks';
import { inferShapes, listLayers, type OnnxModel } from '@deprune/onnx';
import {
  ALLOCATION_PRESETS,
  ConfigError,
  loadPruneConfig,
  prune,
  type AllocationConfig,
  type PruneConfig,
  type PrunePlan,
  type PruneProgress,
  type PruneReport,
  type PruneResult,
} from '@deprune/pipeline';
import { ONE_SHOT_DEFAULTS } from './defaults';

export type OneShotStage = 'statistics' | 'prune' | 'reconstruct';

export interface OneShotProgress {
  stage: OneShotStage;
  done: number;
  total: number;
  /** What is being worked on: a sample's source, prune()'s step and layer (`score features.3.conv`), a reconstruction pass. */
  detail?: string;
  /**
   * On the event that ends a stage: how long it took; for prune, how many layers the plan has and
   * prune()'s warnings (so they can be shown before reconstruction starts); for reconstruct, how
   * many passes ran.
   */
  end?: { ms: number; layers?: number; warnings?: readonly string[]; passes?: number };
}

export interface CalibratedPruneOptions {
  /** Runs the forward passes. Default: `runtimeEngine()` of @deprune/calibrate (created and disposed here). */
  engine?: ForwardEngine;
  /** Re-fit the kept weights to the dense layers' outputs (default true). */
  reconstruct?: boolean;
  /** Relative damping of the reconstruction (default 0.01). */
  damping?: number;
  /**
   * The dense model's statistics over these very samples, collected earlier (a caller that prunes
   * one model several ways collects once): no statistics pass, and reconstruction reuses them.
   */
  statistics?: ReadonlyMap<string, LayerStatistics>;
  onProgress?: (event: OneShotProgress) => void;
}

/** Where the layer shapes (for MACs and the MAC budget) came from. */
export type ShapesSource = 'config' | 'samples' | 'model';

/** A plain, JSON-serialisable account of the run. */
export interface OneShotReport {
  samples: number;
  engine: string;
  /** The importance scorer prune() used (the config's, else the one-shot default). */
  importance: string;
  allocation: {
    mode: 'uniform' | 'saliency';
    budget: 'weights' | 'macs';
    /** The config gave none: the one-shot default was used. */
    defaulted: boolean;
    /** The default's MAC budget fell back to weights (layer shapes unknown); prune()'s report warns too. */
    fellBack: boolean;
  };
  /** `config`: the config's inputShapes; `samples`: the first sample's shape (the model's H, W are dynamic); `model`: the model's own static shapes. */
  shapes: ShapesSource;
  /** The input shapes prune() was given; null when the model's own were used. */
  inputShapes: Record<string, number[]> | null;
  /** The statistics pass; null when none ran (given in options, or neither the scorer nor the allocation needs them). */
  statisticsMs: number | null;
  pruneMs: number;
  /** Reconstruction; null when turned off. */
  reconstructionMs: number | null;
  damping: number | null;
  /** Kept-weight-weighted mean relative output error of the pruned layers before / after reconstruction; null when turned off. */
  meanErrorBefore: number | null;
  meanErrorAfter: number | null;
}

export interface CalibratedPruneResult {
  /** The pruned model, reconstructed unless `reconstruct: false`. */
  model: OnnxModel;
  /** Its plan (with the reconstructed model's hash). */
  plan: PrunePlan;
  /** prune()'s report (with a warning first when the default allocation fell back to weights). */
  report: PruneReport;
  /** prune()'s result before reconstruction (the same model and plan when not reconstructed). */
  pruned: PruneResult;
  /** The reconstruction's per-layer report; null when turned off. */
  reconstruction: ReconstructionReport | null;
  oneShot: OneShotReport;
  /** The dense statistics used (collected here or given); null when none were needed. */
  statistics: ReadonlyMap<string, LayerStatistics> | null;
}

/** Said when the default allocation's MAC budget had no layer shapes to count with. */
export const WEIGHTS_FALLBACK_WARNING = 'layer shapes unknown, so the default allocation counts weights instead of MACs (give --input-shape 1,3,H,W for the MAC budget)';

/** Whether prune() can size every DW and PW layer's output from the model alone. */
function layerShapesKnown(model: OnnxModel): boolean {
  try {
    return listLayers(model, inferShapes(model))
      .filter((info) => info.kind === 'dw' || info.kind === 'pw')
      .every((info) => info.outputShape !== undefined);
  } catch (cause) {
    // Dynamic dims without shapes to settle them: what the samples are for. Anything else is the model's error.
    if (cause instanceof ShapeError) return false;
    throw cause;
  }
}

/**
 * One-shot calibrated pruning, Torch-Pruning style: one call, a plain config, a report back.
 *
 * 1. Defaults where the config leaves them out: importance `obs-greedy`, allocation `saliency-macs`;
 *    when the model's H, W are dynamic and the config has no `inputShapes`, the first sample's
 *    shape gives the layer shapes (so the MAC budget has them); if shapes stay unknown, the
 *    default allocation counts weights instead, with a warning.
 * 2. One dense statistics pass over the samples, when the scorer (`needsStatistics`) or a saliency
 *    allocation needs it and none were given.
 * 3. `prune()` with them.
 * 4. Reconstruction (unless `reconstruct: false`): each pruned layer's kept weights re-fitted to
 *    the dense layer's outputs; the zero pattern is the plan's.
 *
 * Errors: the config's are `ConfigError`s naming the key (as prune()'s), bad samples are
 * `DeprunError`s naming the sample's source, a model with more than one input is UNSUPPORTED.
 */
export async function calibratedPrune(
  model: OnnxModel,
  samples: readonly CalibrationSample[],
  config: PruneConfig,
  options: CalibratedPruneOptions = {},
): Promise<CalibratedPruneResult> {
  const given = loadPruneConfig(config, 'calibratedPrune config');
  const inputName = singleInputName(model);
  checkSamples(samples, declaredChannels(model, inputName));
  const importance = given.importance ?? ONE_SHOT_DEFAULTS.importance;
  const allocationDefaulted = given.allocation === undefined;
  const allocation: AllocationConfig = given.allocation ?? { ...ALLOCATION_PRESETS[ONE_SHOT_DEFAULTS.allocation] };
  let shapes: ShapesSource = 'config';
  let inputShapes = given.inputShapes;
  if (inputShapes === undefined) {
    const known = layerShapesKnown(model);
    shapes = known ? 'model' : 'samples';
    if (!known) inputShapes = { [inputName]: [...samples[0].tensor.shape] };
  }
  let pruneConfig: PruneConfig = { ...given, importance, allocation, ...(inputShapes === undefined ? {} : { inputShapes }) };
  const needsStatistics = getScorer(importance).needsStatistics === true || allocation.mode === 'saliency';
  const emit = (stage: OneShotStage, done: number, total: number, detail?: string, end?: OneShotProgress['end']) =>
    options.onProgress?.({ stage, done, total, ...(detail === undefined ? {} : { detail }), ...(end === undefined ? {} : { end }) });

  const engine = options.engine ?? runtimeEngine();
  try {
    let statistics = options.statistics ?? null;
    let statisticsMs: number | null = null;
    if (statistics === null && needsStatistics) {
      const collected = await collectStatistics(model, samples, { engine, onProgress: (event) => emit('statistics', event.done, event.total, event.detail) });
      statistics = collected.statistics;
      statisticsMs = collected.ms;
      emit('statistics', samples.length, samples.length, undefined, { ms: collected.ms });
    }

    const pruneStarted = performance.now();
    const pruneOptions = {
      onProgress: (event: PruneProgress) => emit('prune', event.done, event.total, `${event.stage}${event.layer === undefined ? '' : ` ${event.layer}`}`),
      ...(statistics === null ? {} : { statistics }),
    };
    let fellBack = false;
    let pruned: PruneResult;
    try {
      pruned = prune(model, pruneConfig, pruneOptions);
    } catch (error) {
      // The default MAC budget needs layer shapes; a model whose shapes even the samples do not settle has none.
      if (!allocationDefaulted || !(error instanceof ConfigError) || error.key !== 'allocation.budget') throw error;
      pruneConfig = { ...pruneConfig, allocation: { ...allocation, budget: 'weights' } };
      pruned = prune(model, pruneConfig, pruneOptions);
      pruned.report.warnings.unshift(WEIGHTS_FALLBACK_WARNING);
      fellBack = true;
    }
    const pruneMs = performance.now() - pruneStarted;
    emit('prune', 1, 1, undefined, { ms: pruneMs, layers: pruned.plan.layers.length, warnings: [...pruned.report.warnings] });

    let final: { model: OnnxModel; plan: PrunePlan } = pruned;
    let reconstruction: ReconstructionReport | null = null;
    const damping = options.damping ?? ONE_SHOT_DEFAULTS.damping;
    if (options.reconstruct ?? ONE_SHOT_DEFAULTS.reconstruct) {
      const rebuilt = await reconstruct(model, pruned.model, pruned.plan, samples, {
        engine,
        damping,
        ...(statistics === null ? {} : { denseStatistics: statistics }),
        onProgress: (event) => emit('reconstruct', event.done, event.total, event.detail),
      });
      final = rebuilt;
      reconstruction = rebuilt.report;
      emit('reconstruct', rebuilt.report.passes, rebuilt.report.passes, undefined, { ms: rebuilt.report.ms, passes: rebuilt.report.passes });
    }
    const resolved = pruned.plan.config;
    return {
      model: final.model,
      plan: final.plan,
      report: pruned.report,
      pruned,
      reconstruction,
      statistics,
      oneShot: {
        samples: samples.length,
        engine: engine.name,
        importance: resolved.importance,
        allocation: { mode: resolved.allocation.mode, budget: resolved.allocation.budget, defaulted: allocationDefaulted, fellBack },
        shapes,
        inputShapes: resolved.inputShapes,
        statisticsMs,
        pruneMs,
        reconstructionMs: reconstruction?.ms ?? null,
        damping: reconstruction === null ? null : reconstruction.damping,
        meanErrorBefore: reconstruction?.meanErrorBefore ?? null,
        meanErrorAfter: reconstruction?.meanErrorAfter ?? null,
      },
    };
  } finally {
    // An engine made here is this call's to free; a given one stays the caller's.
    if (options.engine === undefined) await engine.dispose();
  }
}
