import { ShapeError, UsageError } from '@deprune/errors';
import { REDUCE_KINDS, type AxisView, type ReduceAxisFn, type ReduceKernelKind, type SoftmaxFn } from '@deprune/kernels';
import { shapeSize, tensor, type Tensor } from '@deprune/tensor';
import { emptyResult, float32Data } from './common';

/**
 * Reductions and softmax over the middle axis of an [outer, length, inner] view, on the host, with
 * @deprune/tensor's `reduce` / `softmax` semantics (NaN propagates through max and min;
 * logSumExp subtracts the row's max first and gives the max itself when it is infinite). Each
 * outer block runs k-major with `inner` float64 accumulators, so every loop reads memory in order.
 */

function checkView(x: Tensor, view: AxisView, op: string): void {
  const { outer, length, inner } = view ?? ({} as AxisView);
  for (const [name, value] of Object.entries({ outer, length, inner })) {
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`${op}: view.${name} must be a non-negative integer, got ${String(value)}`);
  }
  if (outer * length * inner !== shapeSize(x.shape)) {
    throw new ShapeError(`${op}: the view [${outer}, ${length}, ${inner}] does not cover the input [${x.shape.join(', ')}] (${shapeSize(x.shape)} values)`);
  }
}

/** acc[i] = max over k of x[base + k*inner + i] (NaN wins). */
function blockMax(input: Float32Array, base: number, length: number, inner: number, acc: Float64Array): void {
  acc.fill(-Infinity);
  for (let k = 0, at = base; k < length; k++) {
    for (let i = 0; i < inner; i++, at++) {
      const value = input[at];
      if (value > acc[i] || Number.isNaN(value)) acc[i] = value;
    }
  }
}

/** The reduction of one outer block into acc[0 .. inner). */
function reduceBlock(kind: ReduceKernelKind, input: Float32Array, base: number, length: number, inner: number, acc: Float64Array): void {
  switch (kind) {
    case 'max':
      blockMax(input, base, length, inner, acc);
      return;
    case 'min':
      acc.fill(Infinity);
      for (let k = 0, at = base; k < length; k++) {
        for (let i = 0; i < inner; i++, at++) {
          const value = input[at];
          if (value < acc[i] || Number.isNaN(value)) acc[i] = value;
        }
      }
      return;
    case 'prod':
      acc.fill(1);
      for (let k = 0, at = base; k < length; k++) for (let i = 0; i < inner; i++, at++) acc[i] *= input[at];
      return;
    case 'sumSquare':
    case 'l2':
      acc.fill(0);
      for (let k = 0, at = base; k < length; k++) for (let i = 0; i < inner; i++, at++) acc[i] += input[at] * input[at];
      if (kind === 'l2') for (let i = 0; i < inner; i++) acc[i] = Math.sqrt(acc[i]);
      return;
    case 'l1':
      acc.fill(0);
      for (let k = 0, at = base; k < length; k++) for (let i = 0; i < inner; i++, at++) acc[i] += Math.abs(input[at]);
      return;
    case 'logSumExp': {
      const maxima = new Float64Array(inner);
      blockMax(input, base, length, inner, maxima);
      acc.fill(0);
      for (let k = 0, at = base; k < length; k++) {
        for (let i = 0; i < inner; i++, at++) if (Number.isFinite(maxima[i])) acc[i] += Math.exp(input[at] - maxima[i]);
      }
      for (let i = 0; i < inner; i++) acc[i] = Number.isFinite(maxima[i]) ? maxima[i] + Math.log(acc[i]) : maxima[i];
      return;
    }
    default: // sum, mean
      acc.fill(0);
      for (let k = 0, at = base; k < length; k++) for (let i = 0; i < inner; i++, at++) acc[i] += input[at];
      if (kind === 'mean') for (let i = 0; i < inner; i++) acc[i] /= length;
  }
}

/** x viewed as [outer, length, inner] -> [outer, inner]. */
export const reduceAxis: ReduceAxisFn = async (x, view, kind) => {
  checkView(x, view, 'reduceAxis');
  const code = Object.prototype.hasOwnProperty.call(REDUCE_KINDS, kind) ? REDUCE_KINDS[kind] : undefined;
  if (code === undefined) throw new UsageError(`reduceAxis: unknown kind '${String(kind)}' (known: ${Object.keys(REDUCE_KINDS).join(', ')})`);
  if (view.length === 0) throw new ShapeError('reduceAxis: cannot reduce an empty axis');
  const { outer, length, inner } = view;
  const shape = [outer, inner];
  if (outer === 0 || inner === 0) return emptyResult(shape);
  const input = float32Data(x);
  const out = new Float32Array(outer * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    reduceBlock(kind, input, o * length * inner, length, inner, acc);
    out.set(acc, o * inner);
  }
  return tensor(out, shape);
};

/** Softmax (or log-softmax) along the middle axis of the view; same shape as x. */
export const softmax: SoftmaxFn = async (x, view, attrs = {}) => {
  checkView(x, view, 'softmax');
  if (shapeSize(x.shape) === 0) return emptyResult(x.shape);
  const { outer, length, inner } = view;
  const log = attrs.log === true;
  const input = float32Data(x);
  const out = new Float32Array(input.length);
  const maxima = new Float64Array(inner);
  const sums = new Float64Array(inner);
  // The block's exponentials, kept in float64 so the division rounds once.
  const shifted = log ? null : new Float64Array(length * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * length * inner;
    blockMax(input, base, length, inner, maxima);
    sums.fill(0);
    for (let k = 0, at = base, s = 0; k < length; k++) {
      for (let i = 0; i < inner; i++, at++, s++) {
        const value = Math.exp(input[at] - maxima[i]);
        sums[i] += value;
        if (shifted !== null) shifted[s] = value;
      }
    }
    if (shifted === null) {
      for (let i = 0; i < inner; i++) sums[i] = Math.log(sums[i]);
      for (let k = 0, at = base; k < length; k++) for (let i = 0; i < inner; i++, at++) out[at] = input[at] - maxima[i] - sums[i];
    } else {
      for (let k = 0, at = base, s = 0; k < length; k++) for (let i = 0; i < inner; i++, at++, s++) out[at] = shifted[s] / sums[i];
    }
  }
  return tensor(out, x.shape);
};
