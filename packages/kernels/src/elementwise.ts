import { ShapeError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { Activation } from './activation';

/** ONNX binary operators the `binary` kernel computes (comparisons give 1 or 0). */
export const BINARY_OPS = Object.freeze({
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  max: 5,
  min: 6,
  prelu: 7,
  equal: 8,
  less: 9,
  greater: 10,
  lessOrEqual: 11,
  greaterOrEqual: 12,
});

/**
 * Element-wise kernels: one input (`unary`) or two broadcast inputs (`binary`), each with the fused
 * epilogue, so `Add -> Relu` or `Mul -> HardSigmoid` is one kernel. Every shape is first collapsed
 * on the host to at most 4 axes (adjacent axes merge when every input broadcasts them alike). The
 * output keeps the collapsed tensor's memory order (row-major, D3 fastest), so the host reads it
 * back as is; `binaryOutputDims` says why its gpu.js dims are [D3, 1, D0*D1*D2].
 */

export type BinaryOp = keyof typeof BINARY_OPS;

/** ONNX unary operators the `unary` kernel computes before the fused epilogue; `identity` leaves only the epilogue. */
export const UNARY_OPS = Object.freeze({
  identity: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  abs: 4,
  neg: 5,
  reciprocal: 6,
  tanh: 7,
  leakyRelu: 8,
  elu: 9,
  softplus: 10,
  floor: 11,
  ceil: 12,
  erf: 13,
  sign: 14,
  not: 15,
});

export type UnaryOp = keyof typeof UNARY_OPS;

export interface ElementwiseAttrs {
  /** Fused epilogue after the operator. Default none. */
  activation?: Activation;
}

export interface UnaryAttrs extends ElementwiseAttrs {
  /** The operator's parameter: LeakyRelu's and Elu's alpha (defaults 0.01 and 1). */
  alpha?: number;
}

/** y = activation(op(x)), same shape as x. */
export type UnaryFn = (x: Tensor, op: UnaryOp, attrs?: UnaryAttrs) => Promise<Tensor<Float32Array>>;

/** y = activation(a op b) with numpy broadcasting of a and b. */
export type BinaryFn = (a: Tensor, b: Tensor, op: BinaryOp, attrs?: ElementwiseAttrs) => Promise<Tensor<Float32Array>>;

/** At most this many axes after collapsing; the kernel's index math is written for 4. */
export const MAX_COLLAPSED_RANK = 4;

export interface CollapsedBroadcast {
  outputShape: number[];
  /** The collapsed output dims, padded at the front to 4: [D0, D1, D2, D3]. */
  dims: [number, number, number, number];
  /** Per input: its element strides over the 4 collapsed dims (0 where it is broadcast). */
  strides: [number, number, number, number][];
}

/** Numpy broadcast of several shapes; a ShapeError naming them when they do not broadcast. */
export function broadcastOutputShape(shapes: readonly (readonly number[])[], op: string): number[] {
  const rank = Math.max(0, ...shapes.map((shape) => shape.length));
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    for (let axis = 0; axis < shape.length; axis++) {
      const at = rank - shape.length + axis;
      const dim = shape[axis];
      if (dim === out[at] || dim === 1) continue;
      if (out[at] !== 1) {
        throw new ShapeError(`${op}: shapes ${shapes.map((each) => `[${each.join(', ')}]`).join(' and ')} do not broadcast (axis ${at}: ${out[at]} vs ${dim})`);
      }
      out[at] = dim;
    }
  }
  return out;
}

/**
 * The broadcast of `shapes`, with adjacent axes merged while every input treats them alike (both
 * broadcast, or both full). [1, C, H, W] + [1, C, 1, 1] becomes [C, H*W] + [C, 1]; equal shapes
 * become one axis. A ShapeError past MAX_COLLAPSED_RANK axes (a 5-D broadcast that alternates
 * patterns on every axis, which no CNN we know of produces): callers may fall back to the host.
 */
export function collapseBroadcast(shapes: readonly (readonly number[])[], op: string): CollapsedBroadcast {
  const outputShape = broadcastOutputShape(shapes, op);
  const rank = outputShape.length;
  const padded = shapes.map((shape) => [...new Array<number>(rank - shape.length).fill(1), ...shape]);
  // Drop output axes of size 1: they index nothing.
  const axes = outputShape.map((_, axis) => axis).filter((axis) => outputShape[axis] !== 1);
  const groups: { size: number; full: boolean[] }[] = [];
  for (const axis of axes) {
    const full = padded.map((shape) => shape[axis] !== 1);
    const last = groups[groups.length - 1];
    if (last !== undefined && last.full.every((value, input) => value === full[input])) last.size *= outputShape[axis];
    else groups.push({ size: outputShape[axis], full });
  }
  if (groups.length > MAX_COLLAPSED_RANK) {
    throw new ShapeError(`${op}: broadcasting ${shapes.map((each) => `[${each.join(', ')}]`).join(' and ')} needs ${groups.length} index axes; the element-wise kernels handle ${MAX_COLLAPSED_RANK}`);
  }
  while (groups.length < MAX_COLLAPSED_RANK) groups.unshift({ size: 1, full: shapes.map(() => false) });
  const dims = groups.map((group) => group.size) as [number, number, number, number];
  const strides = shapes.map((_, input) => {
    const result = [0, 0, 0, 0] as [number, number, number, number];
    let stride = 1;
    for (let axis = MAX_COLLAPSED_RANK - 1; axis >= 0; axis--) {
      if (groups[axis].full[input]) {
        result[axis] = stride;
        stride *= groups[axis].size;
      }
    }
    return result;
  });
  return { outputShape, dims, strides };
}
