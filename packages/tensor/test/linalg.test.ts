import { describe, expect, it } from 'vitest';
import { choleskyFactor, choleskySolve, createRng, dampedCholesky, inverseDiagonalFromFactor, inverseFromFactor } from '../src/index';

/** A random symmetric positive-definite matrix X X^T + n I. */
function randomSpd(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const x = Float64Array.from({ length: n * (n + 3) }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n + 3; k++) sum += x[i * (n + 3) + k] * x[j * (n + 3) + k];
      a[i * n + j] = sum + (i === j ? 0.1 : 0);
    }
  }
  return a;
}

function multiply(a: Float64Array, x: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => x.reduce((sum, value, j) => sum + a[i * n + j] * value, 0));
}

describe('Cholesky helpers', () => {
  it('factor times its transpose gives the matrix back, and solve inverts it', () => {
    const n = 7;
    const a = randomSpd(n, 1);
    const factor = choleskyFactor(a, n)!;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += factor[i * n + k] * factor[j * n + k];
        expect(sum).toBeCloseTo(a[i * n + j], 9);
      }
    }
    const b = Float64Array.from({ length: n }, (_, i) => i - 3);
    const x = choleskySolve(factor, n, b);
    multiply(a, x, n).forEach((value, i) => expect(value).toBeCloseTo(b[i], 9));
  });

  it('the inverse diagonal matches solving for unit vectors', () => {
    const n = 6;
    const a = randomSpd(n, 2);
    const factor = choleskyFactor(a, n)!;
    const diagonal = inverseDiagonalFromFactor(factor, n);
    for (let k = 0; k < n; k++) {
      const unit = new Float64Array(n);
      unit[k] = 1;
      expect(diagonal[k]).toBeCloseTo(choleskySolve(factor, n, unit)[k], 10);
    }
  });

  it('the whole inverse times the matrix is the identity, and its diagonal is inverseDiagonalFromFactor', () => {
    const n = 9;
    const a = randomSpd(n, 4);
    const factor = choleskyFactor(a, n)!;
    const inverse = inverseFromFactor(factor, n);
    const diagonal = inverseDiagonalFromFactor(factor, n);
    for (let i = 0; i < n; i++) {
      expect(inverse[i * n + i]).toBeCloseTo(diagonal[i], 10);
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let k = 0; k < n; k++) sum += inverse[i * n + k] * a[k * n + j];
        expect(sum).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
  });

  it('returns null for a matrix that is not positive definite; damping repairs a singular Gram', () => {
    const singular = Float64Array.from([1, 1, 1, 1]);
    expect(choleskyFactor(singular, 2)).toBeNull();
    const damped = dampedCholesky(singular, 2, 0);
    expect(damped.damping).toBeGreaterThan(0);
    expect(damped.relativeDamping).toBeGreaterThan(0);
    const plain = dampedCholesky(randomSpd(4, 3), 4, 0.01);
    expect(plain.relativeDamping).toBe(0.01);
    const zero = dampedCholesky(new Float64Array(9), 3, 0.01);
    expect(zero.damping).toBeCloseTo(0.01, 12);
  });

  it('refuses bad sizes and damping', () => {
    expect(() => choleskyFactor(new Float64Array(3), 2)).toThrow(/2x2/);
    expect(() => dampedCholesky(new Float64Array(4), 2, -1)).toThrow(/damping/);
  });
});
