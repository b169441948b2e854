import { UsageError } from '@deprune/errors';
import { formatShape } from './checks';
import { coalesceAxes, forEachRow, normalizeAxes, normalizeAxis } from './strided';
import { shapeSize, stridesOf, zerosFloat64, type Tensor } from './tensor';

/**
 * Float64 reference reductions and softmax with ONNX semantics (ReduceMean, ReduceSum, ReduceMax,
 * ReduceMin, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2, ReduceLogSumExp; Softmax and
 * LogSoftmax).
 */
export type ReduceKind = 'mean' | 'sum' | 'max' | 'min' | 'prod' | 'sumSquare' | 'l1' | 'l2' | 'logSumExp';

const REDUCE_KINDS: readonly ReduceKind[] = ['mean', 'sum', 'max', 'min', 'prod', 'sumSquare', 'l1', 'l2', 'logSumExp'];

/** The accumulator's starting value: the kind's result over an empty set, as onnxruntime gives it. */
function identityOf(kind: ReduceKind): number {
  if (kind === 'prod') return 1;
  if (kind === 'max' || kind === 'logSumExp') return -Infinity;
  if (kind === 'min') return Infinity;
  return 0;
}

/**
 * Runs `visit(accumulator, accOffset, accStride, inOffset, length)` over rows of the input, where
 * the accumulator has the reduced shape and a stride of 0 along the reduced axes, so every input
 * element meets the accumulator slot of its output position.
 */
function forEachReductionRow(
  shape: readonly number[],
  reduced: ReadonlySet<number>,
  visit: (accOffset: number, accStride: number, inOffset: number, length: number) => void,
): void {
  const keptShape = shape.map((dim, axis) => (reduced.has(axis) ? 1 : dim));
  const accStrides = stridesOf(keptShape).map((stride, axis) => (reduced.has(axis) ? 0 : stride));
  const loop = coalesceAxes(shape, [accStrides, stridesOf(shape)]);
  const accStride = loop.strides[0][loop.strides[0].length - 1];
  forEachRow(loop, [0, 0], (offsets, length) => visit(offsets[0], accStride, offsets[1], length));
}

/**
 * ONNX Reduce* over `axes` (negative counts from the end; null reduces every axis; [] reduces none,
 * which still applies the kind's per-element part: sumSquare squares, l1/l2 take |x|, as
 * onnxruntime's noop_with_empty_axes does). keepDims keeps the reduced axes as size 1.
 * Over an empty set the result is what onnxruntime gives: sum/l1/l2/sumSquare 0, mean 0, prod 1,
 * max and logSumExp -Infinity, min +Infinity. NaN propagates through every kind.
 */
export function reduce(x: Tensor, axes: readonly number[] | null, keepDims: boolean, kind: ReduceKind): Tensor<Float64Array> {
  if (!REDUCE_KINDS.includes(kind)) throw new UsageError(`reduce kind must be one of ${REDUCE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const shape = x.shape;
  const reducedAxes = axes === null ? shape.map((_, axis) => axis) : normalizeAxes('reduce', axes, shape);
  const reduced = new Set(reducedAxes);
  const keptShape = shape.map((dim, axis) => (reduced.has(axis) ? 1 : dim));
  const outShape = keepDims ? keptShape : shape.filter((_, axis) => !reduced.has(axis));
  const output = zerosFloat64(outShape);
  const acc = output.data;
  const input = x.data;
  acc.fill(identityOf(kind));
  const count = shapeSize(shape) / Math.max(1, shapeSize(keptShape));

  if (kind === 'logSumExp') {
    // Two passes keep exp() in range: the max first, then sum(exp(x - max)).
    const maxima = new Float64Array(acc.length).fill(-Infinity);
    forEachReductionRow(shape, reduced, (a, step, i, length) => {
      for (let j = 0; j < length; j++, a += step, i++) if (input[i] > maxima[a] || Number.isNaN(input[i])) maxima[a] = input[i];
    });
    acc.fill(0);
    forEachReductionRow(shape, reduced, (a, step, i, length) => {
      for (let j = 0; j < length; j++, a += step, i++) if (Number.isFinite(maxima[a])) acc[a] += Math.exp(input[i] - maxima[a]);
    });
    for (let a = 0; a < acc.length; a++) acc[a] = Number.isFinite(maxima[a]) ? maxima[a] + Math.log(acc[a]) : maxima[a];
    return output;
  }

  forEachReductionRow(shape, reduced, (a, step, i, length) => {
    switch (kind) {
      case 'max':
        for (let j = 0; j < length; j++, a += step, i++) if (input[i] > acc[a] || Number.isNaN(input[i])) acc[a] = input[i];
        break;
      case 'min':
        for (let j = 0; j < length; j++, a += step, i++) if (input[i] < acc[a] || Number.isNaN(input[i])) acc[a] = input[i];
        break;
      case 'prod':
        for (let j = 0; j < length; j++, a += step, i++) acc[a] *= input[i];
        break;
      case 'sumSquare':
      case 'l2':
        for (let j = 0; j < length; j++, a += step, i++) acc[a] += input[i] * input[i];
        break;
      case 'l1':
        for (let j = 0; j < length; j++, a += step, i++) acc[a] += Math.abs(input[i]);
        break;
      default: // sum, mean
        for (let j = 0; j < length; j++, a += step, i++) acc[a] += input[i];
    }
  });
  if (kind === 'l2') for (let a = 0; a < acc.length; a++) acc[a] = Math.sqrt(acc[a]);
  if (kind === 'mean' && count > 0) for (let a = 0; a < acc.length; a++) acc[a] /= count;
  return output;
}

/**
 * The [outer, axisSize, inner] view of `shape` around `axis`: softmax normalizes along the middle
 * axis independently for every (outer, inner) pair.
 */
function softmaxView(what: string, x: Tensor, axis: number): [number, number, number] {
  const normalized = normalizeAxis(what, axis, x.shape);
  const outer = shapeSize(x.shape.slice(0, normalized));
  const inner = shapeSize(x.shape.slice(normalized + 1));
  return [outer, x.shape[normalized], inner];
}

/**
 * Softmax or log-softmax along one axis, numerically stable: the axis maximum is subtracted before
 * exp(). Lanes of the inner axes are processed together, so every loop reads memory in order.
 */
function softmaxAlong(what: string, x: Tensor, axis: number, log: boolean): Tensor<Float64Array> {
  const [outer, size, inner] = softmaxView(what, x, axis);
  const output = zerosFloat64(x.shape);
  const out = output.data;
  const input = x.data;
  const maxima = new Float64Array(inner);
  const sums = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    maxima.fill(-Infinity);
    sums.fill(0);
    for (let k = 0; k < size; k++) {
      for (let j = 0, i = base + k * inner; j < inner; j++, i++) if (input[i] > maxima[j] || Number.isNaN(input[i])) maxima[j] = input[i];
    }
    for (let k = 0; k < size; k++) {
      for (let j = 0, i = base + k * inner; j < inner; j++, i++) {
        const shifted = Math.exp(input[i] - maxima[j]);
        sums[j] += shifted;
        if (!log) out[i] = shifted;
      }
    }
    for (let k = 0; k < size; k++) {
      for (let j = 0, i = base + k * inner; j < inner; j++, i++) {
        out[i] = log ? input[i] - maxima[j] - Math.log(sums[j]) : out[i] / sums[j];
      }
    }
  }
  return output;
}

/** ONNX Softmax (opset 13): exp(x - max) / sum(exp(x - max)) along `axis` (negative counts from the end). */
export function softmax(x: Tensor, axis: number): Tensor<Float64Array> {
  return softmaxAlong('softmax', x, axis, false);
}

/** ONNX LogSoftmax (opset 13): x - max - log(sum(exp(x - max))) along `axis`. */
export function logSoftmax(x: Tensor, axis: number): Tensor<Float64Array> {
  return softmaxAlong('logSoftmax', x, axis, true);
}

/**
 * Softmax and LogSoftmax before opset 13 flatten the input to 2-D, [product of the axes before
 * `axis`, product of the rest], and normalize each row. This is that view: reshape the data to it,
 * run `softmax(view, 1)`, and reshape back. `axis` is in [-rank, rank - 1] as onnxruntime requires.
 */
export function coercedSoftmaxShape(shape: readonly number[], axis: number): [number, number] {
  if (shape.length === 0) throw new UsageError(`coercedSoftmaxShape needs a shape of rank >= 1, got ${formatShape(shape)}`);
  const normalized = normalizeAxis('coercedSoftmaxShape', axis, shape);
  return [shapeSize(shape.slice(0, normalized)), shapeSize(shape.slice(normalized))];
}
