import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend } from '@deprune/gpu';
import { maskFromPlanEntry } from '@deprune/masks';
import { constantSource, indexGraph, listLayers, readFloatConstant, type OnnxModel } from '@deprune/onnx';
import { prune, validatePlanForModel, type PruneVariant } from '@deprune/pipeline';
import { cosineSimilarity, createRng, randomTensor, toFloat32 } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { collectStatistics, geometryOf, layerInfos, PairedAccumulator, reconstruct, runtimeEngine, truncateModel, type CalibrationSample, type ForwardEngine, type PairedStatistics } from '../src/index';
import { dataInputOf } from '../src/graph';
import { onnxruntimeEngine } from '../src/onnxruntime';

const SIZE = 96;
let dense: OnnxModel;
let engine: ForwardEngine;
const samples = (count: number, seed: number): CalibrationSample[] =>
  Array.from({ length: count }, (_, index) => ({ tensor: toFloat32(randomTensor([1, 3, SIZE, SIZE], createRng(seed + index))) as CalibrationSample['tensor'], source: `sample ${index}` }));

beforeAll(() => {
  dense = buildZooModel('mobilenetv3-small', { seed: 4, inputSize: SIZE });
  engine = onnxruntimeEngine();
});
afterAll(async () => {
  await engine.dispose();
  await disposeBackend();
});

function storedWeights(model: OnnxModel, name: string): Float32Array {
  const index = indexGraph(model);
  const info = listLayers(model).find((layer) => layer.name === name)!;
  return readFloatConstant(index, constantSource(index, info.weight)!)!.data;
}

async function fidelity(model: OnnxModel, inputs: readonly CalibrationSample[]): Promise<number> {
  let total = 0;
  for (const sample of inputs) {
    const reference = Object.values(await engine.run(dense, { input: sample.tensor }))[0];
    const output = Object.values(await engine.run(model, { input: sample.tensor }))[0];
    total += cosineSimilarity(output.data, reference.data);
  }
  return total / inputs.length;
}

describe('calibration statistics', () => {
  it('the deprune runtime and onnxruntime collect the same statistics', async () => {
    const set = samples(2, 100);
    const layers = ['features.1.block.0.0', 'features.1.block.2.0'].filter((name) => listLayers(dense).some((layer) => layer.name === name));
    expect(layers.length).toBeGreaterThan(0);
    const viaOrt = await collectStatistics(dense, set, { engine, layers });
    const runtime = runtimeEngine({ mode: 'cpu' });
    const viaRuntime = await collectStatistics(dense, set, { engine: runtime, layers });
    await runtime.dispose();
    for (const name of layers) {
      const a = viaOrt.statistics.get(name)!.gram!;
      const b = viaRuntime.statistics.get(name)!.gram!;
      expect(cosineSimilarity(a, b)).toBeGreaterThan(1 - 1e-6);
      expect(viaOrt.vectors[name]).toBe(viaRuntime.vectors[name]);
    }
  });
});

describe('reconstruction on MobileNetV3-Small', () => {
  const cases: { variant: PruneVariant; importance: 'magnitude' | 'obs' }[] = [
    { variant: 'deprune-bh', importance: 'magnitude' },
    { variant: 'unstructured', importance: 'obs' },
    { variant: 'channel', importance: 'magnitude' },
  ];
  for (const { variant, importance } of cases) {
    it(`${variant} (${importance}): zero pattern and counts unchanged, every layer's error down, output closer to dense`, async () => {
      const calibration = samples(8, 1);
      const statistics = importance === 'magnitude' ? undefined : (await collectStatistics(dense, calibration, { engine })).statistics;
      const pruned = prune(dense, { variant, ratio: 0.5 }, statistics ? { statistics } : {});
      const result = await reconstruct(dense, pruned.model, pruned.plan, calibration, { engine });
      // Masks: the plan's, unchanged; the runtime's gate accepts the reconstructed model.
      validatePlanForModel(result.plan, result.model, { checkWeights: true });
      expect(result.plan.layers).toEqual(pruned.plan.layers);
      if (variant !== 'channel') {
        for (const entry of result.plan.layers) {
          const mask = maskFromPlanEntry(entry);
          const weights = storedWeights(result.model, entry.name);
          const original = storedWeights(dense, entry.name);
          // Zero exactly where the mask prunes (or the dense weight was 0 already), nowhere else.
          const wrong = weights.filter((value, index) => (value === 0) !== (mask[index] === 0 || original[index] === 0)).length;
          expect(wrong, entry.name).toBe(0);
        }
      }
      const { report } = result;
      expect(report.layers.map((layer) => layer.name)).toEqual(pruned.plan.layers.map((entry) => entry.name));
      for (const layer of report.layers) expect(layer.errorAfter).toBeLessThanOrEqual(layer.errorBefore + 1e-12);
      expect(report.meanErrorAfter).toBeLessThan(report.meanErrorBefore);
      expect(report.passes).toBeLessThanOrEqual(report.layers.length);
      const heldOut = samples(3, 50);
      expect(await fidelity(result.model, heldOut)).toBeGreaterThan(await fidelity(pruned.model, heldOut));
    });
  }

  it('is sequential: each layer solves on the input a direct forward pass through the reconstructed predecessors gives', async () => {
    const calibration = samples(4, 3);
    const pruned = prune(dense, { variant: 'deprune-bh', ratio: 0.5 });
    const seen = new Map<string, { pass: number; statistics: PairedStatistics }>();
    const result = await reconstruct(dense, pruned.model, pruned.plan, calibration, { engine, onLayerStatistics: ({ name, pass, statistics }) => seen.set(name, { pass, statistics }) });
    expect([...seen.keys()]).toEqual(pruned.plan.layers.map((entry) => entry.name));
    // The same sums, made here from a forward pass of `model` up to the layer's input.
    const shape = calibration[0].tensor.shape;
    const denseInfos = layerInfos(dense, 'input', shape);
    const directly = async (model: OnnxModel, name: string): Promise<PairedStatistics> => {
      const info = layerInfos(model, 'input', shape).get(name)!;
      const accumulator = new PairedAccumulator({ kind: info.kind as 'dw' | 'pw', name, prunedChannels: info.inChannels, denseChannels: denseInfos.get(name)!.inChannels, geometry: geometryOf(info) });
      const [prunedInput, denseInput] = [dataInputOf(indexGraph(model), name), dataInputOf(indexGraph(dense), name)];
      const [prunedHead, denseHead] = [truncateModel(model, [prunedInput]), truncateModel(dense, [denseInput])];
      for (const sample of calibration) accumulator.add((await engine.run(prunedHead, { input: sample.tensor }))[prunedInput], (await engine.run(denseHead, { input: sample.tensor }))[denseInput]);
      return accumulator.result();
    };
    const worst = (a: PairedStatistics, b: PairedStatistics) =>
      Math.max(...(['pp', 'pd', 'dd', 'sumP', 'sumD'] as const).map((key) => a[key].reduce((max, value, index) => Math.max(max, Math.abs(value - b[key][index]) / (Math.abs(b[key][index]) + 1e-6)), 0)));
    // Late layers, several passes in: their predecessors were reconstructed before they were solved.
    const late = pruned.plan.layers.slice(-3).map((entry) => entry.name);
    for (const name of late) {
      const used = seen.get(name)!;
      expect(used.pass).toBeGreaterThan(2);
      // The reconstructed model's input to this layer (its own and later weights do not change it).
      const expected = await directly(result.model, name);
      expect(used.statistics.count).toBe(expected.count);
      expect(worst(used.statistics, expected), name).toBeLessThan(1e-9);
      // And not the pruned-but-unreconstructed network's: the test would see the difference.
      expect(worst(used.statistics, await directly(pruned.model, name)), name).toBeGreaterThan(1e-4);
    }
  });

  it('refuses bad calibration input by source', async () => {
    const pruned = prune(dense, { variant: 'deprune', ratio: 0.5 });
    const bad: CalibrationSample[] = [{ tensor: { data: new Float32Array(2 * SIZE * SIZE), shape: [1, 2, SIZE, SIZE] }, source: 'gray.npy' }];
    await expect(reconstruct(dense, pruned.model, pruned.plan, bad, { engine })).rejects.toThrow(/gray\.npy: calibration input has 2 channels, the model expects 3/);
    await expect(collectStatistics(dense, [], { engine })).rejects.toThrow(/no calibration samples/);
    const nan = samples(1, 0);
    nan[0].tensor.data[5] = Number.NaN;
    await expect(collectStatistics(dense, nan, { engine })).rejects.toThrow(/sample 0: calibration input has a non-finite value/);
  });
});
