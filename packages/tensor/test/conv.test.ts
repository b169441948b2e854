import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import {
  batchNormalization,
  conv2d,
  conv2dOutputShape,
  createRng,
  depthwiseConv2d,
  effectiveScale,
  foldBatchNorm,
  gemm,
  im2col,
  matmul,
  pointwiseConv2d,
  randomTensor,
  relativeL2Error,
  tensor,
  type BatchNormParams,
  type Conv2dParams,
  type Tensor,
} from '../src/index';

const f64 = (values: number[], shape: number[]): Tensor<Float64Array> => tensor(Float64Array.from(values), shape);
const range = (count: number, start = 0): number[] => Array.from({ length: count }, (_, index) => start + index);

describe('conv2d, hand-computed', () => {
  it('applies a 3x3 Sobel kernel to 1..9 with pads 1', () => {
    const x = f64(range(9, 1), [1, 1, 3, 3]);
    const sobel = f64([1, 0, -1, 2, 0, -2, 1, 0, -1], [1, 1, 3, 3]);
    const y = conv2d(x, sobel, null, { pads: [1, 1, 1, 1] });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(Array.from(y.data)).toEqual([-9, -6, 9, -20, -8, 20, -21, -6, 21]);
    const withBias = conv2d(x, sobel, f64([1], [1]), { pads: [1, 1, 1, 1] });
    expect(Array.from(withBias.data)).toEqual([-8, -5, 10, -19, -7, 21, -20, -5, 22]);
  });

  it('strides by 2, without and with padding', () => {
    const x = f64(range(16), [1, 1, 4, 4]);
    const ones2 = f64([1, 1, 1, 1], [1, 1, 2, 2]);
    expect(Array.from(conv2d(x, ones2, null, { strides: [2, 2] }).data)).toEqual([10, 18, 42, 50]);
    const ones3 = f64(new Array(9).fill(1), [1, 1, 3, 3]);
    const padded = conv2d(x, ones3, null, { strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(padded.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(padded.data)).toEqual([10, 24, 51, 90]);
  });

  it('keeps groups apart in a grouped conv', () => {
    // C = 4, group = 2: outputs 0-1 see channels 0-1, outputs 2-3 see channels 2-3.
    const x = f64(range(8, 1), [1, 4, 1, 2]); // c0 = [1, 2], c1 = [3, 4], c2 = [5, 6], c3 = [7, 8]
    const weight = f64([1, 1, 0, 1, 0, 0, 1, 0, 1, -1, 2, 0, 0, 1, 0, 1], [4, 2, 1, 2]);
    const y = conv2d(x, weight, f64([0.5, 0, -1, 0], [4]), { group: 2 });
    expect(y.shape).toEqual([1, 4, 1, 1]);
    expect(Array.from(y.data)).toEqual([7.5, 3, 12, 14]);
  });

  it('follows ONNX output sizes, including dilation and asymmetric pads', () => {
    expect(conv2dOutputShape([2, 3, 10, 7], [4, 3, 3, 3], { strides: [2, 1], pads: [0, 1, 2, 1] })).toEqual([2, 4, 5, 7]);
    expect(conv2dOutputShape([1, 8, 12, 12], [8, 1, 3, 3], { group: 8, dilations: [2, 2] })).toEqual([1, 8, 8, 8]);
    expect(conv2dOutputShape([1, 2, 1, 9], [2, 2, 1, 5], { strides: [1, 2] })).toEqual([1, 2, 1, 3]);
  });

  it('rejects inconsistent shapes and bad attributes, saying what was expected', () => {
    const x = [1, 4, 5, 5];
    expect(() => conv2dOutputShape([4, 5, 5], [2, 4, 3, 3])).toThrow(/conv input must be rank 4 \(N, C, H, W\), got shape \[4, 5, 5\]/);
    expect(() => conv2dOutputShape(x, [2, 3, 3, 3])).toThrow(/C\/group = 4\/1 = 4 input channels per group/);
    expect(() => conv2dOutputShape(x, [2, 2, 3, 3], { group: 3 })).toThrow(/4 channels, which is not divisible by group 3/);
    expect(() => conv2dOutputShape(x, [3, 2, 3, 3], { group: 2 })).toThrow(/3 output channels, which is not divisible by group 2/);
    expect(() => conv2dOutputShape(x, [2, 4, 7, 3])).toThrow(ShapeError);
    expect(() => conv2dOutputShape(x, [2, 4, 3, 3], { strides: [0, 1] })).toThrow(UsageError);
    expect(() => conv2dOutputShape(x, [2, 4, 3, 3], { pads: [1, 1, 1] as never })).toThrow(/pads must be \[top, left, bottom, right\]/);
    expect(() => conv2dOutputShape(x, [2, 4, 3, 3], { dilations: [1, 1.5] })).toThrow(UsageError);
    const input = randomTensor(x, createRng(1));
    expect(() => conv2d(input, randomTensor([2, 4, 3, 3], createRng(2)), f64([1, 2, 3], [3]))).toThrow(/bias must have shape \[2\]/);
    expect(() => depthwiseConv2d(input, randomTensor([4, 2, 3, 3], createRng(2)))).toThrow(/depthwise weight must be \[4, 1, kh, kw\]/);
    expect(() => pointwiseConv2d(input, randomTensor([3, 4, 3, 3], createRng(2)))).toThrow(/pointwise weight must be \[M, 4, 1, 1\] or \[M, 4\]/);
  });
});

describe('conv kernels agree with each other on random inputs', () => {
  const depthwiseCases: { name: string; input: number[]; kernel: [number, number]; params: Omit<Conv2dParams, 'group'> }[] = [
    { name: '3x3, pads 1', input: [2, 7, 9, 9], kernel: [3, 3], params: { pads: [1, 1, 1, 1] } },
    { name: '5x5, stride 2, asymmetric pads', input: [1, 5, 12, 11], kernel: [5, 5], params: { strides: [2, 2], pads: [2, 1, 1, 2] } },
    { name: '3x3, stride (2,1), dilation 2', input: [1, 3, 11, 8], kernel: [3, 3], params: { strides: [2, 1], dilations: [2, 2], pads: [2, 2, 2, 2] } },
    { name: '1xN input', input: [1, 6, 1, 19], kernel: [3, 3], params: { strides: [1, 2], pads: [1, 1, 1, 1] } },
  ];

  it.each(depthwiseCases.map((c) => [c.name, c] as const))('conv2d with group = C equals depthwiseConv2d: %s', (_name, c) => {
    const rng = createRng(31);
    const channels = c.input[1];
    const x = randomTensor(c.input, rng);
    const weight = randomTensor([channels, 1, ...c.kernel], rng);
    const bias = randomTensor([channels], rng);
    const reference = depthwiseConv2d(x, weight, bias, c.params);
    const grouped = conv2d(x, weight, bias, { ...c.params, group: channels });
    expect(grouped.shape).toEqual(reference.shape);
    expect(relativeL2Error(grouped.data, reference.data)).toBeLessThan(1e-13);
  });

  it('pointwiseConv2d equals conv2d with a 1x1 kernel, for [M,C,1,1] and [M,C] weights', () => {
    const rng = createRng(32);
    const x = randomTensor([2, 6, 4, 5], rng, { dtype: 'float32' });
    const weight = randomTensor([9, 6, 1, 1], rng);
    const bias = randomTensor([9], rng);
    const reference = conv2d(x, weight, bias);
    expect(relativeL2Error(pointwiseConv2d(x, weight, bias).data, reference.data)).toBeLessThan(1e-13);
    const asMatrix = tensor(weight.data, [9, 6]);
    expect(relativeL2Error(pointwiseConv2d(x, asMatrix, bias).data, reference.data)).toBeLessThan(1e-13);
    expect(pointwiseConv2d(x, asMatrix).shape).toEqual([2, 9, 4, 5]);
  });

  it('conv2d equals weight matrix times im2col (convolution as GEMM)', () => {
    const rng = createRng(33);
    const params = { strides: [2, 1], pads: [1, 2, 0, 1], dilations: [1, 2] } as const;
    const x = randomTensor([1, 3, 8, 9], rng);
    const weight = randomTensor([4, 3, 3, 2], rng);
    const columns = im2col(x, [3, 2], params);
    const product = matmul(tensor(weight.data, [4, 3 * 3 * 2]), columns);
    const reference = conv2d(x, weight, null, params);
    expect(relativeL2Error(product.data, reference.data)).toBeLessThan(1e-13);
  });
});

describe('im2col', () => {
  it('unfolds a padded 2-channel 2x2 image (literal matrix)', () => {
    const x = f64([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const columns = im2col(x, [2, 2], { pads: [1, 1, 0, 0] });
    // Padded channel 0 is [[0,0,0],[0,1,2],[0,3,4]]; 2x2 output positions; rows are (c, i, j).
    expect(columns.shape).toEqual([8, 4]);
    expect(Array.from(columns.data)).toEqual([
      ...[0, 0, 0, 1], // c0, tap (0,0)
      ...[0, 0, 1, 2], // c0, tap (0,1)
      ...[0, 1, 0, 3], // c0, tap (1,0)
      ...[1, 2, 3, 4], // c0, tap (1,1)
      ...[0, 0, 0, 5],
      ...[0, 0, 5, 6],
      ...[0, 5, 0, 7],
      ...[5, 6, 7, 8],
    ]);
  });

  it('handles stride and a [C, H, W] input, and rejects batches', () => {
    const x = f64(range(12), [1, 3, 4]); // one row of 4 per 3 rows
    const columns = im2col(x, [1, 2], { strides: [2, 2], pads: [0, 0, 0, 1] });
    // Ho = 2 (rows 0 and 2), Wo = floor((4 + 1 - 2) / 2) + 1 = 2 (columns 0 and 2).
    expect(columns.shape).toEqual([2, 4]);
    expect(Array.from(columns.data)).toEqual([0, 2, 8, 10, 1, 3, 9, 11]);
    expect(() => im2col(f64(range(8), [2, 1, 2, 2]), [1, 1])).toThrow(/one image/);
    expect(() => im2col(x, [0, 1])).toThrow(UsageError);
  });
});

describe('gemm, hand-computed', () => {
  const a = f64([1, 2, 3, 4, 5, 6], [3, 2]); // op(A) = A^T = [[1,3,5],[2,4,6]] with transA
  const b = f64([1, 0, 1, 0, 1, 1], [2, 3]); // op(B) = B^T = [[1,0],[0,1],[1,1]] with transB
  const options = { transA: true, transB: true, alpha: 2 };
  // op(A) op(B) = [[6, 8], [8, 10]]; times alpha 2 = [[12, 16], [16, 20]].

  it('computes alpha * op(A) * op(B) + beta * C with every C broadcast', () => {
    expect(Array.from(gemm(a, b, null, options).data)).toEqual([12, 16, 16, 20]);
    expect(Array.from(gemm(a, b, f64([10, 20], [2]), { ...options, beta: 0.5 }).data)).toEqual([17, 26, 21, 30]);
    expect(Array.from(gemm(a, b, f64([10, 20], [1, 2]), { ...options, beta: 0.5 }).data)).toEqual([17, 26, 21, 30]);
    expect(Array.from(gemm(a, b, f64([1, 2], [2, 1]), options).data)).toEqual([13, 17, 18, 22]);
    expect(Array.from(gemm(a, b, f64([100], []), { ...options, beta: -1 }).data)).toEqual([-88, -84, -84, -80]);
    expect(Array.from(gemm(a, b, f64([100], [1]), { ...options, beta: -1 }).data)).toEqual([-88, -84, -84, -80]);
    expect(Array.from(gemm(a, b, f64([1, 2, 3, 4], [2, 2]), options).data)).toEqual([13, 18, 19, 24]);
  });

  it('multiplies without transposes', () => {
    const left = f64([1, 2, 3, 4], [2, 2]);
    const right = f64([5, 6, 7, 8], [2, 2]);
    expect(Array.from(matmul(left, right).data)).toEqual([19, 22, 43, 50]);
    expect(Array.from(gemm(left, right, null, { transA: true }).data)).toEqual([26, 30, 38, 44]);
    expect(Array.from(gemm(left, right, null, { transB: true }).data)).toEqual([17, 23, 39, 53]);
  });

  it('rejects mismatched inner dimensions and C that does not broadcast', () => {
    expect(() => gemm(a, b, null, { transA: true })).toThrow(/op\(A\) is \[2, 3\].*op\(B\) is \[2, 3\]/);
    expect(() => gemm(a, b, f64([1, 2, 3], [3]), options)).toThrow(/does not broadcast to the output \[2, 2\]/);
    expect(() => gemm(a, b, f64([1, 2, 3, 4], [1, 1, 2, 2]), options)).toThrow(/rank <= 2/);
    expect(() => matmul(a, a)).toThrow(/matmul inner dimensions differ/);
    expect(() => matmul(f64([1, 2], [2]), a)).toThrow(ShapeError);
  });
});

describe('batch norm', () => {
  // gamma / sqrt(var + eps) = [3 / sqrt(4), 2 / sqrt(0.25)] = [1.5, 4], exact in binary.
  const bn: BatchNormParams = {
    scale: f64([3, 2], [2]),
    bias: f64([0.1, -1], [2]),
    mean: f64([1, 2], [2]),
    variance: f64([3.75, 0], [2]),
    epsilon: 0.25,
  };

  it('folds into the conv weight and bias (2 channels, by hand)', () => {
    expect(Array.from(effectiveScale(bn))).toEqual([1.5, 4]);
    const weight = f64([1, 2, 3, -1], [2, 1, 1, 2]);
    const folded = foldBatchNorm(weight, f64([1, 0], [2]), bn);
    expect(folded.weight.shape).toEqual([2, 1, 1, 2]);
    expect(Array.from(folded.weight.data)).toEqual([1.5, 3, 12, -4]);
    // b' = (b - mean) * s + beta = [(1 - 1) * 1.5 + 0.1, (0 - 2) * 4 - 1]
    expect(Array.from(folded.bias.data)).toEqual([0.1, -9]);
    expect(Array.from(foldBatchNorm(weight, null, bn).bias.data)).toEqual([-1.5 + 0.1, -9]);
  });

  it('normalizes [N, C, ...] in inference mode (by hand)', () => {
    const x = f64([1, 3, 2, 4], [1, 2, 1, 2]);
    expect(Array.from(batchNormalization(x, bn).data)).toEqual([0.1, 3.1, -1, 7]);
  });

  it('conv with folded BN equals BN after the conv, on random data', () => {
    const rng = createRng(41);
    for (const { input, weightShape, group } of [
      { input: [2, 4, 7, 7], weightShape: [6, 4, 3, 3], group: 1 },
      { input: [1, 5, 8, 6], weightShape: [5, 1, 5, 5], group: 5 },
    ]) {
      const channels = weightShape[0];
      const x = randomTensor(input, rng);
      const weight = randomTensor(weightShape, rng);
      const bias = randomTensor([channels], rng);
      const randomBn: BatchNormParams = {
        scale: randomTensor([channels], rng),
        bias: randomTensor([channels], rng),
        mean: randomTensor([channels], rng),
        variance: tensor(randomTensor([channels], rng, { distribution: 'uniform' }).data.map((v) => 0.5 + Math.abs(v)), [channels]),
        epsilon: 1e-5,
      };
      const params: Conv2dParams = { group, pads: [1, 2, 1, 0], strides: [2, 1] };
      const folded = foldBatchNorm(weight, bias, randomBn);
      const fused = conv2d(x, folded.weight, folded.bias, params);
      const separate = batchNormalization(conv2d(x, weight, bias, params), randomBn);
      expect(relativeL2Error(fused.data, separate.data)).toBeLessThan(1e-13);
    }
  });

  it('rejects mismatched channel counts and non-positive variance + epsilon', () => {
    const weight = f64(range(6), [3, 2]);
    expect(() => foldBatchNorm(weight, null, bn)).toThrow(/BatchNorm has 2 channels but the weight \[3, 2\] has 3 output channels/);
    expect(() => batchNormalization(f64(range(3), [1, 3]), bn)).toThrow(ShapeError);
    expect(() => effectiveScale({ ...bn, mean: f64([1], [1]) })).toThrow(/BatchNorm mean must have shape \[2\]/);
    expect(() => effectiveScale({ ...bn, epsilon: 0 })).toThrow(/channel 1: variance \+ epsilon = 0 \+ 0 is not positive/);
    expect(() => foldBatchNorm(f64(range(4), [2, 2]), f64([1], [1]), bn)).toThrow(/bias must have shape \[2\]/);
  });
});
