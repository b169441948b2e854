import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { rgbImage, rotate180, type RgbImage } from '@deprune/images';
import { createRng, type Rng } from '@deprune/tensor';
import { numberToken, WORDS } from './words';

/**
 * Labelled text images drawn by a real rasterizer (Skia, through @napi-rs/canvas) with real fonts
 * (DejaVu, from the dejavu-fonts-ttf npm package): nothing is downloaded at run time, and the same
 * seed gives the same images with the same package versions.
 */

const FONT_FILES: Readonly<Record<string, string>> = {
  'DejaVu Sans': 'DejaVuSans.ttf',
  'DejaVu Sans Bold': 'DejaVuSans-Bold.ttf',
  'DejaVu Sans Condensed': 'DejaVuSansCondensed.ttf',
  'DejaVu Sans Mono': 'DejaVuSansMono.ttf',
  'DejaVu Serif': 'DejaVuSerif.ttf',
  'DejaVu Serif Bold': 'DejaVuSerif-Bold.ttf',
};

/** The font families lines are drawn in (registered under these names). */
export const FONT_FAMILIES: readonly string[] = Object.keys(FONT_FILES);

let registered = false;
function registerFonts(): void {
  if (registered) return;
  const folder = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  for (const [family, file] of Object.entries(FONT_FILES)) GlobalFonts.registerFromPath(join(folder, file), family);
  registered = true;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/** A short line: words and number tokens, at most `maxChars` characters. */
export function randomLineText(rng: Rng, maxChars = 18): string {
  for (;;) {
    const tokens: string[] = [];
    const count = 1 + rng.int(3);
    for (let index = 0; index < count; index++) {
      let token = rng.next() < 0.3 ? numberToken(() => rng.next()) : pick(rng, WORDS);
      if (rng.next() < 0.25) token = token[0].toUpperCase() + token.slice(1);
      tokens.push(token);
    }
    const text = tokens.join(' ');
    if (text.length <= maxChars && text.length >= 2) return text;
  }
}

function toRgb(context: SKRSContext2D, width: number, height: number): RgbImage {
  const rgba = context.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let pixel = 0; pixel < width * height; pixel++) {
    rgb[pixel * 3] = rgba[pixel * 4];
    rgb[pixel * 3 + 1] = rgba[pixel * 4 + 1];
    rgb[pixel * 3 + 2] = rgba[pixel * 4 + 2];
  }
  return rgbImage(width, height, rgb);
}

const grey = (value: number) => `rgb(${value}, ${value}, ${value})`;

export interface TextLine {
  image: RgbImage;
  text: string;
  font: string;
  size: number;
}

/** One text line on a light background, cropped like a detector's box (a few pixels of margin). */
export function renderLine(text: string, rng: Rng, maxAspect = Number.POSITIVE_INFINITY): TextLine | null {
  registerFonts();
  const font = pick(rng, FONT_FAMILIES);
  const size = 28 + rng.int(13);
  const probe = createCanvas(8, 8).getContext('2d');
  probe.font = `${size}px "${font}"`;
  const metrics = probe.measureText(text);
  const marginX = 4 + rng.int(12);
  const width = Math.ceil(metrics.width) + 2 * marginX;
  const height = Math.round(size * (1.25 + 0.25 * rng.next()));
  if (width / height > maxAspect) return null;
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  const background = 205 + rng.int(51);
  context.fillStyle = `rgb(${background}, ${Math.max(0, background - rng.int(20))}, ${Math.max(0, background - rng.int(30))})`;
  context.fillRect(0, 0, width, height);
  context.fillStyle = grey(rng.int(90));
  context.font = `${size}px "${font}"`;
  context.textBaseline = 'middle';
  context.fillText(text, marginX, height / 2 + (rng.next() - 0.5) * size * 0.1);
  return { image: toRgb(context, width, height), text, font, size };
}

export interface RecSample {
  name: string;
  image: RgbImage;
  text: string;
}

/**
 * Recognition lines: text and its image, width at most `maxAspect` x height (6.5: they fit the
 * 48 x 320 input of PP-OCR rec without widening it). Deterministic in `seed`.
 */
export function generateRecSet(count: number, seed: number, maxAspect = 6.5): RecSample[] {
  const rng = createRng(seed);
  const samples: RecSample[] = [];
  while (samples.length < count) {
    const line = renderLine(randomLineText(rng), rng, maxAspect);
    if (line) samples.push({ name: `rec_${String(samples.length).padStart(4, '0')}.png`, image: line.image, text: line.text });
  }
  return samples;
}

export interface ClsSample {
  name: string;
  image: RgbImage;
  /** '0' upright, '180' upside down (the ppocr cls labels). */
  label: '0' | '180';
}

/** Text-direction lines: every other line turned 180 degrees (a seeded choice). */
export function generateClsSet(count: number, seed: number): ClsSample[] {
  const rng = createRng(seed);
  const samples: ClsSample[] = [];
  while (samples.length < count) {
    const line = renderLine(randomLineText(rng, 14), rng, 4);
    if (!line) continue;
    const flipped = rng.next() < 0.5;
    samples.push({ name: `cls_${String(samples.length).padStart(4, '0')}.png`, image: flipped ? rotate180(line.image) : line.image, label: flipped ? '180' : '0' });
  }
  return samples;
}

export interface TextBox {
  text: string;
  /** Four corners, clockwise from top-left, in pixels (PaddleOCR's det label `points`). */
  points: [number, number][];
}

export interface DetSample {
  name: string;
  image: RgbImage;
  boxes: TextBox[];
}

function overlaps(a: number[], b: number[], gap: number): boolean {
  return a[0] < b[2] + gap && b[0] < a[2] + gap && a[1] < b[3] + gap && b[1] < a[3] + gap;
}

/**
 * Detection scenes: `lines` text lines (3 to 6 by default) at random non-overlapping places on a
 * `width x height` light background with a few faint rectangles, each with its tight box (the
 * rasterizer's ink bounds of the string) as ground truth.
 */
export function generateDetSet(count: number, seed: number, width = 320, height = 320): DetSample[] {
  registerFonts();
  const rng = createRng(seed);
  const samples: DetSample[] = [];
  for (let index = 0; index < count; index++) {
    const canvas = createCanvas(width, height);
    const context = canvas.getContext('2d');
    const background = 210 + rng.int(46);
    context.fillStyle = grey(background);
    context.fillRect(0, 0, width, height);
    for (let shape = 0; shape < 4; shape++) {
      context.fillStyle = grey(Math.min(255, background - 25 + rng.int(50)));
      context.fillRect(rng.int(width), rng.int(height), 20 + rng.int(120), 10 + rng.int(60));
    }
    const boxes: TextBox[] = [];
    const placed: number[][] = [];
    const wanted = 3 + rng.int(4);
    for (let attempt = 0; attempt < 60 && boxes.length < wanted; attempt++) {
      const text = randomLineText(rng, 14);
      const font = pick(rng, FONT_FAMILIES);
      const size = 18 + rng.int(19);
      context.font = `${size}px "${font}"`;
      context.textBaseline = 'alphabetic';
      const metrics = context.measureText(text);
      const inkWidth = metrics.actualBoundingBoxLeft + metrics.actualBoundingBoxRight;
      const inkHeight = metrics.actualBoundingBoxAscent + metrics.actualBoundingBoxDescent;
      if (inkWidth + 8 > width || inkHeight + 8 > height) continue;
      const x = 4 + rng.next() * (width - inkWidth - 8) + metrics.actualBoundingBoxLeft;
      const y = 4 + rng.next() * (height - inkHeight - 8) + metrics.actualBoundingBoxAscent;
      const box = [x - metrics.actualBoundingBoxLeft, y - metrics.actualBoundingBoxAscent, x + metrics.actualBoundingBoxRight, y + metrics.actualBoundingBoxDescent];
      if (placed.some((other) => overlaps(box, other, 6))) continue;
      context.fillStyle = grey(rng.int(80));
      context.fillText(text, x, y);
      placed.push(box);
      const [x0, y0, x1, y1] = box.map((value) => Math.round(value * 10) / 10);
      boxes.push({ text, points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]] });
    }
    samples.push({ name: `det_${String(index).padStart(4, '0')}.png`, image: toRgb(context, width, height), boxes });
  }
  return samples;
}
