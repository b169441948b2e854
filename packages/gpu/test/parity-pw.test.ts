import { maskLayer, type LayerPlan } from '@deprune/masks';
import { conv2d, gemm, pointwiseConv2d, tensor, type Tensor } from '@deprune/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { buildColumnTable, disposeBackend, getKernel, type Activation, type Conv2dAttrs, type GemmAttrs } from '../src/index';
import { MODES, createRng, expectParity, maskedWeights, printWorstErrors, pwLayer, randomFloat32, uniformPwPlan, withActivation } from './helpers';

interface PwCase {
  label: string;
  input: [number, number, number, number];
  outChannels: number;
  onnxWeight?: boolean;
  activation?: Activation;
}

const PW_CASES: PwCase[] = [
  { label: 'Cin=13 Cout=10 N=2 relu', input: [2, 13, 5, 3], outChannels: 10, activation: 'relu' },
  { label: 'Cout=13 1xN input, [M,C,1,1] weight, hardswish', input: [1, 16, 1, 9], outChannels: 13, onnxWeight: true, activation: 'hardswish' },
  { label: 'Cin=7 Cout=5 no activation', input: [1, 7, 4, 4], outChannels: 5 },
];

function makePw(testCase: PwCase, seed: number) {
  const rng = createRng(seed);
  const [, inChannels] = testCase.input;
  const matrix = randomFloat32([testCase.outChannels, inChannels], rng, 0.4);
  return {
    x: randomFloat32(testCase.input, rng),
    matrix,
    weight: testCase.onnxWeight ? tensor(matrix.data, [testCase.outChannels, inChannels, 1, 1]) : matrix,
    bias: randomFloat32([testCase.outChannels], rng, 0.3),
  };
}

/** Column-sparse plans over row tiles of 4 (Cout not a multiple of 4 leaves a short last tile). */
function pwPlansFor(matrix: Tensor<Float32Array>): { label: string; plan: LayerPlan; step?: number }[] {
  const layer = pwLayer('pw', matrix);
  const all = Array.from({ length: layer.inChannels }, (_, column) => column);
  return [
    { label: 'balanced PCP 50%, T=4', plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.5, options: { tileRows: 4, balanced: true } }) },
    { label: 'unbalanced PCP 50%, T=4', plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.5, options: { tileRows: 4 } }) },
    { label: 'balanced PCP 30%, T=4, t=1', plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.3, options: { tileRows: 4, balanced: true } }), step: 1 },
    { label: 'T=Cout (plain input-channel pruning)', plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.4, options: { tileRows: layer.outChannels } }) },
    { label: 'unstructured (T=1)', plan: maskLayer(layer, { strategy: 'unstructured', ratio: 0.6 }) },
    { label: 'kept 0', plan: uniformPwPlan(layer, 4, []) },
    { label: 'full', plan: uniformPwPlan(layer, 4, all) },
  ];
}

interface ConvCase {
  label: string;
  input: [number, number, number, number];
  weight: [number, number, number, number];
  attrs: Conv2dAttrs;
}

const CONV_CASES: ConvCase[] = [
  { label: 'stem 3->8 3x3 stride 2 hardswish', input: [1, 3, 11, 10], weight: [8, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], activation: 'hardswish' } },
  { label: 'grouped 6->4 group 2, stride (2,1), pads [0,1,1,0], N=2 relu', input: [2, 6, 7, 7], weight: [4, 3, 3, 3], attrs: { group: 2, strides: [2, 1], pads: [0, 1, 1, 0], activation: 'relu' } },
  { label: 'depth-wise as conv 5x5 group 5 relu6', input: [1, 5, 6, 6], weight: [5, 1, 5, 5], attrs: { group: 5, pads: [2, 2, 2, 2], activation: 'relu6' } },
  { label: '1x1 conv, 1xN input, no bias', input: [1, 4, 1, 9], weight: [6, 4, 1, 1], attrs: {} },
  { label: 'dilated 3x3 silu', input: [1, 2, 9, 8], weight: [3, 2, 3, 3], attrs: { dilations: [2, 1], pads: [2, 1, 2, 1], activation: 'silu' } },
];

interface GemmCase {
  label: string;
  a: [number, number];
  b: [number, number];
  c: number[] | null;
  attrs: GemmAttrs;
}

const GEMM_CASES: GemmCase[] = [
  { label: 'classifier transB, C [N]', a: [2, 13], b: [7, 13], c: [7], attrs: { transB: true } },
  { label: 'plain, C [M,1], alpha 0.5 beta 2', a: [3, 5], b: [5, 4], c: [3, 1], attrs: { alpha: 0.5, beta: 2 } },
  { label: 'transA, scalar C', a: [5, 3], b: [5, 4], c: [], attrs: { transA: true } },
  { label: 'transA transB, C [M,N], sigmoid', a: [6, 2], b: [3, 6], c: [2, 3], attrs: { transA: true, transB: true, activation: 'sigmoid' } },
  { label: 'no C, relu', a: [1, 9], b: [9, 11], c: null, attrs: { activation: 'relu' } },
];

afterAll(async () => {
  printWorstErrors('PW / conv / gemm parity');
  await disposeBackend();
});

it('finds the cpu and webasm modes in Node', () => {
  expect(MODES).toEqual(expect.arrayContaining(['cpu', 'webasm']));
});

describe.each(MODES)('PW, conv and gemm kernels in %s mode', (mode) => {
  describe.each(PW_CASES.map((testCase, index) => [testCase.label, testCase, index] as const))('%s', (_label, testCase, index) => {
    const layer = makePw(testCase, 300 + index);

    it('pwDense matches the float64 reference', async () => {
      const actual = await getKernel('pwDense', mode)(layer.x, layer.weight, layer.bias, { activation: testCase.activation });
      expectParity('pwDense', mode, actual, withActivation(pointwiseConv2d(layer.x, layer.weight, layer.bias), testCase.activation));
    });

    it('pwSparse matches the dense reference on the masked weights, for every plan', async () => {
      for (const { plan, step } of pwPlansFor(layer.matrix)) {
        const table = buildColumnTable(plan, layer.weight, step === undefined ? {} : { step });
        const actual = await getKernel('pwSparse', mode)(layer.x, table, layer.bias, { activation: testCase.activation });
        const expected = pointwiseConv2d(layer.x, maskedWeights(plan, layer.matrix), layer.bias);
        expectParity('pwSparse', mode, actual, withActivation(expected, testCase.activation));
      }
    });
  });

  it.each(CONV_CASES.map((testCase, index) => [testCase.label, testCase, index] as const))('conv2d: %s', async (_label, testCase, index) => {
    const rng = createRng(400 + index);
    const x = randomFloat32(testCase.input, rng);
    const weight = randomFloat32(testCase.weight, rng, 0.4);
    const bias = index === 3 ? null : randomFloat32([testCase.weight[0]], rng, 0.3);
    const { activation, ...params } = testCase.attrs;
    const actual = await getKernel('conv2d', mode)(x, weight, bias, testCase.attrs);
    expectParity('conv2d', mode, actual, withActivation(conv2d(x, weight, bias, params), activation));
  });

  it.each(GEMM_CASES.map((testCase, index) => [testCase.label, testCase, index] as const))('gemm: %s', async (_label, testCase, index) => {
    const rng = createRng(500 + index);
    const a = randomFloat32(testCase.a, rng);
    const b = randomFloat32(testCase.b, rng);
    const c = testCase.c === null ? null : randomFloat32(testCase.c, rng);
    const { activation, ...options } = testCase.attrs;
    const actual = await getKernel('gemm', mode)(a, b, c, testCase.attrs);
    expectParity('gemm', mode, actual, withActivation(gemm(a, b, c, options), activation));
  });
});
