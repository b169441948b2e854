import { ShapeError, UsageError } from '@deprune/errors';
import ndarray from 'ndarray';
import { formatShape } from './checks';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

/** A dense, C-order (row-major) tensor. Image tensors are NCHW throughout the project. */
export interface Tensor<A extends FloatArray = FloatArray> {
  readonly data: A;
  readonly shape: readonly number[];
}

function assertValidShape(shape: readonly number[]): void {
  if (!Array.isArray(shape)) {
    throw new ShapeError(`shape must be an array of dimensions, got ${String(shape)}`);
  }
  for (let axis = 0; axis < shape.length; axis++) {
    const dim = shape[axis];
    if (!Number.isInteger(dim) || dim < 0) {
      throw new ShapeError(`shape ${formatShape(shape)} has an invalid dimension ${String(dim)} at axis ${axis}: dimensions must be non-negative integers`);
    }
  }
}

/** Number of elements in a tensor of this shape (1 for a scalar shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  assertValidShape(shape);
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

/** C-order strides in elements: the last axis is contiguous. */
export function stridesOf(shape: readonly number[]): number[] {
  assertValidShape(shape);
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

/**
 * Wraps `data` (without copying) as a tensor of `shape`. The shape is copied and frozen so a
 * caller mutating its array later cannot make `data.length` and `shape` disagree.
 */
export function tensor<A extends FloatArray>(data: A, shape: readonly number[]): Tensor<A> {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw new UsageError('tensor data must be a Float32Array or a Float64Array');
  }
  const size = shapeSize(shape);
  if (data.length !== size) {
    throw new ShapeError(`tensor data has ${data.length} values but shape ${formatShape(shape)} needs ${size}`);
  }
  return { data, shape: Object.freeze([...shape]) };
}

export function zeros(shape: readonly number[], dtype: DType = 'float64'): Tensor {
  const size = shapeSize(shape);
  if (dtype === 'float64') return tensor(new Float64Array(size), shape);
  if (dtype === 'float32') return tensor(new Float32Array(size), shape);
  throw new UsageError(`dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
}

/** Float64 zeros, typed as such; the kernels' output allocator. */
export function zerosFloat64(shape: readonly number[]): Tensor<Float64Array> {
  return tensor(new Float64Array(shapeSize(shape)), shape);
}

/** Always copies, so the result never aliases the input even when it is already float64. */
export function toFloat64(t: Tensor): Tensor<Float64Array> {
  return tensor(Float64Array.from(t.data), t.shape);
}

/** Always copies; float64 values are rounded to nearest float32. */
export function toFloat32(t: Tensor): Tensor<Float32Array> {
  return tensor(Float32Array.from(t.data), t.shape);
}

/** A strided ndarray view over the same memory (writes through to `t.data`). */
export function toNdarray(t: Tensor): ndarray.NdArray<FloatArray> {
  return ndarray<FloatArray>(t.data, [...t.shape], stridesOf(t.shape), 0);
}
