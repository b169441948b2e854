import { ShapeError, UsageError } from '@deprune/errors';
import { activationValue, ACTIVATION_CODES, type EncodedActivation } from '@deprune/kernels';
import { shapeSize, tensor, type Tensor } from '@deprune/tensor';

/**
 * What the host kernels share. They read their inputs as float32 (a float64 tensor is rounded
 * once, as every backend of the contract does), compute in float64 (JS numbers) and round once to
 * float32 when they store a result, after the fused epilogue.
 */

/** Float32 data of a tensor: float32 as is (no copy), float64 rounded into a new array. */
export function float32Data(t: Tensor): Float32Array {
  const data: unknown = t?.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new UsageError('kernel inputs must be tensors with Float32Array or Float64Array data');
}

/** Zeros of `shape`: the result of a kernel whose output has no elements. */
export function emptyResult(shape: readonly number[]): Tensor<Float32Array> {
  return tensor(new Float32Array(shapeSize(shape)), shape);
}

/** The bias as float32, checked to be [length]; null when there is none. */
export function biasData(bias: Tensor | null | undefined, length: number, op: string): Float32Array | null {
  if (bias === null || bias === undefined) return null;
  if (bias.shape.length !== 1 || bias.shape[0] !== length) {
    throw new ShapeError(`${op} bias must have shape [${length}] (one value per output channel), got [${bias.shape.join(', ')}]`);
  }
  return float32Data(bias);
}

/** Rows of at most this many values go through a float64 scratch row (bounded memory). */
export const CHUNK = 4096;

/** out[offset + i] = activation(values[i]) for i < count, rounded once to float32. */
export function storeActivated(values: Float64Array, count: number, out: Float32Array, offset: number, act: EncodedActivation): void {
  if (act.code === ACTIVATION_CODES.none) {
    for (let i = 0; i < count; i++) out[offset + i] = values[i];
  } else {
    for (let i = 0; i < count; i++) out[offset + i] = activationValue(values[i], act);
  }
}
