import { maskLayer, type LayerPlan } from '@deprune/masks';
import { depthwiseConv2d, relativeL2Error, type Tensor } from '@deprune/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDiagonalTable, buildTapTable, disposeBackend, getKernel, type Activation, type ConvAttrs } from '../src/index';
import {
  MODES,
  channelBalancedPlan,
  createRng,
  dwLayer,
  expectParity,
  groupBalancedPlan,
  maskedWeights,
  printWorstErrors,
  randomFloat32,
  uniformPlan,
  withActivation,
} from './helpers';

interface DwCase {
  label: string;
  input: [number, number, number, number];
  kernel: [number, number];
  attrs: ConvAttrs;
  bias?: boolean;
}

/** Odd shapes of the issue: C not a multiple of 4, 5x5, stride 2 and (2,1), asymmetric pads, 1xN inputs, dilation, batch 2. */
const DW_CASES: DwCase[] = [
  { label: 'C=13 3x3 pad 1 relu6', input: [1, 13, 9, 8], kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], activation: 'relu6' } },
  { label: 'C=13 5x5 stride 2 N=2 hardswish', input: [2, 13, 11, 10], kernel: [5, 5], attrs: { strides: [2, 2], pads: [2, 2, 2, 2], activation: 'hardswish' } },
  { label: '3x3 stride (2,1) pads [0,1,1,0] silu', input: [1, 6, 8, 7], kernel: [3, 3], attrs: { strides: [2, 1], pads: [0, 1, 1, 0], activation: 'silu' } },
  { label: '1xN input (H=1) clip', input: [1, 5, 1, 17], kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], activation: { kind: 'clip', min: -0.5, max: 0.7 } } },
  {
    label: 'dilation 2 hardsigmoid no bias',
    input: [1, 4, 9, 9],
    kernel: [3, 3],
    attrs: { pads: [2, 2, 2, 2], dilations: [2, 2], activation: { kind: 'hardsigmoid', alpha: 0.3, beta: 0.4 } },
    bias: false,
  },
  { label: '1x5 kernel stride (1,2) sigmoid', input: [1, 3, 4, 12], kernel: [1, 5], attrs: { strides: [1, 2], pads: [0, 2, 0, 1], activation: 'sigmoid' } },
];

interface Layer {
  x: Tensor<Float32Array>;
  weight: Tensor<Float32Array>;
  bias: Tensor<Float32Array> | null;
}

function makeLayer(testCase: DwCase, seed: number): Layer {
  const rng = createRng(seed);
  const [, channels] = testCase.input;
  return {
    x: randomFloat32(testCase.input, rng),
    weight: randomFloat32([channels, 1, ...testCase.kernel], rng, 0.5),
    bias: testCase.bias === false ? null : randomFloat32([channels], rng, 0.3),
  };
}

function reference(layer: Layer, weight: Tensor, attrs: ConvAttrs): Tensor<Float64Array> {
  const { activation, ...conv } = attrs;
  return withActivation(depthwiseConv2d(layer.x, weight, layer.bias, conv), activation as Activation | undefined);
}

/** The plans every sparse DW kernel is checked on: balanced, unbalanced, group-balanced, kept 0, full. */
function plansFor(layer: Layer, seed: number): { label: string; plan: LayerPlan; step?: number }[] {
  const rng = createRng(seed);
  const dw = dwLayer('dw', layer.weight);
  const taps = dw.kernel[0] * dw.kernel[1];
  return [
    { label: 'balanced m=ceil(K/2), t=4', plan: channelBalancedPlan(dw, Math.ceil(taps / 2), rng) },
    { label: 'balanced m=K-2, t=1', plan: channelBalancedPlan(dw, Math.max(0, taps - 2), rng), step: 1 },
    { label: 'unbalanced DCP 50%', plan: maskLayer(dw, { strategy: 'dcp', ratio: 0.5 }) },
    { label: 'group-balanced G=4', plan: groupBalancedPlan(dw, 4, 2 * taps, rng) },
    { label: 'kept 0', plan: uniformPlan(dw, []) },
    { label: 'full', plan: uniformPlan(dw, Array.from({ length: taps }, (_, tap) => tap)) },
  ];
}

afterAll(async () => {
  printWorstErrors('DW parity');
  await disposeBackend();
});

it('finds the cpu and webasm modes in Node', () => {
  expect(MODES).toEqual(expect.arrayContaining(['cpu', 'webasm']));
});

describe.each(MODES)('DW kernels in %s mode', (mode) => {
  describe.each(DW_CASES.map((testCase, index) => [testCase.label, testCase, index] as const))('%s', (_label, testCase, index) => {
    const layer = makeLayer(testCase, 100 + index);

    it('dwDense matches the float64 reference', async () => {
      const actual = await getKernel('dwDense', mode)(layer.x, layer.weight, layer.bias, testCase.attrs);
      expectParity('dwDense', mode, actual, reference(layer, layer.weight, testCase.attrs));
    });

    it('dwSparse matches the dense reference on the masked weights, for every plan', async () => {
      for (const { label, plan, step } of plansFor(layer, 200 + index)) {
        const table = buildTapTable(plan, layer.weight, step === undefined ? {} : { step });
        const actual = await getKernel('dwSparse', mode)(layer.x, table, layer.bias, testCase.attrs);
        expectParity(`dwSparse`, mode, actual, reference(layer, maskedWeights(plan, layer.weight), testCase.attrs));
        expect(table.slots % table.step, label).toBe(0);
      }
    });

    it('dwDiagonal (DR sub-GEMMs) matches the dense reference on the masked weights, for every plan', async () => {
      for (const { plan, step } of plansFor(layer, 200 + index)) {
        const table = buildDiagonalTable(plan, layer.weight, { groupSize: 4, ...(step === undefined ? {} : { step }) });
        const actual = await getKernel('dwDiagonal', mode)(layer.x, table, layer.bias, testCase.attrs);
        expectParity('dwDiagonal', mode, actual, reference(layer, maskedWeights(plan, layer.weight), testCase.attrs));
      }
    });
  });

  it('the parity check has teeth: the sparse kernel is far from the unpruned reference', async () => {
    const layer = makeLayer(DW_CASES[0], 8);
    const plan = maskLayer(dwLayer('dw', layer.weight), { strategy: 'dcp', ratio: 0.5 });
    const actual = await getKernel('dwSparse', mode)(layer.x, buildTapTable(plan, layer.weight), layer.bias, DW_CASES[0].attrs);
    const unpruned = reference(layer, layer.weight, DW_CASES[0].attrs);
    expect(relativeL2Error(actual.data, unpruned.data)).toBeGreaterThan(0.05);
  });

  it('dwSparse with kept 0 outputs just activation(bias)', async () => {
    const layer = makeLayer(DW_CASES[0], 7);
    const table = buildTapTable(uniformPlan(dwLayer('dw', layer.weight), []), layer.weight);
    expect(table.slots).toBe(0);
    const actual = await getKernel('dwSparse', mode)(layer.x, table, layer.bias, { pads: [1, 1, 1, 1], activation: 'relu6' });
    const plane = actual.shape[2] * actual.shape[3];
    for (let channel = 0; channel < actual.shape[1]; channel++) {
      const expected = Math.min(Math.max(layer.bias!.data[channel], 0), 6);
      for (let at = 0; at < plane; at++) expect(actual.data[channel * plane + at]).toBeCloseTo(expected, 6);
    }
  });
});
