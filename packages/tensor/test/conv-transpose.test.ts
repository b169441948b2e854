import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import {
  conv2d,
  convTranspose2d,
  convTranspose2dOutputShape,
  convTransposePadsForOutputShape,
  createRng,
  randomTensor,
  tensor,
  type ConvTranspose2dParams,
  type ConvTransposeAutoPad,
} from '../src/index';
import { runSingleNode, type AttributeValue, type NodeInput } from './ort-model';
import { expectCloseToOrt } from './parity';

const ones = (shape: number[]) => tensor(new Float64Array(shape.reduce((p, q) => p * q, 1)).fill(1), shape);
const counting = (shape: number[]) => tensor(Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => i + 1), shape);

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index] * b[index];
  return sum;
}

describe('convTranspose2d, hand-checked and against conv2d', () => {
  it('scatters each input pixel times the kernel, stride 2', () => {
    const y = convTranspose2d(counting([1, 1, 2, 2]), ones([1, 1, 2, 2]), null, { strides: [2, 2] });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('overlapping taps add up, pads crop, bias adds, output padding extends', () => {
    const x = counting([1, 1, 3, 3]);
    const full = convTranspose2d(x, ones([1, 1, 3, 3]), null, { strides: [2, 2] });
    expect(full.shape).toEqual([1, 1, 7, 7]);
    expect(Array.from(full.data.subarray(0, 7))).toEqual([1, 1, 3, 2, 5, 3, 3]);
    expect(Array.from(full.data.subarray(14, 21))).toEqual([5, 5, 12, 7, 16, 9, 9]);
    const cropped = convTranspose2d(x, ones([1, 1, 3, 3]), tensor(new Float32Array([10]), [1]), { strides: [2, 2], pads: [3, 3, 3, 3] });
    expect(Array.from(cropped.data)).toEqual([15]);
    const extended = convTranspose2d(x, ones([1, 1, 3, 3]), null, { strides: [2, 2], outputPadding: [1, 0] });
    expect(extended.shape).toEqual([1, 1, 8, 7]);
    expect(Array.from(extended.data.subarray(49))).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('is the adjoint of conv2d: <conv(x), y> = <x, convTranspose(y)> for grouped, strided, dilated, padded cases', () => {
    const rng = createRng(31);
    const cases: { x: number[]; weight: number[]; params: ConvTranspose2dParams }[] = [
      { x: [2, 4, 9, 8], weight: [6, 2, 3, 3], params: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] } },
      { x: [1, 3, 10, 7], weight: [5, 3, 3, 2], params: { strides: [2, 1], pads: [0, 1, 2, 0], dilations: [2, 1] } },
      { x: [1, 6, 8, 8], weight: [6, 1, 5, 5], params: { group: 6, strides: [3, 3], pads: [2, 2, 2, 2], dilations: [1, 2] } },
    ];
    for (const { x: xShape, weight: wShape, params } of cases) {
      const x = randomTensor(xShape, rng);
      const weight = randomTensor(wShape, rng);
      const convOut = conv2d(x, weight, null, params);
      const y = randomTensor(convOut.shape, rng);
      // conv2d's weight [M, C/g, kh, kw] read as a ConvTranspose weight [C_in = M, C_out/g = C/g, kh, kw];
      // output padding restores the input rows/columns the strided conv never reached.
      const fullShape = convTranspose2dOutputShape(y.shape, weight.shape, params);
      const outputPadding: [number, number] = [xShape[2] - fullShape[2], xShape[3] - fullShape[3]];
      const back = convTranspose2d(y, weight, null, { ...params, outputPadding });
      expect(back.shape).toEqual(xShape);
      const forward = dot(convOut.data, y.data);
      expect(Math.abs(forward - dot(x.data, back.data))).toBeLessThan(1e-12 * Math.abs(forward) + 1e-12);
    }
  });

  it('computes the output shape', () => {
    expect(convTranspose2dOutputShape([2, 4, 5, 7], [4, 3, 3, 3], { group: 2, strides: [2, 3], pads: [1, 0, 1, 2], outputPadding: [1, 2] })).toEqual([2, 6, 10, 21]);
    expect(convTranspose2dOutputShape([1, 2, 3, 3], [2, 1, 2, 2], { dilations: [2, 2] })).toEqual([1, 1, 5, 5]);
  });

  it('reports bad shapes and parameters', () => {
    const x = counting([1, 2, 3, 3]);
    expect(() => convTranspose2d(x, ones([3, 1, 2, 2]))).toThrow(ShapeError);
    expect(() => convTranspose2d(x, ones([3, 1, 2, 2]))).toThrow(/must have 2 input channels first/);
    expect(() => convTranspose2d(x, ones([2, 1, 2, 2]), null, { group: 3 })).toThrow(/not divisible by group 3/);
    expect(() => convTranspose2d(x, ones([2, 1, 2, 2]), ones([2]))).toThrow(/bias must have shape \[1\]/);
    expect(() => convTranspose2d(x, ones([2, 1, 2, 2]), null, { pads: [2, 2, 2, 2] })).toThrow(/crop more than the full output/);
    expect(() => convTranspose2d(x, ones([2, 1, 2, 2]), null, { strides: [2, 2], outputPadding: [2, 0] })).toThrow(UsageError);
    expect(() => convTranspose2d(x, ones([2, 1, 2, 2]), null, { strides: [2, 2], outputPadding: [2, 0] })).toThrow(
      /outputPadding\[0\] \(height\) is 2 but must be less than max\(stride, dilation\) = 2/,
    );
    expect(() => convTranspose2d(x, ones([2, 1, 2, 2]), null, { outputPadding: [0, -1] })).toThrow(/non-negative integer/);
    expect(() => convTranspose2d(counting([2, 3, 3]), ones([2, 1, 2, 2]))).toThrow(/rank 4/);
  });
});

describe('convTransposePadsForOutputShape', () => {
  const x = [1, 1, 3, 3];
  const w = [1, 1, 3, 3];
  it('splits the padding the way onnxruntime does', () => {
    // Full output 7; SAME targets 3 * 2 = 6: one row to crop.
    expect(convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { autoPad: 'SAME_UPPER' }).pads).toEqual([0, 0, 1, 1]);
    expect(convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { autoPad: 'SAME_LOWER' }).pads).toEqual([1, 1, 0, 0]);
    expect(convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { outputShape: [6, 4] }).pads).toEqual([1, 2, 0, 1]);
    expect(convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { outputShape: [6, 4], autoPad: 'SAME_UPPER' }).pads).toEqual([0, 1, 1, 2]);
    expect(convTransposePadsForOutputShape(x, w, { strides: [2, 2], pads: [1, 1, 1, 1] }, { autoPad: 'VALID' }).pads).toEqual([0, 0, 0, 0]);
    expect(convTransposePadsForOutputShape(x, w, { strides: [2, 2], pads: [1, 0, 1, 0] }).pads).toEqual([1, 0, 1, 0]);
  });

  it('turns a target larger than the full output into output padding, within max(stride, dilation)', () => {
    const resolved = convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { outputShape: [8, 7] });
    expect(resolved).toMatchObject({ pads: [0, 0, 0, 0], outputPadding: [1, 0] });
    expect(convTranspose2dOutputShape(x, w, resolved)).toEqual([1, 1, 8, 7]);
    expect(() => convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { outputShape: [9, 7] })).toThrow(ShapeError);
    expect(() => convTransposePadsForOutputShape(x, w, { strides: [2, 2] }, { outputShape: [9, 7] })).toThrow(/at most 1 more fits/);
  });

  it('rejects bad options', () => {
    expect(() => convTransposePadsForOutputShape(x, w, {}, { autoPad: 'SAME' as never })).toThrow(UsageError);
    expect(() => convTransposePadsForOutputShape(x, w, {}, { outputShape: [1, 1, 5, 5] as never })).toThrow(/spatial size \[H, W\]/);
    expect(() => convTransposePadsForOutputShape(x, w, {}, { outputShape: [0, 5] })).toThrow(/positive integer/);
  });
});

interface TransposeCase {
  name: string;
  input: number[];
  outPerGroup: number;
  kernel: [number, number];
  params: ConvTranspose2dParams;
  withBias: boolean;
  /** ONNX output_shape / auto_pad instead of explicit pads. */
  outputShape?: [number, number];
  autoPad?: ConvTransposeAutoPad;
}

const transposeCases: TransposeCase[] = [
  { name: '2x2 stride 2 (U-Net up-sampling)', input: [1, 4, 5, 5], outPerGroup: 3, kernel: [2, 2], params: { strides: [2, 2] }, withBias: true },
  { name: '3x3 stride 2 pads 1 output padding 1', input: [2, 3, 4, 6], outPerGroup: 2, kernel: [3, 3], params: { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }, withBias: true },
  { name: '4x4 stride 2 pads 1 (DCGAN)', input: [1, 5, 3, 3], outPerGroup: 4, kernel: [4, 4], params: { strides: [2, 2], pads: [1, 1, 1, 1] }, withBias: false },
  { name: 'asymmetric pads, stride (2,1)', input: [1, 2, 5, 7], outPerGroup: 3, kernel: [3, 3], params: { strides: [2, 1], pads: [0, 2, 1, 0] }, withBias: true },
  { name: 'dilation (2,2)', input: [1, 3, 6, 5], outPerGroup: 2, kernel: [3, 3], params: { dilations: [2, 2], pads: [1, 0, 2, 1] }, withBias: true },
  { name: 'dilation (1,2), stride (3,2), output padding', input: [1, 2, 4, 4], outPerGroup: 2, kernel: [2, 3], params: { dilations: [1, 2], strides: [3, 2], outputPadding: [2, 1] }, withBias: false },
  { name: 'grouped (g=2)', input: [2, 4, 5, 6], outPerGroup: 3, kernel: [3, 3], params: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }, withBias: true },
  { name: 'depth-wise (g=C)', input: [1, 6, 7, 7], outPerGroup: 1, kernel: [3, 3], params: { group: 6, strides: [2, 2] }, withBias: true },
  { name: '1xN input, 1x4 kernel, stride (1,2)', input: [1, 3, 1, 11], outPerGroup: 2, kernel: [1, 4], params: { strides: [1, 2], pads: [0, 1, 0, 1] }, withBias: true },
  { name: '1x1 kernel stride 2', input: [1, 3, 4, 5], outPerGroup: 2, kernel: [1, 1], params: { strides: [2, 2] }, withBias: false },
  { name: 'auto_pad SAME_UPPER, stride 2, odd total', input: [1, 2, 5, 4], outPerGroup: 2, kernel: [3, 3], params: { strides: [2, 2] }, withBias: true, autoPad: 'SAME_UPPER' },
  { name: 'auto_pad SAME_LOWER, stride 2, odd total', input: [1, 2, 5, 4], outPerGroup: 2, kernel: [3, 3], params: { strides: [2, 2] }, withBias: true, autoPad: 'SAME_LOWER' },
  { name: 'auto_pad SAME_LOWER with dilation', input: [1, 2, 3, 3], outPerGroup: 1, kernel: [3, 3], params: { dilations: [2, 2] }, withBias: false, autoPad: 'SAME_LOWER' },
  { name: 'auto_pad SAME_UPPER with output padding', input: [1, 2, 3, 4], outPerGroup: 1, kernel: [3, 3], params: { strides: [2, 2], outputPadding: [1, 1] }, withBias: false, autoPad: 'SAME_UPPER' },
  { name: 'auto_pad SAME_UPPER, 1x1 kernel (target beyond the full size)', input: [1, 2, 3, 4], outPerGroup: 2, kernel: [1, 1], params: { strides: [2, 2] }, withBias: true, autoPad: 'SAME_UPPER' },
  { name: 'auto_pad VALID', input: [1, 2, 3, 4], outPerGroup: 2, kernel: [3, 2], params: { strides: [2, 2] }, withBias: true, autoPad: 'VALID' },
  { name: 'output_shape smaller than full', input: [1, 2, 3, 3], outPerGroup: 2, kernel: [3, 3], params: { strides: [2, 2] }, withBias: true, outputShape: [3, 4] },
  { name: 'output_shape one larger than full', input: [1, 2, 3, 3], outPerGroup: 2, kernel: [3, 3], params: { strides: [2, 2] }, withBias: true, outputShape: [8, 5] },
  { name: 'output_shape with SAME_UPPER split', input: [1, 2, 3, 3], outPerGroup: 1, kernel: [3, 3], params: { strides: [2, 2] }, withBias: false, outputShape: [4, 6], autoPad: 'SAME_UPPER' },
  { name: 'output_shape with SAME_LOWER split', input: [1, 2, 3, 3], outPerGroup: 1, kernel: [3, 3], params: { strides: [2, 2] }, withBias: false, outputShape: [4, 6], autoPad: 'SAME_LOWER' },
  { name: 'output_shape with output padding', input: [1, 2, 3, 3], outPerGroup: 1, kernel: [3, 3], params: { strides: [2, 2], outputPadding: [1, 1] }, withBias: false, outputShape: [6, 5] },
];

function transposeAttributes(testCase: TransposeCase): Record<string, AttributeValue> {
  const { params } = testCase;
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: testCase.kernel,
    strides: params.strides ?? [1, 1],
    dilations: params.dilations ?? [1, 1],
    group: params.group ?? 1,
    output_padding: params.outputPadding ?? [0, 0],
  };
  if (testCase.autoPad) attributes.auto_pad = testCase.autoPad;
  if (testCase.outputShape) attributes.output_shape = testCase.outputShape;
  if (!testCase.autoPad && !testCase.outputShape) attributes.pads = params.pads ?? [0, 0, 0, 0];
  return attributes;
}

describe('convTranspose2d matches onnxruntime ConvTranspose', () => {
  it.each(transposeCases.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const rng = createRng(3000 + index);
    const x = randomTensor(testCase.input, rng, { dtype: 'float32' });
    const group = testCase.params.group ?? 1;
    const weight = randomTensor([testCase.input[1], testCase.outPerGroup, ...testCase.kernel], rng, { dtype: 'float32', scale: 0.5 });
    const bias = testCase.withBias ? randomTensor([testCase.outPerGroup * group], rng, { dtype: 'float32' }) : null;
    const inputs: NodeInput[] = [
      { name: 'x', value: x },
      { name: 'w', value: weight, initializer: true },
    ];
    if (bias) inputs.push({ name: 'b', value: bias, initializer: true });
    const ort = await runSingleNode({ opType: 'ConvTranspose', inputs, attributes: transposeAttributes(testCase) });

    const params =
      testCase.autoPad || testCase.outputShape
        ? convTransposePadsForOutputShape(x.shape, weight.shape, testCase.params, { autoPad: testCase.autoPad, outputShape: testCase.outputShape })
        : testCase.params;
    expect(convTranspose2dOutputShape(x.shape, weight.shape, params)).toEqual(ort.shape);
    expectCloseToOrt('ConvTranspose', convTranspose2d(x, weight, bias, params), ort);
  });
});
