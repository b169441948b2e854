/**
 * Per-operator shape rules for static shape inference (see shapes.ts). Each rule reads
 * its inputs' shapes (and, for shape operands, their known values) from an OpContext
 * and sets its outputs; anything it cannot decide ends in `ctx.fail(reason)`, which the
 * engine records as unresolved without stopping the rest of the graph.
 */
import { floatAttribute, floatsAttribute, hasAttribute, intAttribute, intsAttribute, stringAttribute, tensorAttribute } from './attributes';
import { DataType, type NodeProto } from './proto';
import { decodeNumericTensor, tensorDims } from './tensor-proto';
import {
  broadcastShapes,
  concatValues,
  elementCount,
  gatherValues,
  mapBroadcast,
  sliceValues,
  tileValues,
  transposeValues,
} from './small-tensor';

/** Tensors with at most this many elements have their values tracked. */
export const MAX_VALUE_ELEMENTS = 1024;

/**
 * Inferred values with more elements are refused (the node stays unresolved, with the reason): no
 * typed array or texture holds them, and a model asking for one (a pad of 10^9) kept the runtime
 * busy for minutes where it should have said no. The same bound as the CLI's input shapes.
 */
export const MAX_INFERRED_ELEMENTS = 2 ** 31;

export class Unresolvable extends Error {}

export interface ShapeState {
  readonly shapes: Map<string, number[]>;
  readonly values: Map<string, number[]>;
  readonly types: Map<string, number>;
}

const INTEGER_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

export function isIntegerType(type: number | undefined): boolean {
  return type !== undefined && INTEGER_TYPES.has(type);
}

export class OpContext {
  constructor(
    readonly node: NodeProto,
    readonly opset: number,
    private readonly state: ShapeState,
  ) {}

  fail(reason: string): never {
    throw new Unresolvable(reason);
  }

  name(index: number): string {
    return this.node.input?.[index] ?? '';
  }

  /** True when optional input `index` is present (not omitted, not ''). */
  has(index: number): boolean {
    return this.name(index) !== '';
  }

  get inputCount(): number {
    return (this.node.input ?? []).length;
  }

  shape(index: number): number[] {
    const name = this.name(index);
    if (!name) this.fail(`input #${index} is missing`);
    const shape = this.state.shapes.get(name);
    if (!shape) this.fail(`input '${name}' has no inferred shape`);
    return shape;
  }

  rank(index: number): number {
    return this.shape(index).length;
  }

  value(index: number): number[] | undefined {
    const name = this.name(index);
    return name ? this.state.values.get(name) : undefined;
  }

  /** A shape operand's values; failing names the input so the user sees what was dynamic. */
  needValue(index: number, what: string): number[] {
    const value = this.value(index);
    if (!value) this.fail(`${what} ('${this.name(index)}') is computed at run time from values that cannot be inferred statically`);
    return value;
  }

  type(index: number): number | undefined {
    const name = this.name(index);
    return name ? this.state.types.get(name) : undefined;
  }

  int(name: string, fallback: number): number {
    return intAttribute(this.node, name, fallback);
  }

  ints(name: string): number[] | undefined {
    return intsAttribute(this.node, name);
  }

  float(name: string, fallback: number): number {
    return floatAttribute(this.node, name, fallback);
  }

  str(name: string, fallback: string): string {
    return stringAttribute(this.node, name, fallback);
  }

  /** Sets output `index` (skipped when the node does not name it). */
  set(index: number, shape: readonly number[], value?: readonly number[], type?: number): void {
    const name = this.node.output?.[index];
    if (!name) return;
    if (shape.some((dim) => !Number.isInteger(dim) || dim < 0)) this.fail(`computed an invalid output shape [${shape.join(', ')}]`);
    if (elementCount(shape) > MAX_INFERRED_ELEMENTS) this.fail(`output [${shape.join(', ')}] would have ${elementCount(shape)} elements, over the limit of 2^31`);
    this.state.shapes.set(name, [...shape]);
    const outType = type ?? this.type(0);
    if (outType !== undefined) this.state.types.set(name, outType);
    if (value && value.length === elementCount(shape) && value.length <= MAX_VALUE_ELEMENTS) this.state.values.set(name, [...value]);
  }
}

type Rule = (ctx: OpContext) => void;

function normalizeAxis(ctx: OpContext, axis: number, rank: number): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return normalized;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------- element-wise

const unaryValueFns: Partial<Record<string, (x: number) => number>> = {
  Identity: (x) => x,
  Neg: (x) => -x,
  Abs: (x) => Math.abs(x),
  Floor: (x) => Math.floor(x),
  Ceil: (x) => Math.ceil(x),
  Sqrt: (x) => Math.sqrt(x),
  Reciprocal: (x) => 1 / x,
  Relu: (x) => Math.max(0, x),
  Sign: (x) => Math.sign(x),
  Not: (x) => (x ? 0 : 1),
  Exp: (x) => Math.exp(x),
  Log: (x) => Math.log(x),
  // ONNX Round is round-half-to-even.
  Round: (x) => {
    const floor = Math.floor(x);
    const diff = x - floor;
    if (diff !== 0.5) return Math.round(x);
    return floor % 2 === 0 ? floor : floor + 1;
  },
};

const UNARY_OPS = [
  'Relu', 'Clip', 'HardSigmoid', 'HardSwish', 'Sigmoid', 'Tanh', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Erf', 'Identity',
  'Softmax', 'LogSoftmax', 'Hardmax', 'LeakyRelu', 'Floor', 'Ceil', 'Reciprocal', 'Round', 'Sign', 'Not', 'Elu', 'Selu',
  'Celu', 'Softplus', 'Softsign', 'Mish', 'Gelu', 'ThresholdedRelu', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh',
  'Cosh', 'Asinh', 'Acosh', 'Atanh', 'IsNaN', 'IsInf', 'Shrink', 'CumSum', 'Trilu', 'LpNormalization',
  'InstanceNormalization', 'MeanVarianceNormalization', 'QuantizeLinear', 'DequantizeLinear', 'LRN',
  'ScatterND', 'ScatterElements', 'Scatter', 'BitwiseNot',
];

const BOOL_RESULT_OPS = new Set(['IsNaN', 'IsInf', 'Not', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

function unaryRule(op: string): Rule {
  const fn = unaryValueFns[op];
  return (ctx: OpContext) => {
    const shape = ctx.shape(0);
    const input = ctx.value(0);
    const value = fn && input ? input.map(fn) : undefined;
    ctx.set(0, shape, value, BOOL_RESULT_OPS.has(op) ? DataType.BOOL : undefined);
  };
}

function truncDiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

function binaryValueFn(op: string, integer: boolean, ctx: OpContext): ((...xs: number[]) => number) | undefined {
  switch (op) {
    case 'Add': return (a, b) => a + b;
    case 'Sub': return (a, b) => a - b;
    case 'Mul': return (a, b) => a * b;
    case 'Div': return integer ? truncDiv : (a, b) => a / b;
    case 'Pow': return (a, b) => a ** b;
    case 'Mod':
      return ctx.int('fmod', 0) ? (a, b) => a % b : (a, b) => ((a % b) + b) % b;
    case 'Max': return (...xs) => Math.max(...xs);
    case 'Min': return (...xs) => Math.min(...xs);
    case 'Sum': return (...xs) => xs.reduce((s, x) => s + x, 0);
    case 'Mean': return (...xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
    case 'Equal': return (a, b) => (a === b ? 1 : 0);
    case 'Less': return (a, b) => (a < b ? 1 : 0);
    case 'Greater': return (a, b) => (a > b ? 1 : 0);
    case 'LessOrEqual': return (a, b) => (a <= b ? 1 : 0);
    case 'GreaterOrEqual': return (a, b) => (a >= b ? 1 : 0);
    case 'And': return (a, b) => (a && b ? 1 : 0);
    case 'Or': return (a, b) => (a || b ? 1 : 0);
    case 'Xor': return (a, b) => (!a !== !b ? 1 : 0);
    case 'Where': return (c, x, y) => (c ? x : y);
    default: return undefined;
  }
}

const BROADCAST_OPS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater', 'LessOrEqual',
  'GreaterOrEqual', 'And', 'Or', 'Xor', 'PRelu', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'Where',
];

function broadcastRule(op: string): Rule {
  return (ctx: OpContext) => {
    const inputs = (ctx.node.input ?? []).map((_, i) => i).filter((i) => ctx.has(i));
    const shapes = inputs.map((i) => ctx.shape(i));
    const out = broadcastShapes(shapes);
    if (!out) ctx.fail(`input shapes ${shapes.map(formatShape).join(' and ')} do not broadcast`);
    // Where's result type is its x/y type; every other op's is its first input's (or bool).
    const type = BOOL_RESULT_OPS.has(op) ? DataType.BOOL : op === 'Where' ? ctx.type(1) : ctx.type(0);
    const fn = binaryValueFn(op, isIntegerType(type), ctx);
    let value: number[] | undefined;
    const values = inputs.map((i) => ctx.value(i));
    if (fn && values.every((v) => v !== undefined) && elementCount(out) <= MAX_VALUE_ELEMENTS) {
      value = mapBroadcast(out, inputs.map((_, k) => ({ shape: shapes[k], values: values[k]! })), fn);
    }
    ctx.set(0, out, value, type);
  };
}

// ---------------------------------------------------------------- convolution & pooling

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

const conv: Rule = (ctx: OpContext) => {
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

const convTranspose: Rule = (ctx: OpContext) => {
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

function poolRule(hasDilations: boolean): Rule {
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

const globalPool: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  if (x.length < 3) ctx.fail(`input ${formatShape(x)} has no spatial axes`);
  ctx.set(0, [x[0], x[1], ...x.slice(2).map(() => 1)]);
};

// ---------------------------------------------------------------- normalization

const batchNormalization: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  ctx.set(0, x);
  for (let i = 1; i < (ctx.node.output ?? []).length; i++) ctx.set(i, [x[1]]);
};

const layerNormalization: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', -1), x.length);
  ctx.set(0, x);
  const reduced = x.map((dim, i) => (i < axis ? dim : 1));
  ctx.set(1, reduced, undefined, DataType.FLOAT);
  ctx.set(2, reduced, undefined, DataType.FLOAT);
};

const dropout: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  ctx.set(0, x, ctx.value(0));
  ctx.set(1, x, undefined, DataType.BOOL);
};

const castRule: Rule = (ctx: OpContext) => {
  const to = ctx.int('to', DataType.FLOAT);
  const input = ctx.value(0);
  const value = input
    ? input.map((v) => (to === DataType.BOOL ? (v ? 1 : 0) : isIntegerType(to) ? Math.trunc(v) : v))
    : undefined;
  ctx.set(0, ctx.shape(0), value, to);
};

const castLike: Rule = (ctx: OpContext) => {
  const to = ctx.type(1);
  const input = ctx.value(0);
  const value = input && to !== undefined && isIntegerType(to) ? input.map(Math.trunc) : input;
  ctx.set(0, ctx.shape(0), value, to);
};

// ---------------------------------------------------------------- reductions

function reduceAxes(ctx: OpContext, rank: number): number[] | undefined {
  // ReduceSum moved axes to an input at opset 13, the other reductions at 18; accept either form.
  let axes: number[] | undefined;
  if (ctx.has(1)) axes = ctx.needValue(1, 'axes');
  else axes = ctx.ints('axes');
  if (!axes || axes.length === 0) {
    if (ctx.int('noop_with_empty_axes', 0) === 1) return [];
    return undefined;
  }
  return axes.map((axis) => normalizeAxis(ctx, axis, rank));
}

const reduceValueFns: Partial<Record<string, (xs: number[]) => number>> = {
  ReduceSum: (xs) => xs.reduce((s, x) => s + x, 0),
  ReduceProd: (xs) => xs.reduce((s, x) => s * x, 1),
  ReduceMax: (xs) => Math.max(...xs),
  ReduceMin: (xs) => Math.min(...xs),
};

function reduceRule(op: string): Rule {
  return (ctx: OpContext) => {
    const x = ctx.shape(0);
    const axes = reduceAxes(ctx, x.length) ?? x.map((_, i) => i);
    const keep = ctx.int('keepdims', 1) === 1;
    const out: number[] = [];
    x.forEach((dim, i) => {
      if (!axes.includes(i)) out.push(dim);
      else if (keep) out.push(1);
    });
    // Values only for whole-tensor reductions of 1-D shape vectors (ReduceProd of a Shape).
    const input = ctx.value(0);
    const fn = reduceValueFns[op];
    const value = fn && input && x.length <= 1 && axes.length === x.length ? [fn(input)] : undefined;
    ctx.set(0, out, value);
  };
}

const argReduce: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), x.length);
  const keep = ctx.int('keepdims', 1) === 1;
  const out = keep ? x.map((dim, i) => (i === axis ? 1 : dim)) : x.filter((_, i) => i !== axis);
  ctx.set(0, out, undefined, DataType.INT64);
};

// ---------------------------------------------------------------- shape manipulation

const flatten: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = ctx.int('axis', 1);
  const a = axis < 0 ? axis + x.length : axis;
  if (a < 0 || a > x.length) ctx.fail(`axis ${axis} is out of range for rank ${x.length}`);
  ctx.set(0, [elementCount(x.slice(0, a)), elementCount(x.slice(a))], ctx.value(0));
};

const reshape: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const target = ctx.opset < 5 || !ctx.has(1) ? ctx.ints('shape') : ctx.needValue(1, 'the target shape');
  if (!target) ctx.fail('no target shape');
  const allowZero = ctx.int('allowzero', 0) === 1;
  const out = target.map((dim, i) => {
    if (dim === 0 && !allowZero) {
      if (i >= x.length) ctx.fail(`target shape ${formatShape(target)} copies axis ${i} that the input ${formatShape(x)} does not have`);
      return x[i];
    }
    return dim;
  });
  const inferred = out.filter((dim) => dim === -1).length;
  if (inferred > 1) ctx.fail(`target shape ${formatShape(target)} has more than one -1`);
  const total = elementCount(x);
  if (inferred === 1) {
    const known = elementCount(out.filter((dim) => dim !== -1));
    if (known === 0 || total % known !== 0) ctx.fail(`cannot reshape ${formatShape(x)} to ${formatShape(target)}`);
    out[out.indexOf(-1)] = total / known;
  }
  if (out.some((dim) => dim < 0)) ctx.fail(`invalid target shape ${formatShape(target)}`);
  if (elementCount(out) !== total) ctx.fail(`cannot reshape ${formatShape(x)} (${total} elements) to ${formatShape(out)}`);
  ctx.set(0, out, ctx.value(0));
};

const transpose: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const perm = ctx.ints('perm') ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(`perm ${formatShape(perm)} is not a permutation of the ${x.length} input axes`);
  }
  const out = perm.map((p) => x[p]);
  const input = ctx.value(0);
  ctx.set(0, out, input ? transposeValues({ shape: x, values: input }, perm, out) : undefined);
};

function axesOperand(ctx: OpContext): number[] | undefined {
  if (ctx.opset >= 13 && ctx.has(1)) return ctx.needValue(1, 'axes');
  return ctx.ints('axes');
}

const squeeze: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axes = axesOperand(ctx);
  let out: number[];
  if (!axes || axes.length === 0) out = x.filter((dim) => dim !== 1);
  else {
    const normalized = axes.map((axis) => normalizeAxis(ctx, axis, x.length));
    for (const axis of normalized) if (x[axis] !== 1) ctx.fail(`cannot squeeze axis ${axis} of size ${x[axis]}`);
    out = x.filter((_, i) => !normalized.includes(i));
  }
  ctx.set(0, out, ctx.value(0));
};

const unsqueeze: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axes = axesOperand(ctx);
  if (!axes) ctx.fail('axes are missing');
  const rank = x.length + axes.length;
  const normalized = axes.map((axis) => normalizeAxis(ctx, axis, rank));
  if (new Set(normalized).size !== normalized.length) ctx.fail(`axes ${formatShape(axes)} repeat an axis`);
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(normalized.includes(i) ? 1 : x[next++]);
  ctx.set(0, out, ctx.value(0));
};

const concat: Rule = (ctx: OpContext) => {
  const indices = (ctx.node.input ?? []).map((_, i) => i).filter((i) => ctx.has(i));
  const shapes = indices.map((i) => ctx.shape(i));
  if (shapes.length === 0) ctx.fail('no inputs');
  const rank = shapes[0].length;
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), rank);
  const out = [...shapes[0]];
  out[axis] = 0;
  for (const shape of shapes) {
    if (shape.length !== rank || shape.some((dim, i) => i !== axis && dim !== shapes[0][i])) {
      ctx.fail(`input shapes ${shapes.map(formatShape).join(', ')} do not concatenate on axis ${axis}`);
    }
    out[axis] += shape[axis];
  }
  const values = indices.map((i) => ctx.value(i));
  const value = values.every((v) => v !== undefined)
    ? concatValues(shapes.map((shape, k) => ({ shape, values: values[k]! })), axis, out)
    : undefined;
  ctx.set(0, out, value);
};

const split: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), x.length);
  const outputs = (ctx.node.output ?? []).length;
  let sizes: number[] | undefined = ctx.opset >= 13 && ctx.has(1) ? ctx.needValue(1, 'split') : ctx.ints('split');
  if (!sizes || sizes.length === 0) {
    const parts = hasAttribute(ctx.node, 'num_outputs') ? ctx.int('num_outputs', outputs) : outputs;
    const chunk = Math.ceil(x[axis] / parts);
    if (!hasAttribute(ctx.node, 'num_outputs') && x[axis] % parts !== 0) ctx.fail(`axis size ${x[axis]} does not split evenly into ${parts}`);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, x[axis] - i * chunk)));
  }
  if (sizes.reduce((s, v) => s + v, 0) !== x[axis]) ctx.fail(`split sizes ${formatShape(sizes)} do not add up to ${x[axis]}`);
  const input = ctx.value(0);
  let start = 0;
  sizes.forEach((size, i) => {
    const out = x.map((dim, a) => (a === axis ? size : dim));
    const starts = x.map((_, a) => (a === axis ? start : 0));
    const value = input ? sliceValues({ shape: x, values: input }, starts, x.map(() => 1), out) : undefined;
    ctx.set(i, out, value);
    start += size;
  });
};

const slice: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = ctx.ints('starts') ?? ctx.fail('starts are missing');
    ends = ctx.ints('ends') ?? ctx.fail('ends are missing');
    axes = ctx.ints('axes');
  } else {
    starts = ctx.needValue(1, 'starts');
    ends = ctx.needValue(2, 'ends');
    axes = ctx.has(3) ? ctx.needValue(3, 'axes') : undefined;
    steps = ctx.has(4) ? ctx.needValue(4, 'steps') : undefined;
  }
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    ctx.fail('starts, ends, axes and steps differ in length');
  }
  const out = [...x];
  const first = x.map(() => 0);
  const stride = x.map(() => 1);
  axes.forEach((rawAxis, k) => {
    const axis = normalizeAxis(ctx, rawAxis, x.length);
    const dim = x[axis];
    const step = steps![k];
    if (step === 0) ctx.fail('a slice step is 0');
    let start = starts[k] < 0 ? starts[k] + dim : starts[k];
    let end = ends[k] < 0 ? ends[k] + dim : ends[k];
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
    }
    out[axis] = Math.max(0, Math.ceil((end - start) / step));
    first[axis] = start;
    stride[axis] = step;
  });
  const input = ctx.value(0);
  ctx.set(0, out, input ? sliceValues({ shape: x, values: input }, first, stride, out) : undefined);
};

const gather: Rule = (ctx: OpContext) => {
  const data = ctx.shape(0);
  const indices = ctx.shape(1);
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), data.length);
  const out = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  const dataValue = ctx.value(0);
  const indexValue = ctx.value(1);
  let value: number[] | undefined;
  if (dataValue && indexValue && elementCount(out) <= MAX_VALUE_ELEMENTS) {
    const normalized = indexValue.map((i) => (i < 0 ? i + data[axis] : i));
    if (normalized.some((i) => i < 0 || i >= data[axis])) ctx.fail(`an index is out of range for axis size ${data[axis]}`);
    value = gatherValues({ shape: data, values: dataValue }, { shape: indices, values: normalized }, axis, out);
  }
  ctx.set(0, out, value);
};

const gatherElements: Rule = (ctx: OpContext) => {
  ctx.shape(0);
  ctx.set(0, ctx.shape(1));
};

const shapeOp: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const rank = x.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(ctx.int('start', 0));
  const end = hasAttribute(ctx.node, 'end') ? clamp(ctx.int('end', rank)) : rank;
  const value = x.slice(start, Math.max(start, end));
  ctx.set(0, [value.length], value, DataType.INT64);
};

const size: Rule = (ctx: OpContext) => {
  ctx.set(0, [], [elementCount(ctx.shape(0))], DataType.INT64);
};

const constant: Rule = (ctx: OpContext) => {
  const tensorValue = tensorAttribute(ctx.node, 'value');
  if (tensorValue) {
    const dims = tensorDims(tensorValue);
    let value: number[] | undefined;
    if (elementCount(dims) <= MAX_VALUE_ELEMENTS) {
      try {
        value = decodeNumericTensor(tensorValue).values;
      } catch {
        value = undefined;
      }
    }
    ctx.set(0, dims, value, tensorValue.dataType ?? undefined);
    return;
  }
  if (hasAttribute(ctx.node, 'value_int')) return ctx.set(0, [], [ctx.int('value_int', 0)], DataType.INT64);
  if (hasAttribute(ctx.node, 'value_ints')) {
    const ints = ctx.ints('value_ints') ?? [];
    return ctx.set(0, [ints.length], ints, DataType.INT64);
  }
  if (hasAttribute(ctx.node, 'value_float')) return ctx.set(0, [], [ctx.float('value_float', 0)], DataType.FLOAT);
  if (hasAttribute(ctx.node, 'value_floats')) {
    const floats = floatsAttribute(ctx.node, 'value_floats') ?? [];
    return ctx.set(0, [floats.length], floats, DataType.FLOAT);
  }
  ctx.fail('a Constant without a value, value_int(s) or value_float(s) attribute (sparse or string constants are not supported)');
};

const constantOfShape: Rule = (ctx: OpContext) => {
  const out = ctx.needValue(0, 'the shape');
  const fill = tensorAttribute(ctx.node, 'value');
  let fillValue = 0;
  let type: number = DataType.FLOAT;
  if (fill) {
    fillValue = decodeNumericTensor(fill).values[0] ?? 0;
    type = fill.dataType ?? DataType.FLOAT;
  }
  const count = elementCount(out);
  ctx.set(0, out, count <= MAX_VALUE_ELEMENTS ? new Array<number>(count).fill(fillValue) : undefined, type);
};

const range: Rule = (ctx: OpContext) => {
  const [start] = ctx.needValue(0, 'start');
  const [limit] = ctx.needValue(1, 'limit');
  const [delta] = ctx.needValue(2, 'delta');
  if (delta === 0) ctx.fail('delta is 0');
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  const value = count <= MAX_VALUE_ELEMENTS ? Array.from({ length: count }, (_, i) => start + i * delta) : undefined;
  ctx.set(0, [count], value);
};

const expand: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const target = ctx.needValue(1, 'the target shape');
  const out = broadcastShapes([x, target]);
  if (!out) ctx.fail(`input ${formatShape(x)} does not expand to ${formatShape(target)}`);
  const input = ctx.value(0);
  const value = input && elementCount(out) <= MAX_VALUE_ELEMENTS ? mapBroadcast(out, [{ shape: x, values: input }], (v) => v) : undefined;
  ctx.set(0, out, value);
};

const tile: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const repeats = ctx.needValue(1, 'repeats');
  if (repeats.length !== x.length) ctx.fail(`repeats ${formatShape(repeats)} do not match rank ${x.length}`);
  const out = x.map((dim, i) => dim * repeats[i]);
  const input = ctx.value(0);
  const value = input && elementCount(out) <= MAX_VALUE_ELEMENTS ? tileValues({ shape: x, values: input }, out) : undefined;
  ctx.set(0, out, value);
};

const resize: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const isUpsample = ctx.node.opType === 'Upsample';
  const scalesIndex = isUpsample || ctx.opset < 11 ? 1 : 2;
  const axesAttr = ctx.ints('axes');
  const axes = axesAttr ? axesAttr.map((a) => normalizeAxis(ctx, a, x.length)) : x.map((_, i) => i);
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (isUpsample && ctx.opset < 9) scales = floatsAttribute(ctx.node, 'scales');
  else {
    const scaleValues = ctx.has(scalesIndex) ? ctx.value(scalesIndex) : undefined;
    const sizeValues = !isUpsample && ctx.opset >= 11 && ctx.has(3) ? ctx.value(3) : undefined;
    if (sizeValues && sizeValues.length > 0) sizes = sizeValues;
    else if (scaleValues && scaleValues.length > 0) scales = scaleValues;
    else if (ctx.has(3) && !sizeValues) ctx.needValue(3, 'sizes');
    else if (ctx.has(scalesIndex)) ctx.needValue(scalesIndex, 'scales');
  }
  const out = [...x];
  if (sizes) {
    if (sizes.length !== axes.length) ctx.fail(`sizes ${formatShape(sizes)} do not match ${axes.length} axes`);
    const policy = ctx.str('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') axes.forEach((axis, k) => (out[axis] = sizes![k]));
    else {
      const ratios = axes.map((axis, k) => sizes![k] / x[axis]);
      const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((axis) => (out[axis] = Math.round(scale * x[axis])));
    }
  } else if (scales) {
    if (scales.length !== axes.length) ctx.fail(`scales ${formatShape(scales)} do not match ${axes.length} axes`);
    // onnxruntime multiplies in float32 and truncates: int64(float(in) * scale).
    axes.forEach((axis, k) => (out[axis] = Math.floor(Math.fround(x[axis] * Math.fround(scales![k])))));
  } else ctx.fail('neither scales nor sizes are given');
  ctx.set(0, out);
};

const gemm: Rule = (ctx: OpContext) => {
  const a = ctx.shape(0);
  const b = ctx.shape(1);
  if (a.length !== 2 || b.length !== 2) ctx.fail(`Gemm needs 2-D inputs, got ${formatShape(a)} and ${formatShape(b)}`);
  const [m, k] = ctx.int('transA', 0) ? [a[1], a[0]] : a;
  const [k2, n] = ctx.int('transB', 0) ? [b[1], b[0]] : b;
  if (k !== k2) ctx.fail(`inner dimensions differ: ${formatShape(a)} x ${formatShape(b)}`);
  ctx.set(0, [m, n]);
};

const matmul: Rule = (ctx: OpContext) => {
  let a = ctx.shape(0);
  let b = ctx.shape(1);
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul of a scalar');
  const vectorA = a.length === 1;
  const vectorB = b.length === 1;
  if (vectorA) a = [1, a[0]];
  if (vectorB) b = [b[0], 1];
  if (a[a.length - 1] !== b[b.length - 2]) ctx.fail(`inner dimensions differ: ${formatShape(ctx.shape(0))} x ${formatShape(ctx.shape(1))}`);
  const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
  if (!batch) ctx.fail(`batch dimensions of ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
  const out = [...batch];
  if (!vectorA) out.push(a[a.length - 2]);
  if (!vectorB) out.push(b[b.length - 1]);
  ctx.set(0, out, undefined, ctx.node.opType === 'MatMulInteger' ? DataType.INT32 : undefined);
};

const pad: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const pads = ctx.opset < 11 ? ctx.ints('pads') ?? ctx.fail('pads are missing') : ctx.needValue(1, 'pads');
  const axes = ctx.has(3) ? ctx.needValue(3, 'axes').map((a) => normalizeAxis(ctx, a, x.length)) : x.map((_, i) => i);
  if (pads.length !== 2 * axes.length) ctx.fail(`pads ${formatShape(pads)} do not match ${axes.length} axes`);
  const out = [...x];
  axes.forEach((axis, k) => (out[axis] = x[axis] + pads[k] + pads[k + axes.length]));
  ctx.set(0, out);
};

const depthToSpace: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const block = ctx.int('blocksize', 1);
  if (x.length !== 4 || x[1] % (block * block) !== 0) ctx.fail(`input ${formatShape(x)} does not fit blocksize ${block}`);
  ctx.set(0, [x[0], x[1] / (block * block), x[2] * block, x[3] * block]);
};

const spaceToDepth: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const block = ctx.int('blocksize', 1);
  if (x.length !== 4 || x[2] % block !== 0 || x[3] % block !== 0) ctx.fail(`input ${formatShape(x)} does not fit blocksize ${block}`);
  ctx.set(0, [x[0], x[1] * block * block, x[2] / block, x[3] / block]);
};

const topK: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', -1), x.length);
  const k = ctx.opset < 10 ? ctx.int('k', 0) : ctx.needValue(1, 'k')[0];
  const out = x.map((dim, i) => (i === axis ? k : dim));
  ctx.set(0, out);
  ctx.set(1, out, undefined, DataType.INT64);
};

const dataDependent: Rule = (ctx: OpContext) => ctx.fail(`the output shape of ${ctx.node.opType} depends on the input data`);
const controlFlow: Rule = (ctx: OpContext) => ctx.fail(`control flow (${ctx.node.opType}) is not supported by static shape inference`);

export const shapeRules: Readonly<Record<string, Rule>> = {
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, unaryRule(op)])),
  ...Object.fromEntries(BROADCAST_OPS.map((op) => [op, broadcastRule(op)])),
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: poolRule(true),
  AveragePool: poolRule(false),
  LpPool: poolRule(false),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Dropout: dropout,
  Cast: castRule,
  CastLike: castLike,
  ReduceMean: reduceRule('ReduceMean'),
  ReduceSum: reduceRule('ReduceSum'),
  ReduceMax: reduceRule('ReduceMax'),
  ReduceMin: reduceRule('ReduceMin'),
  ReduceProd: reduceRule('ReduceProd'),
  ReduceL1: reduceRule('ReduceL1'),
  ReduceL2: reduceRule('ReduceL2'),
  ReduceLogSum: reduceRule('ReduceLogSum'),
  ReduceLogSumExp: reduceRule('ReduceLogSumExp'),
  ReduceSumSquare: reduceRule('ReduceSumSquare'),
  ArgMax: argReduce,
  ArgMin: argReduce,
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: gatherElements,
  Shape: shapeOp,
  Size: size,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  Expand: expand,
  Tile: tile,
  Resize: resize,
  Upsample: resize,
  Gemm: gemm,
  MatMul: matmul,
  MatMulInteger: matmul,
  Pad: pad,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  TopK: topK,
  NonZero: dataDependent,
  Unique: dataDependent,
  NonMaxSuppression: dataDependent,
  Compress: dataDependent,
  If: controlFlow,
  Loop: controlFlow,
  Scan: controlFlow,
};
