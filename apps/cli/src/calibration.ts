/**
 * `prune --calib`: the CLI's orchestration of @deprune/calibrate around @deprune/pipeline's prune()
 * (which stays pure): load the samples, collect statistics when the scorer needs them, prune,
 * reconstruct, report. Progress on stderr.
 */
import { UsageError } from '@deprune/errors';
import type { CalibrationSample, ForwardEngine, ReconstructionReport } from '@deprune/calibrate';
import type { LayerStatistics } from '@deprune/masks';
import type { OnnxModel } from '@deprune/onnx';
import type { PruneConfig, PruneResult } from '@deprune/pipeline';
import type { ParsedArgs } from './args';
import { existsSync } from 'node:fs';
import { createEngine, loadCalibrationSamples, parseCount, parseEngine, parsePreset, RENDERED_CALIBRATION_SEED, RENDERED_TASKS, renderCalibrationSamples, type EngineName, type RenderedTask } from './calib';
import { formatTable, type Output } from './output';

export type { ReconstructionReport };

/** Scorers that need calibration statistics (the rest score weights alone). */
const CALIBRATED_SCORERS = new Set(['activation', 'obs', 'obs-greedy']);
const DEFAULT_SAMPLES = 32;

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
  /** The scorer or the allocation needs statistics. */
  statistics: boolean;
  importance: string;
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

/** Whether prune will calibrate: --calib, or a bundled model's rendered default. */
export function willCalibrate(args: ParsedArgs, spec: string): boolean {
  return args.string('calib') !== undefined || renderedCalibrationDefault(args, spec) !== undefined;
}

export function parseCalibrationFlags(args: ParsedArgs, spec: string, config: PruneConfig): CalibrationFlags | undefined {
  const path = args.string('calib');
  const rendered = renderedCalibrationDefault(args, spec);
  const importance = config.importance ?? 'magnitude';
  const saliencyAllocation = config.allocation?.mode === 'saliency';
  if (path === undefined && rendered === undefined) {
    const hint = args.boolean('no-calib') ? 'drop --no-calib' : 'pass --calib <folder of images | batch.npy>';
    if (CALIBRATED_SCORERS.has(importance)) throw new UsageError(`--importance ${importance} needs calibration data`, { hint });
    if (saliencyAllocation) throw new UsageError("allocation 'saliency' needs calibration data", { hint: `${hint}, or --allocation uniform` });
    for (const flag of ['calib-samples', 'preset', 'damping', 'engine', 'no-reconstruct']) {
      if (args.has(flag)) throw new UsageError(`--${flag} only applies when calibrating`, { hint });
    }
    return undefined;
  }
  // Rendered images are preprocessed for their model; --preset is for image folders.
  if (rendered !== undefined && args.has('preset')) throw new UsageError('--preset only applies to --calib image folders', { hint: `${rendered} calibrates on rendered images preprocessed for it` });
  const dampingText = args.string('damping');
  const damping = dampingText === undefined ? 0.01 : Number(dampingText);
  if (!Number.isFinite(damping) || damping < 0 || dampingText?.trim() === '') throw new UsageError(`--damping must be a number >= 0, got '${dampingText}'`);
  return {
    ...(path === undefined ? {} : { path }),
    ...(rendered === undefined ? {} : { rendered }),
    samples: parseCount('calib-samples', args.string('calib-samples'), DEFAULT_SAMPLES),
    preset: parsePreset(args.string('preset'), spec),
    engine: parseEngine(args.string('engine')),
    reconstruct: !args.boolean('no-reconstruct'),
    damping,
    statistics: CALIBRATED_SCORERS.has(importance) || saliencyAllocation,
    importance,
  };
}

export interface CalibrationSummary {
  source: string;
  samples: number;
  preset: string;
  /** The importance scorer the prune used. */
  importance: string;
  /** How the prune spread the ratio over the layers, e.g. 'saliency (macs budget)' (set once pruned). */
  allocation?: string;
  engine: string;
  /** Time of the statistics pass; null when the scorer needed none. */
  statisticsMs: number | null;
}

export interface Calibrated {
  samples: CalibrationSample[];
  engine: ForwardEngine;
  statistics?: Map<string, LayerStatistics>;
  summary: CalibrationSummary;
}

/** Where the samples come from, for the report. */
function calibrationSource(flags: CalibrationFlags): string {
  return flags.rendered === undefined ? flags.path! : `rendered ${flags.rendered} images (seed ${RENDERED_CALIBRATION_SEED})`;
}

export async function calibrate(out: Output, model: OnnxModel, flags: CalibrationFlags): Promise<Calibrated> {
  const samples =
    flags.rendered === undefined
      ? await loadCalibrationSamples(flags.path!, { preset: flags.preset, samples: flags.samples })
      : await renderCalibrationSamples(flags.rendered, flags.samples);
  const { checkSamples, collectStatistics, declaredChannels, singleInputName } = await import('@deprune/calibrate');
  checkSamples(samples, declaredChannels(model, singleInputName(model)));
  const engine = await createEngine(flags.engine);
  let statistics: Map<string, LayerStatistics> | undefined;
  let statisticsMs: number | null = null;
  if (flags.statistics) {
    const progress = out.progress(`calibrating on ${samples.length} samples (${engine.name})`, samples.length);
    const collected = await collectStatistics(model, samples, { engine, onProgress: (event) => progress.update(event.done) });
    progress.done(`calibrated on ${samples.length} samples in ${(collected.ms / 1000).toFixed(1)} s (${engine.name})`);
    statistics = collected.statistics;
    statisticsMs = collected.ms;
  }
  return { samples, engine, ...(statistics ? { statistics } : {}), summary: { source: calibrationSource(flags), samples: samples.length, preset: flags.preset, importance: flags.importance, engine: engine.name, statisticsMs } };
}

export async function reconstructLayers(out: Output, dense: OnnxModel, result: PruneResult, flags: CalibrationFlags, calibrated: Calibrated) {
  const { reconstruct } = await import('@deprune/calibrate');
  const progress = out.progress(`reconstructing ${result.plan.layers.length} layers`);
  const rebuilt = await reconstruct(dense, result.model, result.plan, calibrated.samples, {
    engine: calibrated.engine,
    damping: flags.damping,
    ...(calibrated.statistics ? { denseStatistics: calibrated.statistics } : {}),
    onProgress: (event) => progress.update(event.done, `of ${event.total} sample passes${event.detail ? ` (${event.detail})` : ''}`),
  });
  progress.done(`reconstructed ${rebuilt.report.layers.length} layers in ${(rebuilt.report.ms / 1000).toFixed(1)} s (${rebuilt.report.passes} passes)`);
  return rebuilt;
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
