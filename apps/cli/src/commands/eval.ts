import { UsageError, closestName } from '@deprune/errors';
import type { EvaluationReport, Task } from '@deprune/evaluate';
import type { PrunePlan } from '@deprune/plan';
import { helpHint } from '../args';
import { bundledKeysPath, createEngine, parseCount, parseEngine, parsePreset } from '../calib';
import { readInputFile } from '../files';
import { modelNamesText, resolveModel } from '../models';
import type { Output } from '../output';
import type { Command } from '../registry';
import { checkPlanForModel, readPlanFile } from '../plan-file';

/** @deprune/evaluate's TASKS, written here so flag checks and --help need not load it (a test keeps them equal). */
export const TASKS: readonly Task[] = ['ppocr-rec', 'ppocr-cls', 'ppocr-det', 'classify', 'fidelity'];

function parseTask(text: string | undefined): Task {
  if (text === undefined) throw new UsageError('missing --task', { hint: `choose one of ${TASKS.join(', ')}` });
  if (!(TASKS as readonly string[]).includes(text)) {
    const guess = closestName(text, TASKS);
    throw new UsageError(`unknown --task '${text}'`, { hint: `${guess ? `did you mean '${guess}'? ` : ''}choose one of ${TASKS.join(', ')}` });
  }
  return text as Task;
}

/** The key file of PP-OCR rec: --keys, else the one shipped with the bundled models. */
async function keysText(path: string | undefined): Promise<string> {
  const file = path ?? (await bundledKeysPath());
  return readInputFile(file, 'key file', '--keys').toString('utf8');
}

const percent = (value: number) => `${(100 * value).toFixed(2)}%`;

function printMetrics(out: Output, spec: string, report: EvaluationReport): void {
  const { metrics } = report;
  out.print(`${spec}: ${metrics.task} on ${metrics.items} images (${report.engine}, ${(report.ms / 1000).toFixed(1)} s)`);
  switch (metrics.task) {
    case 'ppocr-rec':
      out.print(`  line accuracy ${percent(metrics.lineAccuracy)}, character accuracy ${percent(metrics.charAccuracy)}`);
      break;
    case 'ppocr-cls':
    case 'classify':
      out.print(`  accuracy ${percent(metrics.accuracy)}`);
      break;
    case 'ppocr-det':
      out.print(`  precision ${percent(metrics.precision)}, recall ${percent(metrics.recall)}, F1 ${percent(metrics.f1)} (IoU 0.5; ${metrics.matched} of ${metrics.truth} boxes found, ${metrics.detected} detected)`);
      break;
    default:
      out.print(`  cosine ${metrics.cosine.toFixed(6)} (worst ${metrics.minCosine.toFixed(6)}), max |diff| ${metrics.maxAbsDiff.toPrecision(4)}, top-1 agreement ${percent(metrics.top1Agreement)}`);
  }
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'task accuracy of a model on a labelled folder: PP-OCR rec/cls/det, top-1, or fidelity to the dense model',
  usage: ['eval <model> --task ppocr-rec|ppocr-cls|ppocr-det|classify|fidelity --data <folder> [--plan p.deprune.json] [--reference dense.onnx] [--keys k.txt] [--limit N] [--engine E] [--json]'],
  description: `
Runs the model over --data (images and a labels.txt: "<file>\\t<label>" per line, PaddleOCR's
format: rec the text, cls 0 or 180, det a JSON list of {transcription, points}, classify a class
index; fidelity needs no labels) and scores it:
  ppocr-rec  line and character accuracy (greedy CTC decoding with --keys, default the bundled
             ppocr_keys_v1.txt; spaces ignored, as PaddleOCR's RecMetric)
  ppocr-cls  accuracy of the 0 / 180 degree decision
  ppocr-det  precision / recall / F1 of DB boxes matched one to one at IoU 0.5
  classify   top-1 accuracy (imagenet preprocessing unless --preset)
  fidelity   cosine, max |diff| and top-1 agreement of the output against --reference
--plan checks the plan against the model and, with --engine deprune, runs its sparse kernels.
Generate labelled text data with @deprune/textdata (see the bench's accuracy suite).`,
  args: [{ name: 'model', description: `an .onnx file, or one of ${modelNamesText()} (zoo names may omit 'zoo:')` }],
  flags: {
    task: { type: 'string', value: 'task', description: TASKS.join(' | ') },
    data: { type: 'string', value: 'folder', description: 'images and labels.txt' },
    plan: { type: 'string', value: 'file', description: 'the .deprune.json plan of a pruned model' },
    reference: { type: 'string', value: 'model', description: 'fidelity: the dense model to compare with' },
    keys: { type: 'string', value: 'file', description: 'ppocr-rec: the key file (default: the bundled ppocr_keys_v1.txt)' },
    preset: { type: 'string', value: 'name', description: 'preprocessing (default from the task; fidelity: from the model name, else imagenet)' },
    limit: { type: 'string', value: 'N', description: 'only the first N images' },
    engine: { type: 'string', value: 'name', description: 'auto (default: onnxruntime when installed) | onnxruntime | deprune' },
  },
  examples: ['deprune eval rec-bh.onnx --plan rec-bh.deprune.json --task ppocr-rec --data lines/', 'deprune eval rec-bh.onnx --task fidelity --reference ppocr-rec --data lines/ --json'],
  async run({ args, out }) {
    const spec = args.positional(0);
    if (spec === undefined) throw new UsageError('missing <model>', { hint: helpHint('eval') });
    const task = parseTask(args.string('task'));
    const data = args.string('data');
    if (data === undefined) throw new UsageError('missing --data <folder>', { hint: helpHint('eval') });
    const engineName = parseEngine(args.string('engine'));
    const limitText = args.string('limit');
    const limit = limitText === undefined ? undefined : parseCount('limit', limitText, 1);
    const referenceSpec = args.string('reference');
    if (task === 'fidelity' && referenceSpec === undefined) throw new UsageError("--task fidelity needs --reference <dense model>", { hint: helpHint('eval') });
    const { evaluate, readDataset } = await import('@deprune/evaluate');
    const items = readDataset(data, task, limit);
    const resolved = await resolveModel(spec);
    let plan: PrunePlan | undefined;
    const planPath = args.string('plan');
    if (planPath !== undefined) {
      plan = readPlanFile(planPath);
      checkPlanForModel(plan, resolved.model, planPath);
    }
    const reference = referenceSpec === undefined ? undefined : (await resolveModel(referenceSpec)).model;
    const presetText = args.string('preset');
    const preset = task === 'fidelity' ? parsePreset(presetText, referenceSpec ?? spec) : presetText === undefined ? undefined : parsePreset(presetText, spec);
    const { ppocrCharset } = await import('@deprune/ocr');
    const charset = task === 'ppocr-rec' ? ppocrCharset(await keysText(args.string('keys'))) : undefined;
    const engine = await createEngine(engineName, plan ? { model: resolved.model, plan } : undefined);
    const progress = out.progress(`evaluating ${spec} (${task})`, items.length);
    try {
      const report = await evaluate(resolved.model, task, items, {
        engine,
        ...(charset ? { charset } : {}),
        ...(reference ? { reference } : {}),
        ...(preset ? { preset } : {}),
        onProgress: (done) => progress.update(done),
      });
      progress.done(`evaluated ${items.length} images in ${(report.ms / 1000).toFixed(1)} s`);
      out.result({ model: spec, task, data, ...(planPath ? { plan: planPath } : {}), ...report });
      printMetrics(out, spec, report);
    } finally {
      await engine.dispose();
    }
    return 0;
  },
};
