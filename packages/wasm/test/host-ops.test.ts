import { ShapeError, UsageError } from '@deprune/errors';
import { applyActivation, type Activation, type AxisView, type BinaryOp, type ReduceKernelKind, type UnaryOp } from '@deprune/kernels';
import {
  convTranspose2d as convTranspose2dReference,
  createRng,
  gemm as gemmReference,
  globalPool2d,
  logSoftmax,
  mapElementwise,
  matmulBroadcast,
  pool2d as pool2dReference,
  randomTensor,
  reduce,
  resize2d as resize2dReference,
  softmax as softmaxReference,
  tensor,
  toFloat32,
  type ConvTranspose2dParams,
  type GemmOptions,
  type Resize2dParams,
  type Rng,
  type Tensor,
} from '@deprune/tensor';
import { describe, expect, it } from 'vitest';
import { binary, convTranspose2d, gemm, matmul, pool2d, reduceAxis, resize2d, softmax, unary } from '../src/host';
import { POOL_CASES } from './pool-cases';

const rngFor = (offset: number): Rng => createRng(20240 + offset);

function normal(shape: readonly number[], rng: Rng, scale = 1): Tensor<Float32Array> {
  return toFloat32(randomTensor(shape, rng, { scale })) as Tensor<Float32Array>;
}

/** Values in [low, high) as float32. */
function uniform(shape: readonly number[], rng: Rng, low: number, high: number): Tensor<Float32Array> {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: size }, () => low + (high - low) * rng.next()), shape);
}

/** Small integers as floats: ties for comparisons and max/min, integer exponents for pow. */
function integers(shape: readonly number[], rng: Rng, low: number, high: number): Tensor<Float32Array> {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: size }, () => low + rng.int(high - low + 1)), shape);
}

function withActivation(reference: Tensor, activation: Activation | undefined): Tensor<Float64Array> {
  return tensor(applyActivation(Float64Array.from(reference.data), activation), reference.shape);
}

/** Same shape, float32 data, and every element within relative error 1e-5 of the float64 reference. */
function expectClose(actual: Tensor, expected: Tensor): void {
  expect(actual.data).toBeInstanceOf(Float32Array);
  expect([...actual.shape]).toEqual([...expected.shape]);
  expect(actual.data.length).toBe(expected.data.length);
  let worst = 0;
  let worstAt = -1;
  for (let index = 0; index < expected.data.length; index++) {
    const a = actual.data[index];
    const e = expected.data[index];
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const error = Math.abs(a - e) / Math.max(Math.abs(e), 1e-6);
    if (!(error <= worst)) {
      worst = Number.isNaN(error) ? Infinity : error;
      worstAt = index;
    }
  }
  expect(worst, `worst relative error at ${worstAt}: ${actual.data[worstAt]} vs ${expected.data[worstAt]}`).toBeLessThan(1e-5);
}

function activationLabel(activation: Activation | undefined): string {
  if (activation === undefined) return '';
  return ` + ${typeof activation === 'string' ? activation : activation.kind}`;
}

/** float64 erf by its alternating series (an independent reference for the kernel's). */
function erfSeries(value: number): number {
  let sum = value;
  let term = value;
  for (let n = 1; n < 300; n++) {
    term *= (-value * value) / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const ACTIVATIONS: readonly (Activation | undefined)[] = [
  undefined,
  'none',
  'relu',
  'relu6',
  { kind: 'clip', min: -0.5, max: 0.25 },
  'hardswish',
  'hardsigmoid',
  { kind: 'hardsigmoid', alpha: 0.3, beta: 0.4 },
  'sigmoid',
  'silu',
];

describe('unary', () => {
  const SHAPE = [2, 3, 5, 7];
  const cases: { op: UnaryOp; reference: (x: number) => number; input: (rng: Rng) => Tensor<Float32Array>; alpha?: number }[] = [
    { op: 'identity', reference: (x) => x, input: (rng) => normal(SHAPE, rng) },
    { op: 'exp', reference: Math.exp, input: (rng) => normal(SHAPE, rng) },
    { op: 'log', reference: Math.log, input: (rng) => uniform(SHAPE, rng, 0.05, 4) },
    { op: 'sqrt', reference: Math.sqrt, input: (rng) => uniform(SHAPE, rng, 0, 4) },
    { op: 'abs', reference: Math.abs, input: (rng) => normal(SHAPE, rng) },
    { op: 'neg', reference: (x) => -x, input: (rng) => normal(SHAPE, rng) },
    { op: 'reciprocal', reference: (x) => 1 / x, input: (rng) => uniform(SHAPE, rng, 0.5, 3) },
    { op: 'tanh', reference: Math.tanh, input: (rng) => normal(SHAPE, rng, 3) },
    { op: 'leakyRelu', reference: (x) => (x < 0 ? 0.01 * x : x), input: (rng) => normal(SHAPE, rng) },
    { op: 'leakyRelu', reference: (x) => (x < 0 ? 0.1 * x : x), input: (rng) => normal(SHAPE, rng), alpha: 0.1 },
    { op: 'elu', reference: (x) => (x < 0 ? Math.exp(x) - 1 : x), input: (rng) => normal(SHAPE, rng) },
    { op: 'elu', reference: (x) => (x < 0 ? 0.7 * (Math.exp(x) - 1) : x), input: (rng) => normal(SHAPE, rng), alpha: 0.7 },
    { op: 'softplus', reference: (x) => Math.log1p(Math.exp(x)), input: (rng) => normal(SHAPE, rng, 4) },
    { op: 'floor', reference: Math.floor, input: (rng) => normal(SHAPE, rng, 3) },
    { op: 'ceil', reference: Math.ceil, input: (rng) => normal(SHAPE, rng, 3) },
    { op: 'erf', reference: erfSeries, input: (rng) => normal(SHAPE, rng, 1.5) },
    { op: 'erf', reference: (x) => (Math.abs(x) >= 6 ? Math.sign(x) : erfSeries(x)), input: (rng) => uniform([40], rng, 2.5, 5) },
    { op: 'sign', reference: Math.sign, input: (rng) => integers(SHAPE, rng, -2, 2) },
    { op: 'not', reference: (x) => (x === 0 ? 1 : 0), input: (rng) => integers(SHAPE, rng, 0, 1) },
  ];
  cases.forEach(({ op, reference, input, alpha }, index) => {
    it(`${op}${alpha === undefined ? '' : ` alpha ${alpha}`}`, async () => {
      const x = input(rngFor(index));
      expectClose(await unary(x, op, alpha === undefined ? {} : { alpha }), mapElementwise([x], reference));
    });
  });

  ACTIVATIONS.forEach((activation, index) => {
    it(`identity${activationLabel(activation)}, and on a float64 input`, async () => {
      const x = normal([3, 5, 1, 9], rngFor(100 + index), 4);
      expectClose(await unary(x, 'identity', { activation }), withActivation(x, activation));
      const x64 = randomTensor([7], rngFor(120 + index), { scale: 4 });
      expectClose(await unary(x64, 'neg', { activation }), withActivation(mapElementwise([toFloat32(x64)], (v) => -v), activation));
    });
  });

  it('runs long inputs in chunks, keeps scalars and empty shapes', async () => {
    const x = normal([3, 4099], rngFor(130));
    expectClose(await unary(x, 'exp', { activation: 'relu' }), withActivation(mapElementwise([x], Math.exp), 'relu'));
    const scalar = tensor(new Float32Array([-2]), []);
    expectClose(await unary(scalar, 'abs'), tensor(new Float64Array([2]), []));
    const empty = await unary(tensor(new Float32Array(0), [2, 0, 3]), 'exp');
    expect([...empty.shape]).toEqual([2, 0, 3]);
  });

  it('rejects unknown operators and a bad alpha', async () => {
    const x = normal([2, 2], rngFor(140));
    await expect(unary(x, 'cube' as UnaryOp)).rejects.toThrow(UsageError);
    await expect(unary(x, 'leakyRelu', { alpha: Number.NaN })).rejects.toThrow(UsageError);
    await expect(unary(x, 'identity', { activation: 'gelu' as Activation })).rejects.toThrow(UsageError);
  });
});

describe('binary', () => {
  const OPS: Record<BinaryOp, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    pow: Math.pow,
    max: Math.max,
    min: Math.min,
    prelu: (a, b) => (a < 0 ? a * b : a),
    equal: (a, b) => (a === b ? 1 : 0),
    less: (a, b) => (a < b ? 1 : 0),
    greater: (a, b) => (a > b ? 1 : 0),
    lessOrEqual: (a, b) => (a <= b ? 1 : 0),
    greaterOrEqual: (a, b) => (a >= b ? 1 : 0),
  };
  const values = (op: BinaryOp, shape: readonly number[], rng: Rng, operand: 0 | 1): Tensor<Float32Array> => {
    if (op === 'div' && operand === 1) return uniform(shape, rng, 0.5, 2);
    if (op === 'pow') return operand === 0 ? normal(shape, rng) : integers(shape, rng, -2, 3);
    if (['equal', 'less', 'greater', 'lessOrEqual', 'greaterOrEqual', 'max', 'min'].includes(op)) return integers(shape, rng, 0, 2);
    return normal(shape, rng);
  };
  const check = async (op: BinaryOp, aShape: readonly number[], bShape: readonly number[], seed: number, activation?: Activation) => {
    const rng = rngFor(seed);
    const a = values(op, aShape, rng, 0);
    const b = values(op, bShape, rng, 1);
    expectClose(await binary(a, b, op, { activation }), withActivation(mapElementwise([a, b], OPS[op]), activation));
  };

  (Object.keys(OPS) as BinaryOp[]).forEach((op, index) => {
    it(`${op}: same shape, channel broadcast, scalar`, async () => {
      await check(op, [2, 3, 4, 5], [2, 3, 4, 5], 200 + index * 4);
      await check(op, [1, 6, 5, 7], [1, 6, 1, 1], 201 + index * 4);
      await check(op, [1, 6, 1, 1], [], 202 + index * 4);
      await check(op, [], [3, 1, 5], 203 + index * 4);
    });
  });

  it('pow of a fractional exponent: positive bases, NaN for negative ones', async () => {
    const rng = rngFor(260);
    const a = uniform([4, 6], rng, 0.1, 2);
    const b = normal([6], rng);
    expectClose(await binary(a, b, 'pow'), mapElementwise([a, b], Math.pow));
    const negative = await binary(tensor(new Float32Array([-2, -2, 0]), [3]), tensor(new Float32Array([0.5, 3, 2]), [3]), 'pow');
    expect([...negative.data]).toEqual([Number.NaN, -8, 0]);
  });

  const PATTERNS: readonly [readonly number[], readonly number[]][] = [
    [[], []],
    [[5], [4, 1]],
    [[3, 1, 5], [1, 4, 1]],
    [[2, 6, 1, 1], [2, 6, 9, 3]],
    [[6, 1, 1], [1, 6, 5, 7]],
    [[2, 3, 4, 5, 6], [2, 3, 1, 1, 6]],
    [[2, 3, 4, 5, 6], [6]],
    [[1, 1, 1, 1, 1], [2, 3, 1, 2, 3]],
    // More than 4 collapsed index axes: the generic strided path.
    [[2, 1, 3, 1, 4], [1, 5, 1, 6, 1]],
    [[2, 1, 3, 1, 4, 1], [1, 5, 1, 2, 1, 3]],
    [[3, 1, 2, 1, 2, 1], [3, 2, 1, 2, 1, 5]],
    // A last axis longer than the scratch chunk.
    [[3, 4100], [4100]],
    [[2, 1, 3, 1, 4100], [1, 2, 1, 2, 1]],
  ];
  PATTERNS.forEach(([aShape, bShape], index) => {
    it(`broadcasts [${aShape.join(',')}] with [${bShape.join(',')}] both ways`, async () => {
      await check('sub', aShape, bShape, 300 + index * 2);
      await check('div', bShape, aShape, 301 + index * 2);
    });
  });

  ACTIVATIONS.forEach((activation, index) => {
    it(`add${activationLabel(activation)}`, async () => {
      await check('add', [1, 5, 3, 3], [1, 5, 1, 1], 340 + index, activation);
      await check('mul', [2, 1, 3, 1, 4], [1, 5, 1, 6, 1], 360 + index, activation);
    });
  });

  it('returns empty outputs and rejects shapes that do not broadcast', async () => {
    const empty = await binary(tensor(new Float32Array(0), [0, 3]), tensor(new Float32Array(3), [3]), 'add');
    expect([...empty.shape]).toEqual([0, 3]);
    const rng = rngFor(380);
    await expect(binary(normal([2, 3], rng), normal([4], rng), 'add')).rejects.toThrow(ShapeError);
    await expect(binary(normal([2, 3, 4, 5, 6], rng), normal([2, 3, 1, 5, 5], rng), 'mul')).rejects.toThrow(ShapeError);
    await expect(binary(normal([2], rng), normal([2], rng), 'xor' as BinaryOp)).rejects.toThrow(UsageError);
  });
});

describe('pool2d', () => {
  const cases = POOL_CASES;
  cases.forEach(({ label, input, params, activation }, index) => {
    it(label, async () => {
      const x = normal(input, rngFor(400 + index));
      expectClose(await pool2d(x, { ...params, activation }), withActivation(pool2dReference(x, params), activation));
    });
  });

  (['max', 'average'] as const).forEach((kind, index) => {
    it(`global ${kind} (window of the whole image), C=6, 7x9 and 1x11`, async () => {
      const x = normal([2, 6, 7, 9], rngFor(420 + index));
      expectClose(await pool2d(x, { kind, kernel: [7, 9] }), globalPool2d(x, kind));
      const row = normal([1, 3, 1, 11], rngFor(430 + index));
      expectClose(await pool2d(row, { kind, kernel: [1, 11], activation: 'sigmoid' }), withActivation(globalPool2d(row, kind), 'sigmoid'));
    });
  });

  it('rejects a non-NCHW input and a kernel larger than the padded input', async () => {
    const rng = rngFor(440);
    await expect(pool2d(normal([3, 4, 4], rng), { kind: 'max', kernel: [2, 2] })).rejects.toThrow(ShapeError);
    await expect(pool2d(normal([1, 1, 2, 2], rng), { kind: 'max', kernel: [3, 3] })).rejects.toThrow(ShapeError);
    await expect(pool2d(normal([1, 1, 4, 4], rng), { kind: 'median' as 'max', kernel: [2, 2] })).rejects.toThrow(UsageError);
    const empty = await pool2d(tensor(new Float32Array(0), [0, 3, 4, 4]), { kind: 'max', kernel: [2, 2] });
    expect([...empty.shape]).toEqual([0, 3, 3, 3]);
  });
});

describe('resize2d', () => {
  const cases: { label: string; input: [number, number, number, number]; params: Resize2dParams }[] = [
    { label: 'nearest x2 asymmetric floor', input: [1, 3, 5, 6], params: { outHeight: 10, outWidth: 12, scaleH: 2, scaleW: 2, mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' } },
    { label: 'nearest x2 half_pixel round_prefer_floor', input: [1, 2, 4, 5], params: { outHeight: 8, outWidth: 10, scaleH: 2, scaleW: 2, mode: 'nearest' } },
    { label: 'nearest 7->10 align_corners round_prefer_ceil', input: [1, 2, 7, 7], params: { outHeight: 10, outWidth: 10, scaleH: 10 / 7, scaleW: 10 / 7, mode: 'nearest', coordinateTransformationMode: 'align_corners', nearestMode: 'round_prefer_ceil' } },
    { label: 'nearest 10->4 tf_half_pixel_for_nn ceil', input: [1, 2, 10, 10], params: { outHeight: 4, outWidth: 4, scaleH: 0.4, scaleW: 0.4, mode: 'nearest', coordinateTransformationMode: 'tf_half_pixel_for_nn', nearestMode: 'ceil' } },
    { label: 'nearest 5->3 pytorch_half_pixel, 1xN', input: [1, 3, 1, 5], params: { outHeight: 1, outWidth: 3, scaleH: 1, scaleW: 0.6, mode: 'nearest', coordinateTransformationMode: 'pytorch_half_pixel' } },
    { label: 'nearest per-axis rounding (opset 10)', input: [1, 2, 3, 8], params: { outHeight: 6, outWidth: 4, scaleH: 2, scaleW: 0.5, mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestModePerAxis: ['floor', 'ceil'] } },
    { label: 'nearest x3 tf_half_pixel_for_nn, W unscaled', input: [2, 5, 3, 4], params: { outHeight: 9, outWidth: 4, scaleH: 3, scaleW: 1, mode: 'nearest', coordinateTransformationMode: 'tf_half_pixel_for_nn' } },
    { label: 'linear x2 half_pixel', input: [2, 3, 4, 5], params: { outHeight: 8, outWidth: 10, scaleH: 2, scaleW: 2, mode: 'linear' } },
    { label: 'linear 5->9 align_corners', input: [1, 2, 5, 5], params: { outHeight: 9, outWidth: 9, scaleH: 9 / 5, scaleW: 9 / 5, mode: 'linear', coordinateTransformationMode: 'align_corners' } },
    { label: 'linear 9->4 pytorch_half_pixel, W unscaled', input: [1, 2, 9, 6], params: { outHeight: 4, outWidth: 6, scaleH: 4 / 9, scaleW: 1, mode: 'linear', coordinateTransformationMode: 'pytorch_half_pixel' } },
    { label: 'linear x2.5 asymmetric, 1xN to 3xM', input: [1, 3, 1, 4], params: { outHeight: 3, outWidth: 10, scaleH: 3, scaleW: 2.5, mode: 'linear', coordinateTransformationMode: 'asymmetric' } },
    { label: 'linear 6->1 tf_half_pixel_for_nn', input: [1, 2, 6, 6], params: { outHeight: 1, outWidth: 1, scaleH: 1 / 6, scaleW: 1 / 6, mode: 'linear', coordinateTransformationMode: 'tf_half_pixel_for_nn' } },
  ];
  cases.forEach(({ label, input, params }, index) => {
    it(label, async () => {
      const x = normal(input, rngFor(500 + index));
      expectClose(await resize2d(x, params), resize2dReference(x, params));
    });
  });

  it('rejects bad inputs and attributes, keeps empty outputs', async () => {
    const rng = rngFor(520);
    const params: Resize2dParams = { outHeight: 4, outWidth: 4, scaleH: 2, scaleW: 2, mode: 'nearest' };
    await expect(resize2d(normal([2, 2, 2], rng), params)).rejects.toThrow(ShapeError);
    await expect(resize2d(normal([1, 1, 2, 2], rng), { ...params, mode: 'cubic' as 'linear' })).rejects.toThrow(UsageError);
    await expect(resize2d(normal([1, 1, 2, 2], rng), { ...params, nearestMode: 'up' as 'floor' })).rejects.toThrow(UsageError);
    await expect(resize2d(normal([1, 1, 2, 2], rng), { ...params, coordinateTransformationMode: 'tf_crop_and_resize' as 'asymmetric' })).rejects.toThrow(UsageError);
    await expect(resize2d(tensor(new Float32Array(0), [1, 1, 0, 2]), params)).rejects.toThrow(ShapeError);
    const empty = await resize2d(tensor(new Float32Array(0), [0, 2, 2, 2]), params);
    expect([...empty.shape]).toEqual([0, 2, 4, 4]);
  });
});

describe('reduceAxis and softmax', () => {
  const KINDS: readonly ReduceKernelKind[] = ['sum', 'mean', 'max', 'min', 'prod', 'sumSquare', 'l1', 'l2', 'logSumExp'];
  const VIEWS: readonly { view: AxisView; label: string }[] = [
    { view: { outer: 6, length: 13, inner: 1 }, label: 'last axis' },
    { view: { outer: 2, length: 5, inner: 7 }, label: 'middle axis' },
    { view: { outer: 1, length: 40, inner: 3 }, label: 'first axis' },
    { view: { outer: 3, length: 1, inner: 5 }, label: 'axis of size 1' },
  ];
  KINDS.forEach((kind, kindIndex) => {
    it(`${kind} over the last, middle and first axis`, async () => {
      for (const [viewIndex, { view }] of VIEWS.entries()) {
        const shape = [view.outer, view.length, view.inner];
        const rng = rngFor(600 + kindIndex * 8 + viewIndex);
        // prod of 40 normals under- or overflows float32: keep its factors near 1.
        const x = kind === 'prod' ? uniform([view.outer * view.length * view.inner], rng, 0.8, 1.25) : normal([view.outer * view.length * view.inner], rng);
        expectClose(await reduceAxis(x, view, kind), reduce(tensor(x.data, shape), [1], false, kind));
      }
    });
  });

  it('propagates NaN through max and min, and handles infinite maxima in logSumExp', async () => {
    const x = tensor(new Float32Array([1, Number.NaN, 3, -Infinity, -Infinity, -Infinity, Infinity, 2, 0]), [9]);
    const view = { outer: 3, length: 3, inner: 1 };
    for (const kind of ['max', 'min', 'logSumExp'] as const) {
      expectClose(await reduceAxis(x, view, kind), reduce(tensor(x.data, [3, 3, 1]), [1], false, kind));
    }
  });

  const SHAPE = [4, 3, 5];
  [0, 1, 2].forEach((axis) => {
    for (const log of [false, true]) {
      it(`${log ? 'log-softmax' : 'softmax'} on axis ${axis} of [${SHAPE.join(', ')}]`, async () => {
        const x = normal(SHAPE, rngFor(700 + axis * 2 + (log ? 1 : 0)), 3);
        const view = {
          outer: SHAPE.slice(0, axis).reduce((a, b) => a * b, 1),
          length: SHAPE[axis],
          inner: SHAPE.slice(axis + 1).reduce((a, b) => a * b, 1),
        };
        const actual = await softmax(x, view, { log });
        expectClose(actual, log ? logSoftmax(x, axis) : softmaxReference(x, axis));
      });
    }
  });

  it('rejects views that do not cover the input, bad kinds and empty axes', async () => {
    const x = normal([2, 3, 4], rngFor(720));
    await expect(reduceAxis(x, { outer: 2, length: 3, inner: 3 }, 'sum')).rejects.toThrow(ShapeError);
    await expect(softmax(x, { outer: 2, length: 4, inner: 4 })).rejects.toThrow(ShapeError);
    await expect(reduceAxis(x, { outer: 2, length: 3, inner: 4 }, 'median' as ReduceKernelKind)).rejects.toThrow(UsageError);
    await expect(reduceAxis(x, { outer: 2, length: -3, inner: -4 }, 'sum')).rejects.toThrow(UsageError);
    await expect(reduceAxis(tensor(new Float32Array(0), [2, 0]), { outer: 2, length: 0, inner: 1 }, 'sum')).rejects.toThrow(ShapeError);
    const empty = await reduceAxis(tensor(new Float32Array(0), [0, 3]), { outer: 0, length: 3, inner: 1 }, 'max');
    expect([...empty.shape]).toEqual([0, 1]);
  });
});

describe('convTranspose2d', () => {
  const cases: { label: string; input: [number, number, number, number]; weight: [number, number, number, number]; params: ConvTranspose2dParams; bias?: boolean; activation?: Activation }[] = [
    { label: '2x2 stride 2 + relu', input: [1, 6, 5, 7], weight: [6, 4, 2, 2], params: { strides: [2, 2] }, bias: true, activation: 'relu' },
    { label: '3x3 stride 2 group 2 pads [1,0,1,1] output padding (1,0)', input: [1, 4, 4, 5], weight: [4, 3, 3, 3], params: { strides: [2, 2], group: 2, pads: [1, 0, 1, 1], outputPadding: [1, 0] }, bias: true },
    { label: '3x3 dilation 2 pads 1, N=2 + sigmoid', input: [2, 3, 4, 4], weight: [3, 2, 3, 3], params: { dilations: [2, 2], pads: [1, 1, 1, 1] }, bias: true, activation: 'sigmoid' },
    { label: '1x3 stride (1,3) on a 1xN input, no bias', input: [1, 2, 1, 6], weight: [2, 3, 1, 3], params: { strides: [1, 3] } },
    { label: '3x2 stride (2,1) group 3, C=3 -> 5*3 + hardswish', input: [2, 3, 3, 4], weight: [3, 5, 3, 2], params: { strides: [2, 1], group: 3, pads: [0, 1, 2, 0], outputPadding: [1, 0] }, bias: true, activation: 'hardswish' },
    { label: '4x4 stride 2 pads 1 dilation (1,2) output padding (0,1) + silu', input: [1, 5, 3, 3], weight: [5, 3, 4, 4], params: { strides: [2, 2], dilations: [1, 2], pads: [1, 1, 1, 1], outputPadding: [0, 1] }, bias: true, activation: 'silu' },
  ];
  cases.forEach(({ label, input, weight, params, bias, activation }, index) => {
    it(label, async () => {
      const rng = rngFor(800 + index);
      const x = normal(input, rng);
      const w = normal(weight, rng, 0.4);
      const b = bias ? normal([weight[1] * (params.group ?? 1)], rng, 0.3) : null;
      expectClose(await convTranspose2d(x, w, b, { ...params, activation }), withActivation(convTranspose2dReference(x, w, b, params), activation));
    });
  });

  it('rejects mismatched channels, a bad bias and too large pads', async () => {
    const rng = rngFor(820);
    const x = normal([1, 4, 3, 3], rng);
    await expect(convTranspose2d(x, normal([3, 2, 2, 2], rng), null)).rejects.toThrow(ShapeError);
    await expect(convTranspose2d(x, normal([4, 2, 2, 2], rng), normal([3], rng))).rejects.toThrow(ShapeError);
    await expect(convTranspose2d(x, normal([4, 2, 2, 2], rng), null, { pads: [3, 3, 3, 3] })).rejects.toThrow(ShapeError);
    await expect(convTranspose2d(x, normal([4, 2, 2, 2], rng), null, { group: 3 })).rejects.toThrow(ShapeError);
  });
});

describe('matmul and gemm', () => {
  const MATMUL: { label: string; a: readonly number[]; b: readonly number[]; bias?: boolean; activation?: Activation }[] = [
    { label: '[2,3,4,5] x [5,6] + bias', a: [2, 3, 4, 5], b: [5, 6], bias: true },
    { label: 'broadcast batches [3,1,4,5] x [1,2,5,7] + relu', a: [3, 1, 4, 5], b: [1, 2, 5, 7], activation: 'relu' },
    { label: '5-D batch broadcast [2,1,3,1,3,4] x [2,1,2,4,5] + bias + clip', a: [2, 1, 3, 1, 3, 4], b: [2, 1, 2, 4, 5], bias: true, activation: { kind: 'clip', min: -1, max: 1 } },
    { label: 'attention-style [8,40,16] x [8,16,40]', a: [8, 40, 16], b: [8, 16, 40] },
    { label: '1-D A [5] x [2,5,3] + bias', a: [5], b: [2, 5, 3], bias: true },
    { label: '1-D B [4,5] x [5]', a: [4, 5], b: [5] },
    { label: '1-D x 1-D: a scalar', a: [7], b: [7] },
    { label: '[1,13] x [13,1001] + bias + hardsigmoid', a: [1, 13], b: [13, 1001], bias: true, activation: 'hardsigmoid' },
  ];
  MATMUL.forEach(({ label, a: aShape, b: bShape, bias, activation }, index) => {
    it(`matmul ${label}`, async () => {
      const rng = rngFor(900 + index);
      const a = normal(aShape, rng);
      const b = normal(bShape, rng);
      const columns = bShape.length === 1 ? 1 : bShape[bShape.length - 1];
      const c = bias ? normal([columns], rng) : null;
      const product = matmulBroadcast(a, b);
      const expected = c === null ? product : mapElementwise([product, c], (p, q) => p + q);
      expectClose(await matmul(a, b, c, { activation }), withActivation(expected, activation));
    });
  });

  const C_SHAPES: readonly (readonly number[] | null)[] = [null, [], [1], [6], [1, 6], [5, 1], [5, 6]];
  [false, true].forEach((transA) => {
    [false, true].forEach((transB) => {
      it(`gemm transA=${transA} transB=${transB}, C of every broadcast shape`, async () => {
        for (const [index, cShape] of C_SHAPES.entries()) {
          const rng = rngFor(1000 + index + (transA ? 10 : 0) + (transB ? 20 : 0));
          const a = normal(transA ? [7, 5] : [5, 7], rng);
          const b = normal(transB ? [6, 7] : [7, 6], rng);
          const c = cShape === null ? null : normal(cShape, rng);
          const options: GemmOptions = { transA, transB, alpha: 0.75, beta: index % 2 === 0 ? 1 : -1.5 };
          const activation = ACTIVATIONS[index + 2];
          expectClose(await gemm(a, b, c, { ...options, activation }), withActivation(gemmReference(a, b, c, options), activation));
        }
      });
    });
  });

  it('rejects operands that do not multiply and a C that does not broadcast', async () => {
    const rng = rngFor(1100);
    await expect(matmul(normal([2, 3], rng), normal([4, 2], rng))).rejects.toThrow(ShapeError);
    await expect(matmul(normal([2, 2, 3], rng), normal([3, 3, 2], rng))).rejects.toThrow(ShapeError);
    await expect(matmul(normal([2, 3], rng), normal([3, 2], rng), normal([3], rng))).rejects.toThrow(ShapeError);
    await expect(matmul(tensor(new Float32Array([1]), []), normal([3], rng))).rejects.toThrow(ShapeError);
    await expect(gemm(normal([2, 3], rng), normal([3, 4], rng), normal([3, 4], rng))).rejects.toThrow(ShapeError);
    await expect(gemm(normal([2, 3], rng), normal([4, 3], rng))).rejects.toThrow(ShapeError);
    await expect(gemm(normal([2, 3, 1], rng), normal([3, 4], rng))).rejects.toThrow(ShapeError);
    await expect(gemm(normal([2, 3], rng), normal([3, 4], rng), null, { alpha: Number.NaN })).rejects.toThrow(UsageError);
    const empty = await matmul(tensor(new Float32Array(0), [0, 3]), normal([3, 2], rng));
    expect([...empty.shape]).toEqual([0, 2]);
  });
});
