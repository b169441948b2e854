/** Shape rules of convolution and pooling: output sizes from kernel, strides, pads and dilations. */
import { intsAttribute, stringAttribute } from '../attributes';
import { DataType, type NodeProto } from '../proto';
import { OpContext, type Rule, formatShape } from './context';

export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin..., end...] as ONNX stores them. */
  pads: number[];
  autoPad: string;
}

/**
 * Output length of one spatial axis of a conv/pool window (ONNX semantics; pooling's
 * ceil_mode drops a last window that would start inside the end padding, as onnxruntime does).
 */
export function windowOutputSize(
  input: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  autoPad: string,
  ceilMode = false,
): number {
  const span = (kernel - 1) * dilation + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  if (autoPad === 'VALID') return Math.floor((input - span) / stride) + 1;
  const numerator = input + padBegin + padEnd - span;
  if (!ceilMode) return Math.floor(numerator / stride) + 1;
  let out = Math.ceil(numerator / stride) + 1;
  if ((out - 1) * stride >= input + padBegin) out -= 1;
  return out;
}

/** The explicit [begin..., end...] pads a window uses once auto_pad is resolved against the input size. */
export function resolveAutoPads(
  inputSpatial: readonly number[] | undefined,
  geometry: WindowGeometry,
): number[] {
  const { kernel, strides, dilations, autoPad } = geometry;
  const n = kernel.length;
  if (autoPad === 'VALID') return new Array<number>(2 * n).fill(0);
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') return geometry.pads;
  const pads = new Array<number>(2 * n).fill(0);
  for (let i = 0; i < n; i++) {
    const span = (kernel[i] - 1) * dilations[i] + 1;
    // Without the input size, assume it divides by the stride (exact for stride 1).
    const total = inputSpatial
      ? Math.max((Math.ceil(inputSpatial[i] / strides[i]) - 1) * strides[i] + span - inputSpatial[i], 0)
      : Math.max(span - strides[i], 0);
    const small = Math.floor(total / 2);
    pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
    pads[i + n] = total - pads[i];
  }
  return pads;
}

/** Reads kernel/strides/dilations/pads/auto_pad of a Conv, ConvTranspose or pool node. */
export function windowGeometry(node: NodeProto, kernel: readonly number[]): WindowGeometry {
  const n = kernel.length;
  const ones = new Array<number>(n).fill(1);
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  return {
    kernel: [...kernel],
    strides: intsAttribute(node, 'strides') ?? ones,
    dilations: intsAttribute(node, 'dilations') ?? ones,
    pads: intsAttribute(node, 'pads') ?? new Array<number>(2 * n).fill(0),
    autoPad,
  };
}

function checkGeometry(ctx: OpContext, geometry: WindowGeometry, spatialRank: number): void {
  const { kernel, strides, dilations, pads } = geometry;
  if (kernel.length !== spatialRank || strides.length !== spatialRank || dilations.length !== spatialRank || pads.length !== 2 * spatialRank) {
    ctx.fail(`kernel/strides/dilations/pads do not match the ${spatialRank} spatial axes of the input`);
  }
}

export const conv: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  if (x.length < 3 || w.length !== x.length) ctx.fail(`input ${formatShape(x)} and weight ${formatShape(w)} do not fit a convolution`);
  const group = ctx.int('group', 1);
  if (x[1] !== w[1] * group) {
    ctx.fail(`input has ${x[1]} channels but the weight ${formatShape(w)} with group ${group} expects ${w[1] * group}`);
  }
  const geometry = windowGeometry(ctx.node, ctx.ints('kernel_shape') ?? w.slice(2));
  checkGeometry(ctx, geometry, x.length - 2);
  const spatial = x.slice(2).map((size, i) =>
    windowOutputSize(size, geometry.kernel[i], geometry.strides[i], geometry.dilations[i], geometry.pads[i], geometry.pads[i + x.length - 2], geometry.autoPad),
  );
  if (spatial.some((size) => size <= 0)) ctx.fail(`input ${formatShape(x)} is smaller than the kernel`);
  ctx.set(0, [x[0], w[0], ...spatial]);
};

export const convTranspose: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  if (x.length < 3 || w.length !== x.length) ctx.fail(`input ${formatShape(x)} and weight ${formatShape(w)} do not fit a transposed convolution`);
  const group = ctx.int('group', 1);
  if (x[1] !== w[0]) ctx.fail(`input has ${x[1]} channels but the weight ${formatShape(w)} expects ${w[0]}`);
  const n = x.length - 2;
  const geometry = windowGeometry(ctx.node, ctx.ints('kernel_shape') ?? w.slice(2));
  checkGeometry(ctx, geometry, n);
  const outputPadding = ctx.ints('output_padding') ?? new Array<number>(n).fill(0);
  const outputShape = ctx.ints('output_shape');
  let spatial: number[];
  if (outputShape && outputShape.length > 0) {
    spatial = outputShape.length === n + 2 ? outputShape.slice(2) : outputShape;
    if (spatial.length !== n) ctx.fail(`output_shape ${formatShape(outputShape)} does not match ${n} spatial axes`);
  } else {
    spatial = x.slice(2).map((size, i) => {
      if (geometry.autoPad === 'SAME_UPPER' || geometry.autoPad === 'SAME_LOWER') return size * geometry.strides[i];
      const pads = geometry.autoPad === 'VALID' ? [0, 0] : [geometry.pads[i], geometry.pads[i + n]];
      const span = (geometry.kernel[i] - 1) * geometry.dilations[i] + 1;
      return geometry.strides[i] * (size - 1) + outputPadding[i] + span - pads[0] - pads[1];
    });
  }
  ctx.set(0, [x[0], w[1] * group, ...spatial]);
};

export function poolRule(hasDilations: boolean): Rule {
  return (ctx: OpContext) => {
    const x = ctx.shape(0);
    const kernel = ctx.ints('kernel_shape');
    if (!kernel) ctx.fail('kernel_shape is missing');
    if (x.length !== kernel.length + 2) ctx.fail(`input ${formatShape(x)} does not fit a ${kernel.length}-D pooling window`);
    const geometry = windowGeometry(ctx.node, kernel);
    if (!hasDilations) geometry.dilations = new Array<number>(kernel.length).fill(1);
    checkGeometry(ctx, geometry, kernel.length);
    const ceilMode = ctx.int('ceil_mode', 0) === 1;
    const n = kernel.length;
    const spatial = x.slice(2).map((size, i) =>
      windowOutputSize(size, kernel[i], geometry.strides[i], geometry.dilations[i], geometry.pads[i], geometry.pads[i + n], geometry.autoPad, ceilMode),
    );
    if (spatial.some((size) => size <= 0)) ctx.fail(`input ${formatShape(x)} is smaller than the pooling window`);
    ctx.set(0, [x[0], x[1], ...spatial]);
    ctx.set(1, [x[0], x[1], ...spatial], undefined, DataType.INT64);
  };
}

export const globalPool: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  if (x.length < 3) ctx.fail(`input ${formatShape(x)} has no spatial axes`);
  ctx.set(0, [x[0], x[1], ...x.slice(2).map(() => 1)]);
};
