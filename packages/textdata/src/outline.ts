import { readFileSync } from 'node:fs';
import opentype from 'opentype.js';
import { rgbImage, type RgbImage } from '@deprune/images';
import type { Rng } from '@deprune/tensor';
import { FONT_COLLECTIONS, fontPath, type FontCollectionName, type FontFace } from './sources';

/**
 * A second rasterizer, in plain TypeScript, so that held-out sets differ from the Skia-drawn
 * calibration sets in how glyphs become pixels, not only in which glyphs:
 *
 * - glyph outlines come from opentype.js and are filled unhinted (Skia on Linux hints through
 *   FreeType), with kerning from the font's kern table;
 * - anti-aliasing is 4 sub-scanlines per pixel row with exact horizontal span coverage (Skia uses
 *   its own analytic AA), non-zero winding;
 * - ink is blended with the background in linear light (gamma 2.2), where Skia blends in sRGB
 *   values, so edges come out heavier;
 * - the finished image gets Gaussian sensor noise and, for some images, a 3x3 blur.
 */

const SUB_SCANLINES = 4;
/** Curve pieces per quadratic / cubic segment: below a tenth of a pixel off at 56 px. */
const QUAD_STEPS = 8;
const CUBIC_STEPS = 12;
const GAMMA = 2.2;

const fonts = new Map<string, opentype.Font>();

export function outlineFont(collection: FontCollectionName, face: FontFace): opentype.Font {
  const key = `${collection}/${face.file}`;
  let font = fonts.get(key);
  if (!font) {
    const bytes = readFileSync(fontPath(FONT_COLLECTIONS[collection], face));
    font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    fonts.set(key, font);
  }
  return font;
}

type Edge = [x0: number, y0: number, x1: number, y1: number];

/** The path's outline as straight edges (curves flattened), horizontal ones dropped. */
function edges(path: opentype.Path): Edge[] {
  const out: Edge[] = [];
  let x = 0;
  let y = 0;
  let startX = 0;
  let startY = 0;
  const line = (toX: number, toY: number) => {
    if (toY !== y) out.push([x, y, toX, toY]);
    x = toX;
    y = toY;
  };
  for (const command of path.commands) {
    switch (command.type) {
      case 'M':
        x = startX = command.x;
        y = startY = command.y;
        break;
      case 'L':
        line(command.x, command.y);
        break;
      case 'Q': {
        const [x0, y0] = [x, y];
        for (let step = 1; step <= QUAD_STEPS; step++) {
          const t = step / QUAD_STEPS;
          const u = 1 - t;
          line(u * u * x0 + 2 * u * t * command.x1 + t * t * command.x, u * u * y0 + 2 * u * t * command.y1 + t * t * command.y);
        }
        break;
      }
      case 'C': {
        const [x0, y0] = [x, y];
        for (let step = 1; step <= CUBIC_STEPS; step++) {
          const t = step / CUBIC_STEPS;
          const u = 1 - t;
          const a = u * u * u;
          const b = 3 * u * u * t;
          const c = 3 * u * t * t;
          const d = t * t * t;
          line(a * x0 + b * command.x1 + c * command.x2 + d * command.x, a * y0 + b * command.y1 + c * command.y2 + d * command.y);
        }
        break;
      }
      case 'Z':
        line(startX, startY);
        break;
    }
  }
  return out;
}

/** Adds the horizontal overlap of [left, right) with each pixel of a row, times `weight`. */
function addSpan(row: Float32Array, offset: number, width: number, left: number, right: number, weight: number): void {
  const from = Math.max(0, left);
  const to = Math.min(width, right);
  if (to <= from) return;
  const first = Math.floor(from);
  const last = Math.min(width - 1, Math.ceil(to) - 1);
  for (let pixel = first; pixel <= last; pixel++) {
    const overlap = Math.min(to, pixel + 1) - Math.max(from, pixel);
    if (overlap > 0) row[offset + pixel] += overlap * weight;
  }
}

/** Ink coverage in [0, 1] of every pixel of a `width x height` image under the filled path. */
export function pathCoverage(path: opentype.Path, width: number, height: number): Float32Array {
  const coverage = new Float32Array(width * height);
  const all = edges(path);
  if (all.length === 0) return coverage;
  // Each edge is looked at only for the rows it spans.
  const byRow: number[][] = Array.from({ length: height }, () => []);
  all.forEach(([, y0, , y1], index) => {
    const top = Math.max(0, Math.floor(Math.min(y0, y1)));
    const bottom = Math.min(height - 1, Math.floor(Math.max(y0, y1)));
    for (let row = top; row <= bottom; row++) byRow[row].push(index);
  });
  const crossings: [number, number][] = [];
  for (let row = 0; row < height; row++) {
    if (byRow[row].length === 0) continue;
    for (let sub = 0; sub < SUB_SCANLINES; sub++) {
      const scanY = row + (sub + 0.5) / SUB_SCANLINES;
      crossings.length = 0;
      for (const index of byRow[row]) {
        const [x0, y0, x1, y1] = all[index];
        if ((y0 <= scanY && scanY < y1) || (y1 <= scanY && scanY < y0)) crossings.push([x0 + ((scanY - y0) * (x1 - x0)) / (y1 - y0), y1 > y0 ? 1 : -1]);
      }
      crossings.sort((a, b) => a[0] - b[0]);
      let winding = 0;
      for (let index = 0; index < crossings.length; index++) {
        const before = winding;
        winding += crossings[index][1];
        // Non-zero rule: ink from where the winding leaves 0 to where it returns to 0.
        if (before === 0 && winding !== 0) {
          let end = index + 1;
          let inside = winding;
          while (end < crossings.length && inside !== 0) inside += crossings[end++][1];
          addSpan(coverage, row * width, width, crossings[index][0], crossings[end - 1][0], 1 / SUB_SCANLINES);
          winding = 0;
          index = end - 1;
        }
      }
    }
  }
  for (let index = 0; index < coverage.length; index++) if (coverage[index] > 1) coverage[index] = 1;
  return coverage;
}

const toLinear = (value: number) => (value / 255) ** GAMMA;

/** An image being drawn: three channels in linear light, row-major. */
export interface LinearCanvas {
  width: number;
  height: number;
  light: Float32Array;
}

export function linearCanvas(width: number, height: number, background: readonly [number, number, number]): LinearCanvas {
  const light = new Float32Array(width * height * 3);
  const [r, g, b] = background.map(toLinear);
  for (let pixel = 0; pixel < width * height; pixel++) {
    light[pixel * 3] = r;
    light[pixel * 3 + 1] = g;
    light[pixel * 3 + 2] = b;
  }
  return { width, height, light };
}

export function fillRect(canvas: LinearCanvas, x: number, y: number, width: number, height: number, color: readonly [number, number, number]): void {
  const linear = color.map(toLinear);
  for (let row = Math.max(0, y); row < Math.min(canvas.height, y + height); row++) {
    for (let column = Math.max(0, x); column < Math.min(canvas.width, x + width); column++) {
      for (let channel = 0; channel < 3; channel++) canvas.light[(row * canvas.width + column) * 3 + channel] = linear[channel];
    }
  }
}

/** Blends `color` over the canvas by the path's coverage, in linear light. */
export function fillPath(canvas: LinearCanvas, path: opentype.Path, color: readonly [number, number, number]): void {
  const coverage = pathCoverage(path, canvas.width, canvas.height);
  const linear = color.map(toLinear);
  for (let pixel = 0; pixel < coverage.length; pixel++) {
    const alpha = coverage[pixel];
    if (alpha === 0) continue;
    for (let channel = 0; channel < 3; channel++) {
      const at = pixel * 3 + channel;
      canvas.light[at] = canvas.light[at] * (1 - alpha) + linear[channel] * alpha;
    }
  }
}

/**
 * The finished 8-bit image: back to sRGB-like values, then (seeded) a 3x3 [1 2 1] blur with
 * probability `blurChance` and Gaussian noise of a standard deviation drawn from `noise`.
 */
export function finish(canvas: LinearCanvas, rng: Rng, blurChance = 0.4, noise: readonly [number, number] = [1.5, 5]): RgbImage {
  const { width, height } = canvas;
  let values = new Float32Array(width * height * 3);
  for (let index = 0; index < values.length; index++) values[index] = 255 * canvas.light[index] ** (1 / GAMMA);
  if (rng.next() < blurChance) {
    const blurred = new Float32Array(values.length);
    const at = (x: number, y: number, channel: number) => values[(Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * 3 + channel];
    const weights = [1, 2, 1];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let channel = 0; channel < 3; channel++) {
          let sum = 0;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += weights[dy + 1] * weights[dx + 1] * at(x + dx, y + dy, channel);
          blurred[(y * width + x) * 3 + channel] = sum / 16;
        }
      }
    }
    values = blurred;
  }
  const sigma = noise[0] + rng.next() * (noise[1] - noise[0]);
  const data = new Uint8Array(values.length);
  for (let pixel = 0; pixel < width * height; pixel++) {
    // One noise value per pixel (luminance noise), as a grey sensor would add.
    const offset = sigma * rng.normal();
    for (let channel = 0; channel < 3; channel++) data[pixel * 3 + channel] = Math.max(0, Math.min(255, Math.round(values[pixel * 3 + channel] + offset)));
  }
  return rgbImage(width, height, data);
}
