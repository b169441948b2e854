import { resolveAutoPads, windowGeometry } from '@deprune/onnx';
import type { NodeContext } from '../context';

/**
 * Window geometry of ConvTranspose and pooling nodes, as 2-D attributes for the kernels: a 1-D
 * node gets a height-1 window (its input runs as [N, C, 1, L]), auto_pad and output_shape become
 * explicit pads.
 */

type Pair = readonly [number, number];
type Quad = readonly [number, number, number, number];

function spatialRankOf(ctx: NodeContext, rank: number): 1 | 2 {
  if (rank === 3) return 1;
  if (rank === 4) return 2;
  throw ctx.unsupported(`on a rank-${rank} input: only 1-D and 2-D (rank 3 and 4) windows run here`);
}

/** A per-axis list as [h, w]; a 1-D list gets `fill` for the missing height. */
function pair(values: readonly number[], spatial: 1 | 2, fill: number): Pair {
  return spatial === 2 ? [values[0], values[1]] : [fill, values[0]];
}

/** ONNX pads [begin..., end...] as [top, left, bottom, right]. */
function quad(pads: readonly number[], spatial: 1 | 2): Quad {
  return spatial === 2 ? [pads[0], pads[1], pads[2], pads[3]] : [0, pads[0], 0, pads[1]];
}

export interface ConvTransposeGeometry {
  group: number;
  strides: Pair;
  pads: Quad;
  dilations: Pair;
  outputPadding: Pair;
}

/**
 * ConvTranspose attributes. With output_shape or auto_pad SAME_*, the pads are what ONNX implies
 * for the output size shape inference found: total = stride * (in - 1) + output_padding +
 * (k - 1) * dilation + 1 - out, split with the larger half at the end for SAME_UPPER and at the
 * beginning otherwise (the ONNX spec's rule).
 */
export function convTransposeGeometry(ctx: NodeContext, weightShape: readonly number[]): ConvTransposeGeometry {
  const inputShape = ctx.shape(0);
  const spatial = spatialRankOf(ctx, inputShape.length);
  if (spatial !== 2) throw ctx.unsupported('1-D transposed convs are not supported yet');
  const geometry = windowGeometry(ctx.node, ctx.ints('kernel_shape') ?? weightShape.slice(2));
  const outputPadding = ctx.ints('output_padding') ?? [0, 0];
  let pads = geometry.pads;
  const autoPad = geometry.autoPad;
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (ctx.ints('output_shape') !== undefined || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const outputShape = ctx.outputShape();
    pads = [0, 0, 0, 0];
    for (let axis = 0; axis < 2; axis++) {
      const span = (geometry.kernel[axis] - 1) * geometry.dilations[axis] + 1;
      const total = geometry.strides[axis] * (inputShape[2 + axis] - 1) + outputPadding[axis] + span - outputShape[2 + axis];
      const half = Math.floor(total / 2);
      pads[axis] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[axis + 2] = total - pads[axis];
    }
  }
  return {
    group: ctx.int('group', 1),
    strides: pair(geometry.strides, 2, 1),
    pads: quad(pads, 2),
    dilations: pair(geometry.dilations, 2, 1),
    outputPadding: pair(outputPadding, 2, 0),
  };
}

export interface PoolGeometry {
  kernel: Pair;
  strides: Pair;
  pads: Quad;
  dilations: Pair;
  ceilMode: boolean;
  countIncludePad: boolean;
}

/** MaxPool / AveragePool attributes with auto_pad resolved against the input size. */
export function poolGeometry(ctx: NodeContext): PoolGeometry {
  const inputShape = ctx.shape(0);
  const spatial = spatialRankOf(ctx, inputShape.length);
  const kernel = ctx.ints('kernel_shape');
  if (kernel === undefined || kernel.length !== spatial) throw ctx.error(`needs kernel_shape with ${spatial} values, got ${JSON.stringify(kernel)}`);
  const geometry = windowGeometry(ctx.node, kernel);
  const pads = resolveAutoPads(inputShape.slice(2), geometry);
  return {
    kernel: pair(geometry.kernel, spatial, 1),
    strides: pair(geometry.strides, spatial, 1),
    pads: quad(pads, spatial),
    dilations: pair(geometry.dilations, spatial, 1),
    ceilMode: ctx.int('ceil_mode', 0) === 1,
    countIncludePad: ctx.int('count_include_pad', 0) === 1,
  };
}
