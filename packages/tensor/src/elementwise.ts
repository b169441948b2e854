import { ShapeError, UsageError } from '@deprune/errors';
import { formatShape } from './checks';
import { coalesceAxes, forEachRow } from './strided';
import { shapeSize, stridesOf, zerosFloat64, type Tensor } from './tensor';

/**
 * ONNX multidirectional (numpy) broadcasting: shapes are aligned from the right, and along each
 * axis every shape has either the common size or 1 (a missing leading axis counts as 1). A size
 * of 0 is an ordinary size: it broadcasts against 1 and against 0, not against anything else.
 */
export function broadcastShape(...shapes: readonly (readonly number[])[]): number[] {
  shapes.forEach((shape) => shapeSize(shape)); // ShapeError on a malformed shape
  const rank = Math.max(0, ...shapes.map((shape) => shape.length));
  const result = new Array<number>(rank).fill(1);
  for (let fromEnd = 1; fromEnd <= rank; fromEnd++) {
    for (const shape of shapes) {
      const dim = shape.length >= fromEnd ? shape[shape.length - fromEnd] : 1;
      const current = result[rank - fromEnd];
      if (dim === 1 || dim === current) continue;
      if (current !== 1) {
        throw new ShapeError(
          `shapes ${shapes.map(formatShape).join(', ')} do not broadcast: axis ${-fromEnd} (counted from the end) has sizes ${current} and ${dim}; aligned from the right, each axis must be 1 or one common size`,
        );
      }
      result[rank - fromEnd] = dim;
    }
  }
  return result;
}

/**
 * Strides that read a tensor of `shape` as if it had `outShape` (which it must broadcast to):
 * 0 on the axes it lacks or has size 1 on, its own C-order stride elsewhere.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((dim, axis) => {
    const inAxis = axis - offset;
    return inAxis < 0 || shape[inAxis] === 1 ? 0 : own[inAxis];
  });
}

/**
 * Applies `fn` elementwise over inputs broadcast together (ONNX multidirectional broadcasting),
 * in float64: `out[i] = fn(a[i], b[i], ...)` with each input read at its broadcast position.
 * The reference for every elementwise ONNX op (Add, Mul, Sigmoid, HardSwish, Where on floats...):
 * pass the op's formula as `fn`. One, two and three inputs run in specialised loops; more go
 * through one reused argument array, so no call allocates per element.
 */
export function mapElementwise(inputs: readonly Tensor[], fn: (...values: number[]) => number): Tensor<Float64Array> {
  if (!Array.isArray(inputs as unknown) || inputs.length === 0) {
    throw new UsageError('mapElementwise needs at least one input tensor');
  }
  if (typeof fn !== 'function') throw new UsageError(`mapElementwise needs a function, got ${typeof fn}`);
  const outShape = broadcastShape(...inputs.map((input) => input.shape));
  const output = zerosFloat64(outShape);
  const out = output.data;
  const loop = coalesceAxes(outShape, [stridesOf(outShape), ...inputs.map((input) => broadcastStrides(input.shape, outShape))]);
  const inner = loop.strides.map((strides) => strides[strides.length - 1]);
  const [a, b, c] = inputs.map((input) => input.data);
  const [, sa, sb, sc] = inner;
  const arity = inputs.length;
  const values = new Array<number>(arity);
  const datas = inputs.map((input) => input.data);

  forEachRow(loop, new Array<number>(arity + 1).fill(0), (offsets, length) => {
    let o = offsets[0];
    if (arity === 1) {
      for (let j = 0, ia = offsets[1]; j < length; j++, ia += sa) out[o++] = fn(a[ia]);
    } else if (arity === 2) {
      for (let j = 0, ia = offsets[1], ib = offsets[2]; j < length; j++, ia += sa, ib += sb) out[o++] = fn(a[ia], b[ib]);
    } else if (arity === 3) {
      for (let j = 0, ia = offsets[1], ib = offsets[2], ic = offsets[3]; j < length; j++, ia += sa, ib += sb, ic += sc) {
        out[o++] = fn(a[ia], b[ib], c[ic]);
      }
    } else {
      for (let j = 0; j < length; j++) {
        for (let k = 0; k < arity; k++) values[k] = datas[k][offsets[k + 1] + j * inner[k + 1]];
        out[o++] = fn(...values);
      }
    }
  });
  return output;
}
