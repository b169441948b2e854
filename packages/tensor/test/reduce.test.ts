import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { coercedSoftmaxShape, createRng, logSoftmax, randomTensor, reduce, softmax, tensor, type ReduceKind, type Tensor } from '../src/index';
import { runSingleNode, type NodeInput } from './ort-model';
import { expectCloseToOrt } from './parity';

const grid = tensor(new Float64Array([1, -2, 3, 4, 5, -6]), [2, 3]);

describe('reduce, hand-checked', () => {
  it('reduces rows, columns and everything', () => {
    expect(Array.from(reduce(grid, [1], false, 'sum').data)).toEqual([2, 3]);
    expect(reduce(grid, [1], true, 'sum').shape).toEqual([2, 1]);
    expect(Array.from(reduce(grid, [0], false, 'max').data)).toEqual([4, 5, 3]);
    expect(Array.from(reduce(grid, [-2], false, 'min').data)).toEqual([1, -2, -6]);
    expect(Array.from(reduce(grid, null, false, 'prod').data)).toEqual([720]);
    expect(reduce(grid, null, false, 'prod').shape).toEqual([]);
    expect(reduce(grid, null, true, 'mean').shape).toEqual([1, 1]);
    expect(Array.from(reduce(grid, null, true, 'mean').data)).toEqual([5 / 6]);
    expect(Array.from(reduce(grid, [1], false, 'l1').data)).toEqual([6, 15]);
    expect(Array.from(reduce(grid, [1], false, 'sumSquare').data)).toEqual([14, 77]);
    expect(Array.from(reduce(grid, [1], false, 'l2').data)).toEqual([Math.sqrt(14), Math.sqrt(77)]);
    const logSumExp = reduce(grid, [0], false, 'logSumExp').data;
    expect(logSumExp[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(4)), 14);
  });

  it('stays finite for logSumExp of large values and propagates NaN', () => {
    const large = tensor(new Float64Array([1000, 1000]), [2]);
    expect(reduce(large, null, false, 'logSumExp').data[0]).toBeCloseTo(1000 + Math.log(2), 10);
    const withNaN = tensor(new Float64Array([1, Number.NaN, 3]), [3]);
    for (const kind of ['max', 'min', 'sum', 'logSumExp'] as const) expect(reduce(withNaN, null, false, kind).data[0]).toBeNaN();
  });

  it('reduces over an empty axis to what onnxruntime gives', () => {
    const empty = tensor(new Float32Array(0), [2, 0, 3]);
    const expected: Record<ReduceKind, number> = { sum: 0, mean: 0, prod: 1, max: -Infinity, min: Infinity, sumSquare: 0, l1: 0, l2: 0, logSumExp: -Infinity };
    for (const [kind, value] of Object.entries(expected)) {
      const result = reduce(empty, [1], false, kind as ReduceKind);
      expect(result.shape).toEqual([2, 3]);
      expect(Array.from(result.data)).toEqual(new Array(6).fill(value));
    }
  });

  it('with no axes ([]) keeps the shape and applies the per-element part', () => {
    expect(Array.from(reduce(grid, [], false, 'sumSquare').data)).toEqual([1, 4, 9, 16, 25, 36]);
    expect(Array.from(reduce(grid, [], true, 'l1').data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reduce(grid, [], false, 'mean').shape).toEqual([2, 3]);
  });

  it('reports bad axes and kinds', () => {
    expect(() => reduce(grid, [2], false, 'sum')).toThrow(ShapeError);
    expect(() => reduce(grid, [2], false, 'sum')).toThrow('reduce axis 2 is out of range for a rank-2 input [2, 3]: use -2..1');
    expect(() => reduce(grid, [1, -1], false, 'sum')).toThrow(/name axis 1 twice/);
    expect(() => reduce(grid, [0.5], false, 'sum')).toThrow(UsageError);
    expect(() => reduce(grid, [0], false, 'median' as never)).toThrow(UsageError);
  });
});

describe('softmax and logSoftmax, hand-checked', () => {
  it('normalizes along the axis and is stable for large inputs', () => {
    const expectValues = (actual: Float64Array, expected: number[]) => expected.forEach((value, index) => expect(actual[index]).toBeCloseTo(value, 15));
    expectValues(softmax(tensor(new Float64Array([0, Math.log(3), 1000, 1000]), [2, 2]), -1).data, [0.25, 0.75, 0.5, 0.5]);
    expectValues(softmax(tensor(new Float64Array([0, 1000, Math.log(3), 1000]), [2, 2]), 0).data, [0.25, 0.5, 0.75, 0.5]);
    expectValues(logSoftmax(tensor(new Float64Array([-1000, -1000]), [2]), 0).data, [-Math.log(2), -Math.log(2)]);
    expect(softmax(tensor(new Float32Array(0), [2, 0]), 1).shape).toEqual([2, 0]);
  });

  it('gives the opset < 13 coerced 2-D view', () => {
    expect(coercedSoftmaxShape([2, 3, 4, 5], 1)).toEqual([2, 60]);
    expect(coercedSoftmaxShape([2, 3, 4, 5], -1)).toEqual([24, 5]);
    expect(coercedSoftmaxShape([2, 3, 4, 5], 0)).toEqual([1, 120]);
    expect(() => coercedSoftmaxShape([2, 3], 2)).toThrow(ShapeError);
    expect(() => coercedSoftmaxShape([], 0)).toThrow(UsageError);
    expect(() => softmax(grid, -3)).toThrow(/softmax axis -3 is out of range/);
  });
});

const REDUCE_OPS: Record<ReduceKind, string> = {
  mean: 'ReduceMean',
  sum: 'ReduceSum',
  max: 'ReduceMax',
  min: 'ReduceMin',
  prod: 'ReduceProd',
  sumSquare: 'ReduceSumSquare',
  l1: 'ReduceL1',
  l2: 'ReduceL2',
  logSumExp: 'ReduceLogSumExp',
};

const reduceShapes: { shape: number[]; axes: number[] | null; keepDims: boolean }[] = [
  { shape: [2, 3, 4, 5], axes: [1], keepDims: true },
  { shape: [2, 3, 4, 5], axes: [-1], keepDims: false },
  { shape: [2, 3, 4, 5], axes: [0, 2], keepDims: true },
  { shape: [2, 3, 4, 5], axes: [3, -3], keepDims: false },
  { shape: [2, 3, 4, 5], axes: null, keepDims: false },
  { shape: [1, 3, 5, 7], axes: [2, 3], keepDims: true },
  { shape: [1, 17], axes: [0], keepDims: false },
  { shape: [3, 1, 5], axes: [1], keepDims: false },
  { shape: [9], axes: [0], keepDims: true },
  { shape: [2, 4], axes: [], keepDims: true },
];

/** Opset 18: every Reduce* takes its axes as an int64 input; [] with noop_with_empty_axes reduces nothing. */
function reduceInputs(x: Tensor, axes: number[] | null): NodeInput[] {
  const inputs: NodeInput[] = [{ name: 'x', value: x }];
  if (axes !== null) inputs.push({ name: 'axes', value: { int64: axes, shape: [axes.length] }, initializer: true });
  return inputs;
}

describe('reduce matches onnxruntime Reduce* (opset 18)', () => {
  const cases = (Object.keys(REDUCE_OPS) as ReduceKind[]).flatMap((kind) =>
    reduceShapes.map((testCase, index) => [`${REDUCE_OPS[kind]} ${JSON.stringify(testCase)}`, kind, testCase, index] as const),
  );
  it.each(cases)('%s', async (_name, kind, testCase, index) => {
    const rng = createRng(7000 + index);
    // Values near 1 keep a product of 120 of them well inside float32.
    const x = kind === 'prod' ? tensor(Float32Array.from(randomTensor(testCase.shape, rng).data, (v) => 1 + 0.1 * v), testCase.shape) : randomTensor(testCase.shape, rng, { dtype: 'float32' });
    const ort = await runSingleNode({
      opType: REDUCE_OPS[kind],
      inputs: reduceInputs(x, testCase.axes),
      attributes: { keepdims: testCase.keepDims ? 1 : 0, noop_with_empty_axes: testCase.axes?.length === 0 ? 1 : 0 },
      opset: 18,
    });
    expectCloseToOrt(REDUCE_OPS[kind], reduce(x, testCase.axes, testCase.keepDims, kind), ort);
  });

  it.each(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceLogSumExp', 'ReduceProd'])('%s over an empty axis', async (opType) => {
    const x = tensor(new Float32Array(0), [2, 0, 3]);
    const kind = (Object.keys(REDUCE_OPS) as ReduceKind[]).find((key) => REDUCE_OPS[key] === opType) as ReduceKind;
    const ort = await runSingleNode({ opType, inputs: reduceInputs(x, [1]), attributes: { keepdims: 0 }, opset: 18 });
    expect(reduce(x, [1], false, kind).shape).toEqual(ort.shape);
    expect(Array.from(reduce(x, [1], false, kind).data)).toEqual(Array.from(ort.data));
  });

  it('ReduceMean with the axes attribute (opset 13), as in PP-OCR rec', async () => {
    const x = randomTensor([1, 40, 120], createRng(7100), { dtype: 'float32' });
    const ort = await runSingleNode({ opType: 'ReduceMean', inputs: [{ name: 'x', value: x }], attributes: { axes: [-1], keepdims: 1 } });
    expectCloseToOrt('ReduceMean', reduce(x, [-1], true, 'mean'), ort);
  });
});

const softmaxCases: { shape: number[]; axis: number; scale: number }[] = [
  { shape: [2, 3, 4, 5], axis: 1, scale: 1 },
  { shape: [2, 3, 4, 5], axis: -1, scale: 1 },
  { shape: [2, 3, 4, 5], axis: 0, scale: 1 },
  { shape: [2, 3, 4, 5], axis: -2, scale: 1 },
  { shape: [1, 1000], axis: -1, scale: 5 },
  { shape: [3, 1, 7], axis: 1, scale: 1 },
  { shape: [7], axis: 0, scale: 80 },
  { shape: [1, 25, 6625], axis: 2, scale: 10 },
];

describe('softmax and logSoftmax match onnxruntime (opset 13)', () => {
  it.each(softmaxCases.map((testCase, index) => [`${JSON.stringify(testCase.shape)} axis ${testCase.axis} scale ${testCase.scale}`, testCase, index] as const))(
    '%s',
    async (_name, testCase, index) => {
      const x = randomTensor(testCase.shape, createRng(7200 + index), { dtype: 'float32', scale: testCase.scale });
      const inputs = [{ name: 'x', value: x }];
      const attributes = { axis: testCase.axis };
      expectCloseToOrt('Softmax', softmax(x, testCase.axis), await runSingleNode({ opType: 'Softmax', inputs, attributes }));
      expectCloseToOrt('LogSoftmax', logSoftmax(x, testCase.axis), await runSingleNode({ opType: 'LogSoftmax', inputs, attributes }));
    },
  );
});

describe('opset 11 Softmax / LogSoftmax through coercedSoftmaxShape', () => {
  const cases: { shape: number[]; axis: number }[] = [
    { shape: [2, 3, 4], axis: 1 },
    { shape: [2, 3, 4], axis: -1 },
    { shape: [2, 3, 4], axis: 0 },
    { shape: [1, 25, 97], axis: 2 },
    { shape: [3, 5], axis: -2 },
  ];
  it.each(cases.map((testCase, index) => [`${JSON.stringify(testCase.shape)} axis ${testCase.axis}`, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const x = randomTensor(testCase.shape, createRng(7300 + index), { dtype: 'float32', scale: 3 });
    const view = tensor(x.data, coercedSoftmaxShape(x.shape, testCase.axis));
    for (const [opType, fn] of [
      ['Softmax', softmax],
      ['LogSoftmax', logSoftmax],
    ] as const) {
      const ort = await runSingleNode({ opType, inputs: [{ name: 'x', value: x }], attributes: { axis: testCase.axis }, opset: 11 });
      const ours = fn(view, 1);
      expectCloseToOrt(`${opType}-11`, tensor(ours.data, x.shape), ort);
    }
  });
});
