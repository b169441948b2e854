import { ShapeError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { createRng, matmul, matmulBroadcast, randomTensor, relativeL2Error, tensor } from '../src/index';
import { runSingleNode } from './ort-model';
import { expectCloseToOrt } from './parity';

describe('matmulBroadcast, hand-checked', () => {
  it('promotes and removes 1-D operands as ONNX MatMul does', () => {
    const vector = tensor(new Float32Array([1, 2]), [2]);
    const matrix = tensor(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const row = matmulBroadcast(vector, matrix);
    expect(row.shape).toEqual([3]);
    expect(Array.from(row.data)).toEqual([9, 12, 15]);
    const column = matmulBroadcast(tensor(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]), vector);
    expect(column.shape).toEqual([3]);
    expect(Array.from(column.data)).toEqual([5, 11, 17]);
    const scalar = matmulBroadcast(vector, vector);
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([5]);
  });

  it('broadcasts batch axes and agrees with the 2-D matmul per batch', () => {
    const rng = createRng(5);
    const a = randomTensor([2, 1, 3, 4], rng);
    const b = randomTensor([5, 4, 2], rng);
    const product = matmulBroadcast(a, b);
    expect(product.shape).toEqual([2, 5, 3, 2]);
    const a1 = tensor(a.data.slice(12, 24), [3, 4]);
    const b3 = tensor(b.data.slice(3 * 8, 4 * 8), [4, 2]);
    const expected = matmul(a1, b3);
    const offset = (1 * 5 + 3) * 6;
    expect(relativeL2Error(product.data.slice(offset, offset + 6), expected.data)).toBeLessThan(1e-15);
  });

  it('handles empty operands', () => {
    expect(Array.from(matmulBroadcast(tensor(new Float32Array(0), [2, 0]), tensor(new Float32Array(0), [0, 3])).data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmulBroadcast(tensor(new Float32Array(0), [0, 3, 4]), randomTensor([4, 2], createRng(1))).shape).toEqual([0, 3, 2]);
  });

  it('reports shapes that do not fit', () => {
    const rng = createRng(6);
    expect(() => matmulBroadcast(randomTensor([3, 4], rng), randomTensor([5, 2], rng))).toThrow(ShapeError);
    expect(() => matmulBroadcast(randomTensor([3, 4], rng), randomTensor([5, 2], rng))).toThrow(/A \[3, 4\] has K = 4 but B \[5, 2\] has K = 5/);
    expect(() => matmulBroadcast(randomTensor([2, 3, 4], rng), randomTensor([3, 4, 2], rng))).toThrow(/batch axes .* do not broadcast/);
    expect(() => matmulBroadcast(tensor(new Float64Array([1]), []), randomTensor([1, 2], rng))).toThrow(/rank >= 1/);
  });
});

describe('matmulBroadcast matches onnxruntime MatMul', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[2, 3, 4], [4, 5]],
    [[4], [4, 5]],
    [[3, 4], [4]],
    [[7], [7]],
    [[2, 1, 3, 4], [5, 4, 2]],
    [[1, 3, 4], [2, 4, 6]],
    [[5, 1, 2, 3], [3, 1]],
    [[4], [2, 3, 4, 2]],
    [[1, 25, 96], [96, 97]],
    [[2, 3, 0], [0, 5]],
  ];
  it.each(cases.map(([a, b], index) => [`${JSON.stringify(a)} x ${JSON.stringify(b)}`, a, b, index] as const))('%s', async (_name, aShape, bShape, index) => {
    const rng = createRng(6000 + index);
    const a = randomTensor(aShape, rng, { dtype: 'float32' });
    const b = randomTensor(bShape, rng, { dtype: 'float32' });
    const ort = await runSingleNode({ opType: 'MatMul', inputs: [{ name: 'a', value: a }, { name: 'b', value: b, initializer: true }] });
    expectCloseToOrt('MatMul', matmulBroadcast(a, b), ort);
  });
});
