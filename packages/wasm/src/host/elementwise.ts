import { ShapeError, UsageError } from '@deprune/errors';
import { BINARY_OPS, UNARY_OPS, broadcastOutputShape, collapseBroadcast, encodeActivation, type BinaryFn, type UnaryFn } from '@deprune/kernels';
import { shapeSize, stridesOf, tensor } from '@deprune/tensor';
import { CHUNK, emptyResult, float32Data, storeActivated } from './common';

/**
 * Element-wise kernels on the host: `unary` and `binary` (numpy broadcasting) with the fused
 * epilogue, the gpu.js kernels' operators and checks, in float64 with one rounding on store.
 * A broadcast runs over the contract's collapsed axes (`collapseBroadcast`) or, past its 4-axis
 * limit, over the output's own axes: the host has no limit on the rank.
 */

function opCode(table: Record<string, number>, op: string, kernel: string): number {
  const code = Object.prototype.hasOwnProperty.call(table, op) ? table[op] : undefined;
  if (code === undefined) throw new UsageError(`${kernel}: unknown operator '${String(op)}' (known: ${Object.keys(table).join(', ')})`);
  return code;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf in float64 (about 1e-15 relative): exp(-x^2) times the positive series sum 2^n x^(2n+1) /
 * (2n+1)!! below 3 (no cancellation), 1 - erfc by its continued fraction from 3 to 6, 1 beyond.
 */
function erf(value: number): number {
  const a = Math.abs(value);
  if (Number.isNaN(a)) return value;
  let result = 1;
  if (a < 3) {
    const square = a * a;
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
      term *= (2 * square) / (2 * n + 1);
      sum += term;
    }
    result = TWO_OVER_SQRT_PI * Math.exp(-square) * sum;
  } else if (a < 6) {
    // erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), from the tail.
    let fraction = a;
    for (let k = 60; k >= 1; k--) fraction = a + k / 2 / fraction;
    result = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction;
  }
  return value < 0 ? -result : result;
}

/** ONNX Pow, as the gpu.js kernel computes it: a negative base takes integer exponents only (NaN otherwise). */
function power(u: number, v: number): number {
  let y = Math.pow(Math.abs(u), v);
  if (u < 0) {
    if (Math.floor(v) === v) {
      if (v - 2 * Math.floor(v / 2) === 1) y = -y;
    } else {
      y = Number.NaN;
    }
  }
  return y;
}

/** tmp[i] = op(x[start + i]) for i < count. */
function unaryChunk(code: number, opAlpha: number, x: Float32Array, start: number, count: number, tmp: Float64Array): void {
  const end = start + count;
  let o = 0;
  switch (code) {
    case UNARY_OPS.exp:
      for (let i = start; i < end; i++) tmp[o++] = Math.exp(x[i]);
      break;
    case UNARY_OPS.log:
      for (let i = start; i < end; i++) tmp[o++] = Math.log(x[i]);
      break;
    case UNARY_OPS.sqrt:
      for (let i = start; i < end; i++) tmp[o++] = Math.sqrt(x[i]);
      break;
    case UNARY_OPS.abs:
      for (let i = start; i < end; i++) tmp[o++] = Math.abs(x[i]);
      break;
    case UNARY_OPS.neg:
      for (let i = start; i < end; i++) tmp[o++] = -x[i];
      break;
    case UNARY_OPS.reciprocal:
      for (let i = start; i < end; i++) tmp[o++] = 1 / x[i];
      break;
    case UNARY_OPS.tanh:
      for (let i = start; i < end; i++) tmp[o++] = Math.tanh(x[i]);
      break;
    case UNARY_OPS.leakyRelu:
      for (let i = start; i < end; i++) {
        const v = x[i];
        tmp[o++] = v < 0 ? opAlpha * v : v;
      }
      break;
    case UNARY_OPS.elu:
      for (let i = start; i < end; i++) {
        const v = x[i];
        tmp[o++] = v < 0 ? opAlpha * Math.expm1(v) : v;
      }
      break;
    case UNARY_OPS.softplus:
      for (let i = start; i < end; i++) {
        const v = x[i];
        tmp[o++] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
      break;
    case UNARY_OPS.floor:
      for (let i = start; i < end; i++) tmp[o++] = Math.floor(x[i]);
      break;
    case UNARY_OPS.ceil:
      for (let i = start; i < end; i++) tmp[o++] = Math.ceil(x[i]);
      break;
    case UNARY_OPS.erf:
      for (let i = start; i < end; i++) tmp[o++] = erf(x[i]);
      break;
    case UNARY_OPS.sign:
      for (let i = start; i < end; i++) {
        const v = x[i];
        tmp[o++] = v > 0 ? 1 : v < 0 ? -1 : 0;
      }
      break;
    case UNARY_OPS.not:
      for (let i = start; i < end; i++) tmp[o++] = x[i] === 0 ? 1 : 0;
      break;
    default: // identity
      for (let i = start; i < end; i++) tmp[o++] = x[i];
  }
}

/** tmp[j] = a[ia + j*sa] op b[ib + j*sb] for j < count. */
function binaryChunk(code: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, count: number, tmp: Float64Array): void {
  switch (code) {
    case BINARY_OPS.add:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] + b[ib];
      break;
    case BINARY_OPS.sub:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] - b[ib];
      break;
    case BINARY_OPS.mul:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] * b[ib];
      break;
    case BINARY_OPS.div:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] / b[ib];
      break;
    case BINARY_OPS.pow:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = power(a[ia], b[ib]);
      break;
    case BINARY_OPS.max:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = Math.max(a[ia], b[ib]);
      break;
    case BINARY_OPS.min:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = Math.min(a[ia], b[ib]);
      break;
    case BINARY_OPS.prelu:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) {
        const u = a[ia];
        tmp[j] = u < 0 ? u * b[ib] : u;
      }
      break;
    case BINARY_OPS.equal:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] === b[ib] ? 1 : 0;
      break;
    case BINARY_OPS.less:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] < b[ib] ? 1 : 0;
      break;
    case BINARY_OPS.greater:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] > b[ib] ? 1 : 0;
      break;
    case BINARY_OPS.lessOrEqual:
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] <= b[ib] ? 1 : 0;
      break;
    default: // greaterOrEqual
      for (let j = 0; j < count; j++, ia += sa, ib += sb) tmp[j] = a[ia] >= b[ib] ? 1 : 0;
  }
}

/** Index axes of a broadcast: output dims (row-major) and each input's element strides over them. */
interface BroadcastLoop {
  dims: number[];
  strides: [number[], number[]];
}

/**
 * The collapsed axes when there are at most 4 of them; otherwise the output's own axes (size-1
 * axes dropped) with each input's broadcast strides.
 */
function broadcastLoop(aShape: readonly number[], bShape: readonly number[], outputShape: readonly number[], op: string): BroadcastLoop {
  try {
    const { dims, strides } = collapseBroadcast([aShape, bShape], op);
    return { dims: [...dims], strides: [[...strides[0]], [...strides[1]]] };
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
  }
  const rank = outputShape.length;
  const stridesFor = (shape: readonly number[]) => {
    const own = stridesOf(shape);
    return outputShape.map((_, axis) => {
      const inAxis = axis - (rank - shape.length);
      return inAxis < 0 || shape[inAxis] === 1 ? 0 : own[inAxis];
    });
  };
  const sa = stridesFor(aShape);
  const sb = stridesFor(bShape);
  const axes = outputShape.map((_, axis) => axis).filter((axis) => outputShape[axis] !== 1);
  return { dims: axes.map((axis) => outputShape[axis]), strides: [axes.map((axis) => sa[axis]), axes.map((axis) => sb[axis])] };
}

/** y = activation(op(x)), same shape as x. */
export const unary: UnaryFn = async (x, op, attrs = {}) => {
  const code = opCode(UNARY_OPS, op, 'unary');
  const size = shapeSize(x.shape);
  if (size === 0) return emptyResult(x.shape);
  const act = encodeActivation(attrs.activation);
  const opAlpha = attrs.alpha ?? (op === 'leakyRelu' ? 0.01 : 1);
  if (typeof opAlpha !== 'number' || !Number.isFinite(opAlpha)) throw new UsageError(`unary ${op}: alpha must be a finite number, got ${String(attrs.alpha)}`);
  const data = float32Data(x);
  const out = new Float32Array(size);
  const tmp = new Float64Array(Math.min(size, CHUNK));
  for (let start = 0; start < size; start += CHUNK) {
    const count = Math.min(CHUNK, size - start);
    unaryChunk(code, opAlpha, data, start, count, tmp);
    storeActivated(tmp, count, out, start, act);
  }
  return tensor(out, x.shape);
};

/** y = activation(a op b) with numpy broadcasting of a and b. */
export const binary: BinaryFn = async (a, b, op, attrs = {}) => {
  const code = opCode(BINARY_OPS, op, 'binary');
  const label = `binary ${op}`;
  const outputShape = broadcastOutputShape([a.shape, b.shape], label);
  const size = shapeSize(outputShape);
  if (size === 0) return emptyResult(outputShape);
  const act = encodeActivation(attrs.activation);
  const aData = float32Data(a);
  const bData = float32Data(b);
  const { dims, strides } = broadcastLoop(a.shape, b.shape, outputShape, label);
  const [sa, sb] = strides;
  const rank = dims.length;
  const out = new Float32Array(size);
  // rank >= 1: the collapsed dims are padded to 4, the fallback has more than 4 axes.
  const last = rank - 1;
  const length = dims[last];
  const stepA = sa[last];
  const stepB = sb[last];
  const tmp = new Float64Array(Math.min(length, CHUNK));
  // Odometer over the outer axes; the last axis runs in chunks.
  const index = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < size; ) {
    for (let start = 0; start < length; start += CHUNK) {
      const count = Math.min(CHUNK, length - start);
      binaryChunk(code, aData, ia + start * stepA, stepA, bData, ib + start * stepB, stepB, count, tmp);
      storeActivated(tmp, count, out, o, act);
      o += count;
    }
    for (let axis = last - 1; axis >= 0; axis--) {
      index[axis]++;
      ia += sa[axis];
      ib += sb[axis];
      if (index[axis] < dims[axis]) break;
      ia -= sa[axis] * dims[axis];
      ib -= sb[axis] * dims[axis];
      index[axis] = 0;
    }
  }
  return tensor(out, outputShape);
};
