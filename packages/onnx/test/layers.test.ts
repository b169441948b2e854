import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '@deprune/errors';
import { classifyConv, GraphBuilder, inferShapes, listLayers } from '../src/index';
import { randn } from './helpers/graphs';

describe('classifyConv', () => {
  it('tells DW, PW and the rest apart', () => {
    expect(classifyConv([32, 1, 3, 3], 32)).toBe('dw');
    expect(classifyConv([32, 1, 5, 5], 32, 32)).toBe('dw');
    // Depth multiplier 2: group == C_in but C_out == 2 C_in.
    expect(classifyConv([64, 1, 3, 3], 32)).toBe('conv');
    expect(classifyConv([64, 32, 1, 1], 1)).toBe('pw');
    // A grouped 1x1 conv is not a PW (not one GEMM over all channels).
    expect(classifyConv([64, 16, 1, 1], 2)).toBe('conv');
    expect(classifyConv([64, 32, 3, 3], 1)).toBe('conv');
    // group == C_out but the input has more channels than groups.
    expect(classifyConv([32, 2, 3, 3], 32, 64)).toBe('conv');
    // 1-D kernels follow the same rules.
    expect(classifyConv([16, 8, 1], 1)).toBe('pw');
    expect(classifyConv([8, 1, 3], 8)).toBe('dw');
  });
});

/** x[1,3,16,16] -> conv3x3/s2 (bias) -> DW3x3 -> PW -> grouped 1x1 -> GAP -> Flatten -> Gemm(transB). */
function smallNet() {
  const b = new GraphBuilder({ name: 'small' });
  const x = b.input('x', ['N', 3, 16, 16]);
  const c0 = b.node('Conv', [x, b.weight('w0', randn([8, 3, 3, 3], 1)), b.weight('b0', randn([8], 2))], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'stem' });
  const dw = b.node('Conv', [c0, b.weight('w1', randn([8, 1, 3, 3], 3))], { group: 8, pads: [1, 1, 1, 1] }, { name: 'dw' });
  const pw = b.node('Conv', [dw, b.weight('w2', randn([16, 8, 1, 1], 4))], {}, { name: 'pw' });
  const grouped = b.node('Conv', [pw, b.weight('w3', randn([16, 4, 1, 1], 5))], { group: 4 }, { name: 'grouped' });
  const same = b.node('Conv', [grouped, b.weight('w4', randn([4, 16, 3, 3], 6))], { auto_pad: 'SAME_UPPER', strides: [2, 2] }, { name: 'same_upper' });
  const lower = b.node('Conv', [grouped, b.weight('w5', randn([4, 16, 3, 3], 7))], { auto_pad: 'SAME_LOWER', strides: [2, 2] }, { name: 'same_lower' });
  const pooled = b.node('Flatten', [b.node('GlobalAveragePool', [grouped])]);
  const fc = b.node('Gemm', [pooled, b.weight('fc', randn([10, 16], 8)), b.weight('fc_b', randn([10], 9))], { transB: 1 }, { name: 'fc' });
  b.output(fc);
  b.output(same);
  b.output(lower);
  return b.build();
}

describe('listLayers', () => {
  it('reports kind, geometry, params and MACs worked out by hand', () => {
    const model = smallNet();
    const layers = listLayers(model, inferShapes(model));
    expect(layers.map((layer) => [layer.name, layer.kind])).toEqual([
      ['stem', 'conv'], ['dw', 'dw'], ['pw', 'pw'], ['grouped', 'conv'], ['same_upper', 'conv'], ['same_lower', 'conv'], ['fc', 'gemm'],
    ]);
    const byName = new Map(layers.map((layer) => [layer.name, layer]));
    expect(byName.get('stem')).toEqual({
      name: 'stem', op: 'Conv', kind: 'conv', weight: 'w0', bias: 'b0', inChannels: 3, outChannels: 8, group: 1,
      kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1],
      inputShape: [1, 3, 16, 16], outputShape: [1, 8, 8, 8],
      params: 8 * 3 * 9 + 8,
      macs: 8 * 8 * 8 * 3 * 9,
    });
    expect(byName.get('dw')).toMatchObject({ inChannels: 8, outChannels: 8, group: 8, params: 72, macs: 8 * 8 * 8 * 1 * 9 });
    expect(byName.get('dw')!.bias).toBeUndefined();
    expect(byName.get('pw')).toMatchObject({ kernel: [1, 1], pads: [0, 0, 0, 0], params: 128, macs: 8 * 8 * 16 * 8 });
    expect(byName.get('grouped')).toMatchObject({ inChannels: 16, outChannels: 16, group: 4, params: 64, macs: 8 * 8 * 16 * 4 });
    // SAME on 8 with k3 s2: output 4, total padding (4-1)*2+3-8 = 1, the odd pixel at the end (UPPER) or start (LOWER).
    expect(byName.get('same_upper')).toMatchObject({ pads: [0, 0, 1, 1], outputShape: [1, 4, 4, 4], macs: 4 * 4 * 4 * 16 * 9 });
    expect(byName.get('same_lower')).toMatchObject({ pads: [1, 1, 0, 0] });
    expect(byName.get('fc')).toMatchObject({
      op: 'Gemm', weight: 'fc', bias: 'fc_b', inChannels: 16, outChannels: 10, inputShape: [1, 16], outputShape: [1, 10], params: 170, macs: 160,
    });
  });

  it('leaves shapes and MACs out without shape inference', () => {
    const layers = listLayers(smallNet());
    expect(layers).toHaveLength(7);
    for (const layer of layers) {
      expect(layer.macs).toBeUndefined();
      expect(layer.inputShape).toBeUndefined();
      expect(layer.params).toBeGreaterThan(0);
    }
    expect(layers.find((layer) => layer.name === 'same_upper')!.pads).toEqual([0, 0, 1, 1]);
  });

  it('reports a 1-D conv as a height-1 2-D layer, and looks through Identity to the stored weight', () => {
    const b = new GraphBuilder({ name: 'conv1d' });
    const x = b.input('x', [1, 4, 20]);
    const w = b.node('Identity', [b.weight('w', randn([6, 4, 5], 1))]);
    b.output(b.node('Conv', [x, w], { pads: [2, 2], strides: [2] }, { name: 'c1d' }));
    const model = b.build();
    const [layer] = listLayers(model, inferShapes(model));
    expect(layer).toMatchObject({ weight: 'w', kernel: [1, 5], strides: [1, 2], pads: [0, 2, 0, 2], outputShape: [1, 6, 10], macs: 10 * 6 * 4 * 5 });
  });

  it('skips a Gemm of two activations and refuses a Conv whose weight is computed', () => {
    const b = new GraphBuilder({ name: 'computed' });
    const x = b.input('x', [1, 4, 8, 8]);
    const a = b.input('a', [2, 3]);
    b.output(b.node('Gemm', [a, b.node('Transpose', [a])], {}, { name: 'attention' }));
    const w = b.node('Mul', [b.weight('w', randn([4, 4, 1, 1], 1)), b.weight('s', randn([1], 2))], {}, { name: 'scale_w' });
    b.output(b.node('Conv', [x, w], {}, { name: 'dynamic_conv' }));
    const model = b.build();
    expect(() => listLayers(model)).toThrow(UnsupportedError);
    expect(() => listLayers(model)).toThrow(/node 'dynamic_conv'.*computed at run time by Mul 'scale_w'/);
  });

  it('refuses a Conv whose weight is a graph input', () => {
    const b = new GraphBuilder({ name: 'weight-input' });
    const x = b.input('x', [1, 4, 8, 8]);
    const w = b.input('w', [4, 4, 1, 1]);
    b.output(b.node('Conv', [x, w], {}, { name: 'c' }));
    expect(() => listLayers(b.build())).toThrow(/node 'c'.*weight 'w' is a graph input/);
  });
});
