/**
 * Parity cases of the kernels the runtime needs around the convs (ConvTranspose, MatMul,
 * element-wise, pooling, Resize, reductions, softmax), against @deprune/tensor's float64
 * references, on common and odd shapes. Part of the one shared case list (cases.ts): the Node
 * suites and the browser entry run them like the conv cases. No vitest and no Node APIs here.
 */
import {
  convTranspose2d,
  createRng,
  globalPool2d,
  mapElementwise,
  matmulBroadcast,
  pool2d,
  reduce,
  resize2d,
  softmax,
  logSoftmax,
  tensor,
  type ConvTranspose2dParams,
  type Pool2dParams,
  type ReduceKind,
  type Resize2dParams,
  type Rng,
  type Tensor,
} from '@deprune/tensor';
import { type Activation, type AxisView, type BinaryOp, type ReduceKernelKind, type UnaryOp } from '../../src/index';
import type { ParityCase } from './cases';
import { kernelFrom, randomFloat32, withActivation } from './common';

export type OpParityKernel = 'convTranspose2d' | 'matmul' | 'unary' | 'binary' | 'pool2d' | 'resize2d' | 'reduceAxis' | 'softmax';
export const OP_KERNELS: readonly OpParityKernel[] = ['convTranspose2d', 'matmul', 'unary', 'binary', 'pool2d', 'resize2d', 'reduceAxis', 'softmax'];

/** Values in [low, high) as float32 (for log, sqrt, reciprocal: away from where they blow up). */
function uniform(shape: readonly number[], rng: Rng, low: number, high: number): Tensor<Float32Array> {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: size }, () => low + (high - low) * rng.next()), shape);
}

/** Small integers as floats: ties for comparisons and max/min, integer exponents for pow. */
function integers(shape: readonly number[], rng: Rng, low: number, high: number): Tensor<Float32Array> {
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: size }, () => low + rng.int(high - low + 1)), shape);
}

function erf(value: number): number {
  // float64 reference for the kernels' erf. The alternating Maclaurin series loses digits to
  // cancellation as |x| grows (at |x| = 5 its terms reach 1e10), so it only runs below 3; from 3 to
  // 6, 1 - erfc by erfc's continued fraction; beyond 6, +-1 in float64.
  const a = Math.abs(value);
  if (a >= 6) return Math.sign(value);
  if (a >= 3) {
    let fraction = a;
    for (let k = 80; k >= 1; k--) fraction = a + k / 2 / fraction;
    return Math.sign(value) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / fraction);
  }
  let sum = value;
  let term = value;
  for (let n = 1; n < 200; n++) {
    term *= (-value * value) / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

interface UnaryCase {
  op: UnaryOp;
  reference: (x: number) => number;
  input: (rng: Rng) => Tensor<Float32Array>;
  alpha?: number;
  activation?: Activation;
}

const SHAPE = [2, 3, 5, 7];
const normal = (rng: Rng) => randomFloat32(SHAPE, rng);

const UNARY_CASES: readonly UnaryCase[] = [
  { op: 'identity', reference: (x) => x, input: normal, activation: 'hardswish' },
  { op: 'identity', reference: (x) => x, input: normal, activation: { kind: 'clip', min: -0.5, max: 0.25 } },
  { op: 'identity', reference: (x) => x, input: normal, activation: { kind: 'hardsigmoid', alpha: 0.2, beta: 0.5 } },
  { op: 'identity', reference: (x) => x, input: normal, activation: 'silu' },
  { op: 'exp', reference: Math.exp, input: normal },
  { op: 'log', reference: Math.log, input: (rng) => uniform(SHAPE, rng, 0.05, 4) },
  { op: 'sqrt', reference: Math.sqrt, input: (rng) => uniform(SHAPE, rng, 0, 4) },
  { op: 'abs', reference: Math.abs, input: normal },
  { op: 'neg', reference: (x) => -x, input: normal, activation: 'relu' },
  { op: 'reciprocal', reference: (x) => 1 / x, input: (rng) => uniform(SHAPE, rng, 0.5, 3) },
  { op: 'tanh', reference: Math.tanh, input: (rng) => randomFloat32(SHAPE, rng, 3) },
  { op: 'leakyRelu', reference: (x) => (x < 0 ? 0.1 * x : x), input: normal, alpha: 0.1 },
  { op: 'elu', reference: (x) => (x < 0 ? 0.7 * (Math.exp(x) - 1) : x), input: normal, alpha: 0.7 },
  { op: 'softplus', reference: (x) => Math.log1p(Math.exp(x)), input: (rng) => randomFloat32(SHAPE, rng, 4) },
  { op: 'floor', reference: Math.floor, input: (rng) => randomFloat32(SHAPE, rng, 3) },
  { op: 'ceil', reference: Math.ceil, input: (rng) => randomFloat32(SHAPE, rng, 3) },
  { op: 'erf', reference: erf, input: (rng) => randomFloat32(SHAPE, rng, 1.5) },
  { op: 'sign', reference: Math.sign, input: (rng) => integers(SHAPE, rng, -2, 2) },
  { op: 'not', reference: (x) => (x === 0 ? 1 : 0), input: (rng) => integers(SHAPE, rng, 0, 1) },
];

interface BinaryCase {
  op: BinaryOp;
  reference: (a: number, b: number) => number;
  a: readonly number[];
  b: readonly number[];
  values?: (shape: readonly number[], rng: Rng, operand: 0 | 1) => Tensor<Float32Array>;
  activation?: Activation;
}

const BINARY_CASES: readonly BinaryCase[] = [
  { op: 'add', reference: (a, b) => a + b, a: [2, 3, 4, 5], b: [2, 3, 4, 5] },
  { op: 'add', reference: (a, b) => a + b, a: [1, 6, 5, 7], b: [1, 6, 5, 7], activation: 'relu' },
  { op: 'sub', reference: (a, b) => a - b, a: [1, 6, 5, 7], b: [1, 6, 1, 1] },
  { op: 'mul', reference: (a, b) => a * b, a: [1, 6, 5, 7], b: [] },
  { op: 'mul', reference: (a, b) => a * b, a: [2, 6, 1, 1], b: [2, 6, 9, 3], activation: 'sigmoid' },
  { op: 'div', reference: (a, b) => a / b, a: [3, 1, 5], b: [1, 4, 1], values: (shape, rng, operand) => (operand === 1 ? uniform(shape, rng, 0.5, 2) : randomFloat32(shape, rng)) },
  { op: 'pow', reference: Math.pow, a: [4, 6], b: [6], values: (shape, rng, operand) => (operand === 0 ? uniform(shape, rng, 0.1, 2) : randomFloat32(shape, rng)) },
  { op: 'pow', reference: Math.pow, a: [4, 6], b: [4, 1], values: (shape, rng, operand) => (operand === 0 ? randomFloat32(shape, rng) : integers(shape, rng, 0, 3)) },
  { op: 'max', reference: Math.max, a: [5], b: [4, 1], values: (shape, rng) => integers(shape, rng, -3, 3) },
  { op: 'min', reference: Math.min, a: [2, 3, 4, 5, 6], b: [2, 3, 1, 1, 6] },
  { op: 'prelu', reference: (a, b) => (a < 0 ? a * b : a), a: [1, 6, 5, 7], b: [6, 1, 1] },
  { op: 'equal', reference: (a, b) => (a === b ? 1 : 0), a: [3, 4], b: [3, 4], values: (shape, rng) => integers(shape, rng, 0, 2) },
  { op: 'less', reference: (a, b) => (a < b ? 1 : 0), a: [3, 4], b: [4], values: (shape, rng) => integers(shape, rng, 0, 2) },
  { op: 'greaterOrEqual', reference: (a, b) => (a >= b ? 1 : 0), a: [1, 7], b: [3, 1], values: (shape, rng) => integers(shape, rng, 0, 2) },
  // A squeeze-excitation gate over planes wider than a GL texture row (97 * 101 = 9,797 > 8,192).
  { op: 'mul', reference: (a, b) => a * b, a: [1, 3, 97, 101], b: [1, 3, 1, 1] },
];

interface PoolCase {
  label: string;
  input: [number, number, number, number];
  params: Pool2dParams | { kind: 'max' | 'average'; global: true };
}

const POOL_CASES: readonly PoolCase[] = [
  { label: 'max 3x3 stride 2 pads 1', input: [1, 4, 9, 11], params: { kind: 'max', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { label: 'average 3x3 pads 1 exclude pad', input: [2, 3, 6, 5], params: { kind: 'average', kernel: [3, 3], pads: [1, 1, 1, 1] } },
  { label: 'average 3x3 asymmetric pads count_include_pad', input: [1, 3, 6, 5], params: { kind: 'average', kernel: [3, 3], pads: [0, 1, 2, 1], countIncludePad: true } },
  { label: 'average 2x2 stride 2 ceil mode, odd size', input: [1, 2, 7, 9], params: { kind: 'average', kernel: [2, 2], strides: [2, 2], ceilMode: true } },
  { label: 'max 3x2 dilation (2,1) ceil mode', input: [1, 2, 10, 7], params: { kind: 'max', kernel: [3, 2], strides: [2, 1], dilations: [2, 1], ceilMode: true } },
  { label: 'average 1x3 on a 1xN image (rec-style)', input: [1, 5, 1, 13], params: { kind: 'average', kernel: [1, 3], strides: [1, 2] } },
  { label: 'global average', input: [2, 6, 7, 9], params: { kind: 'average', global: true } },
  { label: 'global max', input: [1, 5, 4, 3], params: { kind: 'max', global: true } },
];

interface ConvTransposeCase {
  label: string;
  input: [number, number, number, number];
  weight: [number, number, number, number];
  params: ConvTranspose2dParams;
  activation?: Activation;
}

const CONV_TRANSPOSE_CASES: readonly ConvTransposeCase[] = [
  { label: '2x2 stride 2 (DBNet head)', input: [1, 6, 5, 7], weight: [6, 4, 2, 2], params: { strides: [2, 2] }, activation: 'relu' },
  { label: '3x3 stride 2 group 2 pads [1,0,1,1] output padding (1,0)', input: [1, 4, 4, 5], weight: [4, 3, 3, 3], params: { strides: [2, 2], group: 2, pads: [1, 0, 1, 1], outputPadding: [1, 0] } },
  { label: '3x3 dilation 2, N=2', input: [2, 3, 4, 4], weight: [3, 2, 3, 3], params: { dilations: [2, 2], pads: [1, 1, 1, 1] }, activation: 'sigmoid' },
  { label: '1x3 stride (1,3) on a 1xN input', input: [1, 2, 1, 6], weight: [2, 3, 1, 3], params: { strides: [1, 3] } },
];

interface ResizeCase {
  label: string;
  input: [number, number, number, number];
  params: Resize2dParams;
}

const RESIZE_CASES: readonly ResizeCase[] = [
  { label: 'nearest x2 asymmetric floor (DBNet FPN)', input: [1, 3, 5, 6], params: { outHeight: 10, outWidth: 12, scaleH: 2, scaleW: 2, mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' } },
  { label: 'nearest x2 half_pixel round_prefer_floor', input: [1, 2, 4, 5], params: { outHeight: 8, outWidth: 10, scaleH: 2, scaleW: 2, mode: 'nearest' } },
  { label: 'nearest 7->10 align_corners round_prefer_ceil', input: [1, 2, 7, 7], params: { outHeight: 10, outWidth: 10, scaleH: 10 / 7, scaleW: 10 / 7, mode: 'nearest', coordinateTransformationMode: 'align_corners', nearestMode: 'round_prefer_ceil' } },
  { label: 'nearest downsample 10->4 tf_half_pixel_for_nn ceil', input: [1, 2, 10, 10], params: { outHeight: 4, outWidth: 4, scaleH: 0.4, scaleW: 0.4, mode: 'nearest', coordinateTransformationMode: 'tf_half_pixel_for_nn', nearestMode: 'ceil' } },
  { label: 'nearest opset-10 per-axis rounding (up H, down W)', input: [1, 2, 3, 8], params: { outHeight: 6, outWidth: 4, scaleH: 2, scaleW: 0.5, mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestModePerAxis: ['floor', 'ceil'] } },
  { label: 'linear x2 half_pixel', input: [2, 3, 4, 5], params: { outHeight: 8, outWidth: 10, scaleH: 2, scaleW: 2, mode: 'linear' } },
  { label: 'linear 5->9 align_corners', input: [1, 2, 5, 5], params: { outHeight: 9, outWidth: 9, scaleH: 9 / 5, scaleW: 9 / 5, mode: 'linear', coordinateTransformationMode: 'align_corners' } },
  { label: 'linear downsample 9->4 pytorch_half_pixel, W unscaled', input: [1, 2, 9, 6], params: { outHeight: 4, outWidth: 6, scaleH: 4 / 9, scaleW: 1, mode: 'linear', coordinateTransformationMode: 'pytorch_half_pixel' } },
];

interface MatmulCase {
  label: string;
  a: readonly number[];
  b: readonly number[];
  bias?: boolean;
  activation?: Activation;
}

const MATMUL_CASES: readonly MatmulCase[] = [
  { label: 'batched [2,3,4,5] x [5,6] with bias', a: [2, 3, 4, 5], b: [5, 6], bias: true },
  { label: 'broadcast batches [3,1,4,5] x [1,2,5,7], relu', a: [3, 1, 4, 5], b: [1, 2, 5, 7], activation: 'relu' },
  { label: 'attention-style [8,40,16] x [8,16,40]', a: [8, 40, 16], b: [8, 16, 40] },
  { label: '1-D A [5] x [2,5,3]', a: [5], b: [2, 5, 3] },
  { label: '1-D B [4,5] x [5]', a: [4, 5], b: [5] },
  // Rows and columns off the 4 x 4 blocks that the wasm backend transposes its result in.
  { label: 'odd sizes [7,9] x [9,11] with bias, hardswish', a: [7, 9], b: [9, 11], bias: true, activation: 'hardswish' },
  { label: 'a recognizer head [1,38,24] x [24,131] with bias', a: [1, 38, 24], b: [24, 131], bias: true },
];

const VIEWS: readonly { view: AxisView; label: string }[] = [
  { view: { outer: 6, length: 13, inner: 1 }, label: 'last axis' },
  { view: { outer: 2, length: 5, inner: 7 }, label: 'middle axis' },
  { view: { outer: 1, length: 40, inner: 3 }, label: 'first axis' },
];

const REDUCE_KINDS: readonly ReduceKernelKind[] = ['sum', 'mean', 'max', 'min', 'prod', 'sumSquare', 'l1', 'l2', 'logSumExp'];

function viewTensor(x: Tensor, view: AxisView): Tensor {
  return tensor(x.data, [view.outer, view.length, view.inner]);
}

/** Every op case for the run's seed (offsets 600+ keep them apart from the conv cases' seeds). */
export function opCases(seed: number): ParityCase[] {
  const rngFor = (offset: number) => createRng(seed * 1000 + offset);
  const cases: ParityCase[] = [];
  const add = (kernel: OpParityKernel, name: string, run: ParityCase['run']) => cases.push({ kernel, name: `${kernel} | ${name}`, run });

  UNARY_CASES.forEach((testCase, index) => {
    const label = `${testCase.op}${testCase.activation ? ` + ${typeof testCase.activation === 'string' ? testCase.activation : testCase.activation.kind}` : ''}`;
    add('unary', label, async (mode) => {
      const x = testCase.input(rngFor(600 + index));
      const actual = await kernelFrom(mode, 'unary')(x, testCase.op, { activation: testCase.activation, ...(testCase.alpha !== undefined ? { alpha: testCase.alpha } : {}) });
      return { actual, expected: withActivation(mapElementwise([x], testCase.reference), testCase.activation) };
    });
  });
  BINARY_CASES.forEach((testCase, index) => {
    add('binary', `${testCase.op} [${testCase.a.join(',')}] with [${testCase.b.join(',')}]${testCase.activation ? ' + activation' : ''}`, async (mode) => {
      const rng = rngFor(640 + index);
      const make = testCase.values ?? ((shape: readonly number[], r: Rng) => randomFloat32(shape, r));
      const a = make(testCase.a, rng, 0);
      const b = make(testCase.b, rng, 1);
      const actual = await kernelFrom(mode, 'binary')(a, b, testCase.op, { activation: testCase.activation });
      return { actual, expected: withActivation(mapElementwise([a, b], testCase.reference), testCase.activation) };
    });
  });
  POOL_CASES.forEach((testCase, index) => {
    add('pool2d', testCase.label, async (mode) => {
      const x = randomFloat32(testCase.input, rngFor(680 + index));
      const params: Pool2dParams = 'global' in testCase.params ? { kind: testCase.params.kind, kernel: [testCase.input[2], testCase.input[3]] } : testCase.params;
      const actual = await kernelFrom(mode, 'pool2d')(x, params);
      const expected = 'global' in testCase.params ? globalPool2d(x, testCase.params.kind) : pool2d(x, params);
      return { actual, expected };
    });
  });
  CONV_TRANSPOSE_CASES.forEach((testCase, index) => {
    add('convTranspose2d', testCase.label, async (mode) => {
      const rng = rngFor(700 + index);
      const x = randomFloat32(testCase.input, rng);
      const weight = randomFloat32(testCase.weight, rng, 0.4);
      const bias = randomFloat32([testCase.weight[1] * (testCase.params.group ?? 1)], rng, 0.3);
      const actual = await kernelFrom(mode, 'convTranspose2d')(x, weight, bias, { ...testCase.params, activation: testCase.activation });
      return { actual, expected: withActivation(convTranspose2d(x, weight, bias, testCase.params), testCase.activation) };
    });
  });
  RESIZE_CASES.forEach((testCase, index) => {
    add('resize2d', testCase.label, async (mode) => {
      const x = randomFloat32(testCase.input, rngFor(720 + index));
      return { actual: await kernelFrom(mode, 'resize2d')(x, testCase.params), expected: resize2d(x, testCase.params) };
    });
  });
  MATMUL_CASES.forEach((testCase, index) => {
    add('matmul', testCase.label, async (mode) => {
      const rng = rngFor(740 + index);
      const a = randomFloat32(testCase.a, rng);
      const b = randomFloat32(testCase.b, rng);
      const columns = testCase.b.length === 1 ? 1 : testCase.b[testCase.b.length - 1];
      const bias = testCase.bias ? randomFloat32([columns], rng) : null;
      const actual = await kernelFrom(mode, 'matmul')(a, b, bias, { activation: testCase.activation });
      const product = matmulBroadcast(a, b);
      const withBias = bias === null ? product : mapElementwise([product, bias], (p, c) => p + c);
      return { actual, expected: withActivation(withBias, testCase.activation) };
    });
  });
  VIEWS.forEach(({ view, label }, viewIndex) => {
    REDUCE_KINDS.forEach((kind, kindIndex) => {
      add('reduceAxis', `${kind} over the ${label} [${view.outer}, ${view.length}, ${view.inner}]`, async (mode) => {
        const rng = rngFor(760 + viewIndex * 16 + kindIndex);
        // prod of 40 normals under- or overflows float32: keep its factors near 1.
        const x = kind === 'prod' ? uniform([view.outer * view.length * view.inner], rng, 0.8, 1.25) : randomFloat32([view.outer * view.length * view.inner], rng);
        const actual = await kernelFrom(mode, 'reduceAxis')(x, view, kind);
        return { actual, expected: reduce(viewTensor(x, view), [1], false, kind as ReduceKind) };
      });
    });
    for (const log of [false, true]) {
      add('softmax', `${log ? 'log-softmax' : 'softmax'} over the ${label}`, async (mode) => {
        const x = randomFloat32([view.outer, view.length, view.inner], rngFor(820 + viewIndex * 2 + (log ? 1 : 0)), 3);
        const actual = await kernelFrom(mode, 'softmax')(x, view, { log });
        const expected = log ? logSoftmax(x, 1) : softmax(x, 1);
        return { actual, expected };
      });
    }
  });
  // Long rows (a vector loop and a tail) whose values span far more than e^x can in float32:
  // terms below e^-87 must come out 0, not the smallest normal float.
  for (const log of [false, true]) {
    add('softmax', `${log ? 'log-softmax' : 'softmax'} over rows of 203 values spread over +-150`, async (mode) => {
      const x = randomFloat32([3, 203, 1], rngFor(830 + (log ? 1 : 0)), 150);
      const actual = await kernelFrom(mode, 'softmax')(x, { outer: 3, length: 203, inner: 1 }, { log });
      return { actual, expected: log ? logSoftmax(x, 1) : softmax(x, 1) };
    });
  }
  return cases;
}
