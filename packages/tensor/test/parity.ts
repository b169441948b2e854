/**
 * Test helper: compares a reference result with onnxruntime's and keeps the worst relative L2
 * error seen per op. Run with DEPRUNE_PARITY_REPORT=1 to print the worst errors after each file.
 */
import { afterAll, expect } from 'vitest';
import { relativeL2Error, type Tensor } from '../src/index';
import type { OrtResult } from './ort-model';

/** Our inputs are float32 values, so only ORT's float32 rounding separates the results. */
export const ORT_TOLERANCE = 1e-5;

const worstByOp = new Map<string, number>();

function record(op: string, error: number): void {
  worstByOp.set(op, Math.max(worstByOp.get(op) ?? 0, error));
}

afterAll(() => {
  if (!process.env.DEPRUNE_PARITY_REPORT) return;
  for (const [op, error] of [...worstByOp].sort()) console.log(`worst relative L2 error vs onnxruntime: ${op} ${error.toExponential(2)}`);
});

/** Same shape and relative L2 error below the tolerance (an empty result must match in shape only). */
export function expectCloseToOrt(op: string, ours: Tensor, ort: OrtResult, tolerance = ORT_TOLERANCE): void {
  expect(ours.shape).toEqual(ort.shape);
  const error = ours.data.length === 0 ? 0 : relativeL2Error(ours.data, ort.data);
  record(op, error);
  expect(error).toBeLessThan(tolerance);
}

/** Data movement is exact: same shape, same dtype as the float32 input, bit-identical values. */
export function expectExactlyOrt(op: string, ours: Tensor, ort: OrtResult): void {
  expect(ours.shape).toEqual(ort.shape);
  expect(ours.data).toBeInstanceOf(Float32Array);
  expect(Array.from(ours.data)).toEqual(Array.from(ort.data));
  record(op, 0);
}
