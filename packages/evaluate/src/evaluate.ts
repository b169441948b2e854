import { DeprunError, UsageError } from '@deprune/errors';
import { singleInputName, type ForwardEngine } from '@deprune/calibrate';
import { preprocessImage, type PresetName, type RgbImage } from '@deprune/images';
import { readImage } from '@deprune/images/node';
import { CLS_LABELS, ctcGreedyDecode, dbBoxes, editDistance, matchBoxes } from '@deprune/ocr';
import type { OnnxModel } from '@deprune/onnx';
import type { HostTensor } from '@deprune/runtime';
import { cosineSimilarity, maxAbsDifference } from '@deprune/tensor';
import type { DatasetItem, Task } from './dataset';

export interface EvaluateOptions {
  engine: ForwardEngine;
  /** ppocr-rec: the model's classes (`ppocrCharset(keys)` of @deprune/ocr). */
  charset?: readonly string[];
  /** fidelity: the dense model the outputs are compared with. */
  reference?: OnnxModel;
  /** Preprocessing; default per task (rec/cls/det: their PP-OCR preset; classify: imagenet). fidelity needs it. */
  preset?: PresetName;
  onProgress?: (done: number, total: number) => void;
  /** Keep per-item results in the report (default false). */
  details?: boolean;
}

export interface RecMetrics {
  task: 'ppocr-rec';
  items: number;
  /** Fraction of lines read exactly (spaces ignored, as PaddleOCR's RecMetric does by default). */
  lineAccuracy: number;
  /** 1 - (sum of edit distances) / (sum of ground-truth lengths). */
  charAccuracy: number;
}
export interface ClsMetrics {
  task: 'ppocr-cls' | 'classify';
  items: number;
  accuracy: number;
}
export interface DetMetrics {
  task: 'ppocr-det';
  items: number;
  precision: number;
  recall: number;
  f1: number;
  detected: number;
  truth: number;
  matched: number;
}
export interface FidelityMetrics {
  task: 'fidelity';
  items: number;
  /** Mean and worst cosine similarity of the first output to the reference's. */
  cosine: number;
  minCosine: number;
  maxAbsDiff: number;
  /** Fraction of argmax positions (over the last axis) that agree with the reference. */
  top1Agreement: number;
}
export type TaskMetrics = RecMetrics | ClsMetrics | DetMetrics | FidelityMetrics;

export interface ItemResult {
  file: string;
  expected: string;
  predicted: string;
  correct?: boolean;
}

export interface EvaluationReport {
  metrics: TaskMetrics;
  engine: string;
  ms: number;
  details?: ItemResult[];
}

const DEFAULT_PRESET: Readonly<Record<Task, PresetName | undefined>> = {
  'ppocr-rec': 'ppocr-rec',
  'ppocr-cls': 'ppocr-cls',
  'ppocr-det': 'ppocr-det',
  classify: 'imagenet',
  fidelity: undefined,
};

function argmaxRows(data: ArrayLike<number>, rowLength: number): number[] {
  const rows = Math.floor(data.length / rowLength);
  return Array.from({ length: rows }, (_, row) => {
    let best = 0;
    for (let k = 1; k < rowLength; k++) if (data[row * rowLength + k] > data[row * rowLength + best]) best = k;
    return best;
  });
}

async function firstOutput(engine: ForwardEngine, model: OnnxModel, input: string, tensor: HostTensor): Promise<HostTensor> {
  const outputs = await engine.run(model, { [input]: tensor });
  const [first] = Object.values(outputs);
  if (first === undefined) throw new DeprunError('INVALID_MODEL', 'the model produced no output', { file: model.source });
  return first;
}

/**
 * Runs `model` over a dataset and scores it for `task`. The images are decoded and preprocessed
 * one at a time (nothing but the running sums stays in memory).
 */
export async function evaluate(model: OnnxModel, task: Task, items: readonly DatasetItem[], options: EvaluateOptions): Promise<EvaluationReport> {
  const started = performance.now();
  const preset = options.preset ?? DEFAULT_PRESET[task];
  if (preset === undefined) throw new UsageError(`task '${task}' needs a preprocessing preset`, { hint: 'pass --preset ppocr-rec|ppocr-cls|ppocr-det|imagenet' });
  if (task === 'ppocr-rec' && options.charset === undefined) throw new UsageError("task 'ppocr-rec' needs the model's key file", { hint: 'pass --keys ppocr_keys_v1.txt' });
  if (task === 'fidelity' && options.reference === undefined) throw new UsageError("task 'fidelity' needs the dense reference model", { hint: 'pass --reference dense.onnx' });
  const input = singleInputName(model);
  const referenceInput = options.reference ? singleInputName(options.reference) : input;
  const details: ItemResult[] = [];
  let correct = 0;
  let edits = 0;
  let characters = 0;
  let matched = 0;
  let detected = 0;
  let truth = 0;
  let cosineSum = 0;
  let minCosine = 1;
  let maxDiff = 0;
  let agree = 0;
  let positions = 0;
  for (let position = 0; position < items.length; position++) {
    options.onProgress?.(position, items.length);
    const item = items[position];
    const image: RgbImage = readImage(item.file);
    const prepared = preprocessImage(image, preset);
    const output = await firstOutput(options.engine, model, input, prepared.tensor);
    let predicted = '';
    let isCorrect: boolean | undefined;
    switch (task) {
      case 'ppocr-rec': {
        predicted = ctcGreedyDecode(output.data, output.shape, options.charset!).text;
        // PaddleOCR's RecMetric (ignore_space): spaces do not count, so a margin read as ' ' is no error.
        const expected = item.label.replace(/ /g, '');
        const read = predicted.replace(/ /g, '');
        isCorrect = read === expected;
        edits += editDistance(read, expected);
        characters += expected.length;
        break;
      }
      case 'ppocr-cls': {
        predicted = CLS_LABELS[argmaxRows(output.data, output.shape[output.shape.length - 1])[0]] ?? '?';
        isCorrect = predicted === item.label;
        break;
      }
      case 'classify': {
        predicted = String(argmaxRows(output.data, output.shape[output.shape.length - 1])[0]);
        isCorrect = predicted === item.label.trim();
        break;
      }
      case 'ppocr-det': {
        const [mapHeight, mapWidth] = output.shape.slice(-2);
        const scaleX = image.width / prepared.content.width;
        const scaleY = image.height / prepared.content.height;
        // The map covers the (resized) tensor; map pixels -> tensor pixels -> image pixels.
        const toImage = (box: number[]) => [
          ((box[0] * prepared.tensor.shape[3]) / mapWidth) * scaleX,
          ((box[1] * prepared.tensor.shape[2]) / mapHeight) * scaleY,
          ((box[2] * prepared.tensor.shape[3]) / mapWidth) * scaleX,
          ((box[3] * prepared.tensor.shape[2]) / mapHeight) * scaleY,
        ];
        const boxes = dbBoxes(output.data, [1, 1, mapHeight, mapWidth]).map((entry) => toImage(entry.box));
        const result = matchBoxes(boxes, (item.boxes ?? []).map((entry) => entry.box));
        matched += result.matched;
        detected += result.detected;
        truth += result.truth;
        predicted = `${result.matched}/${result.truth} matched, ${result.detected} detected`;
        break;
      }
      case 'fidelity': {
        const reference = await firstOutput(options.engine, options.reference!, referenceInput, prepared.tensor);
        if (reference.data.length !== output.data.length) {
          throw new DeprunError('BAD_SHAPE', `output has shape [${output.shape.join(', ')}] but the reference's is [${reference.shape.join(', ')}]`, { file: model.source, hint: 'compare a model with the dense model it was pruned from' });
        }
        const cosine = cosineSimilarity(output.data, reference.data);
        cosineSum += cosine;
        minCosine = Math.min(minCosine, cosine);
        maxDiff = Math.max(maxDiff, maxAbsDifference(output.data, reference.data));
        const last = output.shape[output.shape.length - 1];
        const a = argmaxRows(output.data, last);
        const b = argmaxRows(reference.data, last);
        agree += a.filter((value, index) => value === b[index]).length;
        positions += a.length;
        predicted = `cosine ${cosine.toFixed(6)}`;
        break;
      }
    }
    if (isCorrect) correct += 1;
    if (options.details) details.push({ file: item.file, expected: item.label, predicted, ...(isCorrect === undefined ? {} : { correct: isCorrect }) });
  }
  options.onProgress?.(items.length, items.length);
  const count = items.length;
  let metrics: TaskMetrics;
  switch (task) {
    case 'ppocr-rec':
      metrics = { task, items: count, lineAccuracy: correct / count, charAccuracy: characters === 0 ? 1 : Math.max(0, 1 - edits / characters) };
      break;
    case 'ppocr-cls':
    case 'classify':
      metrics = { task, items: count, accuracy: correct / count };
      break;
    case 'ppocr-det': {
      const precision = detected === 0 ? 0 : matched / detected;
      const recall = truth === 0 ? 0 : matched / truth;
      metrics = { task, items: count, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall), detected, truth, matched };
      break;
    }
    default:
      metrics = { task, items: count, cosine: cosineSum / count, minCosine, maxAbsDiff: maxDiff, top1Agreement: positions === 0 ? 1 : agree / positions };
  }
  return { metrics, engine: options.engine.name, ms: performance.now() - started, ...(options.details ? { details } : {}) };
}
