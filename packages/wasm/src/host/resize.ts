import { ShapeError, UsageError } from '@deprune/errors';
import type { Resize2dFn } from '@deprune/kernels';
import { resizeSourceCoordinate, tensor, type ResizeCoordinateMode, type ResizeNearestMode } from '@deprune/tensor';
import { emptyResult, float32Data } from './common';

/**
 * ONNX Resize of H and W on the host, with @deprune/tensor's `resize2d` semantics: source
 * coordinates in onnxruntime's float32 arithmetic (`resizeSourceCoordinate`), an axis of scale
 * exactly 1 copied index to index, nearest with 4 rounding modes (per axis for opset <= 10),
 * linear blending the two neighbours of a coordinate clamped into the input (an edge pixel gets
 * weights 0.5 + 0.5 on itself), float64 interpolation.
 */

const COORDINATE_MODES: readonly ResizeCoordinateMode[] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'];
const NEAREST_MODES: readonly ResizeNearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** The source index of a coordinate under a nearest mode, clamped into [0, inSize). */
function nearestIndex(source: number, inSize: number, mode: ResizeNearestMode): number {
  let index = Math.floor(source);
  const fraction = source - index;
  if (mode === 'round_prefer_floor' && fraction > 0.5) index += 1;
  if (mode === 'round_prefer_ceil' && fraction >= 0.5) index += 1;
  if (mode === 'ceil' && fraction > 0) index += 1;
  return Math.min(Math.max(index, 0), inSize - 1);
}

function identityAxis(scale: number): boolean {
  return Math.fround(scale) === 1;
}

function nearestSources(inSize: number, outSize: number, scale: number, coordinates: ResizeCoordinateMode, mode: ResizeNearestMode): Int32Array {
  const sources = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    sources[o] = identityAxis(scale) ? Math.min(o, inSize - 1) : nearestIndex(resizeSourceCoordinate(o, scale, inSize, outSize, coordinates), inSize, mode);
  }
  return sources;
}

function linearSources(inSize: number, outSize: number, scale: number, coordinates: ResizeCoordinateMode) {
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const lowWeight = new Float64Array(outSize);
  const highWeight = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const source = identityAxis(scale) ? o : resizeSourceCoordinate(o, scale, inSize, outSize, coordinates);
    const clamped = Math.min(Math.max(source, 0), inSize - 1);
    low[o] = Math.min(Math.trunc(clamped), inSize - 1);
    high[o] = Math.min(low[o] + 1, inSize - 1);
    lowWeight[o] = low[o] === high[o] ? 0.5 : high[o] - clamped;
    highWeight[o] = low[o] === high[o] ? 0.5 : clamped - low[o];
  }
  return { low, high, lowWeight, highWeight };
}

/** x [N, C, H, W] -> [N, C, outHeight, outWidth], nearest or bilinear. */
export const resize2d: Resize2dFn = async (x, attrs) => {
  if (x.shape.length !== 4) throw new ShapeError(`resize2d input must be NCHW [N, C, H, W], got [${x.shape.join(', ')}]`);
  const coordinates = attrs.coordinateTransformationMode ?? 'half_pixel';
  const nearest = attrs.nearestMode ?? 'round_prefer_floor';
  const [modeH, modeW] = attrs.nearestModePerAxis ?? [nearest, nearest];
  if (!COORDINATE_MODES.includes(coordinates)) {
    throw new UsageError(`resize2d: unknown coordinate_transformation_mode '${String(coordinates)}' (known: ${COORDINATE_MODES.join(', ')})`);
  }
  if (!NEAREST_MODES.includes(modeH) || !NEAREST_MODES.includes(modeW)) {
    throw new UsageError(`resize2d: unknown nearest_mode '${String(NEAREST_MODES.includes(modeH) ? modeW : modeH)}' (known: ${NEAREST_MODES.join(', ')})`);
  }
  if (attrs.mode !== 'nearest' && attrs.mode !== 'linear') throw new UsageError(`resize2d: mode must be 'nearest' or 'linear', got '${String(attrs.mode)}'`);
  const { outHeight, outWidth, scaleH, scaleW } = attrs;
  for (const [name, value] of [['outHeight', outHeight], ['outWidth', outWidth]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`resize2d ${name} must be a non-negative integer, got ${String(value)}`);
  }
  for (const [name, value] of [['scaleH', scaleH], ['scaleW', scaleW]] as const) {
    if (!(value > 0) || !Number.isFinite(value)) throw new UsageError(`resize2d ${name} must be a finite number > 0, got ${String(value)}`);
  }
  const [batch, channels, height, width] = x.shape;
  if ((height === 0 && outHeight !== 0) || (width === 0 && outWidth !== 0)) {
    throw new ShapeError(`resize2d input [${x.shape.join(', ')}] has an empty axis but outHeight x outWidth is ${outHeight} x ${outWidth}: an empty axis can only resize to 0`);
  }
  const outputShape = [batch, channels, outHeight, outWidth];
  if (outputShape.some((dim) => dim === 0)) return emptyResult(outputShape);
  const input = float32Data(x);
  const out = new Float32Array(batch * channels * outHeight * outWidth);
  const planeIn = height * width;
  let o = 0;
  if (attrs.mode === 'nearest') {
    const rows = nearestSources(height, outHeight, scaleH, coordinates, modeH);
    const cols = nearestSources(width, outWidth, scaleW, coordinates, modeW);
    for (let plane = 0; plane < batch * channels; plane++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const rowBase = plane * planeIn + rows[oh] * width;
        for (let ow = 0; ow < outWidth; ow++) out[o++] = input[rowBase + cols[ow]];
      }
    }
    return tensor(out, outputShape);
  }
  const rows = linearSources(height, outHeight, scaleH, coordinates);
  const cols = linearSources(width, outWidth, scaleW, coordinates);
  for (let plane = 0; plane < batch * channels; plane++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const top = plane * planeIn + rows.low[oh] * width;
      const bottom = plane * planeIn + rows.high[oh] * width;
      const topWeight = rows.lowWeight[oh];
      const bottomWeight = rows.highWeight[oh];
      for (let ow = 0; ow < outWidth; ow++) {
        const left = cols.low[ow];
        const right = cols.high[ow];
        const leftWeight = cols.lowWeight[ow];
        const rightWeight = cols.highWeight[ow];
        out[o++] =
          topWeight * (leftWeight * input[top + left] + rightWeight * input[top + right]) +
          bottomWeight * (leftWeight * input[bottom + left] + rightWeight * input[bottom + right]);
      }
    }
  }
  return tensor(out, outputShape);
};
