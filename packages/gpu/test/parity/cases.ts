/**
 * The parity cases, one list for every mode: the Node suites (cpu, webasm, headlessgl) and the
 * browser entry (webgl2, webgpu in headless Chromium) both run exactly these. Each case builds its
 * inputs from the run's seed, runs one kernel in the mode asked for, and compares it with
 * @deprune/tensor's float64 reference (sparse kernels: the dense reference on the masked weights).
 *
 * No vitest and no Node APIs here: esbuild bundles this module for the browser.
 */
import { applyMask, buildDwPlan, buildPwPlan, maskFromPlanEntry, maskLayer, type DwLayer, type LayerPlan, type PwLayer } from '@deprune/masks';
import {
  conv2d,
  createRng,
  depthwiseConv2d,
  gemm,
  pointwiseConv2d,
  relativeL2Error,
  tensor,
  type Rng,
  type Tensor,
} from '@deprune/tensor';
import {
  buildColumnTable,
  buildDiagonalTable,
  buildTapTable,
  type Activation,
  type Conv2dAttrs,
  type ConvAttrs,
  type DwKeptTaps,
  type GemmAttrs,
  type PwKeptColumns,
} from '../../src/index';
import { kernelFrom, randomFloat32, sourceName, withActivation, type KernelSource } from './common';
import { OP_KERNELS, opCases, type OpParityKernel } from './op-cases';

export { randomFloat32, withActivation };

/** The parity bound of the issue: relative L2 error against the float64 reference. */
export const TOLERANCE = 1e-4;

export type ParityKernel = 'dwDense' | 'dwSparse' | 'dwDiagonal' | 'pwDense' | 'pwSparse' | 'dsconv' | 'conv2d' | 'gemm' | OpParityKernel;

/** Every built-in kernel, in the order the suites report them. */
export const PARITY_KERNELS: readonly ParityKernel[] = ['dwDense', 'dwSparse', 'dwDiagonal', 'pwDense', 'pwSparse', 'dsconv', 'conv2d', 'gemm', ...OP_KERNELS];

export const DW_KERNELS: readonly ParityKernel[] = ['dwDense', 'dwSparse', 'dwDiagonal'];
export const PW_KERNELS: readonly ParityKernel[] = ['pwDense', 'pwSparse', 'dsconv', 'conv2d', 'gemm'];

export interface ParityOutcome {
  actual: Tensor<Float32Array>;
  expected: Tensor<Float64Array>;
}

export interface ParityCase {
  kernel: ParityKernel;
  /** Unique: `kernel | shape case | plan`. */
  name: string;
  /** Builds the inputs (from the seed), runs the kernel in `mode` and computes the reference. */
  run(source: KernelSource): Promise<ParityOutcome>;
}

/** One case's result, plain data (the browser entry returns these as JSON). */
export interface ParityResult {
  kernel: ParityKernel;
  name: string;
  /** The gpu mode, or the backend's name ('wasm'). */
  mode: string;
  /** Relative L2 error; null when the kernel threw or the shape was wrong. */
  error: number | null;
  /** Why the case failed to produce comparable output (thrown error, wrong shape or type). */
  failure?: string;
  /** The DeprunError code of a thrown error, if any (e.g. UNSUPPORTED for a refused pair). */
  code?: string;
  ms: number;
}

// ---------------------------------------------------------------------------------------------
// Random inputs and plans

/** Run seed -> per-case seed. Seed 0 gives the suite's historical seeds (100 + i, 200 + i, ...). */
function caseSeed(seed: number, offset: number): number {
  return seed * 1000 + offset;
}

export function dwLayer(name: string, weight: Tensor): DwLayer {
  const [channels, , kernelH, kernelW] = weight.shape;
  return { kind: 'dw', name, channels, kernel: [kernelH, kernelW], weights: Float64Array.from(weight.data) };
}

export function pwLayer(name: string, weight: Tensor): PwLayer {
  const [outChannels, inChannels] = weight.shape;
  return { kind: 'pw', name, outChannels, inChannels, weights: Float64Array.from(weight.data) };
}

/** `count` distinct values from [0, limit), ascending. */
export function pick(rng: Rng, limit: number, count: number): number[] {
  const all = Array.from({ length: limit }, (_, index) => index);
  for (let index = limit - 1; index > 0; index--) {
    const other = rng.int(index + 1);
    [all[index], all[other]] = [all[other], all[index]];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}

/**
 * A masks plan's kept indices as the backend takes them (the runtime's `keptTapsOf` /
 * `keptColumnsOf` do this for plan files; the backend's tests cannot import the runtime above it).
 */
export function keptTaps(plan: LayerPlan): DwKeptTaps {
  const { channels, kernel } = plan.shape;
  return { name: plan.name, channels: channels!, kernel: kernel!, keptTaps: plan.keptIndices, step: plan.step, groupSize: plan.granularity === 'group' || plan.granularity === 'channel' ? plan.groupSize : null };
}

export function keptColumns(plan: LayerPlan): PwKeptColumns {
  const { outChannels, inChannels } = plan.shape;
  return { name: plan.name, outChannels: outChannels!, inChannels: inChannels!, tileRows: plan.tileRows!, keptColumns: plan.keptIndices, step: plan.step };
}

/** Every channel keeps m random taps (BWT 'channel' granularity). */
export function channelBalancedPlan(layer: DwLayer, m: number, rng: Rng, step: number | null = null): LayerPlan {
  const taps = layer.kernel[0] * layer.kernel[1];
  return buildDwPlan(layer, Array.from({ length: layer.channels }, () => pick(rng, taps, m)), { strategy: 'dcp', granularity: 'channel', groupSize: 1, step });
}

/** Every group of G channels keeps n taps in all (BWT 'group' granularity), unevenly spread over its channels. */
export function groupBalancedPlan(layer: DwLayer, groupSize: number, n: number, rng: Rng): LayerPlan {
  const taps = layer.kernel[0] * layer.kernel[1];
  const kept: number[][] = [];
  for (let first = 0; first < layer.channels; first += groupSize) {
    const size = Math.min(groupSize, layer.channels - first);
    const inGroup = pick(rng, size * taps, Math.round((n * size) / groupSize));
    for (let channel = 0; channel < size; channel++) {
      kept.push(inGroup.filter((flat) => Math.floor(flat / taps) === channel).map((flat) => flat % taps));
    }
  }
  return buildDwPlan(layer, kept, { strategy: 'dcp', granularity: 'group', groupSize });
}

/** Every channel keeps the same given taps (for kept 0 and full). */
export function uniformPlan(layer: DwLayer, keptTaps: number[]): LayerPlan {
  return buildDwPlan(layer, Array.from({ length: layer.channels }, () => keptTaps), { strategy: 'dcp', granularity: 'channel', groupSize: 1 });
}

/** Every row tile keeps the same given columns. */
export function uniformPwPlan(layer: PwLayer, tileRows: number, columns: number[]): LayerPlan {
  const tiles = Math.ceil(layer.outChannels / tileRows);
  return buildPwPlan(layer, Array.from({ length: tiles }, () => columns), { strategy: 'pcp', granularity: 'tile', tileRows });
}

/** The layer's weights with the plan's pruned weights zeroed, as a tensor of `shape` (the reference's input). */
export function maskedWeights(plan: LayerPlan, weight: Tensor): Tensor<Float64Array> {
  return tensor(applyMask(weight.data, maskFromPlanEntry(plan)), weight.shape);
}

// ---------------------------------------------------------------------------------------------
// Depth-wise cases

export interface DwCase {
  label: string;
  input: [number, number, number, number];
  kernel: [number, number];
  attrs: ConvAttrs;
  bias?: boolean;
  /** Only these kernels (default: all DW kernels). */
  kernels?: readonly ParityKernel[];
}

/** Odd shapes of the issue: C not a multiple of 4, 5x5, stride 2 and (2,1), asymmetric pads, no pads, 1xN inputs, dilation, batch 2. */
export const DW_CASES: readonly DwCase[] = [
  { label: 'C=13 3x3 pad 1 relu6', input: [1, 13, 9, 8], kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], activation: 'relu6' } },
  { label: 'C=13 5x5 stride 2 N=2 hardswish', input: [2, 13, 11, 10], kernel: [5, 5], attrs: { strides: [2, 2], pads: [2, 2, 2, 2], activation: 'hardswish' } },
  { label: 'C=9 3x3 14x14 scaled hardswish (PP-LCNetV3)', input: [1, 9, 14, 14], kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], activation: { kind: 'hardswish', scale: 0.8, shift: 0.1 } } },
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
  // No padding, and the last input row and column are never read (stride 2 over odd sizes): the
  // direct DW kernel reads x in place, without its padded copy.
  { label: 'no pads stride 2 odd size N=2 relu', input: [2, 7, 10, 9], kernel: [3, 3], attrs: { strides: [2, 2], activation: 'relu' } },
  // Planes of 9,216 pixels: more than a GL texture row (8,192 in SwiftShader), so the direct kernel's
  // output must not be laid out one plane per row in the GPU modes. (dwDiagonal's im2col step does
  // put Ho*Wo in a row, a known limit of the DR reference form: left out.)
  { label: 'C=2 96x96 3x3 pad 1 (planes wider than a GL texture)', input: [1, 2, 96, 96], kernel: [3, 3], attrs: { pads: [1, 1, 1, 1] }, kernels: ['dwDense', 'dwSparse'] },
  // Larger than the others: inputs and tables span many texture rows in the GL modes.
  { label: 'C=24 29x31 3x3 stride 2 relu6', input: [1, 24, 29, 31], kernel: [3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], activation: 'relu6' } },
];

export interface DwInputs {
  x: Tensor<Float32Array>;
  weight: Tensor<Float32Array>;
  bias: Tensor<Float32Array> | null;
}

export function makeDwInputs(testCase: DwCase, seed: number): DwInputs {
  const rng = createRng(seed);
  const [, channels] = testCase.input;
  return {
    x: randomFloat32(testCase.input, rng),
    weight: randomFloat32([channels, 1, ...testCase.kernel], rng, 0.5),
    bias: testCase.bias === false ? null : randomFloat32([channels], rng, 0.3),
  };
}

export function dwReference(inputs: DwInputs, weight: Tensor, attrs: ConvAttrs): Tensor<Float64Array> {
  const { activation, ...conv } = attrs;
  return withActivation(depthwiseConv2d(inputs.x, weight, inputs.bias, conv), activation as Activation | undefined);
}

export interface PlanCase {
  label: string;
  plan: LayerPlan;
  step?: number;
}

/** The plans every sparse DW kernel is checked on: balanced, unbalanced, group-balanced, kept 0, full. */
export const DW_PLAN_LABELS = ['balanced m=ceil(K/2), t=4', 'balanced m=K-2, t=1', 'unbalanced DCP 50%', 'group-balanced G=4', 'kept 0', 'full'] as const;

export function dwPlansFor(weight: Tensor, seed: number): PlanCase[] {
  const rng = createRng(seed);
  const dw = dwLayer('dw', weight);
  const taps = dw.kernel[0] * dw.kernel[1];
  const plans: PlanCase[] = [
    { label: DW_PLAN_LABELS[0], plan: channelBalancedPlan(dw, Math.ceil(taps / 2), rng) },
    { label: DW_PLAN_LABELS[1], plan: channelBalancedPlan(dw, Math.max(0, taps - 2), rng), step: 1 },
    { label: DW_PLAN_LABELS[2], plan: maskLayer(dw, { strategy: 'dcp', ratio: 0.5 }) },
    { label: DW_PLAN_LABELS[3], plan: groupBalancedPlan(dw, 4, 2 * taps, rng) },
    { label: DW_PLAN_LABELS[4], plan: uniformPlan(dw, []) },
    { label: DW_PLAN_LABELS[5], plan: uniformPlan(dw, Array.from({ length: taps }, (_, tap) => tap)) },
  ];
  return plans;
}

function dwCases(seed: number): ParityCase[] {
  const cases: ParityCase[] = [];
  DW_CASES.forEach((testCase, index) => {
    const inputs = () => makeDwInputs(testCase, caseSeed(seed, 100 + index));
    const plans = (weight: Tensor) => dwPlansFor(weight, caseSeed(seed, 200 + index));
    const wanted = (kernel: ParityKernel) => testCase.kernels === undefined || testCase.kernels.includes(kernel);
    if (wanted('dwDense')) cases.push({
      kernel: 'dwDense',
      name: `dwDense | ${testCase.label}`,
      async run(mode) {
        const layer = inputs();
        const actual = await kernelFrom(mode, 'dwDense')(layer.x, layer.weight, layer.bias, testCase.attrs);
        return { actual, expected: dwReference(layer, layer.weight, testCase.attrs) };
      },
    });
    DW_PLAN_LABELS.forEach((planLabel, planIndex) => {
      if (!wanted('dwSparse')) return;
      cases.push({
        kernel: 'dwSparse',
        name: `dwSparse | ${testCase.label} | ${planLabel}`,
        async run(mode) {
          const layer = inputs();
          const { plan, step } = plans(layer.weight)[planIndex];
          const table = buildTapTable(keptTaps(plan), layer.weight, step === undefined ? {} : { step });
          const actual = await kernelFrom(mode, 'dwSparse')(layer.x, table, layer.bias, testCase.attrs);
          return { actual, expected: dwReference(layer, maskedWeights(plan, layer.weight), testCase.attrs) };
        },
      });
    });
    DW_PLAN_LABELS.forEach((planLabel, planIndex) => {
      if (!wanted('dwDiagonal')) return;
      cases.push({
        kernel: 'dwDiagonal',
        name: `dwDiagonal | ${testCase.label} | ${planLabel}, G=4`,
        async run(mode) {
          const layer = inputs();
          const { plan, step } = plans(layer.weight)[planIndex];
          const table = buildDiagonalTable(keptTaps(plan), layer.weight, { groupSize: 4, ...(step === undefined ? {} : { step }) });
          const actual = await kernelFrom(mode, 'dwDiagonal')(layer.x, table, layer.bias, testCase.attrs);
          return { actual, expected: dwReference(layer, maskedWeights(plan, layer.weight), testCase.attrs) };
        },
      });
    });
  });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Point-wise, conv and gemm cases

export interface PwCase {
  label: string;
  input: [number, number, number, number];
  outChannels: number;
  onnxWeight?: boolean;
  activation?: Activation;
}

export const PW_CASES: readonly PwCase[] = [
  { label: 'Cin=13 Cout=10 N=2 relu', input: [2, 13, 5, 3], outChannels: 10, activation: 'relu' },
  { label: 'Cout=13 1xN input, [M,C,1,1] weight, hardswish', input: [1, 16, 1, 9], outChannels: 13, onnxWeight: true, activation: 'hardswish' },
  { label: 'Cout=10 scaled hardswish', input: [1, 12, 5, 7], outChannels: 10, activation: { kind: 'hardswish', scale: 1.2, shift: -0.3 } },
  { label: 'Cin=7 Cout=5 no activation', input: [1, 7, 4, 4], outChannels: 5 },
  { label: 'Cin=40 Cout=36 15x17 relu6', input: [1, 40, 15, 17], outChannels: 36, activation: 'relu6' },
  // Planes of 9,216 pixels: more than a GL texture row (8,192 in SwiftShader).
  { label: 'Cin=6 Cout=5 96x96 (planes wider than a GL texture)', input: [1, 6, 96, 96], outChannels: 5 },
];

export function makePwInputs(testCase: PwCase, seed: number) {
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
export const PW_PLAN_LABELS = [
  'balanced PCP 50%, T=4',
  'unbalanced PCP 50%, T=4',
  'balanced PCP 30%, T=4, t=1',
  'T=Cout (plain input-channel pruning)',
  'unstructured (T=1)',
  'kept 0',
  'full',
] as const;

export function pwPlansFor(matrix: Tensor<Float32Array>): PlanCase[] {
  const layer = pwLayer('pw', matrix);
  const all = Array.from({ length: layer.inChannels }, (_, column) => column);
  return [
    { label: PW_PLAN_LABELS[0], plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.5, options: { tileRows: 4, balanced: true } }) },
    { label: PW_PLAN_LABELS[1], plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.5, options: { tileRows: 4 } }) },
    { label: PW_PLAN_LABELS[2], plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.3, options: { tileRows: 4, balanced: true } }), step: 1 },
    { label: PW_PLAN_LABELS[3], plan: maskLayer(layer, { strategy: 'pcp', ratio: 0.4, options: { tileRows: layer.outChannels } }) },
    { label: PW_PLAN_LABELS[4], plan: maskLayer(layer, { strategy: 'unstructured', ratio: 0.6 }) },
    { label: PW_PLAN_LABELS[5], plan: uniformPwPlan(layer, 4, []) },
    { label: PW_PLAN_LABELS[6], plan: uniformPwPlan(layer, 4, all) },
  ];
}

export interface ConvCase {
  label: string;
  input: [number, number, number, number];
  weight: [number, number, number, number];
  attrs: Conv2dAttrs;
  bias?: boolean;
}

export const CONV_CASES: readonly ConvCase[] = [
  { label: 'stem 3->8 3x3 stride 2 hardswish', input: [1, 3, 11, 10], weight: [8, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], activation: 'hardswish' } },
  { label: 'grouped 6->4 group 2, stride (2,1), pads [0,1,1,0], N=2 relu', input: [2, 6, 7, 7], weight: [4, 3, 3, 3], attrs: { group: 2, strides: [2, 1], pads: [0, 1, 1, 0], activation: 'relu' } },
  { label: 'depth-wise as conv 5x5 group 5 relu6', input: [1, 5, 6, 6], weight: [5, 1, 5, 5], attrs: { group: 5, pads: [2, 2, 2, 2], activation: 'relu6' } },
  { label: '1x1 conv, 1xN input, no bias', input: [1, 4, 1, 9], weight: [6, 4, 1, 1], attrs: {}, bias: false },
  { label: 'dilated 3x3 silu', input: [1, 2, 9, 8], weight: [3, 2, 3, 3], attrs: { dilations: [2, 1], pads: [2, 1, 2, 1], activation: 'silu' } },
];

export interface GemmCase {
  label: string;
  a: [number, number];
  b: [number, number];
  c: number[] | null;
  attrs: GemmAttrs;
}

export const GEMM_CASES: readonly GemmCase[] = [
  { label: 'classifier transB, C [N]', a: [2, 13], b: [7, 13], c: [7], attrs: { transB: true } },
  { label: 'plain, C [M,1], alpha 0.5 beta 2', a: [3, 5], b: [5, 4], c: [3, 1], attrs: { alpha: 0.5, beta: 2 } },
  { label: 'transA, scalar C', a: [5, 3], b: [5, 4], c: [], attrs: { transA: true } },
  { label: 'transA transB, C [M,N], sigmoid', a: [6, 2], b: [3, 6], c: [2, 3], attrs: { transA: true, transB: true, activation: 'sigmoid' } },
  { label: 'no C, relu', a: [1, 9], b: [9, 11], c: null, attrs: { activation: 'relu' } },
  // Activations with their own alpha/beta next to gemm's (the cpu mode once mixed the two up).
  { label: 'classifier transB, alpha 0.5 beta 2, hardswish', a: [1, 24], b: [10, 24], c: [10], attrs: { transB: true, alpha: 0.5, beta: 2, activation: 'hardswish' } },
  { label: 'hardsigmoid (alpha 0.3, beta 0.4)', a: [2, 6], b: [6, 5], c: [5], attrs: { activation: { kind: 'hardsigmoid', alpha: 0.3, beta: 0.4 } } },
  { label: 'scaled hardswish (scale 1.3, shift -0.2)', a: [3, 7], b: [7, 6], c: [6], attrs: { activation: { kind: 'hardswish', scale: 1.3, shift: -0.2 } } },
];

// ---------------------------------------------------------------------------------------------
// Depth-wise separable blocks (DW then PW, the intermediate kept on the device)

export interface DsconvCase {
  /** The DW half's shapes and attributes (its activation included). */
  dw: DwCase;
  outChannels: number;
  pwActivation?: Activation;
}

export const DSCONV_CASES: readonly DsconvCase[] = [
  { dw: DW_CASES[0], outChannels: 10, pwActivation: 'relu' },
  { dw: DW_CASES[1], outChannels: 7 },
  { dw: DW_CASES[3], outChannels: 6, pwActivation: 'hardswish' },
  { dw: DW_CASES[7], outChannels: 3 },
  { dw: DW_CASES[8], outChannels: 13, pwActivation: 'relu6' },
];

/** Which half runs sparse, with what plan: both dense, both sparse, and the empty plans. */
export const DSCONV_PLAN_LABELS = ['dense + dense', 'DW balanced t=4 + PCP 50% T=4 balanced', 'DW kept 0 + PW dense', 'DW dense + PW kept 0', 'DW unbalanced DCP + PCP unbalanced'] as const;

function dsconvCases(seed: number): ParityCase[] {
  const cases: ParityCase[] = [];
  DSCONV_CASES.forEach((testCase, index) => {
    DSCONV_PLAN_LABELS.forEach((planLabel, planIndex) => {
      cases.push({
        kernel: 'dsconv',
        name: `dsconv | ${testCase.dw.label} -> ${testCase.outChannels} | ${planLabel}`,
        async run(mode) {
          const layer = makeDwInputs(testCase.dw, caseSeed(seed, 600 + index));
          const rng = createRng(caseSeed(seed, 700 + index));
          const channels = testCase.dw.input[1];
          const matrix = randomFloat32([testCase.outChannels, channels], rng, 0.4);
          const pwBias = randomFloat32([testCase.outChannels], rng, 0.3);
          const dwPlans = dwPlansFor(layer.weight, caseSeed(seed, 800 + index));
          const pw = pwLayer('pw', matrix);
          const tileRows = Math.min(4, testCase.outChannels);
          const dwPlan = [undefined, dwPlans[0].plan, dwPlans[4].plan, undefined, dwPlans[2].plan][planIndex];
          const pwPlans = [
            () => undefined,
            () => maskLayer(pw, { strategy: 'pcp', ratio: 0.5, options: { tileRows, balanced: true } }),
            () => undefined,
            () => uniformPwPlan(pw, tileRows, []),
            () => maskLayer(pw, { strategy: 'pcp', ratio: 0.5, options: { tileRows } }),
          ];
          const pwPlan = pwPlans[planIndex]();
          const actual = await kernelFrom(mode, 'dsconv')(
            layer.x,
            {
              dw: dwPlan === undefined ? layer.weight : buildTapTable(keptTaps(dwPlan), layer.weight),
              dwBias: layer.bias,
              pw: pwPlan === undefined ? matrix : buildColumnTable(keptColumns(pwPlan), matrix),
              pwBias,
            },
            { dw: testCase.dw.attrs, pw: { activation: testCase.pwActivation } },
          );
          const hidden = dwReference(layer, dwPlan === undefined ? layer.weight : maskedWeights(dwPlan, layer.weight), testCase.dw.attrs);
          const pwWeight = pwPlan === undefined ? matrix : maskedWeights(pwPlan, matrix);
          return { actual, expected: withActivation(pointwiseConv2d(hidden, pwWeight, pwBias), testCase.pwActivation) };
        },
      });
    });
  });
  return cases;
}

function pwCases(seed: number): ParityCase[] {
  const cases: ParityCase[] = [];
  PW_CASES.forEach((testCase, index) => {
    const inputs = () => makePwInputs(testCase, caseSeed(seed, 300 + index));
    cases.push({
      kernel: 'pwDense',
      name: `pwDense | ${testCase.label}`,
      async run(mode) {
        const layer = inputs();
        const actual = await kernelFrom(mode, 'pwDense')(layer.x, layer.weight, layer.bias, { activation: testCase.activation });
        return { actual, expected: withActivation(pointwiseConv2d(layer.x, layer.weight, layer.bias), testCase.activation) };
      },
    });
    PW_PLAN_LABELS.forEach((planLabel, planIndex) => {
      cases.push({
        kernel: 'pwSparse',
        name: `pwSparse | ${testCase.label} | ${planLabel}`,
        async run(mode) {
          const layer = inputs();
          const { plan, step } = pwPlansFor(layer.matrix)[planIndex];
          const table = buildColumnTable(keptColumns(plan), layer.weight, step === undefined ? {} : { step });
          const actual = await kernelFrom(mode, 'pwSparse')(layer.x, table, layer.bias, { activation: testCase.activation });
          const expected = pointwiseConv2d(layer.x, maskedWeights(plan, layer.matrix), layer.bias);
          return { actual, expected: withActivation(expected, testCase.activation) };
        },
      });
    });
  });
  CONV_CASES.forEach((testCase, index) => {
    cases.push({
      kernel: 'conv2d',
      name: `conv2d | ${testCase.label}`,
      async run(mode) {
        const rng = createRng(caseSeed(seed, 400 + index));
        const x = randomFloat32(testCase.input, rng);
        const weight = randomFloat32(testCase.weight, rng, 0.4);
        const bias = testCase.bias === false ? null : randomFloat32([testCase.weight[0]], rng, 0.3);
        const { activation, ...params } = testCase.attrs;
        const actual = await kernelFrom(mode, 'conv2d')(x, weight, bias, testCase.attrs);
        return { actual, expected: withActivation(conv2d(x, weight, bias, params), activation) };
      },
    });
  });
  GEMM_CASES.forEach((testCase, index) => {
    cases.push({
      kernel: 'gemm',
      name: `gemm | ${testCase.label}`,
      async run(mode) {
        const rng = createRng(caseSeed(seed, 500 + index));
        const a = randomFloat32(testCase.a, rng);
        const b = randomFloat32(testCase.b, rng);
        const c = testCase.c === null ? null : randomFloat32(testCase.c, rng);
        const { activation, ...options } = testCase.attrs;
        const actual = await kernelFrom(mode, 'gemm')(a, b, c, testCase.attrs);
        return { actual, expected: withActivation(gemm(a, b, c, options), activation) };
      },
    });
  });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// The list and its runner

/** Every parity case for the run's `seed` (a non-negative safe integer; 0 = the historical seeds). */
export function parityCases(seed: number, kernels: readonly ParityKernel[] = PARITY_KERNELS): ParityCase[] {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 2 ** 40) throw new Error(`parity seed must be an integer in [0, 2^40], got ${String(seed)}`);
  return [...dwCases(seed), ...pwCases(seed), ...dsconvCases(seed), ...opCases(seed)].filter((testCase) => kernels.includes(testCase.kernel));
}

function describeError(error: unknown): { failure: string; code?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { failure: `threw ${typeof code === 'string' ? `${code}: ` : ''}${message.split('\n')[0]}`, ...(typeof code === 'string' ? { code } : {}) };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, index) => dim === b[index]);
}

/** Runs one case on `source` (a gpu mode or a backend); never throws (a thrown error becomes the result's `failure`). */
export async function runParityCase(testCase: ParityCase, source: KernelSource): Promise<ParityResult> {
  const started = Date.now();
  const base = { kernel: testCase.kernel, name: testCase.name, mode: sourceName(source) };
  try {
    const { actual, expected } = await testCase.run(source);
    const ms = Date.now() - started;
    if (!(actual.data instanceof Float32Array)) return { ...base, error: null, failure: `returned ${Object.prototype.toString.call(actual.data)} data, not Float32Array`, ms };
    if (!sameShape(actual.shape, expected.shape)) {
      return { ...base, error: null, failure: `returned shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`, ms };
    }
    const error = relativeL2Error(actual.data, expected.data);
    return { ...base, error: Number.isFinite(error) ? error : null, ...(Number.isFinite(error) ? {} : { failure: `relative L2 error is ${error}` }), ms };
  } catch (error) {
    return { ...base, error: null, ...describeError(error), ms: Date.now() - started };
  }
}

/** A result's verdict: undefined when it passes, else one line naming the case and what went wrong. */
export function parityFailure(result: ParityResult, tolerance = TOLERANCE): string | undefined {
  if (result.failure !== undefined) return `${result.name} [${result.mode}]: ${result.failure}`;
  if (result.error === null || !(result.error < tolerance)) return `${result.name} [${result.mode}]: relative L2 error ${result.error} >= ${tolerance}`;
  return undefined;
}

/** Largest error per kernel among `results` (cases that failed to run are left out). */
export function worstErrorByKernel(results: readonly ParityResult[]): Map<ParityKernel, number> {
  const worst = new Map<ParityKernel, number>();
  for (const result of results) {
    if (result.error === null) continue;
    worst.set(result.kernel, Math.max(worst.get(result.kernel) ?? 0, result.error));
  }
  return worst;
}
