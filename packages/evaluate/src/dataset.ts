import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DeprunError, UsageError } from '@deprune/errors';

/** The tasks `evaluate` knows; each has its own label format in `labels.txt`. */
export const TASKS = ['ppocr-rec', 'ppocr-cls', 'ppocr-det', 'classify', 'fidelity'] as const;
export type Task = (typeof TASKS)[number];

export interface TruthBox {
  text: string;
  /** [x0, y0, x1, y1]: the bounds of the label's points. */
  box: [number, number, number, number];
}

export interface DatasetItem {
  file: string;
  /** rec: the text; cls: '0' | '180'; classify: the class index as text; det and fidelity: ''. */
  label: string;
  /** det: the ground-truth boxes. */
  boxes?: TruthBox[];
}

export const LABEL_FILE = 'labels.txt';
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

function parseDetLabel(text: string, where: string): TruthBox[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new DeprunError('BAD_CONFIG', `det label is not JSON: ${(cause as Error).message}`, { file: where, hint: 'write [{"transcription": ..., "points": [[x, y], ...]}]', cause });
  }
  if (!Array.isArray(parsed)) throw new DeprunError('BAD_CONFIG', 'det label must be a JSON list of boxes', { file: where });
  return parsed.map((entry: { transcription?: unknown; points?: unknown }) => {
    const points = entry?.points;
    if (!Array.isArray(points) || points.length < 2 || !points.every((point) => Array.isArray(point) && point.length === 2 && point.every(Number.isFinite))) {
      throw new DeprunError('BAD_CONFIG', 'every det box needs "points": [[x, y], ...] with finite numbers', { file: where });
    }
    const xs = (points as number[][]).map((point) => point[0]);
    const ys = (points as number[][]).map((point) => point[1]);
    return { text: String(entry.transcription ?? ''), box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] };
  });
}

/**
 * A labelled folder: `labels.txt` with a line `<file>\t<label>` per image (PaddleOCR's format:
 * rec text, cls `0`/`180`, det a JSON box list, classify a class index). `fidelity` needs no
 * labels: without `labels.txt` every PNG/JPEG in the folder is used, sorted by name. Missing
 * folders, missing label files, malformed lines and listed images that do not exist are errors
 * naming the file (and line).
 */
export function readDataset(folder: string, task: Task, limit?: number): DatasetItem[] {
  if (!existsSync(folder)) throw new DeprunError('FILE_NOT_FOUND', 'no such data folder', { file: folder, hint: 'pass --data <folder with images and labels.txt>' });
  if (!statSync(folder).isDirectory()) throw new UsageError('--data must be a folder', { file: folder });
  const labels = join(folder, LABEL_FILE);
  let items: DatasetItem[];
  if (!existsSync(labels)) {
    if (task !== 'fidelity') throw new DeprunError('FILE_NOT_FOUND', `task '${task}' needs labels (${LABEL_FILE}: <file>\\t<label> per line)`, { file: labels });
    items = readdirSync(folder)
      .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()))
      .sort()
      .map((name) => ({ file: join(folder, name), label: '' }));
  } else {
    const lines = readFileSync(labels, 'utf8').split(/\r?\n/);
    items = [];
    lines.forEach((line, number) => {
      if (line.trim() === '') return;
      const where = `${labels}:${number + 1}`;
      const tab = line.indexOf('\t');
      if (tab <= 0) throw new DeprunError('BAD_CONFIG', 'expected <file>\\t<label>', { file: where });
      const name = line.slice(0, tab);
      const label = line.slice(tab + 1);
      const file = join(folder, name);
      if (!existsSync(file)) throw new DeprunError('FILE_NOT_FOUND', `listed image '${name}' does not exist`, { file: where });
      if (task === 'ppocr-cls' && label !== '0' && label !== '180') throw new DeprunError('BAD_CONFIG', `cls label must be 0 or 180, got '${label}'`, { file: where });
      if (task === 'classify' && !/^\d+$/.test(label.trim())) throw new DeprunError('BAD_CONFIG', `classify label must be a class index, got '${label}'`, { file: where });
      items.push(task === 'ppocr-det' ? { file, label: '', boxes: parseDetLabel(label, where) } : { file, label });
    });
  }
  if (items.length === 0) throw new UsageError(`no images in the data folder for task '${task}'`, { file: folder, hint: 'add PNG or JPEG files (and labels.txt)' });
  return limit === undefined ? items : items.slice(0, limit);
}
