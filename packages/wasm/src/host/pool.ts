import { ShapeError } from '@deprune/errors';
import { encodeActivation, type Pool2dFn } from '@deprune/kernels';
import { pool2dOutputShape, tensor } from '@deprune/tensor';
import { emptyResult, float32Data, storeActivated } from './common';

/**
 * MaxPool / AveragePool (and the global pools, a window the size of the image) on the host, with
 * @deprune/tensor's `pool2d` semantics: padding never contributes a value; an average divides by
 * the taps in the input, or with count_include_pad by the taps in the input or its padding (taps
 * past the end padding, which ceil mode can create, not counted); a window with no tap in the
 * input gives -Infinity (max) or 0 (average); NaN propagates through max.
 */

/** Per output index along one axis: the taps [first, end) that land in the input and the count_include_pad divisor. */
function axisTaps(input: number, output: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number) {
  const first = new Int32Array(output);
  const end = new Int32Array(output);
  const padded = new Int32Array(output);
  for (let o = 0; o < output; o++) {
    const start = o * stride - padBegin;
    let tapFirst = 0;
    while (tapFirst < kernel && start + tapFirst * dilation < 0) tapFirst++;
    let tapEnd = kernel;
    while (tapEnd > tapFirst && start + (tapEnd - 1) * dilation >= input) tapEnd--;
    let inPadded = kernel;
    while (inPadded > 0 && start + (inPadded - 1) * dilation >= input + padEnd) inPadded--;
    first[o] = tapFirst;
    end[o] = tapEnd;
    padded[o] = inPadded;
  }
  return { first, end, padded };
}

/**
 * A pool's geometry: the output shape (the input and attributes checked by pool2dOutputShape),
 * strides, dilations, leading pads and each axis's taps. The wasm kernel (pool2dWindows) reads
 * the same tables.
 */
export function poolWindows(shape: readonly number[], attrs: Parameters<Pool2dFn>[1]) {
  if (shape.length !== 4) throw new ShapeError(`pool2d input must be NCHW [N, C, H, W], got [${shape.join(', ')}]`);
  const outputShape = pool2dOutputShape(shape, attrs);
  const [, , outHeight, outWidth] = outputShape;
  const [, , height, width] = shape;
  const [kernelH, kernelW] = attrs.kernel;
  const [strideH, strideW] = attrs.strides ?? [1, 1];
  const [padTop, padLeft, padBottom, padRight] = attrs.pads ?? [0, 0, 0, 0];
  const [dilationH, dilationW] = attrs.dilations ?? [1, 1];
  return {
    outputShape,
    strides: [strideH, strideW],
    dilations: [dilationH, dilationW],
    padTop,
    padLeft,
    rows: axisTaps(height, outHeight, kernelH, strideH, dilationH, padTop, padBottom),
    cols: axisTaps(width, outWidth, kernelW, strideW, dilationW, padLeft, padRight),
  };
}

/** 2-D pooling of x [N, C, H, W] -> [N, C, Ho, Wo], then the fused activation. */
export const pool2d: Pool2dFn = async (x, attrs) => {
  const { outputShape, strides, dilations, padTop, padLeft, rows, cols } = poolWindows(x.shape, attrs);
  if (outputShape.some((dim) => dim === 0)) return emptyResult(outputShape);
  const [batch, channels, outHeight, outWidth] = outputShape;
  const [, , height, width] = x.shape;
  const [strideH, strideW] = strides;
  const [dilationH, dilationW] = dilations;
  const act = encodeActivation(attrs.activation);
  const isMax = attrs.kind === 'max';
  const countIncludePad = attrs.countIncludePad ?? false;
  const input = float32Data(x);
  const out = new Float32Array(batch * channels * outHeight * outWidth);
  const row = new Float64Array(outWidth);
  const planeIn = height * width;
  let o = 0;
  for (let plane = 0; plane < batch * channels; plane++) {
    const inBase = plane * planeIn;
    for (let oh = 0; oh < outHeight; oh++) {
      const hStart = oh * strideH - padTop;
      const iFirst = rows.first[oh];
      const iEnd = rows.end[oh];
      for (let ow = 0; ow < outWidth; ow++) {
        const wStart = ow * strideW - padLeft;
        const jFirst = cols.first[ow];
        const jEnd = cols.end[ow];
        let result = isMax ? -Infinity : 0;
        for (let i = iFirst; i < iEnd; i++) {
          const rowBase = inBase + (hStart + i * dilationH) * width + wStart;
          if (isMax) {
            for (let j = jFirst; j < jEnd; j++) {
              const value = input[rowBase + j * dilationW];
              if (value > result || Number.isNaN(value)) result = value;
            }
          } else {
            for (let j = jFirst; j < jEnd; j++) result += input[rowBase + j * dilationW];
          }
        }
        if (!isMax) {
          const inside = (iEnd - iFirst) * (jEnd - jFirst);
          const count = countIncludePad ? rows.padded[oh] * cols.padded[ow] : inside;
          result = inside > 0 && count > 0 ? result / count : 0;
        }
        row[ow] = result;
      }
      storeActivated(row, outWidth, out, o, act);
      o += outWidth;
    }
  }
  return tensor(out, outputShape);
};
