import { ShapeError, UsageError } from '@deprune/errors';
import { assertNonNegativeInteger, assertRank, formatShape } from './checks';
import { zerosFloat64, type Tensor } from './tensor';

/**
 * Float64 reference ONNX `Resize` (opset 11+) and `Upsample` on NCHW, resizing H and W only (the
 * N and C scales must be 1), in 'nearest' and 'linear' (bilinear) modes, as onnxruntime computes
 * them. Source coordinates are computed in float32 arithmetic, operation by operation as
 * onnxruntime does: a nearest-neighbour pick is a discrete choice, and a source coordinate that
 * lands exactly on a rounding tie in float32 but not in float64 would pick another pixel. Only the
 * interpolation itself is float64.
 *
 * Opset 10 Resize and opset 7-9 Upsample have no coordinate_transformation_mode or nearest_mode:
 * onnxruntime reads them as 'asymmetric' with, per axis, 'floor' when that axis' scale is >= 1 and
 * 'ceil' when it is < 1 (use `nearestModePerAxis`); linear is 'asymmetric' too.
 */
export type ResizeCoordinateMode = 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel' | 'tf_half_pixel_for_nn';
export type ResizeNearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface Resize2dParams {
  outHeight: number;
  outWidth: number;
  /**
   * The scales used in the coordinate transform: the node's scales, or out/in (in float32) when it
   * gave sizes, exactly as onnxruntime does; `resizeOutputGeometry` computes both ways.
   */
  scaleH: number;
  scaleW: number;
  mode: 'nearest' | 'linear';
  /** Default 'half_pixel' (the ONNX default from opset 11). */
  coordinateTransformationMode?: ResizeCoordinateMode;
  /** Default 'round_prefer_floor'. */
  nearestMode?: ResizeNearestMode;
  /** [H, W] nearest modes that override `nearestMode` per axis (opset <= 10 rounds each axis by its own scale). */
  nearestModePerAxis?: readonly [ResizeNearestMode, ResizeNearestMode];
}

const COORDINATE_MODES: readonly ResizeCoordinateMode[] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'];
const NEAREST_MODES: readonly ResizeNearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

const f32 = Math.fround;

/**
 * The input coordinate that output coordinate `outCoord` maps to (ONNX coordinate_transformation_mode),
 * in float32 arithmetic as onnxruntime computes it:
 * half_pixel `(x + 0.5) / scale - 0.5`; asymmetric `x / scale`; align_corners
 * `x * (inSize - 1) / (outSize - 1)` (0 when outSize is 1); pytorch_half_pixel as half_pixel but 0
 * when outSize is 1; tf_half_pixel_for_nn `(x + 0.5) / scale`. Not clamped to the input. (resize2d,
 * like onnxruntime, skips the transform on an axis whose scale is exactly 1.)
 */
export function resizeSourceCoordinate(outCoord: number, scale: number, inSize: number, outSize: number, mode: ResizeCoordinateMode): number {
  const x = f32(outCoord);
  const s = f32(scale);
  switch (mode) {
    case 'half_pixel':
      return f32(f32(f32(x + 0.5) / s) - 0.5);
    case 'asymmetric':
      return f32(x / s);
    case 'align_corners':
      return outSize === 1 ? 0 : f32(f32(x * f32(inSize - 1)) / f32(outSize - 1));
    case 'pytorch_half_pixel':
      return outSize > 1 ? f32(f32(f32(x + 0.5) / s) - 0.5) : 0;
    case 'tf_half_pixel_for_nn':
      return f32(f32(x + 0.5) / s);
    default:
      throw new UsageError(`resize coordinate transformation mode must be one of ${COORDINATE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
}

/** C's round(): halfway cases away from zero (Math.round sends -0.5 to -0, not -1). */
function roundHalfAwayFromZero(value: number): number {
  return Math.sign(value) * Math.floor(Math.abs(value) + 0.5);
}

function nearestIndex(coordinate: number, mode: ResizeNearestMode): number {
  switch (mode) {
    case 'round_prefer_floor':
      return coordinate === Math.trunc(coordinate) + 0.5 ? Math.floor(coordinate) : roundHalfAwayFromZero(coordinate);
    case 'round_prefer_ceil':
      return roundHalfAwayFromZero(coordinate);
    case 'floor':
      return Math.floor(coordinate);
    case 'ceil':
      return Math.ceil(coordinate);
    default:
      throw new UsageError(`resize nearest mode must be one of ${NEAREST_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
}

/** Output size and coordinate-transform scale along one axis, as onnxruntime derives them. */
function axisGeometry(inSize: number, spec: { scale?: number; size?: number }): { out: number; scale: number } {
  if (spec.size !== undefined) {
    assertNonNegativeInteger('resize size', spec.size);
    if (inSize === 0) {
      if (spec.size !== 0) throw new ShapeError(`resize cannot scale an empty axis to size ${spec.size}: an input size of 0 gives output size 0`);
      return { out: 0, scale: 1 };
    }
    return { out: spec.size, scale: f32(spec.size / inSize) };
  }
  const scale = spec.scale ?? Number.NaN;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new UsageError(`resize scale must be a finite number > 0, got ${String(scale)}`);
  return { out: Math.trunc(f32(f32(scale) * inSize)), scale: f32(scale) };
}

/**
 * outHeight/outWidth and scaleH/scaleW for `resize2d` from a Resize node's `scales` (output size
 * `trunc(scale * in)`) or `sizes` (scale `out / in`), in onnxruntime's float32 arithmetic.
 */
export function resizeOutputGeometry(
  inHeight: number,
  inWidth: number,
  spec: { scales: readonly [number, number] } | { sizes: readonly [number, number] },
): { outHeight: number; outWidth: number; scaleH: number; scaleW: number } {
  assertNonNegativeInteger('resize input height', inHeight);
  assertNonNegativeInteger('resize input width', inWidth);
  const pick = (index: number) => ('sizes' in spec ? { size: spec.sizes[index] } : { scale: spec.scales[index] });
  const height = axisGeometry(inHeight, pick(0));
  const width = axisGeometry(inWidth, pick(1));
  return { outHeight: height.out, outWidth: width.out, scaleH: height.scale, scaleW: width.scale };
}

/**
 * Per output index: the nearest source index, clamped into the input. An axis whose scale is
 * exactly 1 maps index to index without the coordinate transform, as onnxruntime does (it matters
 * for tf_half_pixel_for_nn, which would otherwise shift by half a pixel).
 */
function nearestSources(inSize: number, outSize: number, scale: number, coordinates: ResizeCoordinateMode, mode: ResizeNearestMode): Int32Array {
  const sources = new Int32Array(outSize);
  const identity = f32(scale) === 1;
  for (let o = 0; o < outSize; o++) {
    const index = identity ? o : nearestIndex(resizeSourceCoordinate(o, scale, inSize, outSize, coordinates), mode);
    sources[o] = Math.min(Math.max(index, 0), inSize - 1);
  }
  return sources;
}

/**
 * Per output index: the two source indices `low` and `high` and their weights (which sum to 1). The coordinate is clamped into [0, inSize - 1] and an axis whose scale is exactly 1
 * maps index to index, as in onnxruntime; an edge pixel gets weights 0.5 + 0.5 on itself.
 */
function linearSources(inSize: number, outSize: number, scale: number, coordinates: ResizeCoordinateMode) {
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const lowWeight = new Float64Array(outSize);
  const highWeight = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const source = f32(scale) === 1 ? o : resizeSourceCoordinate(o, scale, inSize, outSize, coordinates);
    const clamped = Math.min(Math.max(source, 0), inSize - 1);
    low[o] = Math.min(Math.trunc(clamped), inSize - 1);
    high[o] = Math.min(low[o] + 1, inSize - 1);
    if (low[o] === high[o]) {
      lowWeight[o] = 0.5;
      highWeight[o] = 0.5;
    } else {
      lowWeight[o] = high[o] - clamped;
      highWeight[o] = clamped - low[o];
    }
  }
  return { low, high, lowWeight, highWeight };
}

function checkResizeParams(x: Tensor, params: Resize2dParams): { coordinates: ResizeCoordinateMode; modes: [ResizeNearestMode, ResizeNearestMode] } {
  assertRank('resize2d input', x.shape, 4, 'N, C, H, W');
  if (params === null || typeof params !== 'object') throw new UsageError('resize2d needs params { outHeight, outWidth, scaleH, scaleW, mode }');
  assertNonNegativeInteger('resize2d outHeight', params.outHeight);
  assertNonNegativeInteger('resize2d outWidth', params.outWidth);
  for (const name of ['scaleH', 'scaleW'] as const) {
    if (!(params[name] > 0) || !Number.isFinite(params[name])) {
      throw new UsageError(`resize2d ${name} must be a finite number > 0, got ${String(params[name])}`);
    }
  }
  if (params.mode !== 'nearest' && params.mode !== 'linear') {
    throw new UsageError(`resize2d mode must be 'nearest' or 'linear' (cubic is not supported), got ${JSON.stringify(params.mode)}`);
  }
  const coordinates = params.coordinateTransformationMode ?? 'half_pixel';
  if (!COORDINATE_MODES.includes(coordinates)) {
    throw new UsageError(
      `resize2d coordinateTransformationMode must be one of ${COORDINATE_MODES.join(', ')} (tf_crop_and_resize and half_pixel_symmetric are not supported), got ${JSON.stringify(coordinates)}`,
    );
  }
  const nearest = params.nearestMode ?? 'round_prefer_floor';
  const modes = params.nearestModePerAxis ?? [nearest, nearest];
  if (!Array.isArray(modes) || modes.length !== 2) {
    throw new UsageError(`resize2d nearestModePerAxis must be a pair [height, width], got ${JSON.stringify(modes)}`);
  }
  for (const mode of modes) {
    if (!NEAREST_MODES.includes(mode)) throw new UsageError(`resize2d nearest mode must be one of ${NEAREST_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const [, , height, width] = x.shape;
  if ((height === 0 && params.outHeight !== 0) || (width === 0 && params.outWidth !== 0)) {
    throw new ShapeError(
      `resize2d input ${formatShape(x.shape)} has an empty axis but outHeight x outWidth is ${params.outHeight} x ${params.outWidth}: an empty axis can only resize to 0`,
    );
  }
  return { coordinates, modes: [modes[0], modes[1]] };
}

/** ONNX Resize / Upsample on the H and W axes of an NCHW tensor, float64 interpolation. */
export function resize2d(x: Tensor, params: Resize2dParams): Tensor<Float64Array> {
  const { coordinates, modes } = checkResizeParams(x, params);
  const [batch, channels, height, width] = x.shape;
  const { outHeight, outWidth, scaleH, scaleW } = params;
  const output = zerosFloat64([batch, channels, outHeight, outWidth]);
  if (output.data.length === 0) return output;
  const out = output.data;
  const input = x.data;
  const planeIn = height * width;
  let o = 0;
  if (params.mode === 'nearest') {
    const rows = nearestSources(height, outHeight, scaleH, coordinates, modes[0]);
    const cols = nearestSources(width, outWidth, scaleW, coordinates, modes[1]);
    for (let plane = 0; plane < batch * channels; plane++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const rowBase = plane * planeIn + rows[oh] * width;
        for (let ow = 0; ow < outWidth; ow++) out[o++] = input[rowBase + cols[ow]];
      }
    }
    return output;
  }
  const rows = linearSources(height, outHeight, scaleH, coordinates);
  const cols = linearSources(width, outWidth, scaleW, coordinates);
  for (let plane = 0; plane < batch * channels; plane++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const lowRow = plane * planeIn + rows.low[oh] * width;
      const highRow = plane * planeIn + rows.high[oh] * width;
      const lowH = rows.lowWeight[oh];
      const highH = rows.highWeight[oh];
      for (let ow = 0; ow < outWidth; ow++) {
        const left = cols.low[ow];
        const right = cols.high[ow];
        const lowW = cols.lowWeight[ow];
        const highW = cols.highWeight[ow];
        out[o++] =
          lowH * (lowW * input[lowRow + left] + highW * input[lowRow + right]) +
          highH * (lowW * input[highRow + left] + highW * input[highRow + right]);
      }
    }
  }
  return output;
}
