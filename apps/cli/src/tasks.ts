/**
 * What `run` and `demo` say about a model's outputs: shape and value range for any output,
 * the top-5 classes of a classifier's scores, the text of a PP-OCR rec model (greedy CTC with
 * the model's key file) and the label of the text-direction classifier. Fidelity of one output
 * against another (pruned against dense) is measured here too.
 */
import { readFileSync } from 'node:fs';
import { CLS_LABELS, ctcGreedyDecode, ppocrCharset } from '@deprune/ocr';
import type { HostTensor } from '@deprune/runtime';
import { cosineSimilarity, maxAbsDifference } from '@deprune/tensor';
import { bundledAssetPath } from './models';

/** The task a model's outputs are read as. */
export type OutputTask = 'ppocr-rec' | 'ppocr-cls' | 'ppocr-det' | 'classify' | 'raw';

export interface OutputSummary {
  name: string;
  shape: number[];
  min: number;
  max: number;
  mean: number;
  /** Classifiers: the 5 best classes, best first. */
  top5?: { index: number; score: number; label?: string }[];
  /** PP-OCR rec: the decoded text and its mean character probability. */
  text?: string;
  confidence?: number;
}

/** PP-OCR's bundled models are read as their task; other outputs of shape [1, K] as a classifier. */
export function taskFor(modelSpec: string, output: HostTensor): OutputTask {
  if (modelSpec === 'ppocr-rec' || modelSpec === 'ppocr-cls' || modelSpec === 'ppocr-det') return modelSpec;
  const [batch, classes] = output.shape;
  return output.shape.length === 2 && batch === 1 && classes > 1 ? 'classify' : 'raw';
}

let charset: string[] | undefined;

/** The bundled rec model's classes (blank, ppocr_keys_v1.txt, space), read once. */
function ppocrRecCharset(): string[] {
  charset ??= ppocrCharset(readFileSync(bundledAssetPath('ppocr_keys_v1.txt'), 'utf8'));
  return charset;
}

function topK(scores: Float32Array, k: number, labels?: readonly string[]): { index: number; score: number; label?: string }[] {
  return [...scores.keys()]
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k)
    .map((index) => ({ index, score: scores[index], ...(labels?.[index] !== undefined ? { label: labels[index] } : {}) }));
}

export function summarizeOutput(name: string, output: HostTensor, task: OutputTask): OutputSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const value of output.data) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  const summary: OutputSummary = { name, shape: [...output.shape], min, max, mean: output.data.length > 0 ? sum / output.data.length : 0 };
  if (task === 'classify' || task === 'ppocr-cls') summary.top5 = topK(output.data, task === 'ppocr-cls' ? CLS_LABELS.length : 5, task === 'ppocr-cls' ? CLS_LABELS : undefined);
  if (task === 'ppocr-rec') {
    const decoded = ctcGreedyDecode(output.data, output.shape, ppocrRecCharset());
    summary.text = decoded.text;
    summary.confidence = decoded.confidence;
  }
  return summary;
}

/** One line for the human report. */
export function describeSummary(summary: OutputSummary): string {
  const range = `[${summary.shape.join(', ')}], values ${summary.min.toPrecision(4)} .. ${summary.max.toPrecision(4)} (mean ${summary.mean.toPrecision(4)})`;
  if (summary.text !== undefined) return `${summary.name}: "${summary.text}" (confidence ${summary.confidence!.toFixed(3)}), ${range}`;
  if (summary.top5 !== undefined) {
    const classes = summary.top5.map((entry) => `${entry.label ?? `#${entry.index}`} ${entry.score.toPrecision(4)}`).join(', ');
    return `${summary.name}: ${summary.top5[0].label !== undefined ? 'label' : 'top-5'} ${classes}; ${range}`;
  }
  return `${summary.name}: ${range}`;
}

export interface Fidelity {
  maxAbsDiff: number;
  cosine: number;
  /** Classifiers: whether the best class agrees; rec: whether the text is the same. */
  agrees?: boolean;
}

/** How closely `output` reproduces `reference` (pruned against dense). */
export function fidelity(output: HostTensor, reference: HostTensor, task: OutputTask): Fidelity {
  const result: Fidelity = { maxAbsDiff: maxAbsDifference(output.data, reference.data), cosine: cosineSimilarity(output.data, reference.data) };
  if (task === 'classify' || task === 'ppocr-cls') result.agrees = topK(output.data, 1)[0].index === topK(reference.data, 1)[0].index;
  // Leading and trailing spaces are CTC artefacts of the line's margins, not text.
  if (task === 'ppocr-rec') result.agrees = summarizeOutput('', output, task).text?.trim() === summarizeOutput('', reference, task).text?.trim();
  return result;
}
