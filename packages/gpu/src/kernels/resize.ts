import { ShapeError, UsageError } from '@deprune/errors';
import type { IKernelFunctionThis } from 'gpu.js';
import type { KernelRegistration } from '../registry';
import { activationInput, emptyResult, readback, runStep } from './launch';
import type { Resize2dFn } from '@deprune/kernels';
export type { Resize2dAttrs, Resize2dFn } from '@deprune/kernels';



const COORDINATE_MODES = { half_pixel: 0, asymmetric: 1, align_corners: 2, pytorch_half_pixel: 3, tf_half_pixel_for_nn: 4 } as const;
const NEAREST_MODES = { round_prefer_floor: 0, round_prefer_ceil: 1, floor: 2, ceil: 3 } as const;

interface ResizeConstants {
  linear: number;
  coordinateMode: number;
  nearestModeH: number;
  nearestModeW: number;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  scaleH: number;
  scaleW: number;
}

/** @deprune/tensor's resizeSourceCoordinate, per axis, as kernel code (a body cannot call imports). */
function sourceCoordinate(out: number, scale: number, inSize: number, outSize: number, mode: number): number {
  // onnxruntime copies an axis of scale exactly 1 index to index, whatever the mode.
  if (scale === 1) return out;
  let source = (out + 0.5) / scale - 0.5;
  if (mode === 1) source = out / scale;
  if (mode === 2) source = outSize === 1 ? 0 : (out * (inSize - 1)) / (outSize - 1);
  if (mode === 3) source = outSize > 1 ? (out + 0.5) / scale - 0.5 : 0;
  if (mode === 4) source = (out + 0.5) / scale;
  return source;
}

function nearestIndex(source: number, inSize: number, mode: number): number {
  let index = Math.floor(source);
  const fraction = source - index;
  if (mode === 0 && fraction > 0.5) index += 1;
  if (mode === 1 && fraction >= 0.5) index += 1;
  if (mode === 3 && fraction > 0) index += 1;
  return Math.min(Math.max(index, 0), inSize - 1);
}

/**
 * One thread per output element, dims [Wo, Ho, N*C]. Nearest reads one pixel; linear blends the
 * four neighbours of the source point clamped into the image (as onnxruntime does).
 */
function resizeBody(this: IKernelFunctionThis<ResizeConstants>, x: number[][][]): number {
  const plane = this.thread.z;
  const sourceY = sourceCoordinate(this.thread.y, this.constants.scaleH, this.constants.height, this.constants.outHeight, this.constants.coordinateMode);
  const sourceX = sourceCoordinate(this.thread.x, this.constants.scaleW, this.constants.width, this.constants.outWidth, this.constants.coordinateMode);
  let value = 0;
  if (this.constants.linear === 0) {
    const row = nearestIndex(sourceY, this.constants.height, this.constants.nearestModeH);
    const column = nearestIndex(sourceX, this.constants.width, this.constants.nearestModeW);
    value = x[plane][row][column];
  } else {
    const y = Math.min(Math.max(sourceY, 0), this.constants.height - 1);
    const xx = Math.min(Math.max(sourceX, 0), this.constants.width - 1);
    const top = Math.floor(y);
    const left = Math.floor(xx);
    const bottom = Math.min(top + 1, this.constants.height - 1);
    const right = Math.min(left + 1, this.constants.width - 1);
    const dy = y - top;
    const dx = xx - left;
    const upper = x[plane][top][left] * (1 - dx) + x[plane][top][right] * dx;
    const lower = x[plane][bottom][left] * (1 - dx) + x[plane][bottom][right] * dx;
    value = upper * (1 - dy) + lower * dy;
  }
  return value;
}

/** gpu.js needs the helpers of a body as functions it can transpile; their source text travels with the kernel. */
const RESIZE_HELPERS = [sourceCoordinate.toString(), nearestIndex.toString()];

export const resize2dKernel: KernelRegistration<Resize2dFn> = {
  name: 'resize2d',
  description: 'ONNX Resize of H and W: nearest (4 rounding modes, per axis for opset <= 10) or bilinear, 5 coordinate transformation modes',
  modes: '*',
  create(_gpu, config) {
    return async (x, attrs) => {
      if (x.shape.length !== 4) throw new ShapeError(`resize2d input must be NCHW [N, C, H, W], got [${x.shape.join(', ')}]`);
      const coordinateMode = COORDINATE_MODES[attrs.coordinateTransformationMode ?? 'half_pixel'];
      const [modeH, modeW] = attrs.nearestModePerAxis ?? [attrs.nearestMode ?? 'round_prefer_floor', attrs.nearestMode ?? 'round_prefer_floor'];
      const nearestModeH = NEAREST_MODES[modeH];
      const nearestModeW = NEAREST_MODES[modeW];
      if (coordinateMode === undefined) throw new UsageError(`resize2d: unknown coordinate_transformation_mode '${String(attrs.coordinateTransformationMode)}' (known: ${Object.keys(COORDINATE_MODES).join(', ')})`);
      if (nearestModeH === undefined || nearestModeW === undefined) throw new UsageError(`resize2d: unknown nearest_mode '${String(nearestModeH === undefined ? modeH : modeW)}' (known: ${Object.keys(NEAREST_MODES).join(', ')})`);
      if (attrs.mode !== 'nearest' && attrs.mode !== 'linear') throw new UsageError(`resize2d: mode must be 'nearest' or 'linear', got '${String(attrs.mode)}'`);
      const [batch, channels, height, width] = x.shape;
      const outputShape = [batch, channels, attrs.outHeight, attrs.outWidth];
      if (outputShape.some((dim) => dim === 0) || height === 0 || width === 0) return emptyResult(outputShape);
      const out = await runStep(config, {
        label: 'resize',
        body: resizeBody,
        output: [attrs.outWidth, attrs.outHeight, batch * channels],
        constants: {
          linear: attrs.mode === 'linear' ? 1 : 0,
          coordinateMode,
          nearestModeH,
          nearestModeW,
          height,
          width,
          outHeight: attrs.outHeight,
          outWidth: attrs.outWidth,
          scaleH: attrs.scaleH,
          scaleW: attrs.scaleW,
        },
        args: [activationInput(x)],
        functions: RESIZE_HELPERS,
      });
      return readback(out, outputShape);
    };
  },
};
