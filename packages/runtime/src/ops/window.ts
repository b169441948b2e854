import { resolveAutoPads, windowGeometry } from '@deprune/onnx';
import { convTransposePadsForOutputShape, type ConvTranspose2dParams, type ConvTransposeAutoPad } from '@deprune/tensor';
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

/**
 * ConvTranspose attributes as explicit 2-D params: with output_shape or auto_pad, the pads and
 * output padding onnxruntime derives (@deprune/tensor's convTransposePadsForOutputShape).
 */
export function convTransposeGeometry(ctx: NodeContext, weightShape: readonly number[]): ConvTranspose2dParams & { group: number } {
  const inputShape = ctx.shape(0);
  if (spatialRankOf(ctx, inputShape.length) !== 2) throw ctx.unsupported('1-D transposed convs are not supported yet');
  const geometry = windowGeometry(ctx.node, ctx.ints('kernel_shape') ?? weightShape.slice(2));
  const outputShape = ctx.ints('output_shape');
  const autoPad = geometry.autoPad as ConvTransposeAutoPad;
  const group = ctx.int('group', 1);
  const params = convTransposePadsForOutputShape(
    inputShape,
    weightShape,
    {
      group,
      strides: pair(geometry.strides, 2, 1),
      dilations: pair(geometry.dilations, 2, 1),
      pads: quad(geometry.pads, 2),
      outputPadding: pair(ctx.ints('output_padding') ?? [0, 0], 2, 0),
    },
    { outputShape: outputShape === undefined ? null : [outputShape[outputShape.length - 2], outputShape[outputShape.length - 1]], autoPad },
  );
  return { ...params, group };
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
