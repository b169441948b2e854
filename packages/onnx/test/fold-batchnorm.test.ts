import { describe, expect, it } from 'vitest';
import { UsageError } from '@deprune/errors';
import { foldBatchNorm, maxAbsDifference, relativeL2Error, toFloat64, type BatchNormParams, type Tensor } from '@deprune/tensor';
import {
  GraphBuilder,
  effectiveConvWeights,
  foldBatchNormalization,
  graphOf,
  indexGraph,
  nodesOf,
  readFloatConstant,
  serializeModel,
  type OnnxModel,
} from '../src/index';
import { randn, randomFeed, uniform, withExtraOutputs } from './helpers/graphs';
import { runOrt } from './helpers/ort';

class Builder {
  readonly b = new GraphBuilder({ name: 'bn-fold', opset: 13 });
  readonly weights = new Map<string, Tensor<Float32Array>>();
  readonly bns = new Map<string, BatchNormParams>();
  private seed = 1;

  weight(name: string, shape: number[], scale = 0.5): string {
    const value = randn(shape, this.seed++, scale);
    this.weights.set(name, value);
    return this.b.weight(name, value);
  }

  conv(name: string, inputs: string[], attrs: Record<string, number | number[]> = {}): string {
    return this.b.node('Conv', inputs, attrs, { name, outputs: [`${name}.out`] });
  }

  bn(name: string, x: string, channels: number, epsilon = 1e-5): string {
    const params: BatchNormParams = {
      scale: randn([channels], this.seed++),
      bias: randn([channels], this.seed++),
      mean: randn([channels], this.seed++, 0.3),
      variance: uniform([channels], this.seed++, 0.2, 2),
      // The attribute is a float32: what the model holds is fround(epsilon).
      epsilon: Math.fround(epsilon),
    };
    this.bns.set(name, params);
    const inputs = [x, ...(['scale', 'bias', 'mean', 'variance'] as const).map((key) => this.b.weight(`${name}.${key}`, params[key]))];
    return this.b.node('BatchNormalization', inputs, { epsilon: { float: epsilon } }, { name, outputs: [`${name}.out`] });
  }
}

/**
 * Conv (no bias) + BN, DW (bias) + BN, PW + BN, a weight shared by a BN conv and a plain
 * conv, a weight and bias shared by two BN convs, and three BNs that cannot be folded.
 */
function foldingNet(): { model: OnnxModel; net: Builder } {
  const net = new Builder();
  const { b } = net;
  const x = b.input('x', [1, 4, 9, 9]);
  const a = b.node('Relu', [net.bn('bnA', net.conv('convA', [x, net.weight('wA', [6, 4, 3, 3])], { pads: [1, 1, 1, 1] }), 6)]);
  const dw = net.bn('bnDW', net.conv('convDW', [a, net.weight('wDW', [6, 1, 3, 3]), net.weight('bDW', [6])], { group: 6, pads: [1, 1, 1, 1] }), 6);
  const pw = net.bn('bnPW', net.conv('convPW', [dw, net.weight('wPW', [8, 6, 1, 1])]), 8);
  const ws = net.weight('wS', [8, 8, 1, 1]);
  const s1 = net.bn('bnS1', net.conv('convS1', [pw, ws]), 8);
  const s2 = net.conv('convS2', [pw, ws]);
  const sum = b.node('Add', [s1, s2]);
  const wt = net.weight('wT', [8, 8, 3, 3], 0.2);
  const bt = net.weight('bT', [8]);
  const t1 = net.bn('bnT1', net.conv('convT1', [sum, wt, bt], { pads: [1, 1, 1, 1] }), 8);
  const t2 = net.bn('bnT2', net.conv('convT2', [sum, wt, bt], { pads: [1, 1, 1, 1] }), 8);
  // Not foldable: after an Add; after a conv whose output is also read elsewhere; computed mean.
  const afterAdd = net.bn('bnAfterAdd', b.node('Add', [t1, t2]), 8);
  const u = net.conv('convU', [afterAdd, net.weight('wU', [8, 8, 1, 1])]);
  const bnU = net.bn('bnU', u, 8);
  const used = b.node('Add', [bnU, u]);
  const v = net.conv('convV', [used, net.weight('wV', [8, 8, 1, 1])]);
  const mean = b.node('Mul', [b.weight('m1', randn([8], 99, 0.1)), b.weight('m2', randn([8], 98))]);
  const bnV = b.node(
    'BatchNormalization',
    [v, b.weight('bnV.scale', randn([8], 97)), b.weight('bnV.bias', randn([8], 96)), mean, b.weight('bnV.var', uniform([8], 95, 0.5, 1))],
    {},
    { name: 'bnV' },
  );
  b.output(bnV);
  return { model: b.build(), net };
}

const bnCount = (model: OnnxModel) => nodesOf(model).filter((node) => node.opType === 'BatchNormalization').length;

describe('foldBatchNormalization', () => {
  it('folds conv+BN pairs and onnxruntime computes the same outputs', async () => {
    const { model } = foldingNet();
    const before = serializeModel(model);
    const nodesBefore = nodesOf(model).map((node) => ({ ...node }));
    const result = foldBatchNormalization(model);
    expect(result.folded).toEqual([
      { conv: 'convA', batchNorm: 'bnA' },
      { conv: 'convDW', batchNorm: 'bnDW' },
      { conv: 'convPW', batchNorm: 'bnPW' },
      { conv: 'convS1', batchNorm: 'bnS1' },
      { conv: 'convT1', batchNorm: 'bnT1' },
      { conv: 'convT2', batchNorm: 'bnT2' },
    ]);
    expect(result.skipped.map((entry) => entry.batchNorm)).toEqual(['bnAfterAdd', 'bnU', 'bnV']);
    expect(result.skipped[0].reason).toMatch(/comes from Add .* not from a Conv/);
    expect(result.skipped[1].reason).toMatch(/output of Conv 'convU' is also used by Add/);
    expect(result.skipped[2].reason).toMatch(/mean input .* is not a constant/);
    expect(bnCount(model)).toBe(9);
    expect(bnCount(result.model)).toBe(3);
    // The input model is untouched, down to its node objects.
    expect(serializeModel(model)).toEqual(before);
    expect(nodesOf(model).map((node) => ({ ...node }))).toEqual(nodesBefore);

    // Every BN output name survives: compare all of them, not just the graph output.
    const compared = ['bnA.out', 'bnDW.out', 'bnPW.out', 'bnS1.out', 'bnT1.out', 'bnT2.out', 'bnU.out', 'bnV_out'];
    const feed = { x: randomFeed([1, 4, 9, 9], 5) };
    const expected = await runOrt(withExtraOutputs(model, compared), feed);
    const actual = await runOrt(withExtraOutputs(result.model, compared), feed);
    for (const name of compared) {
      expect(actual[name].dims, name).toEqual(expected[name].dims);
      expect(relativeL2Error(actual[name].data, expected[name].data), name).toBeLessThan(1e-5);
    }
  });

  it('writes the BN output from the conv, adds biases, and never changes a shared weight', () => {
    const { model, net } = foldingNet();
    const folded = foldBatchNormalization(model).model;
    const index = indexGraph(folded);
    const node = (name: string) => index.nodes.find((candidate) => candidate.name === name)! as { input: string[]; output: string[] };
    expect(node('convA').output).toEqual(['bnA.out']);
    expect(node('convA').input).toEqual(['x', 'wA', 'convA_bias']);
    expect(node('convDW').input).toEqual(['relu_0_out', 'wDW', 'bDW']);
    // wS is shared with convS2 (no BN): convS1 gets a new weight, wS keeps its values.
    expect(node('convS1').input[1]).toBe('wS_bnfold');
    expect(node('convS2').input[1]).toBe('wS');
    expect(readFloatConstant(index, 'wS')!.data).toEqual(net.weights.get('wS')!.data);
    // wT and bT are shared by two BN convs: both get their own copies, the originals go.
    expect(node('convT1').input.slice(1)).toEqual(['wT_bnfold', 'bT_bnfold']);
    expect(node('convT2').input.slice(1)).toEqual(['wT_bnfold_1', 'bT_bnfold_1']);
    const initializers = new Set((graphOf(folded).initializer ?? []).map((t) => t.name));
    expect(initializers.has('wT')).toBe(false);
    expect(initializers.has('bT')).toBe(false);
    // Parameters of folded BNs are gone; those of skipped ones stay.
    expect(initializers.has('bnA.scale')).toBe(false);
    expect(initializers.has('bnU.scale')).toBe(true);
    // The folded weights are the float64 fold, stored as float32.
    const expected = foldBatchNorm(net.weights.get('wA')!, null, net.bns.get('bnA')!);
    expect(maxAbsDifference(readFloatConstant(index, 'wA')!.data, Float32Array.from(expected.weight.data))).toBe(0);
    expect(maxAbsDifference(readFloatConstant(index, 'convA_bias')!.data, Float32Array.from(expected.bias.data))).toBe(0);
  });

  it('folds BNs whose weights live in Constant nodes and drops the dead constants', async () => {
    const b = new GraphBuilder({ name: 'constant-nodes', opset: 13 });
    const x = b.input('x', [1, 3, 6, 6]);
    const constant = (name: string, value: Tensor<Float32Array>) => b.node('Constant', [], { value: { name, dims: [...value.shape], dataType: 1, floatData: [...value.data] } }, { name: `const.${name}`, outputs: [name] });
    const conv = b.node('Conv', [x, constant('w', randn([5, 3, 3, 3], 1))], {}, { name: 'conv' });
    const bn = b.node('BatchNormalization', [conv, constant('g', randn([5], 2)), constant('beta', randn([5], 3)), constant('mu', randn([5], 4)), constant('var', uniform([5], 5, 0.5, 1))], {}, { name: 'bn' });
    b.output(bn);
    const model = b.build();
    const result = foldBatchNormalization(model);
    expect(result.folded).toEqual([{ conv: 'conv', batchNorm: 'bn' }]);
    expect(nodesOf(result.model).map((node) => node.opType)).toEqual(['Constant', 'Conv']);
    const feed = { x: randomFeed([1, 3, 6, 6], 3) };
    const [before, after] = [await runOrt(serializeModel(model), feed), await runOrt(serializeModel(result.model), feed)];
    expect(relativeL2Error(after[bn].data, before[bn].data)).toBeLessThan(1e-5);
  });

  it('returns the model itself when there is nothing to fold', () => {
    const b = new GraphBuilder({ name: 'plain' });
    b.output(b.node('Relu', [b.input('x', [1, 2])]));
    const model = b.build();
    expect(foldBatchNormalization(model)).toEqual({ model, folded: [], skipped: [] });
  });
});

describe('effectiveConvWeights', () => {
  it("equals foldBatchNorm's weight and bias when a BN follows", () => {
    const { model, net } = foldingNet();
    const index = indexGraph(model);
    for (const [conv, bn, weight, bias] of [
      ['convA', 'bnA', 'wA', undefined],
      ['convDW', 'bnDW', 'wDW', 'bDW'],
      ['convT1', 'bnT1', 'wT', 'bT'],
    ] as const) {
      const effective = effectiveConvWeights(index, conv);
      const expected = foldBatchNorm(net.weights.get(weight)!, bias ? net.weights.get(bias)! : null, net.bns.get(bn)!);
      expect(effective.batchNorm).toBe(bn);
      expect(effective.weight.shape).toEqual(expected.weight.shape);
      expect(effective.weight.data).toEqual(expected.weight.data);
      expect(effective.bias.data).toEqual(expected.bias.data);
    }
  });

  it('returns the stored weights when no foldable BN follows, and agrees with the folded model', () => {
    const { model, net } = foldingNet();
    const index = indexGraph(model);
    const plain = effectiveConvWeights(index, 'convS2');
    expect(plain.batchNorm).toBeUndefined();
    expect(plain.weight.data).toEqual(toFloat64(net.weights.get('wS')!).data);
    expect(Array.from(plain.bias.data)).toEqual(new Array(8).fill(0));
    // convU's output also feeds an Add: its BN is not folded, so neither is the score.
    expect(effectiveConvWeights(index, 'convU').batchNorm).toBeUndefined();

    const foldedIndex = indexGraph(foldBatchNormalization(model).model);
    const fromFolded = effectiveConvWeights(foldedIndex, 'convPW');
    expect(fromFolded.batchNorm).toBeUndefined();
    expect(relativeL2Error(fromFolded.weight.data, effectiveConvWeights(index, 'convPW').weight.data)).toBeLessThan(1e-7);
  });

  it('refuses unknown nodes and non-convs', () => {
    const index = indexGraph(foldingNet().model);
    expect(() => effectiveConvWeights(index, 'nope')).toThrow(UsageError);
    expect(() => effectiveConvWeights(index, 'bnA')).toThrow(/is a BatchNormalization, not a Conv/);
  });
});
