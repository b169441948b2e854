/**
 * How a kernel call splits over threads: equal parts of its pixels (multiples of the GEMM's 8-pixel
 * block), of its panels of 4 output rows, or of its channels. Each part is the same export's
 * argument list over its share; the shares cover the call exactly once.
 */

/** `count` items cut into at most `parts` ranges of whole `unit`s (the last takes the rest). */
export function splitRange(count: number, parts: number, unit: number): [number, number][] {
  const units = Math.ceil(count / unit);
  const used = Math.max(1, Math.min(parts, units));
  const ranges: [number, number][] = [];
  for (let part = 0; part < used; part++) {
    const start = Math.min(count, Math.round((units * part) / used) * unit);
    const end = part === used - 1 ? count : Math.min(count, Math.round((units * (part + 1)) / used) * unit);
    if (end > start) ranges.push([start, end]);
  }
  return ranges;
}

const FLOAT = 4;
/** Pixels per thread below which a GEMM splits by rows instead (short rows: a classifier, 7x7 maps). */
const MIN_PIXELS_PER_THREAD = 64;

export interface GemmCall {
  /** Packed weights (panels of 4 rows, K columns each; or the gather form's 16 bytes per kept row). */
  weights: number;
  x: number;
  bias: number;
  y: number;
  rows: number;
  pixels: number;
  xStride: number;
  yStride: number;
  /** Bytes from one panel's weights to the next (gemmPanels); undefined for the gather form. */
  panelBytes?: number;
}

/**
 * Parts of a GEMM over `threads`: by pixels when each thread gets a few blocks of 8, else by
 * panels of 4 rows. `finish(part)` turns each share into the export's argument list.
 */
export function gemmShares(call: GemmCall, threads: number): { x: number; y: number; bias: number; weights: number; rows: number; pixels: number; firstPanel: number }[] {
  const whole = { x: call.x, y: call.y, bias: call.bias, weights: call.weights, rows: call.rows, pixels: call.pixels, firstPanel: 0 };
  if (threads <= 1) return [whole];
  if (call.pixels >= MIN_PIXELS_PER_THREAD * threads) {
    return splitRange(call.pixels, threads, 8).map(([start, end]) => ({ ...whole, x: call.x + start * FLOAT, y: call.y + start * FLOAT, pixels: end - start }));
  }
  const panels = Math.ceil(call.rows / 4);
  if (panels < 2) return [whole];
  return splitRange(panels, threads, 1).map(([start, end]) => ({
    ...whole,
    y: call.y + start * 4 * call.yStride * FLOAT,
    bias: call.bias + start * 4 * FLOAT,
    weights: call.weights + start * (call.panelBytes ?? 0),
    rows: Math.min(call.rows, end * 4) - start * 4,
    firstPanel: start,
  }));
}
