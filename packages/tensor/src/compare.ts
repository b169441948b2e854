import { assertSameLength } from './checks';

/**
 * Numeric agreement checks used by every parity test in the project. Norms are computed after
 * dividing by the largest magnitude, so huge or tiny values neither overflow nor underflow.
 * NaN anywhere makes the result NaN, which fails any `< tolerance` check, as it should.
 */

/** Smallest denominator for relativeL2Error, so an all-zero `expected` gives a large finite ratio, not Infinity or NaN. */
const TINY_NORM = 1e-300;

function largestMagnitude(length: number, valueAt: (index: number) => number): number {
  let largest = 0;
  for (let index = 0; index < length; index++) {
    const magnitude = Math.abs(valueAt(index));
    if (Number.isNaN(magnitude)) return Number.NaN;
    if (magnitude > largest) largest = magnitude;
  }
  return largest;
}

function l2Norm(length: number, valueAt: (index: number) => number): number {
  const largest = largestMagnitude(length, valueAt);
  if (largest === 0) return 0;
  let sum = 0;
  for (let index = 0; index < length; index++) {
    const scaled = valueAt(index) / largest;
    sum += scaled * scaled;
  }
  return largest * Math.sqrt(sum);
}

/** ||actual - expected||_2 / max(||expected||_2, tiny). */
export function relativeL2Error(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assertSameLength('relativeL2Error', actual, expected);
  const differenceNorm = l2Norm(actual.length, (index) => actual[index] - expected[index]);
  const expectedNorm = l2Norm(expected.length, (index) => expected[index]);
  return differenceNorm / Math.max(expectedNorm, TINY_NORM);
}

/** max_i |actual_i - expected_i| (0 for empty inputs). */
export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assertSameLength('maxAbsDifference', actual, expected);
  return largestMagnitude(actual.length, (index) => actual[index] - expected[index]);
}

/**
 * a.b / (|a| |b|), clamped to [-1, 1]. Two all-zero vectors count as identical (1); an all-zero
 * vector against a non-zero one as unrelated (0).
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertSameLength('cosineSimilarity', a, b);
  const scaleA = largestMagnitude(a.length, (index) => a[index]);
  const scaleB = largestMagnitude(b.length, (index) => b[index]);
  if (Number.isNaN(scaleA) || Number.isNaN(scaleB)) return Number.NaN;
  if (scaleA === 0 || scaleB === 0) return scaleA === scaleB ? 1 : 0;
  let dot = 0;
  let sumA = 0;
  let sumB = 0;
  for (let index = 0; index < a.length; index++) {
    const scaledA = a[index] / scaleA;
    const scaledB = b[index] / scaleB;
    dot += scaledA * scaledB;
    sumA += scaledA * scaledA;
    sumB += scaledB * scaledB;
  }
  return Math.min(1, Math.max(-1, dot / Math.sqrt(sumA * sumB)));
}
