import { ShapeError, UsageError } from '@deprune/errors';
import { assertNonNegativeInteger, assertPositiveInteger, assertRank, formatShape, readPair } from './checks';
import { zerosFloat64, type Tensor } from './tensor';

/**
 * Float64 reference convolutions, NCHW, with ONNX `Conv` semantics (explicit pads only, no
 * auto_pad). Inputs may be float32 or float64; every product and sum is done in float64, so these
 * are the oracle the GPU kernels and the pruned models are checked against.
 */
export interface Conv2dParams {
  /** [strideH, strideW], default [1, 1]. */
  strides?: readonly [number, number];
  /** ONNX order [top, left, bottom, right], default [0, 0, 0, 0]. */
  pads?: readonly [number, number, number, number];
  /** [dilationH, dilationW], default [1, 1]. */
  dilations?: readonly [number, number];
  /** Default 1. */
  group?: number;
}

/** Conv attributes with defaults filled in and checked. */
export interface ResolvedConvParams {
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  group: number;
}

export function resolveConvParams(params: Conv2dParams = {}): ResolvedConvParams {
  const [strideH, strideW] = readPair('strides', params.strides, 1);
  const [dilationH, dilationW] = readPair('dilations', params.dilations, 1);
  const pads = params.pads ?? [0, 0, 0, 0];
  if (!Array.isArray(pads) || pads.length !== 4) {
    throw new UsageError(`pads must be [top, left, bottom, right] (ONNX order), got ${JSON.stringify(pads)}`);
  }
  const group = params.group ?? 1;
  assertPositiveInteger('strides[0] (height)', strideH);
  assertPositiveInteger('strides[1] (width)', strideW);
  assertPositiveInteger('dilations[0] (height)', dilationH);
  assertPositiveInteger('dilations[1] (width)', dilationW);
  ['top', 'left', 'bottom', 'right'].forEach((side, index) => assertNonNegativeInteger(`pads ${side}`, pads[index]));
  assertPositiveInteger('group', group);
  const [padTop, padLeft, padBottom, padRight] = pads;
  return { strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, group };
}

/** ONNX output size along one axis: floor((in + padBegin + padEnd - dilation*(k-1) - 1) / stride) + 1. */
export function convOutputSize(
  axis: string,
  inputSize: number,
  kernelSize: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  stride: number,
): number {
  const paddedInput = inputSize + padBegin + padEnd;
  const dilatedKernel = dilation * (kernelSize - 1) + 1;
  if (kernelSize < 1 || dilatedKernel > paddedInput) {
    throw new ShapeError(
      `conv ${axis}: dilated kernel size ${dilatedKernel} (kernel ${kernelSize}, dilation ${dilation}) does not fit the padded input size ${paddedInput} (input ${inputSize} + pads ${padBegin}, ${padEnd})`,
    );
  }
  return Math.floor((paddedInput - dilatedKernel) / stride) + 1;
}

/** [N, M, Ho, Wo] for an NCHW input and an [M, C/group, kh, kw] weight; ShapeError if they do not fit together. */
export function conv2dOutputShape(
  inputShape: readonly number[],
  weightShape: readonly number[],
  params?: Conv2dParams,
): number[] {
  return conv2dGeometry(inputShape, weightShape, resolveConvParams(params)).outputShape;
}

/**
 * Every number a 2-D conv kernel needs: the checked sizes, the attributes with defaults filled in,
 * and the NCHW output shape. Backends read this instead of re-deriving it, so they and this
 * reference agree on what is valid.
 */
export function resolveConv2d(
  inputShape: readonly number[],
  weightShape: readonly number[],
  params?: Conv2dParams,
): ConvSizes & ResolvedConvParams & { outputShape: number[] } {
  const p = resolveConvParams(params);
  return { ...conv2dGeometry(inputShape, weightShape, p), ...p };
}

/** The sizes a 2-D conv-like kernel loops over (Conv and ConvTranspose). */
export interface ConvSizes {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  outHeight: number;
  outWidth: number;
}

interface ConvGeometry extends ConvSizes {
  outputShape: number[];
}

function conv2dGeometry(inputShape: readonly number[], weightShape: readonly number[], p: ResolvedConvParams): ConvGeometry {
  assertRank('conv input', inputShape, 4, 'N, C, H, W');
  assertRank('conv weight', weightShape, 4, 'M, C/group, kh, kw');
  const [batch, inChannels, height, width] = inputShape;
  const [outChannels, channelsPerGroup, kernelH, kernelW] = weightShape;
  if (inChannels % p.group !== 0) {
    throw new ShapeError(`conv input has ${inChannels} channels, which is not divisible by group ${p.group}`);
  }
  if (outChannels % p.group !== 0) {
    throw new ShapeError(`conv weight has ${outChannels} output channels, which is not divisible by group ${p.group}`);
  }
  if (channelsPerGroup !== inChannels / p.group) {
    throw new ShapeError(
      `conv weight ${formatShape(weightShape)} must have C/group = ${inChannels}/${p.group} = ${inChannels / p.group} input channels per group for input ${formatShape(inputShape)}, got ${channelsPerGroup}`,
    );
  }
  const outHeight = convOutputSize('height', height, kernelH, p.padTop, p.padBottom, p.dilationH, p.strideH);
  const outWidth = convOutputSize('width', width, kernelW, p.padLeft, p.padRight, p.dilationW, p.strideW);
  return {
    batch,
    inChannels,
    height,
    width,
    outChannels,
    kernelH,
    kernelW,
    outHeight,
    outWidth,
    outputShape: [batch, outChannels, outHeight, outWidth],
  };
}

/** Bias must be 1-D with one value per output channel, as ONNX `Conv`'s B. */
export function checkBias(bias: Tensor | null | undefined, outChannels: number, op: string): Tensor | undefined {
  if (bias === null || bias === undefined) return undefined;
  if (bias.shape.length !== 1 || bias.shape[0] !== outChannels) {
    throw new ShapeError(`${op} bias must have shape [${outChannels}] (one value per output channel), got ${formatShape(bias.shape)}`);
  }
  return bias;
}

/** First and one-past-last output index whose input index `out*stride + offset` lies in [0, inputSize). */
export function validOutputRange(offset: number, stride: number, inputSize: number, outputSize: number): [number, number] {
  const first = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(outputSize, Math.floor((inputSize - 1 - offset) / stride) + 1);
  return [first, Math.max(first, end)];
}

/**
 * Tap-major loop: for each (output channel, input channel, kernel tap) add `w * shifted input` over
 * the output positions whose input is inside the image. Clipping the ranges up front keeps the
 * inner loop free of padding branches; the cost is the textbook N*M*(C/group)*kh*kw*Ho*Wo.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, params?: Conv2dParams): Tensor<Float64Array> {
  const p = resolveConvParams(params);
  const g = conv2dGeometry(x.shape, weight.shape, p);
  const checkedBias = checkBias(bias, g.outChannels, 'conv2d');
  const output = zerosFloat64(g.outputShape);
  const out = output.data;
  const input = x.data;
  const weights = weight.data;
  const inPerGroup = g.inChannels / p.group;
  const outPerGroup = g.outChannels / p.group;
  const planeIn = g.height * g.width;
  const planeOut = g.outHeight * g.outWidth;
  const kernelArea = g.kernelH * g.kernelW;

  for (let n = 0; n < g.batch; n++) {
    for (let m = 0; m < g.outChannels; m++) {
      const outBase = (n * g.outChannels + m) * planeOut;
      if (checkedBias) out.fill(checkedBias.data[m], outBase, outBase + planeOut);
      const firstInChannel = Math.floor(m / outPerGroup) * inPerGroup;
      for (let cg = 0; cg < inPerGroup; cg++) {
        const inBase = (n * g.inChannels + firstInChannel + cg) * planeIn;
        const weightBase = (m * inPerGroup + cg) * kernelArea;
        for (let i = 0; i < g.kernelH; i++) {
          const rowOffset = i * p.dilationH - p.padTop;
          const [ohFirst, ohEnd] = validOutputRange(rowOffset, p.strideH, g.height, g.outHeight);
          for (let j = 0; j < g.kernelW; j++) {
            const tap = weights[weightBase + i * g.kernelW + j];
            const colOffset = j * p.dilationW - p.padLeft;
            const [owFirst, owEnd] = validOutputRange(colOffset, p.strideW, g.width, g.outWidth);
            for (let oh = ohFirst; oh < ohEnd; oh++) {
              const inRow = inBase + (oh * p.strideH + rowOffset) * g.width + colOffset;
              const outRow = outBase + oh * g.outWidth;
              for (let ow = owFirst; ow < owEnd; ow++) {
                out[outRow + ow] += tap * input[inRow + ow * p.strideW];
              }
            }
          }
        }
      }
    }
  }
  return output;
}

/**
 * Depth-wise conv (ONNX `Conv` with group == C_in == C_out, weight [C, 1, kh, kw]). Written as a
 * separate output-major loop, not as a call to conv2d, so that the two kernels check each other.
 */
export function depthwiseConv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  params?: Omit<Conv2dParams, 'group'>,
): Tensor<Float64Array> {
  assertRank('depthwise input', x.shape, 4, 'N, C, H, W');
  assertRank('depthwise weight', weight.shape, 4, 'C, 1, kh, kw');
  const channels = x.shape[1];
  if (weight.shape[0] !== channels || weight.shape[1] !== 1) {
    throw new ShapeError(
      `depthwise weight must be [${channels}, 1, kh, kw] for input ${formatShape(x.shape)}, got ${formatShape(weight.shape)} (use conv2d with group for channel multipliers)`,
    );
  }
  if ((params as Conv2dParams | undefined)?.group !== undefined) {
    throw new UsageError('depthwiseConv2d takes no group: it is always the number of channels');
  }
  const p = resolveConvParams({ ...params, group: channels === 0 ? 1 : channels });
  const g = conv2dGeometry(x.shape, weight.shape, p);
  const checkedBias = checkBias(bias, channels, 'depthwiseConv2d');
  const output = zerosFloat64(g.outputShape);
  const out = output.data;
  const input = x.data;
  const weights = weight.data;
  const kernelArea = g.kernelH * g.kernelW;

  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < channels; c++) {
      const plane = n * channels + c;
      const inBase = plane * g.height * g.width;
      const weightBase = c * kernelArea;
      for (let oh = 0; oh < g.outHeight; oh++) {
        for (let ow = 0; ow < g.outWidth; ow++) {
          let sum = 0;
          for (let i = 0; i < g.kernelH; i++) {
            const ih = oh * p.strideH + i * p.dilationH - p.padTop;
            if (ih < 0 || ih >= g.height) continue;
            for (let j = 0; j < g.kernelW; j++) {
              const iw = ow * p.strideW + j * p.dilationW - p.padLeft;
              if (iw < 0 || iw >= g.width) continue;
              sum += weights[weightBase + i * g.kernelW + j] * input[inBase + ih * g.width + iw];
            }
          }
          out[(plane * g.outHeight + oh) * g.outWidth + ow] = sum + (checkedBias ? checkedBias.data[c] : 0);
        }
      }
    }
  }
  return output;
}

/**
 * Point-wise conv (1x1 kernel, group 1, stride 1, no pads): per image, Y[M, H*W] = W[M, C] * X[C, H*W].
 * Accepts the ONNX weight [M, C, 1, 1] or the plain GEMM matrix [M, C].
 */
export function pointwiseConv2d(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor<Float64Array> {
  assertRank('pointwise input', x.shape, 4, 'N, C, H, W');
  const [batch, channels, height, width] = x.shape;
  const ws = weight.shape;
  const isMatrix = ws.length === 2;
  const isOnnxWeight = ws.length === 4 && ws[2] === 1 && ws[3] === 1;
  if ((!isMatrix && !isOnnxWeight) || ws[1] !== channels) {
    throw new ShapeError(
      `pointwise weight must be [M, ${channels}, 1, 1] or [M, ${channels}] for input ${formatShape(x.shape)}, got ${formatShape(ws)}`,
    );
  }
  const outChannels = ws[0];
  const checkedBias = checkBias(bias, outChannels, 'pointwiseConv2d');
  const plane = height * width;
  const output = zerosFloat64([batch, outChannels, height, width]);
  const out = output.data;
  const input = x.data;
  const weights = weight.data;

  for (let n = 0; n < batch; n++) {
    for (let m = 0; m < outChannels; m++) {
      const outBase = (n * outChannels + m) * plane;
      if (checkedBias) out.fill(checkedBias.data[m], outBase, outBase + plane);
      for (let c = 0; c < channels; c++) {
        const tap = weights[m * channels + c];
        const inBase = (n * channels + c) * plane;
        for (let position = 0; position < plane; position++) {
          out[outBase + position] += tap * input[inBase + position];
        }
      }
    }
  }
  return output;
}
