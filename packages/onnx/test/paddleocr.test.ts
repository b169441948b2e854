/**
 * The three PaddleOCR models (paddle2onnx exports, opsets 9 and 11) as real-world checks:
 * shapes against onnxruntime, layer census, DSConv blocks, BN folding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeL2Error } from '@deprune/tensor';
import {
  findDsconvBlocks,
  foldBatchNormalization,
  inferShapes,
  listLayers,
  nodesOf,
  serializeModel,
  type DsconvBlock,
  type LayerInfo,
  type OnnxModel,
  type ShapeInference,
} from '../src/index';
import { loadModel } from '../src/node';
import { computedValues, paddleModels, randomFeed, withExtraOutputs } from './helpers/graphs';
import { runOrt, runOrtRaw, type OrtRawValue } from './helpers/ort';

type ModelName = keyof typeof paddleModels;

interface Loaded {
  model: OnnxModel;
  inference: ShapeInference;
  layers: LayerInfo[];
  blocks: DsconvBlock[];
  ort: Record<string, OrtRawValue>;
  /** Values whose shapes were compared with onnxruntime. */
  checked: string[];
}

const loaded = {} as Record<ModelName, Loaded>;

beforeAll(async () => {
  for (const name of Object.keys(paddleModels) as ModelName[]) {
    const { path, shape } = paddleModels[name];
    const model = loadModel(path);
    const inference = inferShapes(model, { inputShapes: { x: shape } });
    const layers = listLayers(model, inference);
    const blocks = findDsconvBlocks(model, layers);
    // det at 640x640 is too big to return every intermediate; its convs, upsampling and head suffice.
    const checked =
      name === 'det'
        ? nodesOf(model)
            .filter((node) => ['Conv', 'ConvTranspose', 'Resize', 'Concat', 'GlobalAveragePool'].includes(node.opType ?? ''))
            .map((node) => node.output![0])
        : computedValues(model);
    const ort = await runOrtRaw(withExtraOutputs(model, checked), { x: randomFeed(shape, 7) });
    loaded[name] = { model, inference, layers, blocks, ort, checked };
  }
}, 300_000);

const census: Record<ModelName, { dw: number; pw: number; conv: number; gemm: number; params: number; macs: number; blocks: number; withSe: number }> = {
  det: { dw: 14, pw: 42, conv: 6, gemm: 0, params: 1_168_936, macs: 2_233_122_944, blocks: 14, withSe: 2 },
  rec: { dw: 14, pw: 21, conv: 3, gemm: 0, params: 1_651_780, macs: 660_685_440, blocks: 14, withSe: 2 },
  cls: { dw: 11, pw: 41, conv: 1, gemm: 0, params: 124_682, macs: 16_314_976, blocks: 11, withSe: 9 },
};

const finalShapes: Record<ModelName, number[]> = {
  det: [1, 1, 640, 640],
  rec: [1, 40, 6625],
  cls: [1, 2],
};

describe.each(Object.keys(paddleModels) as ModelName[])('PaddleOCR %s', (name) => {
  it('infers every shape without unresolved nodes, as onnxruntime computes them', () => {
    const { model, inference, ort, checked } = loaded[name];
    expect(inference.unresolved).toEqual([]);
    const convOutputs = nodesOf(model).filter((node) => node.opType === 'Conv').map((node) => node.output![0]);
    expect(convOutputs.every((output) => checked.includes(output))).toBe(true);
    for (const value of checked) expect(inference.shapes.get(value), value).toEqual(ort[value].dims);
    const output = model.proto.graph!.output![0].name!;
    expect(inference.shapes.get(output)).toEqual(finalShapes[name]);
    expect(ort[output].dims).toEqual(finalShapes[name]);
  });

  it('lists its layers: kinds, params and MACs (MACs recomputed from onnxruntime shapes)', () => {
    const { layers, ort } = loaded[name];
    const count = (kind: string) => layers.filter((layer) => layer.kind === kind).length;
    const expected = census[name];
    expect({ dw: count('dw'), pw: count('pw'), conv: count('conv'), gemm: count('gemm') }).toEqual({
      dw: expected.dw,
      pw: expected.pw,
      conv: expected.conv,
      gemm: expected.gemm,
    });
    expect(layers.reduce((sum, layer) => sum + layer.params, 0)).toBe(expected.params);
    let macs = 0;
    const convOutputs = new Map(nodesOf(loaded[name].model).map((node) => [node.name, node.output![0]]));
    for (const layer of layers) {
      const dims = ort[convOutputs.get(layer.name)!].dims;
      const recomputed = dims[2] * dims[3] * dims[1] * (layer.inChannels / layer.group) * layer.kernel[0] * layer.kernel[1];
      expect(layer.macs, layer.name).toBe(recomputed);
      macs += recomputed;
      if (layer.kind === 'dw') expect(layer.group).toBe(layer.inChannels);
    }
    expect(macs).toBe(expected.macs);
  });

  it('finds its DSConv blocks: one per DW, each from a dw layer to a pw layer', () => {
    const { layers, blocks } = loaded[name];
    const kinds = new Map(layers.map((layer) => [layer.name, layer.kind]));
    expect(blocks).toHaveLength(census[name].blocks);
    expect(blocks.filter((block) => block.squeezeExcitation)).toHaveLength(census[name].withSe);
    expect(new Set(blocks.map((block) => block.dw)).size).toBe(blocks.length);
    expect(new Set(blocks.map((block) => block.pw)).size).toBe(blocks.length);
    const pws = new Set(blocks.map((block) => block.pw));
    for (const block of blocks) {
      expect(kinds.get(block.dw)).toBe('dw');
      expect(kinds.get(block.pw)).toBe('pw');
      expect(block.between).toHaveLength(block.betweenOps.length);
      const se = block.squeezeExcitation;
      if (se) {
        // The SE convs are 1x1 group-1 convs too, but never a block's PW.
        expect(kinds.get(se.reduce!)).toBe('pw');
        expect(pws.has(se.reduce!)).toBe(false);
        expect(pws.has(se.expand!)).toBe(false);
        expect(block.between).toContain(se.gate);
        expect(se.nodes.some((node) => block.between.includes(node))).toBe(false);
      }
    }
  });
});

describe('PaddleOCR block details', () => {
  it('cls: MobileNetV3 blocks, written-out hard-swish, SE with HardSigmoid', () => {
    const { blocks } = loaded.cls;
    expect(blocks[0]).toMatchObject({ dw: 'p2o.Conv.2', pw: 'p2o.Conv.5', betweenOps: ['BatchNormalization', 'Relu', 'Mul'] });
    expect(blocks[0].squeezeExcitation).toEqual({
      nodes: ['p2o.GlobalAveragePool.0', 'p2o.Conv.3', 'p2o.Relu.2', 'p2o.Conv.4', 'p2o.HardSigmoid.0'],
      reduce: 'p2o.Conv.3',
      expand: 'p2o.Conv.4',
      gate: 'p2o.Mul.2',
    });
    expect(blocks[1]).toMatchObject({ dw: 'p2o.Conv.7', pw: 'p2o.Conv.8', betweenOps: ['BatchNormalization', 'Relu'] });
    expect(blocks[3].betweenOps).toEqual(['BatchNormalization', 'Add', 'Clip', 'Mul', 'Div', 'Mul']);
  });

  it('det and rec: PP-LCNetV3 blocks through the learnable affine (scalar Mul/Add) and hard-swish', () => {
    expect(loaded.det.blocks[0]).toMatchObject({ dw: 'p2o.Conv.1', pw: 'p2o.Conv.2', betweenOps: ['Mul', 'Add', 'Add', 'Clip', 'Mul', 'Div', 'Mul', 'Add'] });
    expect(loaded.det.blocks[1]).toMatchObject({ dw: 'p2o.Conv.3', pw: 'p2o.Conv.4', betweenOps: ['Mul', 'Add'] });
    expect(loaded.rec.blocks.map((block) => block.dw)).toEqual(loaded.rec.layers.filter((l) => l.kind === 'dw').map((l) => l.name));
  });
});

describe('PaddleOCR cls: BN folding', () => {
  it('folds all 35 BNs and onnxruntime gives the same outputs', async () => {
    const { model } = loaded.cls;
    const before = serializeModel(model);
    const result = foldBatchNormalization(model);
    expect(result.folded).toHaveLength(35);
    expect(result.skipped).toEqual([]);
    expect(nodesOf(result.model).filter((node) => node.opType === 'BatchNormalization')).toHaveLength(0);
    expect(serializeModel(model)).toEqual(before);
    // The BN output names survive, so an intermediate can be compared as well as the softmax.
    const outputs = ['softmax_0.tmp_0', 'hardswish_17.tmp_0'];
    const feed = { x: randomFeed(paddleModels.cls.shape, 11) };
    const expected = await runOrt(withExtraOutputs(model, outputs), feed);
    const actual = await runOrt(withExtraOutputs(result.model, outputs), feed);
    for (const output of outputs) {
      expect(actual[output].dims).toEqual(expected[output].dims);
      expect(relativeL2Error(actual[output].data, expected[output].data), output).toBeLessThan(1e-4);
    }
    const blocks = findDsconvBlocks(result.model);
    expect(blocks).toHaveLength(11);
    expect(blocks[0].betweenOps).toEqual(['Relu', 'Mul']);
  });

  it('det: folds the two Conv BNs and skips the one after ConvTranspose + bias', () => {
    const result = foldBatchNormalization(loaded.det.model);
    expect(result.folded.map((entry) => entry.batchNorm)).toEqual(['p2o.BatchNormalization.0', 'p2o.BatchNormalization.1']);
    expect(result.skipped).toEqual([{ batchNorm: 'p2o.BatchNormalization.2', reason: "its input comes from Add 'p2o.Add.278', not from a Conv" }]);
  });
});
