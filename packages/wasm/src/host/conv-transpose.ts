import { ShapeError } from '@deprune/errors';
import { encodeActivation, type ConvTranspose2dFn } from '@deprune/kernels';
import { convTranspose2dOutputShape, tensor } from '@deprune/tensor';
import { biasData, emptyResult, float32Data, storeActivated } from './common';

/**
 * ONNX ConvTranspose on the host with @deprune/tensor's `convTranspose2d` semantics (groups,
 * strides, pads, dilations, output padding): each input pixel (ih, iw) scatters x * w to output
 * (ih*stride + i*dilation - padTop, iw*stride + j*dilation - padLeft), into a float64 plane per
 * output channel, which then gets the bias and the fused activation and is rounded once.
 */

/** Input indices [first, end) whose output index `in*stride + offset` lies in [0, outSize). */
function inputRange(offset: number, stride: number, outSize: number, inSize: number): [number, number] {
  const first = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(inSize, Math.floor((outSize - 1 - offset) / stride) + 1);
  return [first, Math.max(first, end)];
}

/** x [N, C, H, W], weight [C, M/group, kh, kw], bias [M] or null -> [N, M, Ho, Wo]. */
export const convTranspose2d: ConvTranspose2dFn = async (x, weight, bias, attrs = {}) => {
  const group = attrs.group ?? 1;
  if (x.shape.length !== 4 || weight.shape.length !== 4 || weight.shape[0] !== x.shape[1]) {
    throw new ShapeError(
      `convTranspose2d needs x [N, C, H, W] and weight [C, M/group, kh, kw] with C = x's channels, got x [${x.shape.join(', ')}] and weight [${weight.shape.join(', ')}]`,
    );
  }
  const outputShape = convTranspose2dOutputShape(x.shape, weight.shape, attrs);
  const [batch, outChannels, outHeight, outWidth] = outputShape;
  const biasValues = biasData(bias, outChannels, 'convTranspose2d');
  if (outputShape.some((dim) => dim === 0)) return emptyResult(outputShape);
  const act = encodeActivation(attrs.activation);
  const [, inChannels, height, width] = x.shape;
  const [, outPerGroup, kernelH, kernelW] = weight.shape;
  const inPerGroup = inChannels / group;
  const [strideH, strideW] = attrs.strides ?? [1, 1];
  const [padTop, padLeft] = attrs.pads ?? [0, 0, 0, 0];
  const [dilationH, dilationW] = attrs.dilations ?? [1, 1];
  const input = float32Data(x);
  const weights = float32Data(weight);
  const out = new Float32Array(batch * outChannels * outHeight * outWidth);
  const planeIn = height * width;
  const planeOut = outHeight * outWidth;
  const kernelArea = kernelH * kernelW;
  const rowRanges = Array.from({ length: kernelH }, (_, i) => inputRange(i * dilationH - padTop, strideH, outHeight, height));
  const colRanges = Array.from({ length: kernelW }, (_, j) => inputRange(j * dilationW - padLeft, strideW, outWidth, width));
  const acc = new Float64Array(planeOut);
  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const g = Math.floor(m / outPerGroup);
      const mg = m - g * outPerGroup;
      acc.fill(biasValues === null ? 0 : biasValues[m]);
      for (let cg = 0; cg < inPerGroup; cg++) {
        const c = g * inPerGroup + cg;
        const inBase = (n * inChannels + c) * planeIn;
        const weightBase = (c * outPerGroup + mg) * kernelArea;
        for (let i = 0; i < kernelH; i++) {
          const rowOffset = i * dilationH - padTop;
          const [ihFirst, ihEnd] = rowRanges[i];
          for (let j = 0; j < kernelW; j++) {
            const tap = weights[weightBase + i * kernelW + j];
            const colOffset = j * dilationW - padLeft;
            const [iwFirst, iwEnd] = colRanges[j];
            for (let ih = ihFirst; ih < ihEnd; ih++) {
              const inRow = inBase + ih * width;
              const outRow = (ih * strideH + rowOffset) * outWidth + colOffset;
              for (let iw = iwFirst; iw < iwEnd; iw++) acc[outRow + iw * strideW] += tap * input[inRow + iw];
            }
          }
        }
      }
      storeActivated(acc, planeOut, out, (n * outChannels + m) * planeOut, act);
    }
  }
  return tensor(out, outputShape);
};
