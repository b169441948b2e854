/**
 * `prune --calib`: the CLI around @deprune/oneshot's `calibratedPrune` (statistics -> prune() ->
 * reconstruction with the one-shot defaults): the flags, where the samples come from (files or
 * rendered images), the engine, progress on stderr and the report. `demo` reports its calibrated
 * prunes through the same progress lines.
 */
import { UsageError } from '@deprune/errors';
import type { ReconstructionReport } from '@deprune/calibrate';
import { getScorer } from '@deprune/masks';
import type { OnnxModel } from '@deprune/onnx';
import type { CalibratedPruneResult, OneShotProgress, OneShotStage } from '@deprune/oneshot';
import { ONE_SHOT_DEFAULTS } from '@deprune/oneshot/defaults';
import type { PruneConfig } from '@deprune/pipeline';
import type { ParsedArgs } from './args';
import { existsSync } from 'node:fs';
import { createEngine, loadCalibrationSamples, parseCount, parseEngine, parsePreset, RENDERED_CALIBRATION_SEED, RENDERED_TASKS, renderCalibrationSamples, type EngineName, type RenderedTask } from './calib';
import { formatTable, type Output, type Progress } from './output';

export type { ReconstructionReport };

export interface CalibrationFlags {
  /** The --calib folder or .npy batch; absent when the samples are rendered. */
  path?: string;
  /** A bundled model calibrating by default on rendered images of its task. */
  rendered?: RenderedTask;
  samples: number;
  preset: ReturnType<typeof parsePreset>;
  engine: EngineName;
  reconstruct: boolean;
  damping: number;
}

/**
 * The bundled model `spec` names, when prune should calibrate on rendered images by default: no
 * --calib, no --no-calib, and no file of that name (which would be the model instead).
 */
export function renderedCalibrationDefault(args: ParsedArgs, spec: string): RenderedTask | undefined {
  if (args.string('calib') !== undefined && args.boolean('no-calib')) throw new UsageError('give --calib or --no-calib, not both');
  if (args.string('calib') !== undefined || args.boolean('no-calib') || existsSync(spec)) return undefined;
  return (RENDERED_TASKS as readonly string[]).includes(spec) ? (spec as RenderedTask) : undefined;
}

export function parseCalibrationFlags(args: ParsedArgs, spec: string, config: PruneConfig): CalibrationFlags | undefined {
  const path = args.string('calib');
  const rendered = renderedCalibrationDefault(args, spec);
  if (path === undefined && rendered === undefined) {
    const hint = args.boolean('no-calib') ? 'drop --no-calib' : 'pass --calib <folder of images | batch.npy>';
    const importance = config.importance ?? 'magnitude';
    if (getScorer(importance).needsStatistics === true) throw new UsageError(`--importance ${importance} needs calibration data`, { hint });
    if (config.allocation?.mode === 'saliency') throw new UsageError("allocation 'saliency' needs calibration data", { hint: `${hint}, or --allocation uniform` });
    for (const flag of ['calib-samples', 'preset', 'damping', 'engine', 'no-reconstruct']) {
      if (args.has(flag)) throw new UsageError(`--${flag} only applies when calibrating`, { hint });
    }
    return undefined;
  }
  // Rendered images are preprocessed for their model; --preset is for image folders.
  if (rendered !== undefined && args.has('preset')) throw new UsageError('--preset only applies to --calib image folders', { hint: `${rendered} calibrates on rendered images preprocessed for it` });
  const dampingText = args.string('damping');
  const damping = dampingText === undefined ? ONE_SHOT_DEFAULTS.damping : Number(dampingText);
  if (!Number.isFinite(damping) || damping < 0 || dampingText?.trim() === '') throw new UsageError(`--damping must be a number >= 0, got '${dampingText}'`);
  return {
    ...(path === undefined ? {} : { path }),
    ...(rendered === undefined ? {} : { rendered }),
    samples: parseCount('calib-samples', args.string('calib-samples'), ONE_SHOT_DEFAULTS.calibSamples),
    preset: parsePreset(args.string('preset'), spec),
    engine: parseEngine(args.string('engine')),
    reconstruct: !args.boolean('no-reconstruct'),
    damping,
  };
}

export interface CalibrationSummary {
  source: string;
  samples: number;
  preset: string;
  /** The importance scorer the prune used. */
  importance: string;
  engine: string;
  /** Time of the statistics pass; null when the scorer needed none. */
  statisticsMs: number | null;
  /** How the prune spread the ratio over the layers, e.g. 'saliency (macs budget)'. */
  allocation: string;
}

/** Where the samples come from, for the report. */
function calibrationSource(flags: CalibrationFlags): string {
  return flags.rendered === undefined ? flags.path! : `rendered ${flags.rendered} images (seed ${RENDERED_CALIBRATION_SEED})`;
}

/** What a stage's progress line says when it starts, as it goes, and when it ends (undefined: the caller ends it). */
export interface StageLines {
  start: (event: OneShotProgress, layers: number) => string;
  update?: (event: OneShotProgress) => string;
  end: (event: OneShotProgress, layers: number) => string | undefined;
  /** Runs once the stage's line is done (prune: its warnings, before reconstruction starts). */
  after?: (event: OneShotProgress) => void;
}

/**
 * calibratedPrune's progress events as progress lines on stderr, one per stage named in `lines`
 * (stages without lines run silently). `layers` is the plan's layer count once the prune stage
 * ended (what the reconstruction's line counts).
 */
export class OneShotProgressLines {
  private current: { stage: OneShotStage; progress: Progress } | undefined;
  private layers = 0;

  constructor(
    private readonly out: Output,
    private readonly lines: Partial<Record<OneShotStage, StageLines>>,
  ) {}

  readonly onProgress = (event: OneShotProgress): void => {
    if (event.stage === 'prune' && event.end?.layers !== undefined) this.layers = event.end.layers;
    const lines = this.lines[event.stage];
    if (lines === undefined) return;
    if (this.current?.stage !== event.stage) {
      this.current = { stage: event.stage, progress: this.out.progress(lines.start(event, this.layers), event.stage === 'statistics' ? event.total : undefined) };
    }
    const { progress } = this.current;
    if (event.end === undefined) {
      progress.update(event.done, lines.update?.(event));
      return;
    }
    const message = lines.end(event, this.layers);
    if (message === undefined) return;
    progress.done(message);
    this.current = undefined;
    lines.after?.(event);
  };

  /** Ends the stage whose end line needs figures only the result has. */
  done(message: string): void {
    this.current?.progress.done(message);
    this.current = undefined;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * `prune --calib`: loads (or renders) the samples and runs `calibratedPrune` on the chosen engine,
 * with the one-shot defaults for what the config leaves out. Progress on stderr.
 */
export async function calibratedPruneCommand(
  out: Output,
  spec: string,
  model: OnnxModel,
  config: PruneConfig,
  flags: CalibrationFlags,
): Promise<{ result: CalibratedPruneResult; summary: CalibrationSummary }> {
  const samples =
    flags.rendered === undefined
      ? await loadCalibrationSamples(flags.path!, { preset: flags.preset, samples: flags.samples })
      : await renderCalibrationSamples(flags.rendered, flags.samples);
  const [{ calibratedPrune }, { checkSamples, declaredChannels, singleInputName }] = await Promise.all([import('@deprune/oneshot'), import('@deprune/calibrate')]);
  // Bad samples are refused before an engine starts.
  checkSamples(samples, declaredChannels(model, singleInputName(model)));
  const engine = await createEngine(flags.engine);
  try {
    const lines = new OneShotProgressLines(out, {
      statistics: {
        start: (event) => `calibrating on ${event.total} samples (${engine.name})`,
        end: (event) => `calibrated on ${samples.length} samples in ${seconds(event.end!.ms)} (${engine.name})`,
      },
      prune: {
        start: () => `pruning ${spec} (${config.variant})`,
        update: (event) => `of ${event.total} ${event.detail ?? ''}`.trimEnd(),
        end: (_, layers) => `pruned ${spec} (${config.variant}): ${layers} layers`,
        after: (event) => {
          for (const warning of event.end?.warnings ?? []) out.warn(warning);
        },
      },
      reconstruct: {
        start: (_, layers) => `reconstructing ${layers} layers`,
        update: (event) => `of ${event.total} sample passes${event.detail ? ` (${event.detail})` : ''}`,
        end: (event, layers) => `reconstructed ${layers} layers in ${seconds(event.end!.ms)} (${event.end!.passes} passes)`,
      },
    });
    const result = await calibratedPrune(model, samples, config, { engine, reconstruct: flags.reconstruct, damping: flags.damping, onProgress: lines.onProgress });
    const { importance, allocation, statisticsMs } = result.oneShot;
    return {
      result,
      summary: {
        source: calibrationSource(flags),
        samples: samples.length,
        preset: flags.preset,
        importance,
        engine: engine.name,
        statisticsMs,
        allocation: allocation.mode === 'uniform' ? 'uniform' : `${allocation.mode} (${allocation.budget} budget)`,
      },
    };
  } finally {
    await engine.dispose();
  }
}

const percent = (value: number) => `${(100 * value).toFixed(2)}%`;

export function printCalibration(out: Output, summary: CalibrationSummary, report: ReconstructionReport | undefined): void {
  out.print();
  out.print(
    `Calibration: ${summary.samples} samples from ${summary.source} (${summary.preset}), importance ${summary.importance}${summary.allocation ? `, allocation ${summary.allocation}` : ''}, engine ${summary.engine}`,
  );
  if (!report) return;
  out.print(`Reconstruction (damping ${report.damping}): mean relative output error ${percent(report.meanErrorBefore)} -> ${percent(report.meanErrorAfter)}`);
  const rows = report.layers.map((layer) => [
    layer.name,
    layer.kind,
    percent(layer.errorBefore),
    percent(layer.errorAfter),
    layer.damping.max === layer.damping.min ? String(layer.damping.min) : `${layer.damping.min}-${layer.damping.max}`,
    String(layer.biasOnlyRows + layer.underdeterminedRows),
  ]);
  out.print(formatTable(['layer', 'kind', 'error before', 'after', 'damping', 'bias-only rows'], rows, { align: ['left', 'left', 'right', 'right', 'right', 'right'], indent: 2 }));
}
