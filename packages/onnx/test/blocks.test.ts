import { describe, expect, it } from 'vitest';
import { tensor } from '@deprune/tensor';
import { GraphBuilder, findDsconvBlocks, foldBatchNormalization, listLayers } from '../src/index';
import { randn, uniform } from './helpers/graphs';

const C = 8;

function scalar(b: GraphBuilder, name: string, value: number): string {
  return b.weight(name, tensor(new Float32Array([value]), []));
}

/** Small helpers over a GraphBuilder for the usual mobile-net pieces. */
class Net {
  readonly b = new GraphBuilder({ name: 'net', opset: 14 });
  private seed = 1;

  input(channels = C): string {
    return this.b.input('x', [1, channels, 16, 16]);
  }

  conv(x: string, name: string, shape: [number, number, number, number], attrs: Record<string, number | number[]> = {}, bias = false): string {
    const inputs = [x, this.b.weight(`${name}.w`, randn(shape, this.seed++))];
    if (bias) inputs.push(this.b.weight(`${name}.b`, randn([shape[0]], this.seed++)));
    return this.b.node('Conv', inputs, attrs, { name });
  }

  dw(x: string, name = 'dw', channels = C, bias = false): string {
    return this.conv(x, name, [channels, 1, 3, 3], { group: channels, pads: [1, 1, 1, 1] }, bias);
  }

  pw(x: string, name = 'pw', cin = C, cout = 2 * C): string {
    return this.conv(x, name, [cout, cin, 1, 1]);
  }

  bn(x: string, name: string, channels = C): string {
    const s = this.seed;
    this.seed += 4;
    return this.b.node(
      'BatchNormalization',
      [
        x,
        this.b.weight(`${name}.gamma`, randn([channels], s)),
        this.b.weight(`${name}.beta`, randn([channels], s + 1)),
        this.b.weight(`${name}.mean`, randn([channels], s + 2)),
        this.b.weight(`${name}.var`, uniform([channels], s + 3, 0.5, 1.5)),
      ],
      {},
      { name },
    );
  }

  relu6(x: string, name: string): string {
    return this.b.node('Clip', [x, scalar(this.b, `${name}.min`, 0), scalar(this.b, `${name}.max`, 6)], {}, { name });
  }

  silu(x: string, name: string): string {
    const sigmoid = this.b.node('Sigmoid', [x], {}, { name: `${name}.sigmoid` });
    return this.b.node('Mul', [x, sigmoid], {}, { name: `${name}.mul` });
  }

  /** x * relu6(x + 3) / 6, as paddle2onnx and tf2onnx write hard-swish. */
  hardSwishWrittenOut(x: string, name: string): string {
    const add = this.b.node('Add', [x, scalar(this.b, `${name}.three`, 3)], {}, { name: `${name}.add` });
    const clip = this.relu6(add, `${name}.clip`);
    const mul = this.b.node('Mul', [x, clip], {}, { name: `${name}.mul` });
    return this.b.node('Div', [mul, scalar(this.b, `${name}.six`, 6)], {}, { name: `${name}.div` });
  }

  build() {
    return this.b.build();
  }
}

describe('findDsconvBlocks', () => {
  it('MobileNetV2: expand PW -> DW -> BN -> ReLU6 -> project PW, residual after the PW', () => {
    const n = new Net();
    const x = n.input(C);
    const expand = n.relu6(n.bn(n.conv(x, 'expand', [2 * C, C, 1, 1]), 'bn0', 2 * C), 'relu0');
    const act = n.relu6(n.bn(n.dw(expand, 'dw', 2 * C), 'bn1', 2 * C), 'relu1');
    const project = n.bn(n.pw(act, 'project', 2 * C, C), 'bn2');
    n.b.output(n.b.node('Add', [x, project], {}, { name: 'residual' }));
    const blocks = findDsconvBlocks(n.build());
    expect(blocks).toEqual([{ dw: 'dw', pw: 'project', between: ['bn1', 'relu1'], betweenOps: ['BatchNormalization', 'Clip'] }]);
  });

  it('EfficientNet MBConv: DW -> BN -> SiLU -> SE(GAP, conv, SiLU, conv, Sigmoid, Mul) -> PW', () => {
    const n = new Net();
    const x = n.input();
    const act = n.silu(n.bn(n.dw(x), 'bn1'), 'silu');
    const pooled = n.b.node('GlobalAveragePool', [act], {}, { name: 'se.pool' });
    const reduced = n.silu(n.conv(pooled, 'se.reduce', [2, C, 1, 1], {}, true), 'se.silu');
    const gate = n.b.node('Sigmoid', [n.conv(reduced, 'se.expand', [C, 2, 1, 1], {}, true)], {}, { name: 'se.sigmoid' });
    const scaled = n.b.node('Mul', [act, gate], {}, { name: 'se.gate' });
    n.b.output(n.bn(n.pw(scaled), 'bn2', 2 * C));
    const model = n.build();
    const [block, ...rest] = findDsconvBlocks(model);
    expect(rest).toEqual([]);
    expect(block).toEqual({
      dw: 'dw',
      pw: 'pw',
      between: ['bn1', 'silu.sigmoid', 'silu.mul', 'se.gate'],
      betweenOps: ['BatchNormalization', 'Sigmoid', 'Mul', 'Mul'],
      squeezeExcitation: {
        nodes: ['se.pool', 'se.reduce', 'se.silu.sigmoid', 'se.silu.mul', 'se.expand', 'se.sigmoid'],
        reduce: 'se.reduce',
        expand: 'se.expand',
        gate: 'se.gate',
      },
    });
    // The SE convs are 1x1 group-1 convs: PW layers, but not the block's PW.
    const kinds = new Map(listLayers(model).map((layer) => [layer.name, layer.kind]));
    expect(kinds.get('se.reduce')).toBe('pw');
    expect(kinds.get('se.expand')).toBe('pw');
  });

  it('MobileNetV3: DW -> BN -> HardSwish -> SE(GAP, conv, ReLU, conv, HardSigmoid, Mul) -> PW', () => {
    const n = new Net();
    const act = n.b.node('HardSwish', [n.bn(n.dw(n.input()), 'bn1')], {}, { name: 'hswish' });
    const pooled = n.b.node('GlobalAveragePool', [act], {}, { name: 'se.pool' });
    const reduced = n.b.node('Relu', [n.conv(pooled, 'se.reduce', [2, C, 1, 1], {}, true)], {}, { name: 'se.relu' });
    const gate = n.b.node('HardSigmoid', [n.conv(reduced, 'se.expand', [C, 2, 1, 1], {}, true)], { alpha: 0.2, beta: 0.5 }, { name: 'se.hsig' });
    n.b.output(n.pw(n.b.node('Mul', [gate, act], {}, { name: 'se.gate' })));
    const [block] = findDsconvBlocks(n.build());
    expect(block.betweenOps).toEqual(['BatchNormalization', 'HardSwish', 'Mul']);
    expect(block.squeezeExcitation).toEqual({
      nodes: ['se.pool', 'se.reduce', 'se.relu', 'se.expand', 'se.hsig'],
      reduce: 'se.reduce',
      expand: 'se.expand',
      gate: 'se.gate',
    });
  });

  it('MobileNetV3 as exported: hard-swish and the SE hard-sigmoid written out with Add/Clip/Div/Mul, ReduceMean pool', () => {
    const n = new Net();
    const act = n.hardSwishWrittenOut(n.bn(n.dw(n.input()), 'bn1'), 'hs');
    const pooled = n.b.node('ReduceMean', [act], { axes: [2, 3], keepdims: 1 }, { name: 'se.pool' });
    const reduced = n.b.node('Relu', [n.conv(pooled, 'se.reduce', [2, C, 1, 1], {}, true)], {}, { name: 'se.relu' });
    const expanded = n.conv(reduced, 'se.expand', [C, 2, 1, 1], {}, true);
    // relu6(x + 3) / 6
    const plus3 = n.b.node('Add', [expanded, scalar(n.b, 'se.three', 3)], {}, { name: 'se.add' });
    const hsig = n.b.node('Div', [n.relu6(plus3, 'se.clip'), scalar(n.b, 'se.six', 6)], {}, { name: 'se.div' });
    n.b.output(n.pw(n.b.node('Mul', [act, hsig], {}, { name: 'se.gate' })));
    const [block] = findDsconvBlocks(n.build());
    expect(block.between).toEqual(['bn1', 'hs.add', 'hs.clip', 'hs.mul', 'hs.div', 'se.gate']);
    expect(block.squeezeExcitation!.nodes).toEqual(['se.pool', 'se.reduce', 'se.relu', 'se.expand', 'se.add', 'se.clip', 'se.div']);
  });

  it('accepts x * HardSigmoid(x), per-channel scale/shift constants and Identity/Dropout', () => {
    const n = new Net();
    const d = n.dw(n.input());
    const hsig = n.b.node('HardSigmoid', [d], {}, { name: 'hsig' });
    const hswish = n.b.node('Mul', [hsig, d], {}, { name: 'mul' });
    const scaled = n.b.node('Mul', [hswish, n.b.weight('scale', randn([1, C, 1, 1], 50))], {}, { name: 'scale' });
    const shifted = n.b.node('Add', [n.b.weight('shift', randn([C, 1, 1], 51)), scaled], {}, { name: 'shift' });
    const dropped = n.b.node('Dropout', [n.b.node('Identity', [shifted], {}, { name: 'id' })], {}, { name: 'drop' });
    n.b.output(n.pw(dropped));
    const [block] = findDsconvBlocks(n.build());
    expect(block.betweenOps).toEqual(['HardSigmoid', 'Mul', 'Mul', 'Add', 'Identity', 'Dropout']);
  });

  it('finds the block in the BN-folded model too (DW with bias -> ReLU6 -> PW)', () => {
    const n = new Net();
    const act = n.relu6(n.bn(n.dw(n.input()), 'bn1'), 'relu');
    n.b.output(n.bn(n.pw(act), 'bn2', 2 * C));
    const { model, folded } = foldBatchNormalization(n.build());
    expect(folded).toHaveLength(2);
    expect(findDsconvBlocks(model)).toEqual([{ dw: 'dw', pw: 'pw', between: ['relu'], betweenOps: ['Clip'] }]);
  });

  describe('refuses', () => {
    it('a DW feeding a residual Add before the PW', () => {
      const n = new Net();
      const x = n.input();
      const sum = n.b.node('Add', [n.bn(n.dw(x), 'bn1'), x], {}, { name: 'residual' });
      n.b.output(n.pw(sum));
      expect(findDsconvBlocks(n.build())).toEqual([]);
    });

    it('a DW forking to two convs', () => {
      const n = new Net();
      const act = n.b.node('Relu', [n.dw(n.input())]);
      n.b.output(n.pw(act, 'pw_a'));
      n.b.output(n.pw(act, 'pw_b'));
      expect(findDsconvBlocks(n.build())).toEqual([]);
    });

    it('a DW into a pool, a Concat, a graph output, or a non-channelwise constant', () => {
      const pool = new Net();
      pool.b.output(pool.pw(pool.b.node('MaxPool', [pool.dw(pool.input())], { kernel_shape: [2, 2], strides: [2, 2] })));
      expect(findDsconvBlocks(pool.build())).toEqual([]);

      const concat = new Net();
      const x = concat.input();
      concat.b.output(concat.pw(concat.b.node('Concat', [concat.dw(x), x], { axis: 1 }), 'pw', 2 * C));
      expect(findDsconvBlocks(concat.build())).toEqual([]);

      const exposed = new Net();
      const act = exposed.b.node('Relu', [exposed.dw(exposed.input())]);
      exposed.b.output(act);
      exposed.b.output(exposed.pw(act));
      expect(findDsconvBlocks(exposed.build())).toEqual([]);

      const spatial = new Net();
      const masked = spatial.b.node('Mul', [spatial.dw(spatial.input()), spatial.b.weight('mask', randn([1, 1, 16, 16], 60))]);
      spatial.b.output(spatial.pw(masked));
      expect(findDsconvBlocks(spatial.build())).toEqual([]);
    });

    it('a depth-multiplier conv (not a DW) and a DW followed by a 3x3 conv', () => {
      const multiplier = new Net();
      multiplier.b.output(multiplier.pw(multiplier.conv(multiplier.input(), 'dm', [2 * C, 1, 3, 3], { group: C, pads: [1, 1, 1, 1] }), 'pw', 2 * C));
      expect(findDsconvBlocks(multiplier.build())).toEqual([]);

      const dense = new Net();
      dense.b.output(dense.conv(dense.dw(dense.input()), 'k3', [C, C, 3, 3], { pads: [1, 1, 1, 1] }));
      expect(findDsconvBlocks(dense.build())).toEqual([]);
    });

    it('a gate Mul whose other operand comes from elsewhere', () => {
      const n = new Net();
      const x = n.input();
      const act = n.b.node('Relu', [n.dw(x)]);
      const other = n.b.node('Sigmoid', [x]);
      n.b.output(n.pw(n.b.node('Mul', [act, other])));
      expect(findDsconvBlocks(n.build())).toEqual([]);
    });
  });

  it('gives each DW at most one block in a chain of blocks', () => {
    const n = new Net();
    let x = n.input();
    for (let i = 0; i < 3; i++) x = n.pw(n.b.node('Relu', [n.dw(x, `dw${i}`)]), `pw${i}`, C, C);
    n.b.output(x);
    expect(findDsconvBlocks(n.build()).map((block) => [block.dw, block.pw])).toEqual([
      ['dw0', 'pw0'],
      ['dw1', 'pw1'],
      ['dw2', 'pw2'],
    ]);
  });
});
