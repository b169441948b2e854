/**
 * Parity with onnxruntime-node: every reference kernel against ORT's float32 CPU kernels on
 * seeded random cases. Our inputs are float32 values, so the only difference is ORT's float32
 * rounding; a relative L2 error below 1e-5 leaves room for that and nothing else.
 */
import { describe, expect, it } from 'vitest';
import {
  batchNormalization,
  conv2d,
  conv2dOutputShape,
  createRng,
  depthwiseConv2d,
  depthwiseConv2dViaDiagonalBlocks,
  gemm,
  pointwiseConv2d,
  randomTensor,
  relativeL2Error,
  tensor,
  type BatchNormParams,
  type Conv2dParams,
  type Tensor,
} from '../src/index';
import { runSingleNode, type NodeInput } from './ort-model';

const TOLERANCE = 1e-5;

interface ConvCase {
  name: string;
  input: [number, number, number, number];
  outChannels: number;
  kernel: [number, number];
  params: Required<Conv2dParams>;
  withBias: boolean;
}

function convCase(
  name: string,
  input: [number, number, number, number],
  outChannels: number,
  kernel: [number, number],
  params: Conv2dParams,
  withBias = true,
): ConvCase {
  return {
    name,
    input,
    outChannels,
    kernel,
    params: {
      strides: params.strides ?? [1, 1],
      pads: params.pads ?? [0, 0, 0, 0],
      dilations: params.dilations ?? [1, 1],
      group: params.group ?? 1,
    },
    withBias,
  };
}

const fixedConvCases: ConvCase[] = [
  convCase('dense 3x3, pads 1', [1, 3, 8, 8], 4, [3, 3], { pads: [1, 1, 1, 1] }),
  convCase('grouped (g=2), stride (2,2)', [2, 4, 9, 9], 6, [3, 3], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }),
  convCase('stride (2,1), asymmetric pads', [1, 3, 10, 7], 2, [3, 3], { strides: [2, 1], pads: [0, 1, 2, 1] }),
  convCase('stride (1,2), no bias', [1, 2, 6, 11], 3, [3, 3], { strides: [1, 2], pads: [1, 0, 1, 2] }, false),
  convCase('dilations (2,2)', [1, 3, 12, 12], 2, [3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }),
  convCase('dilations (2,1), stride (1,2)', [1, 2, 11, 9], 2, [3, 3], { dilations: [2, 1], strides: [1, 2], pads: [1, 0, 0, 1] }),
  convCase('depth-wise 5x5, stride 2', [1, 6, 13, 13], 6, [5, 5], { group: 6, strides: [2, 2], pads: [2, 2, 2, 2] }),
  convCase('depth-wise 3x3, stride (2,1), asymmetric pads', [2, 5, 9, 8], 5, [3, 3], { group: 5, strides: [2, 1], pads: [1, 0, 0, 1] }),
  convCase('depth-wise 3x3 on a 1xN input', [1, 4, 1, 17], 4, [3, 3], { group: 4, pads: [1, 1, 1, 1] }),
  convCase('1xN input, 1x5 kernel, stride (1,2)', [1, 3, 1, 20], 2, [1, 5], { strides: [1, 2], pads: [0, 2, 0, 1] }),
  convCase('point-wise 1x1', [2, 8, 5, 6], 12, [1, 1], {}),
  convCase('depth-wise with channel multiplier 2', [1, 3, 7, 7], 6, [3, 3], { group: 3, pads: [1, 1, 1, 1] }),
];

/** Random but valid shapes: drawn from the seeded generator so every run checks the same cases. */
function randomConvCases(count: number, seed: number): ConvCase[] {
  const rng = createRng(seed);
  const pick = <T>(options: readonly T[]): T => options[rng.int(options.length)];
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const group = pick([1, 1, 2, 3]);
    const depthwise = rng.next() < 0.3;
    const channels = depthwise ? 1 + rng.int(8) : group * (1 + rng.int(3));
    const outChannels = depthwise ? channels : group * (1 + rng.int(3));
    const kernel: [number, number] = pick([
      [1, 1],
      [3, 3],
      [5, 5],
      [1, 3],
      [3, 1],
    ] as const).slice() as [number, number];
    const params: Conv2dParams = {
      group: depthwise ? channels : group,
      strides: pick([[1, 1], [2, 2], [2, 1], [1, 2]] as const),
      dilations: pick([[1, 1], [1, 1], [2, 2], [1, 2]] as const),
      pads: [rng.int(3), rng.int(3), rng.int(3), rng.int(3)],
    };
    const input: [number, number, number, number] = [1 + rng.int(2), channels, pick([1, 4, 7, 10]), 3 + rng.int(10)];
    try {
      conv2dOutputShape(input, [outChannels, channels / (params.group ?? 1), ...kernel], params);
    } catch {
      continue; // the dilated kernel does not fit this input; draw again
    }
    cases.push(convCase(`random #${cases.length}`, input, outChannels, kernel, params, rng.next() < 0.7));
  }
  return cases;
}

const convCases = [...fixedConvCases, ...randomConvCases(10, 2024)];

function convInputs(testCase: ConvCase, seed: number): { x: Tensor; weight: Tensor; bias: Tensor | null } {
  const rng = createRng(seed);
  const [, channels] = testCase.input;
  const x = randomTensor(testCase.input, rng, { dtype: 'float32' });
  const weightShape = [testCase.outChannels, channels / testCase.params.group, ...testCase.kernel];
  const weight = randomTensor(weightShape, rng, { dtype: 'float32', scale: 0.5 });
  const bias = testCase.withBias ? randomTensor([testCase.outChannels], rng, { dtype: 'float32' }) : null;
  return { x, weight, bias };
}

describe('conv2d matches onnxruntime Conv', () => {
  it.each(convCases.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const { x, weight, bias } = convInputs(testCase, 100 + index);
    const inputs: NodeInput[] = [
      { name: 'x', value: x },
      { name: 'w', value: weight, initializer: true },
    ];
    if (bias) inputs.push({ name: 'b', value: bias, initializer: true });
    const { params } = testCase;
    const ort = await runSingleNode({
      opType: 'Conv',
      inputs,
      attributes: {
        kernel_shape: testCase.kernel,
        strides: params.strides,
        pads: params.pads,
        dilations: params.dilations,
        group: params.group,
      },
    });

    const ours = conv2d(x, weight, bias, params);
    expect(ours.shape).toEqual(ort.shape);
    expect(relativeL2Error(ours.data, ort.data)).toBeLessThan(TOLERANCE);

    // The specialised kernels must agree with ORT too wherever they apply.
    const channels = testCase.input[1];
    const { group, ...spatial } = params;
    if (group === channels && testCase.outChannels === channels) {
      expect(relativeL2Error(depthwiseConv2d(x, weight, bias, spatial).data, ort.data)).toBeLessThan(TOLERANCE);
      const viaBlocks = depthwiseConv2dViaDiagonalBlocks(x, weight, 1 + (index % 4), bias, spatial);
      expect(relativeL2Error(viaBlocks.data, ort.data)).toBeLessThan(TOLERANCE);
    }
    const isPointwise =
      group === 1 &&
      testCase.kernel.every((size) => size === 1) &&
      params.strides.every((stride) => stride === 1) &&
      params.pads.every((pad) => pad === 0);
    if (isPointwise) {
      expect(relativeL2Error(pointwiseConv2d(x, weight, bias).data, ort.data)).toBeLessThan(TOLERANCE);
    }
  });
});

interface GemmCase {
  name: string;
  rows: number;
  inner: number;
  cols: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** Shape of C, or null for no C. */
  cShape: number[] | null;
}

const gemmCases: GemmCase[] = [
  { name: 'plain, no C', rows: 5, inner: 7, cols: 3, transA: false, transB: false, alpha: 1, beta: 1, cShape: null },
  { name: 'transA, C [M, N]', rows: 4, inner: 6, cols: 5, transA: true, transB: false, alpha: 0.5, beta: 2, cShape: [4, 5] },
  { name: 'transB, C [N]', rows: 6, inner: 3, cols: 8, transA: false, transB: true, alpha: 1.5, beta: -0.75, cShape: [8] },
  { name: 'transA and transB, C [M, 1]', rows: 3, inner: 9, cols: 4, transA: true, transB: true, alpha: -2, beta: 0.25, cShape: [3, 1] },
  { name: 'C scalar [1]', rows: 2, inner: 5, cols: 6, transA: false, transB: true, alpha: 1, beta: 3, cShape: [1] },
  { name: 'C [1, N], larger', rows: 16, inner: 32, cols: 24, transA: true, transB: false, alpha: 0.125, beta: 1, cShape: [1, 24] },
];

describe('gemm matches onnxruntime Gemm', () => {
  it.each(gemmCases.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const rng = createRng(500 + index);
    const a = randomTensor(testCase.transA ? [testCase.inner, testCase.rows] : [testCase.rows, testCase.inner], rng, { dtype: 'float32' });
    const b = randomTensor(testCase.transB ? [testCase.cols, testCase.inner] : [testCase.inner, testCase.cols], rng, { dtype: 'float32' });
    const c = testCase.cShape ? randomTensor(testCase.cShape, rng, { dtype: 'float32' }) : null;
    const inputs: NodeInput[] = [
      { name: 'a', value: a },
      { name: 'b', value: b, initializer: true },
    ];
    if (c) inputs.push({ name: 'c', value: c, initializer: true });
    const ort = await runSingleNode({
      opType: 'Gemm',
      inputs,
      attributes: {
        transA: testCase.transA ? 1 : 0,
        transB: testCase.transB ? 1 : 0,
        alpha: testCase.alpha,
        beta: testCase.beta,
      },
      floatAttributes: ['alpha', 'beta'],
    });
    const ours = gemm(a, b, c, testCase);
    expect(ours.shape).toEqual(ort.shape);
    expect(relativeL2Error(ours.data, ort.data)).toBeLessThan(TOLERANCE);
  });
});

describe('batchNormalization matches onnxruntime BatchNormalization', () => {
  const shapes: number[][] = [
    [2, 5, 6, 7],
    [1, 3, 1, 9],
    [3, 4, 10],
  ];
  it.each(shapes.map((shape, index) => [shape.join('x'), shape, index] as const))('%s', async (_name, shape, index) => {
    const rng = createRng(900 + index);
    const channels = shape[1];
    const x = randomTensor(shape, rng, { dtype: 'float32' });
    const positive = randomTensor([channels], rng, { dtype: 'float32', distribution: 'uniform' });
    const bn: BatchNormParams = {
      scale: randomTensor([channels], rng, { dtype: 'float32' }),
      bias: randomTensor([channels], rng, { dtype: 'float32' }),
      mean: randomTensor([channels], rng, { dtype: 'float32' }),
      variance: tensor(positive.data.map((value) => 0.1 + Math.abs(value)), [channels]),
      epsilon: 1e-3,
    };
    const ort = await runSingleNode({
      opType: 'BatchNormalization',
      inputs: [
        { name: 'x', value: x },
        { name: 'scale', value: bn.scale, initializer: true },
        { name: 'bias', value: bn.bias, initializer: true },
        { name: 'mean', value: bn.mean, initializer: true },
        { name: 'var', value: bn.variance, initializer: true },
      ],
      attributes: { epsilon: bn.epsilon },
      floatAttributes: ['epsilon'],
    });
    // ORT reads epsilon as float32; use the same value so only the arithmetic differs.
    const ours = batchNormalization(x, { ...bn, epsilon: Math.fround(bn.epsilon) });
    expect(ours.shape).toEqual(ort.shape);
    expect(relativeL2Error(ours.data, ort.data)).toBeLessThan(TOLERANCE);
  });
});
