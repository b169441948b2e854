import { ShapeError, UsageError } from '@deprune/errors';
import { assertPositiveInteger, assertRank, formatShape, readPair } from './checks';
import { resolveConvParams } from './conv';
import { zerosFloat64, type Tensor } from './tensor';

/**
 * Float64 reference pooling, NCHW, with ONNX `MaxPool` / `AveragePool` semantics as onnxruntime
 * implements them (explicit pads only, no auto_pad; no MaxPool Indices output).
 */
export interface Pool2dParams {
  kind: 'max' | 'average';
  /** [kh, kw]. */
  kernel: readonly [number, number];
  /** [strideH, strideW], default [1, 1]. */
  strides?: readonly [number, number];
  /** ONNX order [top, left, bottom, right], default [0, 0, 0, 0]. */
  pads?: readonly [number, number, number, number];
  /** [dilationH, dilationW], default [1, 1]. */
  dilations?: readonly [number, number];
  /** Round the output size up instead of down (ONNX ceil_mode), default false. */
  ceilMode?: boolean;
  /** Average pooling: divide by the taps that fall in the input or its padding (true) or only in the input (false, the ONNX default). */
  countIncludePad?: boolean;
}

/** One spatial axis of a pooling: sizes, stride, dilation and pads. */
interface PoolAxis {
  input: number;
  output: number;
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
}

/**
 * Output size along one axis. floor mode: floor((in + pads - dilatedKernel) / stride) + 1. ceil
 * mode rounds up, but a last window that would start inside the end padding (at or past
 * in + padBegin) is dropped, as onnxruntime and PyTorch do, so every window starts in the input or
 * the begin padding.
 */
function poolOutputSize(axisName: string, axis: Omit<PoolAxis, 'output'>, ceilMode: boolean): number {
  const paddedInput = axis.input + axis.padBegin + axis.padEnd;
  const dilatedKernel = axis.dilation * (axis.kernel - 1) + 1;
  if (dilatedKernel > paddedInput) {
    throw new ShapeError(
      `pool2d ${axisName}: dilated kernel size ${dilatedKernel} (kernel ${axis.kernel}, dilation ${axis.dilation}) does not fit the padded input size ${paddedInput} (input ${axis.input} + pads ${axis.padBegin}, ${axis.padEnd}); use a smaller kernel or more padding`,
    );
  }
  const span = paddedInput - dilatedKernel;
  let output = (ceilMode ? Math.ceil(span / axis.stride) : Math.floor(span / axis.stride)) + 1;
  if (ceilMode && (output - 1) * axis.stride >= axis.input + axis.padBegin) output--;
  return output;
}

function poolGeometry(xShape: readonly number[], params: Pool2dParams): { height: PoolAxis; width: PoolAxis } {
  assertRank('pool2d input', xShape, 4, 'N, C, H, W');
  if (params === null || typeof params !== 'object') throw new UsageError('pool2d needs params { kind, kernel, ... }');
  if (params.kind !== 'max' && params.kind !== 'average') {
    throw new UsageError(`pool2d kind must be 'max' or 'average', got ${JSON.stringify(params.kind)}`);
  }
  const [kernelH, kernelW] = readPair('pool2d kernel', params.kernel ?? [], 0);
  assertPositiveInteger('pool2d kernel[0] (height)', kernelH);
  assertPositiveInteger('pool2d kernel[1] (width)', kernelW);
  // Strides, pads and dilations follow the conv rules and messages.
  const p = resolveConvParams({ strides: params.strides, pads: params.pads, dilations: params.dilations });
  const ceilMode = params.ceilMode ?? false;
  const [, , inputH, inputW] = xShape;
  const heightAxis = { input: inputH, kernel: kernelH, stride: p.strideH, dilation: p.dilationH, padBegin: p.padTop, padEnd: p.padBottom };
  const widthAxis = { input: inputW, kernel: kernelW, stride: p.strideW, dilation: p.dilationW, padBegin: p.padLeft, padEnd: p.padRight };
  return {
    height: { ...heightAxis, output: poolOutputSize('height', heightAxis, ceilMode) },
    width: { ...widthAxis, output: poolOutputSize('width', widthAxis, ceilMode) },
  };
}

/** [N, C, Ho, Wo] for an NCHW input; ShapeError when the (dilated) kernel does not fit the padded input. */
export function pool2dOutputShape(xShape: readonly number[], params: Pool2dParams): [number, number, number, number] {
  const { height, width } = poolGeometry(xShape, params);
  return [xShape[0], xShape[1], height.output, width.output];
}

/**
 * Per output index along one axis: the kernel taps [first, end) that land in the input, and how
 * many land in the input or its padding (the count_include_pad divisor: taps past the end padding,
 * which ceil mode can create, are not counted, as in onnxruntime).
 */
function tapRanges(axis: PoolAxis): { first: Int32Array; end: Int32Array; padded: Int32Array } {
  const first = new Int32Array(axis.output);
  const end = new Int32Array(axis.output);
  const padded = new Int32Array(axis.output);
  for (let o = 0; o < axis.output; o++) {
    const start = o * axis.stride - axis.padBegin;
    first[o] = Math.max(0, Math.ceil(-start / axis.dilation));
    end[o] = Math.max(first[o], Math.min(axis.kernel, Math.floor((axis.input - 1 - start) / axis.dilation) + 1));
    padded[o] = Math.min(axis.kernel, Math.ceil((axis.input + axis.padEnd - start) / axis.dilation));
  }
  return { first, end, padded };
}

/**
 * ONNX MaxPool / AveragePool on NCHW. Max ignores padding; average divides by the in-input taps,
 * or with countIncludePad by the taps in the input or its padding. A window with no tap in the
 * input (possible only with dilation) gives -Infinity (max) or 0 (average), where onnxruntime gives
 * the lowest float32 (max) or 0.
 */
export function pool2d(x: Tensor, params: Pool2dParams): Tensor<Float64Array> {
  const { height, width } = poolGeometry(x.shape, params);
  const [batch, channels] = x.shape;
  const output = zerosFloat64([batch, channels, height.output, width.output]);
  const out = output.data;
  const input = x.data;
  const isMax = params.kind === 'max';
  const countIncludePad = params.countIncludePad ?? false;
  const rowsH = tapRanges(height);
  const colsW = tapRanges(width);
  const planeIn = height.input * width.input;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const inBase = plane * planeIn;
    for (let oh = 0; oh < height.output; oh++) {
      const hStart = oh * height.stride - height.padBegin;
      const iFirst = rowsH.first[oh];
      const iEnd = rowsH.end[oh];
      for (let ow = 0; ow < width.output; ow++, o++) {
        const wStart = ow * width.stride - width.padBegin;
        const jFirst = colsW.first[ow];
        const jEnd = colsW.end[ow];
        let result = isMax ? -Infinity : 0;
        for (let i = iFirst; i < iEnd; i++) {
          const rowBase = inBase + (hStart + i * height.dilation) * width.input + wStart;
          for (let j = jFirst; j < jEnd; j++) {
            const value = input[rowBase + j * width.dilation];
            if (isMax) {
              if (value > result || Number.isNaN(value)) result = value;
            } else {
              result += value;
            }
          }
        }
        if (!isMax) {
          const taps = countIncludePad ? rowsH.padded[oh] * colsW.padded[ow] : (iEnd - iFirst) * (jEnd - jFirst);
          result = taps > 0 && iEnd > iFirst && jEnd > jFirst ? result / taps : 0;
        }
        out[o] = result;
      }
    }
  }
  return output;
}

/** ONNX GlobalMaxPool / GlobalAveragePool on NCHW: one value per (image, channel), shape [N, C, 1, 1]. */
export function globalPool2d(x: Tensor, kind: 'max' | 'average'): Tensor<Float64Array> {
  assertRank('globalPool2d input', x.shape, 4, 'N, C, H, W');
  if (kind !== 'max' && kind !== 'average') {
    throw new UsageError(`globalPool2d kind must be 'max' or 'average', got ${JSON.stringify(kind)}`);
  }
  const [batch, channels, height, width] = x.shape;
  const plane = height * width;
  if (plane === 0) {
    throw new ShapeError(`globalPool2d input ${formatShape(x.shape)} has an empty H x W plane: there is nothing to pool`);
  }
  const output = zerosFloat64([batch, channels, 1, 1]);
  const input = x.data;
  for (let p = 0; p < batch * channels; p++) {
    const base = p * plane;
    let result = kind === 'max' ? -Infinity : 0;
    for (let index = base; index < base + plane; index++) {
      const value = input[index];
      if (kind === 'average') result += value;
      else if (value > result || Number.isNaN(value)) result = value;
    }
    output.data[p] = kind === 'average' ? result / plane : result;
  }
  return output;
}
