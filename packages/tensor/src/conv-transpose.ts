import { ShapeError, UsageError } from '@deprune/errors';
import { assertNonNegativeInteger, assertPositiveInteger, assertRank, formatShape, readPair } from './checks';
import { checkBias, resolveConvParams, validOutputRange, type ConvSizes, type ResolvedConvParams } from './conv';
import { zerosFloat64, type Tensor } from './tensor';

/**
 * Float64 reference ONNX `ConvTranspose`, NCHW, 2-D: weight [C_in, C_out/group, kh, kw], bias
 * [C_out]. Each input pixel (ih, iw) scatters `x * w` to output (ih*stride + i*dilation - padTop,
 * iw*stride + j*dilation - padLeft); explicit pads crop the full result. For `output_shape` and
 * `auto_pad`, resolve the pads first with `convTransposePadsForOutputShape`.
 */
export interface ConvTranspose2dParams {
  /** [strideH, strideW], default [1, 1]. */
  strides?: readonly [number, number];
  /** ONNX order [top, left, bottom, right], default [0, 0, 0, 0]: rows/columns cropped off the full output. */
  pads?: readonly [number, number, number, number];
  /** [dilationH, dilationW], default [1, 1]. */
  dilations?: readonly [number, number];
  /** Default 1. */
  group?: number;
  /** [h, w] extra rows/columns added at the bottom/right of the output, default [0, 0]; each must be < max(stride, dilation). */
  outputPadding?: readonly [number, number];
}

interface TransposeGeometry extends ConvSizes {
  p: ResolvedConvParams;
  outputPaddingH: number;
  outputPaddingW: number;
}

function readOutputPadding(params: ConvTranspose2dParams, p: ResolvedConvParams): [number, number] {
  const outputPadding = readPair('convTranspose2d outputPadding', params.outputPadding, 0);
  const limits = [Math.max(p.strideH, p.dilationH), Math.max(p.strideW, p.dilationW)];
  ['height', 'width'].forEach((axis, index) => {
    assertNonNegativeInteger(`convTranspose2d outputPadding[${index}] (${axis})`, outputPadding[index]);
    if (outputPadding[index] >= limits[index]) {
      throw new UsageError(
        `convTranspose2d outputPadding[${index}] (${axis}) is ${outputPadding[index]} but must be less than max(stride, dilation) = ${limits[index]}; a larger output needs pads or output_shape instead`,
      );
    }
  });
  return [outputPadding[0], outputPadding[1]];
}

/** Full (uncropped) output size along one axis: stride*(in-1) + outputPadding + dilation*(k-1) + 1. */
function fullOutputSize(input: number, kernel: number, stride: number, dilation: number, outputPadding: number): number {
  return stride * (input - 1) + outputPadding + dilation * (kernel - 1) + 1;
}

function transposeGeometry(xShape: readonly number[], weightShape: readonly number[], params: ConvTranspose2dParams = {}): TransposeGeometry {
  assertRank('convTranspose2d input', xShape, 4, 'N, C, H, W');
  assertRank('convTranspose2d weight', weightShape, 4, 'C_in, C_out/group, kh, kw');
  const p = resolveConvParams(params);
  const [outputPaddingH, outputPaddingW] = readOutputPadding(params, p);
  const [batch, inChannels, height, width] = xShape;
  const [weightInChannels, outPerGroup, kernelH, kernelW] = weightShape;
  if (weightInChannels !== inChannels) {
    throw new ShapeError(
      `convTranspose2d weight ${formatShape(weightShape)} must have ${inChannels} input channels first (C_in, C_out/group, kh, kw) for input ${formatShape(xShape)}, got ${weightInChannels}`,
    );
  }
  if (inChannels % p.group !== 0) {
    throw new ShapeError(`convTranspose2d input has ${inChannels} channels, which is not divisible by group ${p.group}`);
  }
  if (kernelH < 1 || kernelW < 1) {
    throw new ShapeError(`convTranspose2d weight ${formatShape(weightShape)} has an empty kernel`);
  }
  const outHeight = fullOutputSize(height, kernelH, p.strideH, p.dilationH, outputPaddingH) - p.padTop - p.padBottom;
  const outWidth = fullOutputSize(width, kernelW, p.strideW, p.dilationW, outputPaddingW) - p.padLeft - p.padRight;
  if (height < 1 || width < 1 || outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `convTranspose2d output would be ${outHeight}x${outWidth} for input ${formatShape(xShape)}, weight ${formatShape(weightShape)} and pads [${p.padTop}, ${p.padLeft}, ${p.padBottom}, ${p.padRight}]; the pads crop more than the full output (reduce them)`,
    );
  }
  return {
    p,
    outputPaddingH,
    outputPaddingW,
    batch,
    inChannels,
    height,
    width,
    outChannels: outPerGroup * p.group,
    kernelH,
    kernelW,
    outHeight,
    outWidth,
  };
}

/** [N, C_out, Ho, Wo] with Ho = stride*(H-1) + outputPadding + dilation*(kh-1) + 1 - padTop - padBottom. */
export function convTranspose2dOutputShape(
  xShape: readonly number[],
  weightShape: readonly number[],
  params?: ConvTranspose2dParams,
): [number, number, number, number] {
  const g = transposeGeometry(xShape, weightShape, params);
  return [g.batch, g.outChannels, g.outHeight, g.outWidth];
}

/**
 * ONNX ConvTranspose. Loops tap-major like conv2d: for each (input channel, output channel of its
 * group, tap) the valid input range is clipped up front so the inner loop has no branches.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, params?: ConvTranspose2dParams): Tensor<Float64Array> {
  const g = transposeGeometry(x.shape, weight.shape, params);
  const { p } = g;
  const checkedBias = checkBias(bias, g.outChannels, 'convTranspose2d');
  const output = zerosFloat64([g.batch, g.outChannels, g.outHeight, g.outWidth]);
  const out = output.data;
  const input = x.data;
  const weights = weight.data;
  const inPerGroup = g.inChannels / p.group;
  const outPerGroup = g.outChannels / p.group;
  const planeIn = g.height * g.width;
  const planeOut = g.outHeight * g.outWidth;
  const kernelArea = g.kernelH * g.kernelW;

  for (let n = 0; n < g.batch; n++) {
    if (checkedBias) {
      for (let m = 0; m < g.outChannels; m++) {
        const outBase = (n * g.outChannels + m) * planeOut;
        out.fill(checkedBias.data[m], outBase, outBase + planeOut);
      }
    }
    for (let c = 0; c < g.inChannels; c++) {
      const inBase = (n * g.inChannels + c) * planeIn;
      const firstOutChannel = Math.floor(c / inPerGroup) * outPerGroup;
      for (let mg = 0; mg < outPerGroup; mg++) {
        const outBase = (n * g.outChannels + firstOutChannel + mg) * planeOut;
        const weightBase = (c * outPerGroup + mg) * kernelArea;
        for (let i = 0; i < g.kernelH; i++) {
          const rowOffset = i * p.dilationH - p.padTop;
          // Input rows ih whose output row ih*stride + rowOffset lies in [0, outHeight).
          const [ihFirst, ihEnd] = validOutputRange(rowOffset, p.strideH, g.outHeight, g.height);
          for (let j = 0; j < g.kernelW; j++) {
            const tap = weights[weightBase + i * g.kernelW + j];
            const colOffset = j * p.dilationW - p.padLeft;
            const [iwFirst, iwEnd] = validOutputRange(colOffset, p.strideW, g.outWidth, g.width);
            for (let ih = ihFirst; ih < ihEnd; ih++) {
              const inRow = inBase + ih * g.width;
              const outRow = outBase + (ih * p.strideH + rowOffset) * g.outWidth + colOffset;
              for (let iw = iwFirst; iw < iwEnd; iw++) {
                out[outRow + iw * p.strideW] += tap * input[inRow + iw];
              }
            }
          }
        }
      }
    }
  }
  return output;
}

export type ConvTransposeAutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

export interface ConvTransposeOutputOptions {
  /** ONNX `output_shape`: the spatial output size [H, W] (not N and C). */
  outputShape?: readonly [number, number] | null;
  /** ONNX `auto_pad`, default 'NOTSET'. */
  autoPad?: ConvTransposeAutoPad;
}

/**
 * The explicit pads (and output padding) that ONNX ConvTranspose's `output_shape` or `auto_pad`
 * imply, as onnxruntime 1.30 resolves them; pass the result to `convTranspose2d` /
 * `convTranspose2dOutputShape` to get ORT's output. `params.pads` is ignored whenever
 * `outputShape` is given or `autoPad` is not 'NOTSET'.
 *
 * - target size: `outputShape` if given; else for SAME_UPPER/SAME_LOWER `input * stride`; VALID
 *   and NOTSET keep the full size (VALID with pads 0, NOTSET with `params.pads`);
 * - total padding = full size (with `params.outputPadding`) - target, split so the odd row goes
 *   at the end for SAME_UPPER and at the beginning otherwise (NOTSET, SAME_LOWER, VALID);
 * - an `outputShape` larger than the full size adds the difference to the output padding (rows
 *   at the end), which must stay below max(stride, dilation), as onnxruntime requires; a SAME
 *   target larger than the full size (a kernel smaller than the stride) keeps the full size.
 */
export function convTransposePadsForOutputShape(
  xShape: readonly number[],
  weightShape: readonly number[],
  params: ConvTranspose2dParams = {},
  options: ConvTransposeOutputOptions = {},
): ConvTranspose2dParams & { pads: [number, number, number, number]; outputPadding: [number, number] } {
  const autoPad = options.autoPad ?? 'NOTSET';
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new UsageError(`convTranspose autoPad must be 'NOTSET', 'SAME_UPPER', 'SAME_LOWER' or 'VALID', got ${JSON.stringify(autoPad)}`);
  }
  const outputShape = options.outputShape ?? null;
  if (outputShape !== null && (!Array.isArray(outputShape) || outputShape.length !== 2)) {
    throw new UsageError(`convTranspose outputShape must be the spatial size [H, W], got ${JSON.stringify(outputShape)}`);
  }
  if (outputShape === null && autoPad === 'NOTSET') {
    const g = transposeGeometry(xShape, weightShape, params);
    const { p } = g;
    return { ...params, pads: [p.padTop, p.padLeft, p.padBottom, p.padRight], outputPadding: [g.outputPaddingH, g.outputPaddingW] };
  }
  // Validates the shapes and the attributes, with the pads set aside: they are recomputed.
  const g = transposeGeometry(xShape, weightShape, { ...params, pads: [0, 0, 0, 0] });
  const { p } = g;
  const given: [number, number] = [g.outputPaddingH, g.outputPaddingW];
  if (outputShape === null && autoPad === 'VALID') return { ...params, pads: [0, 0, 0, 0], outputPadding: given };
  const axes = [
    { name: 'height', input: g.height, full: g.outHeight, stride: p.strideH, dilation: p.dilationH },
    { name: 'width', input: g.width, full: g.outWidth, stride: p.strideW, dilation: p.dilationW },
  ];
  const begin = [0, 0];
  const end = [0, 0];
  const outputPadding: [number, number] = [...given];
  axes.forEach((axis, index) => {
    const target = outputShape === null ? axis.input * axis.stride : outputShape[index];
    assertPositiveInteger(`convTranspose outputShape[${index}] (${axis.name})`, target);
    const total = axis.full - target;
    if (total < 0 && outputShape === null) return; // SAME never grows the output: onnxruntime keeps the full size
    if (total < 0) {
      outputPadding[index] -= total;
      const limit = Math.max(axis.stride, axis.dilation);
      if (outputPadding[index] >= limit) {
        throw new ShapeError(
          `convTranspose ${axis.name}: output size ${target} is ${-total} more than the full output ${axis.full} of input ${formatShape(xShape)}; at most ${limit - 1 - given[index]} more fits (output padding < max(stride, dilation) = ${limit})`,
        );
      }
      return;
    }
    const half = Math.floor(total / 2);
    begin[index] = autoPad === 'SAME_UPPER' ? half : total - half;
    end[index] = total - begin[index];
  });
  return { ...params, pads: [begin[0], begin[1], end[0], end[1]], outputPadding };
}
