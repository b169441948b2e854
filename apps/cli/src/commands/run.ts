import { existsSync } from 'node:fs';
import { DeprunError, UsageError } from '@deprune/errors';
import type { PresetName } from '@deprune/images';
import { indexGraph } from '@deprune/onnx';
import type { HostTensor, Session } from '@deprune/runtime';
import { createRng, randomTensor, tensor, toFloat32 } from '@deprune/tensor';
import { helpHint, outputFlag, repeatsFlag } from '../args';
import { modelNamesText, resolveModel } from '../models';
import { encodeNpy, readNpy } from '../npy';
import { formatTable } from '../output';
import type { Command } from '../registry';
import { describeSummary, summarizeOutput, taskFor } from '../tasks';
import { checkPreset, PRESETS } from '../calib';
import { parseInputShapeFlags, resolveInputShapes } from '../shapes';
import { checkOutputPath, readInputFile, refuseOutputsOverInputs } from '../files';
import { checkPlanForModel, planPathNextTo, readPlanFile } from '../plan-file';
import { MODE_NAMES, resolveBackendFlag } from './kernel-common';

/** A .npy input: float32, C order; its shape is checked against the model when the session runs. */
function npyInput(path: string): HostTensor {
  const array = readNpy(readInputFile(path, 'input file', '--input'), path);
  if (array.dtype !== 'float32') {
    throw new DeprunError('BAD_DTYPE', `the input is ${array.dtype}; the model takes float32`, { file: path, hint: 're-save it with numpy.save(path, x.astype(numpy.float32))' });
  }
  return tensor(array.data as Float32Array, array.shape);
}

/** `--input name=x.npy` names a model input; a bare path goes to the only input. */
function inputFileName(text: string, inputNames: readonly string[]): string | undefined {
  const match = /^([^=]+)=(.+)$/.exec(text);
  if (match && inputNames.includes(match[1])) return match[1];
  return inputNames.length === 1 ? inputNames[0] : undefined;
}

function inputFilePath(text: string, inputNames: readonly string[]): string {
  const match = /^([^=]+)=(.+)$/.exec(text);
  return match && inputNames.includes(match[1]) ? match[2] : text;
}

export interface ResolvedInputs {
  feeds: Record<string, HostTensor>;
  /** Where each input came from, for the report. */
  sources: Record<string, string>;
}

/**
 * The feeds of a run: `--input [name=]x.npy` (one per model input), or `--image file --preset P`
 * (a single-input model), or else a seeded random tensor of the model's input shape.
 */
export async function resolveFeeds(options: {
  inputNames: readonly string[];
  inputShapes: Record<string, number[]>;
  inputs: readonly string[];
  image?: string;
  preset?: string;
  modelSpec: string;
  seed: number;
}): Promise<ResolvedInputs> {
  const { inputNames } = options;
  if (options.image !== undefined && options.inputs.length > 0) throw new UsageError('give --input or --image, not both', { hint: helpHint('run') });
  if (options.image !== undefined) {
    if (inputNames.length !== 1) throw new UsageError(`--image needs a single-input model; this one has ${inputNames.length} inputs (${inputNames.join(', ')})`, { hint: 'pass each with --input name=x.npy' });
    const bundledPreset = (PRESETS as readonly string[]).includes(options.modelSpec) ? options.modelSpec : undefined;
    const preset = options.preset ?? bundledPreset;
    if (preset === undefined) throw new UsageError('--image needs --preset for this model', { hint: `choose one of ${PRESETS.join(', ')}` });
    const images = await import('@deprune/images');
    const { readImage } = await import('@deprune/images/node');
    const prepared = images.preprocessImage(readImage(options.image), preset as PresetName);
    return { feeds: { [inputNames[0]]: prepared.tensor }, sources: { [inputNames[0]]: `${options.image} (${preset}: ${prepared.description})` } };
  }
  if (options.preset !== undefined) throw new UsageError('--preset goes with --image', { hint: helpHint('run') });
  // Maps, not plain objects: input names come from the model ('__proto__' must stay a name).
  const feeds = new Map<string, HostTensor>();
  const sources = new Map<string, string>();
  for (const text of options.inputs) {
    const name = inputFileName(text, inputNames);
    const path = inputFilePath(text, inputNames);
    if (name === undefined) throw new UsageError(`--input '${text}': name the input (name=x.npy); the model's inputs are ${inputNames.join(', ')}`);
    if (feeds.has(name)) throw new UsageError(`--input gives '${name}' twice`);
    feeds.set(name, npyInput(path));
    sources.set(name, path);
  }
  for (const name of inputNames) {
    if (feeds.has(name)) continue;
    if (options.inputs.length > 0) throw new UsageError(`no --input for '${name}'`, { hint: `pass every input: ${inputNames.map((each) => `--input ${each}=x.npy`).join(' ')}` });
    const shape = options.inputShapes[name];
    feeds.set(name, toFloat32(randomTensor(shape, createRng(options.seed))) as HostTensor);
    sources.set(name, `seeded random normal values (seed ${options.seed}), shape [${shape.join(', ')}]`);
  }
  return { feeds: Object.fromEntries(feeds), sources: Object.fromEntries(sources) };
}

function shapesOf(feeds: Record<string, HostTensor>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, [...value.shape]]));
}

/** Steps per kernel and how the plan's layers ran, for the report. */
export function kernelSummary(session: Session, feeds: Record<string, HostTensor>) {
  const report = session.compile(shapesOf(feeds));
  const sparse = report.planLayers.filter((use) => use.kernel === 'dwSparse' || use.kernel === 'pwSparse').length;
  return { kernels: report.kernels, planLayers: report.planLayers.length, sparseLayers: sparse, denseReasons: [...new Set(report.planLayers.flatMap((use) => (use.reason ? [use.reason] : [])))] };
}

/**
 * Activations a run may need before it is refused (the session checks, see the runtime's
 * maxActivationBytes). A 4 KB model with a pad of a million pixels would take gigabytes;
 * PP-OCRv4 det at 1280x1280 needs 125 MiB, at 640x640 31 MiB.
 */
const DEFAULT_MAX_MEMORY_MIB = 256;

function maxMemoryBytes(flag: string | undefined): number {
  const limitMiB = flag === undefined ? DEFAULT_MAX_MEMORY_MIB : Number(flag);
  if (!(limitMiB > 0) || !Number.isFinite(limitMiB)) throw new UsageError(`--max-memory must be a positive number of MiB, got '${flag}'`, { hint: helpHint('run') });
  return limitMiB * 2 ** 20;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run a model (dense, or pruned with its plan) on the wasm or gpu.js kernels: outputs and latency',
  usage: [
    'run <model> [--plan p.deprune.json] [--input [name=]x.npy | --image file.png --preset P] [--output y.npy] [--mode M] [--repeats N] [--json]',
  ],
  description: `
Compiles the model with @deprune/runtime and runs it on a kernel backend (--mode; in Node the
default is wasm, @deprune/wasm's WebAssembly SIMD kernels, on --threads threads). With
--plan (the .deprune.json deprune prune wrote), DEPrune layers run on the sparse kernels;
the plan is checked against the model first. Inputs: --input x.npy (float32, C order; a
wrong shape or dtype is an error), --image (PNG or JPEG, preprocessed by --preset; the
bundled PP-OCR models pick theirs), or else seeded random values of the input shape.
Prints each output's shape and range, the top-5 classes of a classifier, the text of the
PP-OCR rec model, and the median latency of --repeats timed runs after one warm-up run.
--output writes the first output as float32 .npy (atomically; never over an input).`,
  args: [{ name: 'model', description: `an .onnx file, or one of ${modelNamesText()} (zoo names may omit 'zoo:')` }],
  flags: {
    plan: { type: 'string', value: 'p.deprune.json', description: 'the pruning plan: DEPrune layers run on the sparse kernels' },
    input: { type: 'string', multiple: true, value: '[name=]x.npy', description: 'a float32 .npy input (name=... for multi-input models)' },
    image: { type: 'string', value: 'file', description: 'a PNG or JPEG image as the input' },
    preset: { type: 'string', value: 'P', description: `image preprocessing: ${PRESETS.join(' | ')}` },
    'input-shape': { type: 'string', multiple: true, value: 'shape', description: 'input shape for random inputs, as 1,3,H,W' },
    output: outputFlag('y.npy', 'write the first output as float32 .npy'),
    mode: { type: 'string', value: 'M', description: `backend: ${MODE_NAMES.join(' | ')} (default auto: wasm, the WebAssembly SIMD kernels, in Node)` },
    threads: { type: 'string', value: 'N', description: 'wasm mode: threads the kernels split over (default: the available cores; results are the same at any count)' },
    repeats: repeatsFlag('timed runs after one warm-up run (default 5)'),
    'max-memory': { type: 'string', value: 'MiB', description: `refuse a run whose activations at these input shapes need more than this many MiB (default ${DEFAULT_MAX_MEMORY_MIB})` },
    dense: { type: 'boolean', description: 'run the plan\'s layers on the dense kernels (same weights; for comparison)' },
    seed: { type: 'string', value: 'N', description: 'seed of the random input (default 0)' },
    force: { type: 'boolean', short: 'f', description: 'overwrite --output if it exists' },
  },
  examples: [
    'deprune run ppocr-rec --image line.png',
    'deprune prune zoo:mobilenetv2 -o mnv2.onnx && deprune run mnv2.onnx --plan mnv2.deprune.json --mode webasm --repeats 10',
    'deprune run model.onnx --input x.npy --output y.npy --json',
  ],
  async run({ args, out }) {
    const spec = args.positional(0);
    if (spec === undefined) throw new UsageError('missing <model>', { hint: helpHint('run') });
    const repeat = args.integer('repeats', { min: 1 }) ?? 5;
    const seed = args.integer('seed', { min: 0 }) ?? 0;
    const preset = args.string('preset');
    if (preset !== undefined) checkPreset(preset);
    const outputPath = args.string('output');
    const inputFiles = args.strings('input');
    const planPath = args.string('plan');
    // Before any work: --output may not be any file the run reads (compared as files, links resolved).
    const writes = outputPath === undefined ? [] : [{ path: outputPath, role: '--output file' }];
    if (outputPath !== undefined) checkOutputPath(outputPath, args.boolean('force'));
    refuseOutputsOverInputs(writes, [
      existsSync(spec) ? { path: spec, role: 'input model' } : undefined,
      planPath === undefined ? undefined : { path: planPath, role: '--plan file' },
      args.string('image') === undefined ? undefined : { path: args.string('image')!, role: '--image file' },
      // `name=x.npy` or a bare path (which may itself contain '='): both readings are checked.
      ...inputFiles.flatMap((text) => [text, text.replace(/^[^=]*=/, '')].map((path) => ({ path, role: '--input file' }))),
    ]);
    const plan = planPath === undefined ? null : readPlanFile(planPath);
    const { mode, reason } = await resolveBackendFlag(args.string('mode'), 'run');
    const threads = args.integer('threads', { min: 1, max: 256 });
    out.debug(`mode ${mode}: ${reason}`);
    const resolved = await resolveModel(spec);
    if (resolved.file !== null) refuseOutputsOverInputs(writes, [{ path: resolved.file, role: 'input model' }]);
    if (plan === null && resolved.file !== null && existsSync(planPathNextTo(resolved.file))) {
      out.warn(`${planPathNextTo(resolved.file)} is next to the model: pass --plan ${planPathNextTo(resolved.file)} to run its sparse kernels`);
    }
    const runtime = await import('@deprune/runtime');
    // Checked here first so that a plan that does not fit the model is named in the message.
    if (plan !== null && planPath !== undefined) checkPlanForModel(plan, resolved.model, planPath);
    const session = await runtime.createSession(resolved.model, {
      mode,
      plan,
      sparse: !args.boolean('dense'),
      maxActivationBytes: maxMemoryBytes(args.string('max-memory')),
      ...(threads === undefined ? {} : { threads }),
    });
    // Shapes only matter for random inputs: files and images bring their own.
    const random = inputFiles.length === 0 && args.string('image') === undefined;
    const inputShapes = random
      ? Object.fromEntries(resolveInputShapes(resolved.model, parseInputShapeFlags(args.strings('input-shape')), resolved.defaultInputShapes, resolved.file ?? spec).map((input) => [input.name, input.shape]))
      : {};
    const inputNames = indexGraph(resolved.model).inputs;
    const { feeds, sources } = await resolveFeeds({ inputNames, inputShapes, inputs: inputFiles, image: args.string('image'), preset, modelSpec: spec, seed });
    // Compiled here, before the first timed run: input shapes whose activations exceed --max-memory are refused now.
    session.compile(Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, value.shape])));

    const { measureMedian } = await import('@deprune/profiler');
    const progress = out.progress(`running ${spec} (${mode})`, repeat + 1);
    let first: Awaited<ReturnType<Session['run']>> | undefined;
    let calls = 0;
    const latency = await measureMedian(
      async () => {
        const result = await session.run(feeds);
        first ??= result;
        progress.update(++calls);
      },
      { warmup: 1, repeats: repeat },
    );
    progress.done(`ran ${spec} ${repeat + 1} times (${mode}): median ${latency.medianMs.toFixed(1)} ms`);
    const outputs = Object.entries(first!.outputs);
    const summaries = outputs.map(([name, value]) => summarizeOutput(name, value, taskFor(spec, value)));
    if (outputPath !== undefined) {
      const [, value] = outputs[0];
      const { writeFileAtomic } = await import('@deprune/onnx/node');
      writeFileAtomic(outputPath, encodeNpy(value.data, value.shape));
    }
    const kernels = kernelSummary(session, feeds);
    out.result({
      model: resolved.file ?? resolved.spec,
      plan: planPath ?? null,
      mode,
      modeReason: reason,
      inputs: Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, { shape: value.shape, source: sources[name] }])),
      outputs: summaries,
      output: outputPath ?? null,
      latency: { medianMs: latency.medianMs, spreadMs: latency.spreadMs, repeats: repeat, warmup: 1, samplesMs: latency.samples },
      ...kernels,
    });
    out.print(`${resolved.file ?? resolved.spec}${planPath ? ` with plan ${planPath}` : ''} on ${runtime.backendLabel(mode)}`);
    for (const [name, source] of Object.entries(sources)) out.print(`  input ${name}: ${source}`);
    for (const summary of summaries) out.print(`  ${describeSummary(summary)}`);
    if (outputPath !== undefined) out.print(`  wrote ${outputs[0][0]} to ${outputPath}`);
    out.print();
    out.print(
      formatTable(
        ['latency (median)', 'spread', 'runs', 'plan layers', 'on sparse kernels'],
        [[`${latency.medianMs.toFixed(1)} ms`, `${latency.spreadMs.toFixed(1)} ms`, `${repeat} (+1 warm-up)`, String(kernels.planLayers), String(kernels.sparseLayers)]],
        { align: ['right', 'right', 'right', 'right', 'right'], indent: 2 },
      ),
    );
    for (const why of kernels.denseReasons) out.print(`  dense: ${why}`);
    return 0;
  },
};
