import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { broadcastShape, createRng, mapElementwise, randomTensor, tensor, type Tensor } from '../src/index';
import { runSingleNode } from './ort-model';
import { expectCloseToOrt } from './parity';

describe('broadcastShape', () => {
  it('aligns from the right and stretches 1s, in every direction', () => {
    expect(broadcastShape([2, 3, 4], [4])).toEqual([2, 3, 4]);
    expect(broadcastShape([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(broadcastShape([1, 5, 1, 7], [4, 1, 6, 1])).toEqual([4, 5, 6, 7]);
    expect(broadcastShape([], [2, 3])).toEqual([2, 3]);
    expect(broadcastShape([1], [])).toEqual([1]);
    expect(broadcastShape([3], [1, 3], [2, 1, 1])).toEqual([2, 1, 3]);
    expect(broadcastShape()).toEqual([]);
  });

  it('treats 0 as an ordinary size', () => {
    expect(broadcastShape([0, 3], [1, 3])).toEqual([0, 3]);
    expect(broadcastShape([2, 0], [0])).toEqual([2, 0]);
    expect(() => broadcastShape([0], [2])).toThrow(ShapeError);
  });

  it('names the shapes and the axis that do not broadcast', () => {
    expect(() => broadcastShape([2, 3], [4])).toThrow(ShapeError);
    expect(() => broadcastShape([2, 3], [4])).toThrow('shapes [2, 3], [4] do not broadcast: axis -1 (counted from the end) has sizes 3 and 4');
    expect(() => broadcastShape([5, 2, 3], [1, 3], [4, 1, 1])).toThrow(/axis -3 .* sizes 5 and 4/);
    expect(() => broadcastShape([2, -1])).toThrow(/invalid dimension -1/);
  });
});

describe('mapElementwise', () => {
  it('maps one, two, three and more inputs with broadcasting', () => {
    const a = tensor(new Float32Array([1, 2, 3]), [3]);
    const column = tensor(new Float64Array([10, 20]), [2, 1]);
    const scalar = tensor(new Float64Array([0.5]), []);
    expect(Array.from(mapElementwise([a], (v) => v * v).data)).toEqual([1, 4, 9]);
    const sum = mapElementwise([column, a], (p, q) => p + q);
    expect(sum.shape).toEqual([2, 3]);
    expect(Array.from(sum.data)).toEqual([11, 12, 13, 21, 22, 23]);
    const three = mapElementwise([a, column, scalar], (p, q, r) => p * q * r);
    expect(Array.from(three.data)).toEqual([5, 10, 15, 10, 20, 30]);
    const four = mapElementwise([a, column, scalar, a], (p, q, r, s) => p + q + r + s);
    expect(Array.from(four.data)).toEqual([12.5, 14.5, 16.5, 22.5, 24.5, 26.5]);
    expect(four.data).toBeInstanceOf(Float64Array);
  });

  it('handles scalars and empty tensors', () => {
    const scalar = mapElementwise([tensor(new Float32Array([3]), [])], (v) => -v);
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([-3]);
    const empty = mapElementwise([tensor(new Float32Array(0), [0, 3]), tensor(new Float32Array(3), [3])], (p, q) => p + q);
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.data.length).toBe(0);
  });

  it('reports what is wrong', () => {
    expect(() => mapElementwise([], () => 0)).toThrow(UsageError);
    expect(() => mapElementwise([tensor(new Float32Array(2), [2])], 'add' as never)).toThrow(UsageError);
    expect(() => mapElementwise([tensor(new Float32Array(2), [2]), tensor(new Float32Array(3), [3])], (p, q) => p + q)).toThrow(ShapeError);
  });
});

interface BinaryCase {
  a: number[];
  b: number[];
}

/** Broadcasts of every kind: equal, scalar both ways, trailing vector, per-channel, 1s on both sides, 1xN, empty. */
const broadcastCases: BinaryCase[] = [
  { a: [2, 3, 5, 7], b: [2, 3, 5, 7] },
  { a: [2, 3, 5, 7], b: [] },
  { a: [], b: [4, 3] },
  { a: [2, 3, 5, 7], b: [7] },
  { a: [1, 6, 5, 5], b: [6, 1, 1] },
  { a: [2, 1, 4, 1], b: [1, 3, 1, 5] },
  { a: [1, 1, 1, 9], b: [1, 4, 1, 1] },
  { a: [3, 1], b: [1, 1, 4] },
  { a: [1], b: [5, 1, 3] },
  { a: [0, 3], b: [1, 3] },
];

const binaryOps: { op: string; fn: (p: number, q: number) => number; positiveB?: boolean }[] = [
  { op: 'Add', fn: (p, q) => p + q },
  { op: 'Sub', fn: (p, q) => p - q },
  { op: 'Mul', fn: (p, q) => p * q },
  { op: 'Div', fn: (p, q) => p / q, positiveB: true },
  { op: 'Pow', fn: (p, q) => p ** q, positiveB: true },
];

function positive(t: Tensor): Tensor {
  return tensor(Float32Array.from(t.data, (value) => 0.5 + Math.abs(value)), t.shape);
}

describe('mapElementwise matches onnxruntime elementwise ops', () => {
  const cases = binaryOps.flatMap(({ op, fn, positiveB }) =>
    broadcastCases.map((shapes, index) => [`${op} ${JSON.stringify(shapes.a)} with ${JSON.stringify(shapes.b)}`, op, fn, positiveB ?? false, shapes, index] as const),
  );
  it.each(cases)('%s', async (_name, op, fn, positiveB, shapes, index) => {
    const rng = createRng(1300 + index);
    const a = op === 'Pow' ? positive(randomTensor(shapes.a, rng, { dtype: 'float32' })) : randomTensor(shapes.a, rng, { dtype: 'float32' });
    const rawB = randomTensor(shapes.b, rng, { dtype: 'float32' });
    const b = positiveB ? positive(rawB) : rawB;
    const ort = await runSingleNode({ opType: op, inputs: [{ name: 'a', value: a }, { name: 'b', value: b }] });
    expectCloseToOrt(op, mapElementwise([a, b], fn), ort);
  });

  it.each([
    [[2, 3, 4], [3, 1], [1, 4]],
    [[1, 5], [4, 1], []],
    [[6], [2, 1, 6], [2, 3, 1]],
  ])('variadic Sum and Max over %j, %j, %j', async (shapeA, shapeB, shapeC) => {
    const rng = createRng(1400 + shapeA.length);
    const inputs = [shapeA, shapeB, shapeC].map((shape) => randomTensor(shape, rng, { dtype: 'float32' }));
    const named = inputs.map((value, index) => ({ name: `x${index}`, value }));
    expectCloseToOrt('Sum', mapElementwise(inputs, (p, q, r) => p + q + r), await runSingleNode({ opType: 'Sum', inputs: named }));
    expectCloseToOrt('Max', mapElementwise(inputs, (p, q, r) => Math.max(p, q, r)), await runSingleNode({ opType: 'Max', inputs: named }));
  });

  it.each([
    ['Sigmoid', (v: number) => 1 / (1 + Math.exp(-v))],
    ['HardSigmoid', (v: number) => Math.min(1, Math.max(0, Math.fround(0.2) * v + 0.5))],
    ['Relu', (v: number) => Math.max(0, v)],
    ['Tanh', (v: number) => Math.tanh(v)],
  ] as const)('unary %s on 1x3x1x17 and 2x5x7x3', async (op, fn) => {
    const rng = createRng(1500 + op.length);
    for (const shape of [
      [1, 3, 1, 17],
      [2, 5, 7, 3],
    ]) {
      const x = randomTensor(shape, rng, { dtype: 'float32', scale: 3 });
      expectCloseToOrt(op, mapElementwise([x], fn), await runSingleNode({ opType: op, inputs: [{ name: 'x', value: x }] }));
    }
  });
});
