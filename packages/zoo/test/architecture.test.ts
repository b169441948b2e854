import { describe, expect, it } from 'vitest';
import {
  constantDims,
  floatAttribute,
  graphOf,
  indexGraph,
  inferShapes,
  intAttribute,
  listLayers,
  nodesOf,
  opsetVersion,
  type OnnxModel,
  type ValueInfoProto,
} from '@deprune/onnx';
import { buildZooModel, makeDivisible, trainableParameterCount, zooModels, type ZooModelName } from '../src/index';
import { convFacts, countMacs } from './helpers';

const models = new Map<ZooModelName, OnnxModel>(zooModels.map((info) => [info.name, buildZooModel(info.name)]));
const model = (name: ZooModelName): OnnxModel => models.get(name)!;

/** kernel + 's' + stride of every DW layer, from the published tables (MobileNetV2 Table 2, torchvision's bneck and MBConv tables). */
const PUBLISHED_DW_LAYERS: Record<ZooModelName, string> = {
  mobilenetv2: '3s1 3s2 3s1 3s2 3s1 3s1 3s2 3s1 3s1 3s1 3s1 3s1 3s1 3s2 3s1 3s1 3s1',
  'mobilenetv3-small': '3s2 3s2 3s1 5s2 5s1 5s1 5s1 5s1 5s2 5s1 5s1',
  'mobilenetv3-large': '3s1 3s2 3s1 5s2 5s1 5s1 3s2 3s1 3s1 3s1 3s1 3s1 5s2 5s1 5s1',
  'efficientnet-b0': '3s1 3s2 3s1 5s2 5s1 3s2 3s1 3s1 5s1 5s1 5s1 5s2 5s1 5s1 5s1 3s1',
};

/**
 * Conv + Gemm multiply-accumulates at 224x224, derived by `countMacs` (shape arithmetic). They
 * match the usual figures: torchvision/fvcore's 300.77M for MobileNetV2, 216.6M and 56.5M for
 * MobileNetV3-Large/Small (the paper's 219M/56M), 385.8M for EfficientNet-B0 (the paper's
 * 0.39B). SE 1x1 convs count (they are Convs, at 1x1); elementwise ops, pooling and BN do not.
 */
const EXPECTED_MACS: Record<ZooModelName, { total: number; depthwise: number; paper: number }> = {
  mobilenetv2: { total: 300_774_272, depthwise: 20_716_416, paper: 300e6 },
  'mobilenetv3-small': { total: 56_510_400, depthwise: 7_460_544, paper: 56e6 },
  'mobilenetv3-large': { total: 216_589_760, depthwise: 18_392_640, paper: 219e6 },
  'efficientnet-b0': { total: 385_814_752, depthwise: 34_532_064, paper: 390e6 },
};

describe('makeDivisible (torchvision _make_divisible)', () => {
  it('rounds to the nearest multiple of 8, never more than 10% down', () => {
    expect(makeDivisible(32)).toBe(32);
    expect(makeDivisible(18)).toBe(24); // 16 would be > 10% below 18
    expect(makeDivisible(60)).toBe(64);
    expect(makeDivisible(240 / 4)).toBe(64);
    expect(makeDivisible(3)).toBe(8);
    expect(makeDivisible(1280)).toBe(1280);
    expect(makeDivisible(37.5)).toBe(40);
  });
});

describe.each(zooModels.map((info) => [info.name, info] as const))('%s architecture', (name, info) => {
  it('has exactly the published torchvision parameter count with BN kept', () => {
    expect(trainableParameterCount(model(name))).toBe(info.publishedParams);
  });

  it('is opset 13 / IR 7 with input [N, 3, 224, 224] and logits [N, 1000]', () => {
    const m = model(name);
    expect(opsetVersion(m)).toBe(13);
    expect(Number(m.proto.irVersion)).toBe(7);
    const graph = graphOf(m);
    const dims = (value: ValueInfoProto) => value!.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue));
    expect(graph.input!.map((value) => value.name)).toEqual(['input']);
    expect(dims(graph.input![0])).toEqual(['N', 3, 224, 224]);
    expect(graph.output!.map((value) => value.name)).toEqual(['logits']);
    expect(dims(graph.output![0])).toEqual(['N', 1000]);
  });

  it('has the published DW layers (count, kernel and stride in order)', () => {
    const dw = convFacts(model(name)).filter((conv) => conv.isDepthwise);
    const expected = PUBLISHED_DW_LAYERS[name].split(' ');
    expect(dw.length).toBe({ mobilenetv2: 17, 'mobilenetv3-small': 11, 'mobilenetv3-large': 15, 'efficientnet-b0': 16 }[name]);
    expect(dw.map((conv) => `${conv.kernel}s${conv.stride}`)).toEqual(expected);
    for (const conv of dw) {
      const pad = Math.floor(conv.kernel / 2);
      expect(conv.node.attribute!.find((a) => a.name === 'pads')!.ints!.map(Number)).toEqual([pad, pad, pad, pad]);
    }
  });

  it('has the derived MACs at 224x224, within 2% of the paper figure', () => {
    const macs = countMacs(model(name));
    const expected = EXPECTED_MACS[name];
    expect(macs.total).toBe(expected.total);
    expect(macs.depthwise).toBe(expected.depthwise);
    expect(Math.abs(macs.total - expected.paper) / expected.paper).toBeLessThan(0.02);
  });

  it("agrees with @deprune/onnx's inferShapes + listLayers on shapes, DW layers and MACs", () => {
    const shapes = inferShapes(model(name));
    expect(shapes.unresolved).toEqual([]);
    expect(shapes.shapes.get('logits')).toEqual([1, 1000]);
    const layers = listLayers(model(name), shapes);
    expect(layers.filter((layer) => layer.kind === 'dw').length).toBe(PUBLISHED_DW_LAYERS[name].split(' ').length);
    expect(layers.reduce((sum, layer) => sum + (layer.macs ?? Number.NaN), 0)).toBe(EXPECTED_MACS[name].total);
  });

  it('uses only opset-13 ops (HardSwish and SiLU decomposed) and names nodes after torchvision modules', () => {
    const ops = new Set(nodesOf(model(name)).map((node) => node.opType));
    for (const op of ops) {
      expect(['Conv', 'BatchNormalization', 'Relu', 'Clip', 'HardSigmoid', 'Sigmoid', 'Mul', 'Add', 'GlobalAveragePool', 'Flatten', 'Gemm']).toContain(op);
    }
    const names = nodesOf(model(name)).map((node) => node.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('features.0.0');
    expect(names).toContain('features.0.1');
    expect(names).toContain('avgpool');
  });
});

describe('torchvision layout details', () => {
  const nodeByName = (m: OnnxModel, nodeName: string) => {
    const node = nodesOf(m).find((candidate) => candidate.name === nodeName);
    if (!node) throw new Error(`no node ${nodeName}`);
    return node;
  };
  const weightDims = (m: OnnxModel, nodeName: string) => constantDims(indexGraph(m), nodeByName(m, nodeName).input![1]);

  it('MobileNetV2: ReLU6 as Clip(0, 6) via inputs, DW at features.i.conv.1.0, residual Adds where stride 1 and in == out', () => {
    const m = model('mobilenetv2');
    expect(weightDims(m, 'features.3.conv.1.0')).toEqual([144, 1, 3, 3]);
    expect(weightDims(m, 'features.1.conv.0.0')).toEqual([32, 1, 3, 3]); // t = 1: no expand conv
    expect(weightDims(m, 'features.1.conv.1')).toEqual([16, 32, 1, 1]);
    expect(weightDims(m, 'features.18.0')).toEqual([1280, 320, 1, 1]);
    expect(weightDims(m, 'classifier.1')).toEqual([1000, 1280]);
    const clip = nodeByName(m, 'features.3.conv.0.2');
    expect(clip.opType).toBe('Clip');
    expect(clip.input!.length).toBe(3);
    const adds = nodesOf(m).filter((node) => node.opType === 'Add').map((node) => node.name);
    expect(adds).toEqual([3, 5, 6, 8, 9, 10, 12, 13, 15, 16].map((i) => `features.${i}.add`));
    const eps = nodesOf(m).filter((node) => node.opType === 'BatchNormalization').map((node) => floatAttribute(node, 'epsilon', 0));
    expect(eps.length).toBe(52);
    for (const value of eps) expect(value).toBeCloseTo(1e-5, 9);
  });

  it('MobileNetV3: no expand conv where expanded == input, SE squeeze = make_divisible(expanded / 4, 8), HardSigmoid(1/6, 0.5)', () => {
    const large = model('mobilenetv3-large');
    expect(weightDims(large, 'features.1.block.0.0')).toEqual([16, 1, 3, 3]);
    expect(weightDims(large, 'features.4.block.2.fc1')).toEqual([24, 72, 1, 1]);
    expect(weightDims(large, 'features.16.0')).toEqual([960, 160, 1, 1]);
    expect(weightDims(large, 'classifier.0')).toEqual([1280, 960]);
    expect(weightDims(large, 'classifier.3')).toEqual([1000, 1280]);
    const gate = nodeByName(large, 'features.4.block.2.scale_activation');
    expect(gate.opType).toBe('HardSigmoid');
    expect(floatAttribute(gate, 'alpha', 0)).toBeCloseTo(1 / 6, 6);
    expect(floatAttribute(gate, 'beta', 0)).toBeCloseTo(0.5, 6);
    expect(nodeByName(large, 'features.4.block.2.activation').opType).toBe('Relu');
    expect(nodeByName(large, 'features.7.block.0.2').opType).toBe('Mul'); // HardSwish = x * HardSigmoid(x)
    expect(nodeByName(large, 'features.7.block.0.2.hardsigmoid').opType).toBe('HardSigmoid');

    const small = model('mobilenetv3-small');
    expect(weightDims(small, 'features.1.block.0.0')).toEqual([16, 1, 3, 3]);
    expect(weightDims(small, 'features.1.block.1.fc1')).toEqual([8, 16, 1, 1]);
    expect(weightDims(small, 'features.12.0')).toEqual([576, 96, 1, 1]);
    expect(weightDims(small, 'classifier.0')).toEqual([1024, 576]);
    for (const m of [large, small]) {
      for (const node of nodesOf(m).filter((candidate) => candidate.opType === 'BatchNormalization')) {
        expect(floatAttribute(node, 'epsilon', 0)).toBeCloseTo(1e-3, 9);
      }
    }
  });

  it('EfficientNet-B0: stage 1 has no expand conv, SE squeeze = max(1, block input // 4), SiLU = x * Sigmoid(x)', () => {
    const m = model('efficientnet-b0');
    expect(weightDims(m, 'features.1.0.block.0.0')).toEqual([32, 1, 3, 3]);
    expect(weightDims(m, 'features.1.0.block.1.fc1')).toEqual([8, 32, 1, 1]);
    expect(weightDims(m, 'features.2.0.block.0.0')).toEqual([96, 16, 1, 1]);
    expect(weightDims(m, 'features.2.0.block.2.fc1')).toEqual([4, 96, 1, 1]);
    expect(weightDims(m, 'features.6.1.block.2.fc1')).toEqual([48, 1152, 1, 1]);
    expect(weightDims(m, 'features.8.0')).toEqual([1280, 320, 1, 1]);
    expect(weightDims(m, 'classifier.1')).toEqual([1000, 1280]);
    expect(nodeByName(m, 'features.0.2').opType).toBe('Mul');
    expect(nodeByName(m, 'features.0.2.sigmoid').opType).toBe('Sigmoid');
    expect(nodeByName(m, 'features.2.0.block.2.scale_activation').opType).toBe('Sigmoid');
    const adds = nodesOf(m).filter((node) => node.opType === 'Add').length;
    expect(adds).toBe(9);
    // torchvision builds B0 with plain nn.BatchNorm2d (eps 1e-5); only B5-B7 pass 1e-3.
    for (const node of nodesOf(m).filter((candidate) => candidate.opType === 'BatchNormalization')) {
      expect(floatAttribute(node, 'epsilon', 0)).toBeCloseTo(1e-5, 9);
    }
  });

  it('declares Gemm classifiers with transB = 1 after Flatten', () => {
    for (const m of models.values()) {
      const gemms = nodesOf(m).filter((node) => node.opType === 'Gemm');
      for (const gemm of gemms) expect(intAttribute(gemm, 'transB', 0)).toBe(1);
      expect(nodesOf(m).find((node) => node.opType === 'Flatten')!.name).toBe('flatten');
    }
  });
});
