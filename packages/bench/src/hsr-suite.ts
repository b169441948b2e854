import { UsageError } from '@deprune/errors';
import { indexGraph, type OnnxModel } from '@deprune/onnx';
import { DEFAULT_TILE_ROWS, prune, withLatencyTable, type LayerReport, type PruneConfig } from '@deprune/pipeline';
import { modelProfileLayers, profileLayers, type ProfiledLatencyEntry, type ProfiledLatencyTable, type SkippedLayer } from '@deprune/profiler';
import type { BackendMode } from '@deprune/runtime';
import { suiteBackend } from './kernel-backend';
import { machineLine, type MachineInfo } from '@deprune/profiler';
import { machineInfo } from './suite-common';
import { timingSettings, type SuiteReportHeader } from './suite-common';

/**
 * The hsr suite: the latency-vs-kept-count staircase of every DW and PW layer that DEPrune prunes,
 * measured on the real sparse kernels of one backend, the wasm one or a gpu.js mode (`profileLayers`
 * of @deprune/profiler), and
 * where HSR (`recover`) moved each layer's kept count against that measured table: DEPrune-B's
 * count, DEPrune-BH's, the predicted latency of both and the weights recovered, beside the move
 * the analytic ceil(n / t) staircase would have made. The curves are the evidence HSR acts on,
 * so the report keeps every timed count with its median and spread.
 */

export const DEFAULT_HSR_RATIO = 0.5;

export interface HsrSuiteProgress {
  stage: 'profile' | 'prune';
  /** Layers profiled so far (stage profile). */
  done: number;
  total: number;
  layer?: string;
  detail?: string;
}

export interface HsrSuiteOptions {
  model: OnnxModel;
  modelName: string;
  /** The backend: 'wasm' (WebAssembly SIMD) or a gpu.js mode. */
  mode: BackendMode;
  /** The input shape (single-input models). */
  inputShape: readonly number[];
  /** Nominal sparsity DEPrune-B and -BH prune to. Default 0.5. */
  ratio?: number;
  /** Only layers whose node name matches these globs (the rest are pruned but not reported). */
  layers?: string | readonly string[];
  /** Fewer timed calls (3) and a smaller step window (12): rough curves, fast. */
  quick?: boolean;
  warmup?: number;
  repeats?: number;
  /** Chunk size t the sparse kernels are built with. Default 4. */
  kernelStep?: number;
  /** PW rows per tile (BWT's T). Default 32. */
  tileRows?: number;
  seed?: number;
  machine?: MachineInfo;
  command?: string;
  onProgress?: (event: HsrSuiteProgress) => void;
}

/** Where HSR moved one layer. Counts are per balanced unit: taps per channel (DW), columns per tile (PW). */
export interface HsrLayerMove {
  /** DEPrune-B's count (BWT). */
  keptB: number;
  /** DEPrune-BH's count against the measured table. */
  keptBH: number;
  /** DEPrune-BH's count against the analytic ceil(n / t) staircase. */
  keptAnalytic: number;
  /** The measured table's latency at B's and BH's counts, microseconds. */
  latencyBUs: number;
  latencyBHUs: number;
  /** Layer weights kept by B and by BH (measured). */
  weightsB: number;
  weightsBH: number;
}

export interface HsrLayerResult {
  layer: string;
  kind: 'dw' | 'pw';
  unit: ProfiledLatencyEntry['unit'];
  /** Capacity of a unit (K taps, Cin columns). */
  full: number;
  kernel: ProfiledLatencyEntry['kernel'];
  inputShape: number[];
  /** The staircase: every timed count, its latency in the table (pooled per stair), its own median and spread. */
  kept: number[];
  latencyUs: number[];
  rawLatencyUs: number[];
  spreadUs: number[];
  /** The table's stair width, and the step the fit found (1: not resolved) against the kernel's t. */
  step: number;
  foundStep: number;
  fitR2: number;
  resolution: ProfiledLatencyEntry['resolution'];
  /** null for a layer the pruner leaves alone. */
  move: HsrLayerMove | null;
}

export interface HsrSuiteReport extends SuiteReportHeader {
  suite: 'hsr';
  mode: BackendMode;
  settings: { ratio: number; quick: boolean; warmup: number; repeats: number; stepWindow: number; kernelStep: number; tileRows: number; layers: string | null; seed: number };
  versions: Record<string, string>;
  layers: HsrLayerResult[];
  /** Layers the backend could not time (it lacks their kernel), with the reason. */
  skipped: SkippedLayer[];
  summary: {
    layers: number;
    /** Layers whose count HSR raised (measured table), and with the analytic model. */
    moved: number;
    movedAnalytic: number;
    /** Layers whose staircase showed the kernel's t, per kind. */
    dwStepFound: number;
    dwLayers: number;
    pwStepFound: number;
    pwLayers: number;
    /** Summed over the reported layers: the table's latency at B's and BH's counts, and weights kept. */
    predictedUs: { b: number; bh: number };
    weights: { b: number; bh: number };
    /** Time spent profiling (the measured table) and pruning. */
    profileSeconds: number;
  };
  seconds: number;
}

/** The table's latency at n: at the smallest timed count >= n (exact for a staircase). */
function latencyAt(entry: ProfiledLatencyEntry, count: number): number {
  const index = entry.kept.findIndex((kept) => kept >= count);
  return entry.latencyUs[index === -1 ? entry.latencyUs.length - 1 : index];
}

export async function runHsrSuite(options: HsrSuiteOptions): Promise<HsrSuiteReport> {
  const started = performance.now();
  const quick = options.quick ?? false;
  const { ratio, warmup, repeats } = timingSettings(options, { ratio: DEFAULT_HSR_RATIO, warmup: 1, repeats: quick ? 3 : 7 });
  const stepWindow = quick ? 12 : 16;
  const kernelStep = options.kernelStep ?? 4;
  const tileRows = options.tileRows ?? DEFAULT_TILE_ROWS;
  const seed = options.seed ?? 1;
  const machine = options.machine ?? machineInfo();
  const { model, mode } = options;
  const inputName = indexGraph(model).inputs[0];
  const inputShapes = { [inputName]: [...options.inputShape] };

  const profiled = modelProfileLayers(model, { inputShapes, ...(options.layers === undefined ? {} : { layers: options.layers }), dwUnit: 'channel', tileRows });
  if (profiled.length === 0) throw new UsageError(options.layers === undefined ? 'the model has no DW or PW conv to profile' : `no DW or PW layer matches '${String(options.layers)}'`, { file: model.source });
  const kernels = await suiteBackend(mode);
  let table: ProfiledLatencyTable;
  try {
    table = await profileLayers(profiled, {
      backend: kernels.backend,
      backendName: kernels.tableName,
      backendDetail: kernels.detail,
      afterLayer: () => kernels.settle(),
      warmup,
      repeats,
      kernelStep,
      stepWindow,
      seed,
      machine: machineLine(machine),
      onProgress: (event) =>
        options.onProgress?.({
          stage: 'profile',
          done: event.layerIndex + (event.phase === 'done' || event.phase === 'skipped' ? 1 : 0),
          total: event.layers,
          layer: event.layer,
          detail: event.phase === 'skipped' ? `skipped: ${event.reason ?? ''}` : `${event.phase} ${event.round}/${event.rounds}`,
        }),
    });
  } finally {
    await kernels.dispose();
  }
  const profileSeconds = table.meta.seconds;

  // B, BH against the measured table, and BH against the analytic staircase, all with the units
  // the table was measured for (per-channel DW; PW tiles of T rows, as the profiler clamped them):
  // withLatencyTable sets them from the table.
  options.onProgress?.({ stage: 'prune', done: 0, total: 3 });
  const measuredConfig = withLatencyTable({ variant: 'deprune-bh', ratio, inputShapes, hsr: { step: kernelStep } }, table, { file: `the table measured in this run (${mode})` });
  const analyticConfig: PruneConfig = { ...measuredConfig, hsr: { step: kernelStep } };
  const b = prune(model, { ...analyticConfig, variant: 'deprune-b' }).report;
  const bh = prune(model, measuredConfig).report;
  const analytic = prune(model, analyticConfig).report;
  options.onProgress?.({ stage: 'prune', done: 3, total: 3 });
  const byName = (layers: LayerReport[]) => new Map(layers.map((layer) => [layer.name, layer]));
  const [bLayers, bhLayers, analyticLayers] = [byName(b.layers), byName(bh.layers), byName(analytic.layers)];

  // A layer whose kernel the backend lacks is not in the table (the report lists it as skipped).
  const layers: HsrLayerResult[] = profiled.filter((layer) => table.layers[layer.name] !== undefined).map((layer) => {
    const entry = table.layers[layer.name];
    const withHsr = bhLayers.get(layer.name);
    const moveOf = (): HsrLayerMove | null => {
      const measured = withHsr?.hsr;
      if (measured === undefined) return null;
      return {
        keptB: measured.keptBefore,
        keptBH: measured.keptAfter,
        keptAnalytic: analyticLayers.get(layer.name)?.hsr?.keptAfter ?? measured.keptBefore,
        latencyBUs: latencyAt(entry, measured.keptBefore),
        latencyBHUs: latencyAt(entry, measured.keptAfter),
        weightsB: bLayers.get(layer.name)?.keptWeights ?? 0,
        weightsBH: withHsr!.keptWeights,
      };
    };
    return {
      layer: layer.name,
      kind: entry.kind,
      unit: entry.unit,
      full: entry.full,
      kernel: entry.kernel,
      inputShape: entry.inputShape,
      kept: entry.kept,
      latencyUs: entry.latencyUs,
      rawLatencyUs: entry.rawLatencyUs,
      spreadUs: entry.spreadUs,
      step: entry.step,
      foundStep: entry.foundStep,
      fitR2: entry.fitR2,
      resolution: entry.resolution,
      move: moveOf(),
    };
  });
  const moves = layers.flatMap((layer) => (layer.move === null ? [] : [layer.move]));
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const dw = layers.filter((layer) => layer.kind === 'dw');
  const pw = layers.filter((layer) => layer.kind === 'pw');
  return {
    suite: 'hsr',
    command: options.command ?? '',
    machine,
    date: new Date().toISOString(),
    mode,
    model: options.modelName,
    input: { name: inputName, shape: [...options.inputShape] },
    settings: {
      ratio,
      quick,
      warmup,
      repeats,
      stepWindow,
      kernelStep,
      tileRows,
      layers: options.layers === undefined ? null : typeof options.layers === 'string' ? options.layers : options.layers.join(','),
      seed,
    },
    versions: { ...kernels.versions },
    layers,
    skipped: table.meta.skipped,
    summary: {
      layers: layers.length,
      moved: moves.filter((move) => move.keptBH !== move.keptB).length,
      movedAnalytic: moves.filter((move) => move.keptAnalytic !== move.keptB).length,
      dwStepFound: dw.filter((layer) => layer.foundStep === kernelStep).length,
      dwLayers: dw.length,
      pwStepFound: pw.filter((layer) => layer.foundStep === kernelStep).length,
      pwLayers: pw.length,
      predictedUs: { b: sum(moves.map((move) => move.latencyBUs)), bh: sum(moves.map((move) => move.latencyBHUs)) },
      weights: { b: sum(moves.map((move) => move.weightsB)), bh: sum(moves.map((move) => move.weightsBH)) },
      profileSeconds,
    },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
