import { ShapeError, UsageError } from '@deprune/errors';

/**
 * Argument checks shared by the kernels. Not part of the public API: every message
 * names the argument, what was expected and what was given, so callers can rethrow as is.
 */

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function assertRank(name: string, shape: readonly number[], rank: number, layout: string): void {
  if (shape.length !== rank) {
    throw new ShapeError(`${name} must be rank ${rank} (${layout}), got shape ${formatShape(shape)}`);
  }
}

export function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`${name} must be a positive integer, got ${String(value)}`);
  }
}

export function assertNonNegativeInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
}

export function assertFiniteNumber(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new UsageError(`${name} must be a finite number, got ${String(value)}`);
  }
}

export function assertSameLength(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  if (actual.length !== expected.length) {
    throw new ShapeError(`${what}: lengths differ, actual has ${actual.length} values and expected has ${expected.length}`);
  }
}

/** A [height, width] pair attribute, or [fallback, fallback] when absent. */
export function readPair(name: string, value: readonly number[] | undefined, fallback: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  if (!Array.isArray(value) || value.length !== 2) {
    throw new UsageError(`${name} must be a pair [height, width], got ${JSON.stringify(value)}`);
  }
  return [value[0], value[1]];
}
