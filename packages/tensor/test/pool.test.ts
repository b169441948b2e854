import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { createRng, globalPool2d, pool2d, pool2dOutputShape, randomTensor, tensor, type Pool2dParams } from '../src/index';
import { runSingleNode, type AttributeValue } from './ort-model';
import { expectCloseToOrt } from './parity';

const counting = (shape: number[]) => tensor(Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => i + 1), shape);

describe('pool2d, hand-checked', () => {
  it('max and average over a 4x4 image with 2x2 windows', () => {
    const x = counting([1, 1, 4, 4]);
    const max = pool2d(x, { kind: 'max', kernel: [2, 2], strides: [2, 2] });
    expect(max.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(max.data)).toEqual([6, 8, 14, 16]);
    const average = pool2d(x, { kind: 'average', kernel: [2, 2], strides: [2, 2] });
    expect(Array.from(average.data)).toEqual([3.5, 5.5, 11.5, 13.5]);
  });

  it('counts padding in the average only with countIncludePad, and never past the end padding', () => {
    const x = counting([1, 1, 4, 4]);
    const params: Pool2dParams = { kind: 'average', kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true };
    // Windows start at -1, 1, 3: the corner window holds only x[0][0] = 1.
    expect(Array.from(pool2d(x, params).data).slice(0, 3)).toEqual([1, 2.5, 4]);
    expect(Array.from(pool2d(x, { ...params, countIncludePad: true }).data).slice(0, 3)).toEqual([0.25, 1.25, 1]);
  });

  it('drops a ceil-mode window that would start in the end padding', () => {
    const params: Pool2dParams = { kind: 'max', kernel: [2, 2], strides: [3, 3], pads: [1, 1, 1, 1], ceilMode: true };
    // ceil((4 + 2 - 2) / 3) + 1 = 3, but the third window would start at 6 - 1 = 5 >= 4 + 1.
    expect(pool2dOutputShape([1, 1, 4, 4], params)).toEqual([1, 1, 2, 2]);
    expect(pool2dOutputShape([1, 1, 4, 4], { ...params, ceilMode: false })).toEqual([1, 1, 2, 2]);
    expect(pool2dOutputShape([1, 1, 5, 5], { kind: 'max', kernel: [2, 2], strides: [2, 2], ceilMode: true })).toEqual([1, 1, 3, 3]);
  });

  it('global pooling gives one value per channel', () => {
    const x = counting([2, 3, 2, 2]);
    const max = globalPool2d(x, 'max');
    expect(max.shape).toEqual([2, 3, 1, 1]);
    expect(Array.from(max.data)).toEqual([4, 8, 12, 16, 20, 24]);
    expect(Array.from(globalPool2d(x, 'average').data)).toEqual([2.5, 6.5, 10.5, 14.5, 18.5, 22.5]);
  });

  it('handles a batch of zero images', () => {
    expect(pool2d(tensor(new Float32Array(0), [0, 3, 4, 4]), { kind: 'max', kernel: [2, 2] }).shape).toEqual([0, 3, 3, 3]);
  });

  it('reports bad shapes and parameters', () => {
    const x = counting([1, 1, 4, 4]);
    expect(() => pool2d(counting([4, 4]), { kind: 'max', kernel: [2, 2] })).toThrow(/rank 4 \(N, C, H, W\)/);
    expect(() => pool2d(x, { kind: 'max', kernel: [5, 1] })).toThrow(ShapeError);
    expect(() => pool2d(x, { kind: 'max', kernel: [5, 1] })).toThrow(/dilated kernel size 5 .* does not fit the padded input size 4/);
    expect(() => pool2d(x, { kind: 'max', kernel: [3, 3], dilations: [2, 2] })).toThrow(/dilated kernel size 5/);
    expect(() => pool2d(x, { kind: 'lp' as never, kernel: [2, 2] })).toThrow(UsageError);
    expect(() => pool2d(x, { kind: 'max', kernel: [0, 2] })).toThrow(/kernel\[0\] \(height\) must be a positive integer/);
    expect(() => pool2d(x, { kind: 'max', kernel: [2] as never })).toThrow(/kernel must be a pair/);
    expect(() => pool2d(x, { kind: 'max', kernel: [2, 2], strides: [0, 1] })).toThrow(UsageError);
    expect(() => pool2d(x, { kind: 'max', kernel: [2, 2], pads: [1, 1, -1, 1] })).toThrow(/pads bottom/);
    expect(() => globalPool2d(counting([1, 2, 0, 3]), 'max')).toThrow(/empty H x W plane/);
    expect(() => globalPool2d(x, 'min' as never)).toThrow(UsageError);
  });
});

interface PoolCase {
  name: string;
  input: number[];
  params: Pool2dParams;
}

function poolCase(name: string, input: number[], params: Pool2dParams): PoolCase {
  return { name, input, params };
}

const fixedPoolCases: PoolCase[] = [
  poolCase('max 3x3 s2 p1 (ResNet stem)', [1, 4, 15, 15], { kind: 'max', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  poolCase('max 2x2 s2 on odd sizes', [2, 3, 7, 9], { kind: 'max', kernel: [2, 2], strides: [2, 2] }),
  poolCase('max 2x2 s2 ceil on odd sizes', [2, 3, 7, 9], { kind: 'max', kernel: [2, 2], strides: [2, 2], ceilMode: true }),
  poolCase('max ceil drops the last window', [1, 2, 4, 4], { kind: 'max', kernel: [2, 2], strides: [3, 3], pads: [1, 1, 1, 1], ceilMode: true }),
  poolCase('max asymmetric pads, stride (2,1)', [1, 3, 8, 6], { kind: 'max', kernel: [3, 2], strides: [2, 1], pads: [0, 1, 2, 0] }),
  poolCase('max dilation (2,2)', [1, 2, 9, 9], { kind: 'max', kernel: [2, 2], dilations: [2, 2] }),
  poolCase('max dilation (1,3), pads, ceil', [1, 2, 6, 11], { kind: 'max', kernel: [2, 3], dilations: [1, 3], pads: [1, 2, 0, 1], strides: [2, 2], ceilMode: true }),
  poolCase('max on a 1xN image', [1, 5, 1, 17], { kind: 'max', kernel: [1, 3], strides: [1, 2], pads: [0, 1, 0, 1] }),
  poolCase('average 2x2 s2', [2, 4, 8, 8], { kind: 'average', kernel: [2, 2], strides: [2, 2] }),
  poolCase('average 3x3 s1 p1, exclude pad', [1, 3, 7, 5], { kind: 'average', kernel: [3, 3], pads: [1, 1, 1, 1] }),
  poolCase('average 3x3 s1 p1, include pad', [1, 3, 7, 5], { kind: 'average', kernel: [3, 3], pads: [1, 1, 1, 1], countIncludePad: true }),
  poolCase('average 3x3 s2 ceil, include pad', [1, 2, 6, 6], { kind: 'average', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true }),
  poolCase('average 3x3 s2 ceil, exclude pad', [1, 2, 10, 7], { kind: 'average', kernel: [3, 3], strides: [2, 2], pads: [1, 0, 1, 2], ceilMode: true }),
  poolCase('average asymmetric pads, stride (1,2)', [1, 2, 5, 9], { kind: 'average', kernel: [2, 3], strides: [1, 2], pads: [1, 0, 0, 2] }),
  poolCase('average dilation (2,2), include pad, ceil', [1, 2, 6, 6], { kind: 'average', kernel: [2, 2], dilations: [2, 2], strides: [2, 2], ceilMode: true, countIncludePad: true }),
  poolCase('average dilation (2,1), pads', [2, 2, 9, 7], { kind: 'average', kernel: [3, 2], dilations: [2, 1], pads: [2, 1, 1, 0] }),
  poolCase('average on a 1xN image', [1, 4, 1, 20], { kind: 'average', kernel: [1, 5], strides: [1, 3], pads: [0, 2, 0, 2], ceilMode: true }),
  poolCase('average whole image (kernel = input)', [3, 2, 5, 6], { kind: 'average', kernel: [5, 6] }),
];

function randomPoolCases(count: number, seed: number): PoolCase[] {
  const rng = createRng(seed);
  const pick = <T>(options: readonly T[]): T => options[rng.int(options.length)];
  const cases: PoolCase[] = [];
  while (cases.length < count) {
    const kernel: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    const params: Pool2dParams = {
      kind: pick(['max', 'average'] as const),
      kernel,
      strides: pick([[1, 1], [2, 2], [2, 1], [3, 2]] as const),
      dilations: pick([[1, 1], [1, 1], [2, 2], [1, 2]] as const),
      // onnxruntime requires pads smaller than the kernel.
      pads: [rng.int(kernel[0]), rng.int(kernel[1]), rng.int(kernel[0]), rng.int(kernel[1])],
      ceilMode: rng.next() < 0.5,
      countIncludePad: rng.next() < 0.5,
    };
    const input = [1 + rng.int(2), 1 + rng.int(3), pick([1, 2, 5, 8]), 2 + rng.int(10)];
    try {
      pool2dOutputShape(input, params);
    } catch {
      continue; // the kernel does not fit this input; draw again
    }
    cases.push(poolCase(`random #${cases.length} ${JSON.stringify({ input, ...params })}`, input, params));
  }
  return cases;
}

function poolAttributes(params: Pool2dParams): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: params.kernel,
    strides: params.strides ?? [1, 1],
    pads: params.pads ?? [0, 0, 0, 0],
    dilations: params.dilations ?? [1, 1],
    ceil_mode: params.ceilMode ? 1 : 0,
  };
  if (params.kind === 'average') attributes.count_include_pad = params.countIncludePad ? 1 : 0;
  return attributes;
}

describe('pool2d matches onnxruntime MaxPool / AveragePool', () => {
  const cases = [...fixedPoolCases, ...randomPoolCases(24, 77)];
  it.each(cases.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const x = randomTensor(testCase.input, createRng(2000 + index), { dtype: 'float32' });
    const opType = testCase.params.kind === 'max' ? 'MaxPool' : 'AveragePool';
    // AveragePool takes dilations from opset 19 on.
    const ort = await runSingleNode({ opType, inputs: [{ name: 'x', value: x }], attributes: poolAttributes(testCase.params), opset: 19 });
    expectCloseToOrt(opType, pool2d(x, testCase.params), ort);
  });

  it.each([
    [1, 8, 7, 7],
    [2, 3, 1, 13],
    [1, 1, 1, 1],
  ])('GlobalMaxPool and GlobalAveragePool on %j', async (...shape) => {
    const x = randomTensor(shape, createRng(2100 + shape[3]), { dtype: 'float32' });
    for (const [opType, kind] of [
      ['GlobalMaxPool', 'max'],
      ['GlobalAveragePool', 'average'],
    ] as const) {
      expectCloseToOrt(opType, globalPool2d(x, kind), await runSingleNode({ opType, inputs: [{ name: 'x', value: x }] }));
    }
  });
});
