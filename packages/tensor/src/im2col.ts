import { ShapeError } from '@deprune/errors';
import ndarray from 'ndarray';
import { assertPositiveInteger, formatShape } from './checks';
import { convOutputSize, resolveConvParams, validOutputRange, type Conv2dParams } from './conv';
import { toNdarray, zerosFloat64, type Tensor } from './tensor';

/**
 * Unfolds one image for convolution-as-GEMM: x is [C, H, W] or [1, C, H, W], the result is
 * [C*kh*kw, Ho*Wo] with row c*kh*kw + i*kw + j holding, for every output position, the input pixel
 * that kernel tap (i, j) of channel c multiplies. Padding contributes zeros.
 *
 * Each row is a strided window of the input plane: offset by the tap, stepped by the stride. The
 * ndarray views express exactly that, so the copy below is a plain 2-D loop with no index algebra.
 */
export function im2col(
  x: Tensor,
  kernel: readonly [number, number],
  params?: Omit<Conv2dParams, 'group'>,
): Tensor<Float64Array> {
  const rank = x.shape.length;
  if (!(rank === 3 || (rank === 4 && x.shape[0] === 1))) {
    throw new ShapeError(`im2col input must be [C, H, W] or [1, C, H, W] (one image), got ${formatShape(x.shape)}`);
  }
  if (!Array.isArray(kernel) || kernel.length !== 2) {
    throw new ShapeError(`im2col kernel must be [kh, kw], got ${JSON.stringify(kernel)}`);
  }
  const [kernelH, kernelW] = kernel;
  assertPositiveInteger('im2col kernel height', kernelH);
  assertPositiveInteger('im2col kernel width', kernelW);
  const p = resolveConvParams({ ...params, group: 1 });
  const image = rank === 4 ? toNdarray(x).pick(0, null, null, null) : toNdarray(x);
  const [channels, height, width] = image.shape;
  const outHeight = convOutputSize('height', height, kernelH, p.padTop, p.padBottom, p.dilationH, p.strideH);
  const outWidth = convOutputSize('width', width, kernelW, p.padLeft, p.padRight, p.dilationW, p.strideW);

  const result = zerosFloat64([channels * kernelH * kernelW, outHeight * outWidth]);
  // The same memory seen as [C, kh, kw, Ho, Wo]: row (c, i, j) is the Ho x Wo plane columns.pick(c, i, j).
  const columns = ndarray(result.data, [channels, kernelH, kernelW, outHeight, outWidth]);

  for (let i = 0; i < kernelH; i++) {
    const rowOffset = i * p.dilationH - p.padTop;
    const [ohFirst, ohEnd] = validOutputRange(rowOffset, p.strideH, height, outHeight);
    for (let j = 0; j < kernelW; j++) {
      const colOffset = j * p.dilationW - p.padLeft;
      const [owFirst, owEnd] = validOutputRange(colOffset, p.strideW, width, outWidth);
      const rows = ohEnd - ohFirst;
      const cols = owEnd - owFirst;
      if (rows === 0 || cols === 0) continue; // this tap only ever sees padding
      for (let c = 0; c < channels; c++) {
        const source = image
          .pick(c, null, null)
          .lo(ohFirst * p.strideH + rowOffset, owFirst * p.strideW + colOffset)
          .step(p.strideH, p.strideW)
          .hi(rows, cols);
        const target = columns.pick(c, i, j, null, null).lo(ohFirst, owFirst).hi(rows, cols);
        for (let r = 0; r < rows; r++) {
          for (let q = 0; q < cols; q++) target.set(r, q, source.get(r, q));
        }
      }
    }
  }
  return result;
}
