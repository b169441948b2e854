import { ShapeError } from '@deprune/errors';

/**
 * PP-OCR detection output -> text boxes: the DB (differentiable binarization) post-processing of
 * PaddleOCR's DBPostProcess, for horizontal text. The probability map is binarized at `threshold`,
 * each 8-connected region becomes a box scored by its mean probability (dropped below
 * `boxThreshold`), and the box is grown by the "unclip" distance `area * unclipRatio / perimeter`,
 * because the model is trained to predict a shrunk text kernel.
 *
 * Where this differs from PaddleOCR: boxes are axis-aligned rectangles (PaddleOCR fits a rotated
 * minimum-area rectangle and offsets the polygon), which is the same for horizontal text.
 */
export interface DbOptions {
  /** Pixel threshold of the probability map (PaddleOCR det_db_thresh, 0.3). */
  threshold?: number;
  /** Minimum mean probability of a region (det_db_box_thresh, 0.6). */
  boxThreshold?: number;
  /** Growth of the shrunk region (det_db_unclip_ratio, 1.5). */
  unclipRatio?: number;
  /** Regions whose shorter side is below this many pixels are dropped (PaddleOCR: 3). */
  minSize?: number;
}

export interface DetectedBox {
  /** [x0, y0, x1, y1] in map pixels (scale to the image yourself). */
  box: [number, number, number, number];
  score: number;
}

export function dbBoxes(probability: ArrayLike<number>, shape: readonly number[], options: DbOptions = {}): DetectedBox[] {
  const [height, width] = shape.length === 4 && shape[0] === 1 && shape[1] === 1 ? [shape[2], shape[3]] : shape.length === 2 ? [shape[0], shape[1]] : [NaN, NaN];
  if (!Number.isInteger(height) || !Number.isInteger(width) || height * width !== probability.length) {
    throw new ShapeError(`DB post-processing needs a [1, 1, H, W] or [H, W] probability map, got [${shape.join(', ')}]`);
  }
  const threshold = options.threshold ?? 0.3;
  const boxThreshold = options.boxThreshold ?? 0.6;
  const unclipRatio = options.unclipRatio ?? 1.5;
  const minSize = options.minSize ?? 3;
  const label = new Int32Array(width * height).fill(-1);
  const boxes: DetectedBox[] = [];
  const stack: number[] = [];
  for (let start = 0; start < width * height; start++) {
    if (label[start] !== -1 || !(probability[start] > threshold)) continue;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    let sum = 0;
    let count = 0;
    label[start] = boxes.length;
    stack.push(start);
    while (stack.length > 0) {
      const pixel = stack.pop()!;
      const x = pixel % width;
      const y = (pixel - x) / width;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      sum += probability[pixel];
      count += 1;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const neighbour = ny * width + nx;
          if (label[neighbour] === -1 && probability[neighbour] > threshold) {
            label[neighbour] = boxes.length;
            stack.push(neighbour);
          }
        }
      }
    }
    const boxWidth = x1 - x0 + 1;
    const boxHeight = y1 - y0 + 1;
    const score = sum / count;
    // Keep the component index in step with `label` even for dropped regions.
    boxes.push({ box: [x0, y0, x1 + 1, y1 + 1], score: Math.min(boxWidth, boxHeight) < minSize || score < boxThreshold ? -1 : score });
  }
  return boxes
    .filter((entry) => entry.score >= 0)
    .map(({ box: [x0, y0, x1, y1], score }) => {
      const distance = ((x1 - x0) * (y1 - y0) * unclipRatio) / (2 * (x1 - x0 + (y1 - y0)));
      return {
        box: [Math.max(0, x0 - distance), Math.max(0, y0 - distance), Math.min(width, x1 + distance), Math.min(height, y1 + distance)] as [number, number, number, number],
        score,
      };
    });
}

/** Intersection over union of two [x0, y0, x1, y1] boxes. */
export function boxIou(a: readonly number[], b: readonly number[]): number {
  const width = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * One-to-one matching of detections to ground truth at `iouThreshold` (greedy, best IoU first, the
 * ICDAR-style count): `matched` true positives, precision = matched / detections, recall = matched / truth.
 */
export function matchBoxes(detected: readonly (readonly number[])[], truth: readonly (readonly number[])[], iouThreshold = 0.5): { matched: number; detected: number; truth: number } {
  const pairs: { iou: number; d: number; t: number }[] = [];
  detected.forEach((box, d) => truth.forEach((other, t) => {
    const iou = boxIou(box, other);
    if (iou >= iouThreshold) pairs.push({ iou, d, t });
  }));
  pairs.sort((a, b) => b.iou - a.iou || a.d - b.d || a.t - b.t);
  const usedD = new Set<number>();
  const usedT = new Set<number>();
  for (const { d, t } of pairs) {
    if (usedD.has(d) || usedT.has(t)) continue;
    usedD.add(d);
    usedT.add(t);
  }
  return { matched: usedD.size, detected: detected.length, truth: truth.length };
}

/** Levenshtein distance between two strings (by UTF-16 code unit), for character accuracy. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
