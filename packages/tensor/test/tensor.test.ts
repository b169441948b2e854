import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import {
  cosineSimilarity,
  createRng,
  maxAbsDifference,
  randomTensor,
  relativeL2Error,
  shapeSize,
  stridesOf,
  tensor,
  toFloat32,
  toFloat64,
  toNdarray,
  zeros,
} from '../src/index';

describe('tensor', () => {
  it('wraps data without copying and freezes a copy of the shape', () => {
    const data = new Float32Array(6);
    const shape = [2, 3];
    const t = tensor(data, shape);
    expect(t.data).toBe(data);
    shape[0] = 7;
    expect(t.shape).toEqual([2, 3]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it('rejects a length that does not match the shape, and bad dimensions', () => {
    expect(() => tensor(new Float64Array(5), [2, 3])).toThrow(ShapeError);
    expect(() => tensor(new Float64Array(5), [2, 3])).toThrow('tensor data has 5 values but shape [2, 3] needs 6');
    expect(() => tensor(new Float64Array(0), [2, -1])).toThrow(/invalid dimension -1 at axis 1/);
    expect(() => tensor(new Float64Array(3), [1.5, 2])).toThrow(ShapeError);
    expect(() => tensor([1, 2] as unknown as Float64Array, [2])).toThrow(UsageError);
  });

  it('computes sizes and C-order strides', () => {
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([2, 0, 4])).toBe(0);
    expect(shapeSize([2, 3, 4])).toBe(24);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([])).toEqual([]);
  });

  it('makes zeros of either dtype, float64 by default', () => {
    expect(zeros([2, 2]).data).toBeInstanceOf(Float64Array);
    expect(zeros([2, 2], 'float32').data).toBeInstanceOf(Float32Array);
    expect(Array.from(zeros([3]).data)).toEqual([0, 0, 0]);
    expect(() => zeros([2], 'int8' as never)).toThrow(UsageError);
  });

  it('converts dtypes by copying', () => {
    const source = tensor(new Float64Array([0.1, 2, -3]), [3]);
    const asFloat64 = toFloat64(source);
    expect(asFloat64.data).not.toBe(source.data);
    expect(Array.from(asFloat64.data)).toEqual([0.1, 2, -3]);
    const asFloat32 = toFloat32(source);
    expect(asFloat32.data).toBeInstanceOf(Float32Array);
    expect(asFloat32.data[0]).toBe(Math.fround(0.1));
    expect(asFloat32.shape).toEqual([3]);
  });

  it('exposes an ndarray view over the same memory', () => {
    const t = tensor(new Float64Array([0, 1, 2, 3, 4, 5]), [2, 3]);
    const view = toNdarray(t);
    expect(view.shape).toEqual([2, 3]);
    expect(view.get(1, 2)).toBe(5);
    view.set(0, 1, 42);
    expect(t.data[1]).toBe(42);
    expect(view.transpose(1, 0).get(2, 1)).toBe(5);
  });
});

describe('createRng (mulberry32)', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return [rng.next(), rng.next(), rng.int(1000), rng.normal(), rng.normal(), rng.next()];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(2 ** 32)); // the high word of large seeds is not dropped
  });

  it('matches the published mulberry32 stream', () => {
    // First outputs of Tommy Ettinger's reference mulberry32 for seed 1, as raw uint32 values.
    const rng = createRng(1);
    const firstThree = [rng.next(), rng.next(), rng.next()].map((value) => value * 2 ** 32);
    expect(firstThree).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('stays in range and has the right moments', () => {
    const rng = createRng(7);
    let sum = 0;
    let sumSquares = 0;
    let uniformOutOfRange = 0;
    const integerCounts = [0, 0, 0, 0, 0];
    const count = 20_000;
    for (let index = 0; index < count; index++) {
      const uniform = rng.next();
      if (!(uniform >= 0 && uniform < 1)) uniformOutOfRange++;
      integerCounts[rng.int(5)]++;
      const normal = rng.normal();
      sum += normal;
      sumSquares += normal * normal;
    }
    expect(uniformOutOfRange).toBe(0);
    expect(integerCounts).toHaveLength(5); // an out-of-range int would have added a key
    for (const seen of integerCounts) expect(Math.abs(seen / count - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(sum / count)).toBeLessThan(0.05);
    expect(Math.abs(sumSquares / count - 1)).toBeLessThan(0.05);
    expect(() => rng.int(0)).toThrow(UsageError);
    expect(() => createRng(1.5)).toThrow(UsageError);
  });

  it('fills random tensors by distribution, scale and dtype', () => {
    const uniform = randomTensor([1000], createRng(3), { distribution: 'uniform', scale: 2, dtype: 'float32' });
    expect(uniform.data).toBeInstanceOf(Float32Array);
    expect(Math.max(...uniform.data)).toBeLessThanOrEqual(2);
    expect(Math.min(...uniform.data)).toBeGreaterThanOrEqual(-2);
    expect(Math.min(...uniform.data)).toBeLessThan(-1.5);
    const normal = randomTensor([2, 3], createRng(3));
    expect(normal.data).toBeInstanceOf(Float64Array);
    expect(normal.shape).toEqual([2, 3]);
    expect(Array.from(randomTensor([2, 3], createRng(3)).data)).toEqual(Array.from(normal.data));
  });
});

describe('compare', () => {
  it('computes relative L2 error, max abs difference and cosine similarity', () => {
    expect(relativeL2Error([3, 4], [3, 4])).toBe(0);
    expect(relativeL2Error([3, 5], [3, 4])).toBeCloseTo(1 / 5, 15);
    expect(maxAbsDifference([1, -2, 3], [1, 2, 2.5])).toBe(4);
    expect(maxAbsDifference([], [])).toBe(0);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2], [2, 4])).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 2], [-1, -2])).toBeCloseTo(-1, 15);
  });

  it('handles zero vectors, extreme magnitudes and NaN', () => {
    expect(relativeL2Error([0, 0], [0, 0])).toBe(0);
    expect(Number.isFinite(relativeL2Error([1e-3], [0]))).toBe(true);
    expect(relativeL2Error([1e-3], [0])).toBeGreaterThan(1e100);
    expect(relativeL2Error([3e200, 4e200], [3e200, 5e200])).toBeCloseTo(1 / Math.hypot(3, 5), 12);
    expect(relativeL2Error([3e-200, 4e-200], [3e-200, 5e-200])).toBeCloseTo(1 / Math.hypot(3, 5), 12);
    expect(cosineSimilarity([0, 0], [0, 0])).toBe(1);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
    expect(relativeL2Error([Number.NaN, 1], [1, 1])).toBeNaN();
    expect(maxAbsDifference([1, Number.NaN, 1], [1, 1, 5])).toBeNaN();
    expect(cosineSimilarity([Number.NaN], [1])).toBeNaN();
  });

  it('rejects inputs of different lengths', () => {
    expect(() => relativeL2Error([1, 2], [1])).toThrow(ShapeError);
    expect(() => maxAbsDifference([1], [1, 2])).toThrow(/actual has 1 values and expected has 2/);
    expect(() => cosineSimilarity([1], [])).toThrow(ShapeError);
  });
});
