import { DeprunError, ShapeError, UsageError } from '@deprune/errors';

/**
 * Small dense symmetric positive-definite algebra in float64, row-major `n x n` arrays: what
 * calibration-aware pruning needs (OBS saliencies `w^2 / [H^-1]_kk`, damped least squares from a
 * Gram matrix). Sizes are a layer's fan-in (at most a few thousand), so plain Cholesky is enough;
 * no pivoting because every matrix here is a damped Gram matrix.
 */

function checkSquare(matrix: Float64Array, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || matrix.length !== n * n) {
    throw new ShapeError(`${what}: expected an ${n}x${n} matrix (${n * n} values), got ${matrix.length} values`);
  }
}

/**
 * Cholesky factor `L` (lower triangle, row-major, upper part zero) of a symmetric positive-definite
 * matrix, or `null` when it is not positive definite (a pivot <= 0 or not finite): callers damp
 * more and retry rather than getting garbage back.
 */
export function choleskyFactor(matrix: Float64Array, n: number): Float64Array | null {
  checkSquare(matrix, n, 'choleskyFactor');
  const factor = new Float64Array(n * n);
  for (let row = 0; row < n; row++) {
    const rowOffset = row * n;
    for (let column = 0; column <= row; column++) {
      const columnOffset = column * n;
      let sum = matrix[rowOffset + column];
      for (let k = 0; k < column; k++) sum -= factor[rowOffset + k] * factor[columnOffset + k];
      if (row === column) {
        if (!(sum > 0) || !Number.isFinite(sum)) return null;
        factor[rowOffset + row] = Math.sqrt(sum);
      } else {
        factor[rowOffset + column] = sum / factor[columnOffset + column];
      }
    }
  }
  return factor;
}

/** Solves `L L^T x = b` for one right-hand side, given the factor from {@link choleskyFactor}. */
export function choleskySolve(factor: Float64Array, n: number, rhs: ArrayLike<number>): Float64Array {
  checkSquare(factor, n, 'choleskySolve');
  if (rhs.length !== n) throw new ShapeError(`choleskySolve: right-hand side has ${rhs.length} values, expected ${n}`);
  const x = Float64Array.from(rhs);
  for (let row = 0; row < n; row++) {
    let sum = x[row];
    for (let k = 0; k < row; k++) sum -= factor[row * n + k] * x[k];
    x[row] = sum / factor[row * n + row];
  }
  for (let row = n - 1; row >= 0; row--) {
    let sum = x[row];
    for (let k = row + 1; k < n; k++) sum -= factor[k * n + row] * x[k];
    x[row] = sum / factor[row * n + row];
  }
  return x;
}

/** The diagonal of `A^-1` from A's Cholesky factor: `[A^-1]_kk = ||L^-1 e_k||^2`, via `L^-1` column by column. */
export function inverseDiagonalFromFactor(factor: Float64Array, n: number): Float64Array {
  checkSquare(factor, n, 'inverseDiagonalFromFactor');
  // A^-1 = L^-T L^-1, so [A^-1]_kk = ||L^-1 e_k||^2: one forward solve per k (y is zero above row k).
  const diagonal = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    y.fill(0, k);
    y[k] = 1 / factor[k * n + k];
    diagonal[k] += y[k] * y[k];
    for (let row = k + 1; row < n; row++) {
      let sum = 0;
      for (let j = k; j < row; j++) sum -= factor[row * n + j] * y[j];
      y[row] = sum / factor[row * n + row];
    }
    for (let row = k + 1; row < n; row++) diagonal[k] += y[row] * y[row];
  }
  return diagonal;
}

/** The whole inverse `A^-1 = L^-T L^-1` (symmetric, row-major) from A's Cholesky factor. */
export function inverseFromFactor(factor: Float64Array, n: number): Float64Array {
  checkSquare(factor, n, 'inverseFromFactor');
  // L^-1, lower triangular, column by column by forward substitution.
  const lowerInverse = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    lowerInverse[k * n + k] = 1 / factor[k * n + k];
    for (let row = k + 1; row < n; row++) {
      let sum = 0;
      for (let j = k; j < row; j++) sum -= factor[row * n + j] * lowerInverse[j * n + k];
      lowerInverse[row * n + k] = sum / factor[row * n + row];
    }
  }
  // [A^-1]_ij = sum_k>=max(i,j) [L^-1]_ki [L^-1]_kj.
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += lowerInverse[k * n + i] * lowerInverse[k * n + j];
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return inverse;
}

export interface DampedFactor {
  factor: Float64Array;
  /** The damping actually added to the diagonal (absolute). */
  damping: number;
  /** The relative damping used (damping / mean diagonal), after any increases. */
  relativeDamping: number;
}

/**
 * Cholesky of `A + lambda I` with `lambda = relativeDamping * mean(diag A)` (the "percent damping"
 * of OBS / GPTQ), raising lambda tenfold until the factor exists (a Gram matrix of too few or
 * collinear samples is singular). An all-zero A (dead inputs) is damped with lambda = 1.
 */
export function dampedCholesky(matrix: Float64Array, n: number, relativeDamping: number): DampedFactor {
  checkSquare(matrix, n, 'dampedCholesky');
  if (!(relativeDamping >= 0) || !Number.isFinite(relativeDamping)) {
    throw new UsageError(`damping must be a finite number >= 0, got ${relativeDamping}`);
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += matrix[i * n + i];
  const meanDiagonal = n === 0 ? 0 : trace / n;
  const scale = meanDiagonal > 0 && Number.isFinite(meanDiagonal) ? meanDiagonal : 1;
  let relative = relativeDamping;
  for (let attempt = 0; attempt < 12; attempt++) {
    const lambda = relative * scale;
    const damped = Float64Array.from(matrix);
    for (let i = 0; i < n; i++) damped[i * n + i] += lambda;
    const factor = choleskyFactor(damped, n);
    if (factor !== null) return { factor, damping: lambda, relativeDamping: relative };
    relative = relative === 0 ? 1e-8 : relative * 10;
  }
  throw new DeprunError('INTERNAL', `matrix of size ${n} is not positive definite even with damping ${relative} x mean diagonal`, {
    hint: 'the statistics contain NaN or infinite values; check the calibration inputs',
  });
}
