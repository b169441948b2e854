import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { UsageError } from '@deprune/errors';
import type { RgbImage } from '@deprune/images';
import { writeFileAtomic } from '@deprune/onnx/node';
import type { ClsSample, DetSample, RecSample } from './render';

/**
 * Datasets on disk in PaddleOCR's label format: the PNGs and one `labels.txt`, a line per image,
 * `<file>\t<label>`: rec the text, cls `0` or `180`, det a JSON list of `{ transcription, points }`.
 * `deprune eval --data <dir>` reads the same format.
 */

export type DatasetKind = 'rec' | 'cls' | 'det';
export const LABEL_FILE = 'labels.txt';

export function encodePng(image: RgbImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  for (let pixel = 0; pixel < image.width * image.height; pixel++) {
    png.data[pixel * 4] = image.data[pixel * 3];
    png.data[pixel * 4 + 1] = image.data[pixel * 3 + 1];
    png.data[pixel * 4 + 2] = image.data[pixel * 3 + 2];
    png.data[pixel * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

export function labelLine(kind: DatasetKind, sample: RecSample | ClsSample | DetSample): string {
  if (kind === 'rec') return `${sample.name}\t${(sample as RecSample).text}`;
  if (kind === 'cls') return `${sample.name}\t${(sample as ClsSample).label}`;
  const boxes = (sample as DetSample).boxes.map((box) => ({ transcription: box.text, points: box.points }));
  return `${sample.name}\t${JSON.stringify(boxes)}`;
}

/**
 * Writes a dataset into `folder` (created if missing; refused when it already holds files, so a
 * generated set never mixes with or overwrites another). Each file is written atomically.
 */
export function writeDataset(folder: string, kind: DatasetKind, samples: readonly (RecSample | ClsSample | DetSample)[]): void {
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new UsageError('the folder is not empty; not writing a dataset into it', { file: folder, hint: 'choose a new or empty folder' });
  }
  mkdirSync(folder, { recursive: true });
  for (const sample of samples) writeFileAtomic(join(folder, sample.name), encodePng(sample.image));
  writeFileAtomic(join(folder, LABEL_FILE), `${samples.map((sample) => labelLine(kind, sample)).join('\n')}\n`);
}
