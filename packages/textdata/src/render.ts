import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { rgbImage, rotate180, type RgbImage } from '@deprune/images';
import { UnsupportedError } from '@deprune/errors';
import { createRng, type Rng } from '@deprune/tensor';
import { fillPath, fillRect, finish, linearCanvas, outlineFont } from './outline';
import { FONT_COLLECTIONS, fontPath, sourceSeed, textSource, type FontCollectionName, type TextSource, type TextSourceName, type TextStyle } from './sources';
import { numberToken, WORDS } from './words';
import type { DatasetKind } from './write';

/**
 * Labelled text images drawn by real rasterizers with real fonts, from named sources (see
 * sources.ts): Skia (through @napi-rs/canvas) with DejaVu (npm) or Liberation (apt), and an
 * outline rasterizer of our own with FreeFont (apt). Nothing is downloaded at run time, and the
 * same source and seed give the same images with the same package versions.
 */

/** The calibration source's font families (DejaVu), registered under these names. */
export const FONT_FAMILIES: readonly string[] = FONT_COLLECTIONS.dejavu.faces.map((face) => face.family);

const registered = new Set<FontCollectionName>();
/** Registers a collection's faces with Skia once; MissingFontError when a file is not installed. */
function registerFonts(collection: FontCollectionName): void {
  if (registered.has(collection)) return;
  const fonts = FONT_COLLECTIONS[collection];
  for (const face of fonts.faces) {
    const file = fontPath(fonts, face);
    // Skia falls back to another font silently when a family is unknown: a set would then be
    // drawn in the wrong fonts (and a held-out set might be the calibration fonts), so refuse.
    if (GlobalFonts.registerFromPath(file, face.family) === null) throw new UnsupportedError(`Skia could not load the font '${face.family}'`, { file, hint: `reinstall ${face.npmPackage ?? fonts.origin.package}` });
  }
  registered.add(collection);
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/**
 * A line of words and number tokens: `tokens` tokens (1 to 3 by default), between `minChars` and
 * `maxChars` characters.
 */
export function randomLineText(rng: Rng, maxChars = 18, tokens: readonly [number, number] = [1, 3], minChars = 2): string {
  for (;;) {
    const words: string[] = [];
    const count = tokens[0] + rng.int(tokens[1] - tokens[0] + 1);
    for (let index = 0; index < count; index++) {
      let token = rng.next() < 0.3 ? numberToken(() => rng.next()) : pick(rng, WORDS);
      if (rng.next() < 0.25) token = token[0].toUpperCase() + token.slice(1);
      words.push(token);
    }
    const text = words.join(' ');
    if (text.length <= maxChars && text.length >= minChars) return text;
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
const css = ([r, g, b]: readonly number[]) => `rgb(${r}, ${g}, ${b})`;
const between = (rng: Rng, [low, high]: readonly [number, number]) => low + rng.int(high - low + 1);

export interface TextLine {
  image: RgbImage;
  text: string;
  font: string;
  size: number;
}

/**
 * One text line on a light background, cropped like a detector's box (a few pixels of margin), in
 * the calibration source's style (Skia, DejaVu). Its draws from `rng` are those of every earlier
 * version, so seeded sets stay the same images.
 */
export function renderLine(text: string, rng: Rng, maxAspect = Number.POSITIVE_INFINITY): TextLine | null {
  registerFonts('dejavu');
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

/** A light background colour, slightly tinted. */
function lightTint(rng: Rng): [number, number, number] {
  const base = 200 + rng.int(56);
  return [base - rng.int(25), base - rng.int(15), base - rng.int(25)].map((value) => Math.max(0, value)) as [number, number, number];
}

/** Dark ink that is not always grey: near-black, dark blue, dark red or dark green. */
function darkInk(rng: Rng): [number, number, number] {
  const base = rng.int(60);
  const hue = rng.int(4);
  return [base + (hue === 2 ? 60 : 0), base + (hue === 3 ? 40 : 0), base + (hue === 1 ? 80 : 0)];
}

/**
 * A line in the liberation-skia style: Skia with Liberation faces, a left-to-right gradient
 * background, coloured ink, turned by up to 1.5 degrees about its centre (the crop grows to hold
 * the turned line).
 */
function renderSkiaLine(source: TextSource, text: string, rng: Rng, maxAspect: number): TextLine | null {
  registerFonts(source.fonts);
  const font = pick(rng, FONT_COLLECTIONS[source.fonts].faces).family;
  const size = between(rng, source.rec.sizes);
  const probe = createCanvas(8, 8).getContext('2d');
  probe.font = `${size}px "${font}"`;
  const textWidth = probe.measureText(text).width;
  const angle = ((rng.next() - 0.5) * 3 * Math.PI) / 180;
  const marginX = 2 + rng.int(8);
  const width = Math.ceil(textWidth) + 2 * marginX;
  const height = Math.round(size * (1.2 + 0.3 * rng.next()) + Math.abs(Math.sin(angle)) * textWidth);
  if (width / height > maxAspect) return null;
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  const gradient = context.createLinearGradient(0, 0, width, 0);
  gradient.addColorStop(0, css(lightTint(rng)));
  gradient.addColorStop(1, css(lightTint(rng)));
  context.fillStyle = gradient;
  context.fillRect(0, 0, width, height);
  context.fillStyle = css(darkInk(rng));
  context.font = `${size}px "${font}"`;
  context.textBaseline = 'middle';
  context.textAlign = 'center';
  context.translate(width / 2, height / 2);
  context.rotate(angle);
  context.fillText(text, 0, 0);
  return { image: toRgb(context, width, height), text, font, size };
}

/** A line in the freefont-outline style: our own rasterizer (outline.ts), noise, sometimes blur. */
function renderOutlineLine(source: TextSource, text: string, rng: Rng, maxAspect: number): TextLine | null {
  const face = pick(rng, FONT_COLLECTIONS[source.fonts].faces);
  const font = outlineFont(source.fonts, face);
  const size = between(rng, source.rec.sizes);
  const marginX = 3 + rng.int(10);
  const width = Math.ceil(font.getAdvanceWidth(text, size)) + 2 * marginX;
  const height = Math.round(size * (1.2 + 0.3 * rng.next()));
  if (width / height > maxAspect) return null;
  const canvas = linearCanvas(width, height, lightTint(rng));
  // Baseline where the em box's middle sits at the crop's middle, give or take 5 % of the size.
  const baseline = height / 2 + ((font.ascender + font.descender) / 2 / font.unitsPerEm) * size + (rng.next() - 0.5) * size * 0.1;
  fillPath(canvas, font.getPath(text, marginX, baseline, size), darkInk(rng));
  return { image: finish(canvas, rng), text, font: face.family, size };
}

/** One line of `text` in `source`'s style; null when it would be wider than `maxAspect`. */
export function renderSourceLine(source: TextSourceName, text: string, rng: Rng, maxAspect = Number.POSITIVE_INFINITY): TextLine | null {
  const spec = textSource(source);
  if (spec.name === 'dejavu-skia') return renderLine(text, rng, maxAspect);
  return spec.renderer === 'skia' ? renderSkiaLine(spec, text, rng, maxAspect) : renderOutlineLine(spec, text, rng, maxAspect);
}

/** Which source a set is drawn from (default: the calibration source, dejavu-skia). */
export interface SetOptions {
  source?: TextSourceName;
}

export interface RecOptions extends SetOptions {
  /** Widest line as width / height; default the source's own (dejavu-skia 6.5: fits 48 x 320). */
  maxAspect?: number;
}

export interface RecSample {
  name: string;
  image: RgbImage;
  text: string;
}

/**
 * Recognition lines: text and its image, in the source's sizes and line lengths, width at most
 * `maxAspect` x height (dejavu-skia 6.5: the lines fit the 48 x 320 input of PP-OCR rec without
 * widening it; the held-out sources go wider). Deterministic in `seed` and the source.
 */
export function generateRecSet(count: number, seed: number, options: RecOptions = {}): RecSample[] {
  const source = textSource(options.source ?? 'dejavu-skia');
  const style: TextStyle = source.rec;
  const maxAspect = options.maxAspect ?? style.maxAspect;
  const rng = createRng(sourceSeed(source.name, seed));
  const samples: RecSample[] = [];
  while (samples.length < count) {
    const line = renderSourceLine(source.name, randomLineText(rng, style.chars[1], style.tokens, style.chars[0]), rng, maxAspect);
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

/** Text-direction lines (at most 14 characters, 4:1): every other line turned 180 degrees (a seeded choice). */
export function generateClsSet(count: number, seed: number, options: SetOptions = {}): ClsSample[] {
  const source = textSource(options.source ?? 'dejavu-skia');
  const rng = createRng(sourceSeed(source.name, seed));
  const samples: ClsSample[] = [];
  while (samples.length < count) {
    const text = source.name === 'dejavu-skia' ? randomLineText(rng, 14) : randomLineText(rng, 14, [1, Math.min(3, source.rec.tokens[1])], source.rec.chars[0]);
    const line = renderSourceLine(source.name, text, rng, 4);
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

export interface DetOptions extends SetOptions {
  width?: number;
  height?: number;
}

/** What a scene needs from a renderer: the background, shapes, and a line's ink box before it is drawn. */
interface SceneDrawer {
  fillRect(x: number, y: number, width: number, height: number, value: number): void;
  /** Ink bounds [left, top, right, bottom] of `text` with its baseline origin at (0, 0). */
  measure(text: string, face: string, size: number): number[];
  fillText(text: string, face: string, size: number, x: number, y: number, value: number): void;
  image(): RgbImage;
}

function skiaScene(width: number, height: number): SceneDrawer {
  const context = createCanvas(width, height).getContext('2d');
  context.textBaseline = 'alphabetic';
  return {
    fillRect(x, y, w, h, value) {
      context.fillStyle = grey(value);
      context.fillRect(x, y, w, h);
    },
    measure(text, face, size) {
      context.font = `${size}px "${face}"`;
      const metrics = context.measureText(text);
      return [-metrics.actualBoundingBoxLeft, -metrics.actualBoundingBoxAscent, metrics.actualBoundingBoxRight, metrics.actualBoundingBoxDescent];
    },
    fillText(text, face, size, x, y, value) {
      context.font = `${size}px "${face}"`;
      context.fillStyle = grey(value);
      context.fillText(text, x, y);
    },
    image: () => toRgb(context, width, height),
  };
}

function outlineScene(source: TextSource, width: number, height: number, rng: Rng): SceneDrawer {
  const canvas = linearCanvas(width, height, [255, 255, 255]);
  const face = (family: string) => outlineFont(source.fonts, FONT_COLLECTIONS[source.fonts].faces.find((candidate) => candidate.family === family)!);
  return {
    fillRect: (x, y, w, h, value) => fillRect(canvas, x, y, w, h, [value, value, value]),
    measure(text, family, size) {
      const box = face(family).getPath(text, 0, 0, size).getBoundingBox();
      return [box.x1, box.y1, box.x2, box.y2];
    },
    fillText: (text, family, size, x, y, value) => fillPath(canvas, face(family).getPath(text, x, y, size), [value, value, value]),
    // No blur in scenes: it would spread ink a pixel past the ground-truth boxes.
    image: () => finish(canvas, rng, 0),
  };
}

/**
 * Detection scenes: 3 to 6 text lines at random non-overlapping places on a `width x height`
 * light background with a few faint rectangles, each with its tight box (the rasterizer's ink
 * bounds of the string) as ground truth. Fonts, sizes and rasterizer come from the source.
 */
export function generateDetSet(count: number, seed: number, options: DetOptions = {}): DetSample[] {
  const source = textSource(options.source ?? 'dejavu-skia');
  const width = options.width ?? 320;
  const height = options.height ?? 320;
  if (source.renderer === 'skia') registerFonts(source.fonts);
  const families = FONT_COLLECTIONS[source.fonts].faces.map((face) => face.family);
  const rng = createRng(sourceSeed(source.name, seed));
  const samples: DetSample[] = [];
  for (let index = 0; index < count; index++) {
    const scene = source.renderer === 'skia' ? skiaScene(width, height) : outlineScene(source, width, height, rng);
    const background = 210 + rng.int(46);
    scene.fillRect(0, 0, width, height, background);
    for (let shape = 0; shape < 4; shape++) {
      // The shade is drawn before the place: the order of rng draws is the seeded sets' identity.
      const shade = Math.min(255, background - 25 + rng.int(50));
      scene.fillRect(rng.int(width), rng.int(height), 20 + rng.int(120), 10 + rng.int(60), shade);
    }
    const boxes: TextBox[] = [];
    const placed: number[][] = [];
    const wanted = 3 + rng.int(4);
    for (let attempt = 0; attempt < 60 && boxes.length < wanted; attempt++) {
      const text = randomLineText(rng, 14);
      const family = pick(rng, families);
      const size = between(rng, source.detSizes);
      const [left, top, right, bottom] = scene.measure(text, family, size);
      const inkWidth = right - left;
      const inkHeight = bottom - top;
      if (inkWidth + 8 > width || inkHeight + 8 > height) continue;
      const x = 4 + rng.next() * (width - inkWidth - 8) - left;
      const y = 4 + rng.next() * (height - inkHeight - 8) - top;
      const box = [x + left, y + top, x + right, y + bottom];
      if (placed.some((other) => overlaps(box, other, 6))) continue;
      scene.fillText(text, family, size, x, y, rng.int(80));
      placed.push(box);
      const [x0, y0, x1, y1] = box.map((value) => Math.round(value * 10) / 10);
      boxes.push({ text, points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]] });
    }
    samples.push({ name: `det_${String(index).padStart(4, '0')}.png`, image: scene.image(), boxes });
  }
  return samples;
}

/** A set of one kind (the task: rec lines, cls lines, det scenes), from `options.source`. */
export function generateSet(kind: DatasetKind, count: number, seed: number, options: SetOptions = {}): RecSample[] | ClsSample[] | DetSample[] {
  if (kind === 'rec') return generateRecSet(count, seed, options);
  return kind === 'cls' ? generateClsSet(count, seed, options) : generateDetSet(count, seed, options);
}
