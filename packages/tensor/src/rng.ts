import { UsageError } from '@deprune/errors';
import { assertFiniteNumber } from './checks';
import { shapeSize, tensor, type DType, type Tensor } from './tensor';

/**
 * Seeded generator for tests and synthetic data. The algorithm is mulberry32 (Tommy Ettinger's
 * 32-bit generator): it only uses 32-bit integer ops (`Math.imul`, shifts), so a seed yields the
 * same stream on every platform and engine. It is not cryptographic and its period is 2^32,
 * plenty for generating test tensors.
 */
export interface Rng {
  /** Uniform in [0, 1), with 32 bits of randomness. */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Standard normal N(0, 1) by the Box-Muller transform. */
  normal(): number;
}

const TWO_POW_32 = 4294967296;

/**
 * Any integer seed is accepted. Seeds beyond 32 bits (e.g. `Date.now()`) fold their high word
 * into the state instead of being truncated, so nearby large seeds still differ.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new UsageError(`rng seed must be a safe integer, got ${String(seed)}`);
  }
  const highWord = Math.floor(seed / TWO_POW_32);
  let state = (seed >>> 0) ^ Math.imul(highWord | 0, 0x9e3779b9);
  // Box-Muller yields normals in pairs; keeping the second halves the cost and stays deterministic.
  let spareNormal: number | undefined;

  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return (mixed ^ (mixed >>> 14)) >>> 0;
  };

  const next = (): number => nextUint32() / TWO_POW_32;

  return {
    next,
    int(maxExclusive: number): number {
      if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
        throw new UsageError(`rng.int(maxExclusive) needs an integer in [1, 2^32], got ${String(maxExclusive)}`);
      }
      // Rejection sampling removes the modulo bias that a plain floor(next() * max) would have.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      let draw = nextUint32();
      while (draw >= limit) draw = nextUint32();
      return draw % maxExclusive;
    },
    normal(): number {
      if (spareNormal !== undefined) {
        const value = spareNormal;
        spareNormal = undefined;
        return value;
      }
      // 1 - next() is in (0, 1], so the logarithm is finite.
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      spareNormal = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

export interface RandomTensorOptions {
  /** Default 'float64'. */
  dtype?: DType;
  /** 'normal' draws N(0, scale^2); 'uniform' draws from [-scale, scale). Default 'normal'. */
  distribution?: 'normal' | 'uniform';
  /** Default 1. */
  scale?: number;
}

export function randomTensor(shape: readonly number[], rng: Rng, options: RandomTensorOptions = {}): Tensor {
  const { dtype = 'float64', distribution = 'normal', scale = 1 } = options;
  assertFiniteNumber('randomTensor scale', scale);
  if (distribution !== 'normal' && distribution !== 'uniform') {
    throw new UsageError(`randomTensor distribution must be 'normal' or 'uniform', got '${String(distribution)}'`);
  }
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new UsageError(`randomTensor dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  }
  const size = shapeSize(shape);
  const data = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  for (let index = 0; index < size; index++) {
    data[index] = distribution === 'normal' ? scale * rng.normal() : scale * (2 * rng.next() - 1);
  }
  return tensor(data, shape);
}
