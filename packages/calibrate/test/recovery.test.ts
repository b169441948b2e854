import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeBackend } from '@deprune/gpu';
import { maskFromPlanEntry, type LayerPlanEntry } from '@deprune/masks';
import { constantSource, indexGraph, listLayers, readFloatConstant, type OnnxModel } from '@deprune/onnx';
import { prune, validatePlanForModel } from '@deprune/pipeline';
import { createRng, randomTensor, toFloat32 } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import {
  activationWeights,
  correctBiases,
  followingActivation,
  geometryOf,
  layerInfos,
  PairedAccumulator,
  reconstruct,
  reselectWithinUnits,
  sequentialRemask,
  truncateModel,
  writeConvUpdates,
  type CalibrationSample,
  type ForwardEngine,
  type PairedStatistics,
} from '../src/index';
import { dataInputOf } from '../src/graph';
import { onnxruntimeEngine } from '../src/onnxruntime';

const SIZE = 64;
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

function stored(model: OnnxModel, name: string, input: 1 | 2): Float32Array {
  const index = indexGraph(model);
  const node = index.nodes.find((candidate) => candidate.name === name)!;
  const value = node.input![input];
  return value ? readFloatConstant(index, constantSource(index, value)!)!.data : new Float32Array(0);
}

/** Kept weights per balanced unit (DW: group of `groupSize` channels; PW: the tile's columns). */
function unitCounts(entry: LayerPlanEntry): number[] {
  if (entry.kind === 'pw') return [...entry.kept];
  const size = entry.granularity === 'channel' ? 1 : entry.groupSize!;
  const counts: number[] = [];
  for (let first = 0; first < entry.kept.length; first += size) counts.push(entry.kept.slice(first, first + size).reduce((sum, value) => sum + value, 0));
  return counts;
}

/** Mean squared difference per output value of a Conv's output in `model` against the dense model's, over `set`. */
async function outputError(model: OnnxModel, name: string, set: readonly CalibrationSample[]): Promise<number> {
  const value = indexGraph(model).nodes.find((node) => node.name === name)!.output![0];
  const denseValue = indexGraph(dense).nodes.find((node) => node.name === name)!.output![0];
  const head = truncateModel(model, [value]);
  const denseHead = truncateModel(dense, [denseValue]);
  let sum = 0;
  let count = 0;
  for (const sample of set) {
    const a = (await engine.run(head, { input: sample.tensor }))[value].data;
    const b = (await engine.run(denseHead, { input: sample.tensor }))[denseValue].data;
    for (let i = 0; i < a.length; i++) sum += (b[i] - a[i]) ** 2;
    count += a.length;
  }
  await engine.release(head);
  await engine.release(denseHead);
  return sum / count;
}

describe('bias correction', () => {
  it('changes biases only, lowers every corrected layer to the error a direct forward pass measures, and never raises one', async () => {
    const calibration = samples(4, 11);
    const pruned = prune(dense, { variant: 'deprune-bh', ratio: 0.5 });
    const names = pruned.plan.layers.map((entry) => entry.name);
    const result = await correctBiases(dense, pruned.model, calibration, { engine, after: names });
    // Every Conv from the first pruned layer on: the plan's layers and what follows them.
    const corrected = result.report.layers.map((layer) => layer.name);
    for (const name of names) expect(corrected).toContain(name);
    expect(corrected.length).toBeGreaterThan(names.length);
    // Weights bit-identical: zero pattern, kept counts, balance and HSR steps as the plan says.
    validatePlanForModel(pruned.plan, result.model, { checkWeights: true });
    for (const info of listLayers(dense)) expect(stored(result.model, info.name, 1), info.name).toEqual(stored(pruned.model, info.name, 1));
    let moved = 0;
    for (const layer of result.report.layers) {
      expect(layer.errorAfter, layer.name).toBeLessThanOrEqual(layer.errorBefore * (1 + 1e-9) + 1e-12);
      if (layer.rmsShift > 0) moved += 1;
    }
    expect(moved).toBeGreaterThan(0);
    // Sequential: a layer's error after is what its output in the final model shows (later passes do not change it),
    // and its error before is the final model with only its own bias put back.
    const late = result.report.layers.filter((layer) => layer.pass > 2).slice(-3);
    expect(late.length).toBe(3);
    for (const layer of late) {
      const direct = await outputError(result.model, layer.name, calibration);
      expect(Math.abs(direct - layer.errorAfter) / (layer.errorAfter + 1e-12), layer.name).toBeLessThan(1e-3);
      const original = stored(pruned.model, layer.name, 2);
      const bias = original.length > 0 ? Float32Array.from(original) : new Float32Array(layer.channels);
      const reverted = writeConvUpdates(result.model, new Map([[layer.name, { weights: stored(result.model, layer.name, 1), bias }]]));
      const before = await outputError(reverted, layer.name, calibration);
      expect(Math.abs(before - layer.errorBefore) / (layer.errorBefore + 1e-12), layer.name).toBeLessThan(1e-3);
    }
  });

  it('after reconstruction the pruned layers have (almost) nothing left to correct: the solve already fits the bias', async () => {
    const calibration = samples(4, 21);
    const pruned = prune(dense, { variant: 'deprune-bh', ratio: 0.5 });
    const rebuilt = await reconstruct(dense, pruned.model, pruned.plan, calibration, { engine, dwVectorsPerTap: Number.POSITIVE_INFINITY });
    const names = pruned.plan.layers.map((entry) => entry.name);
    const result = await correctBiases(dense, rebuilt.model, calibration, { engine, layers: names });
    for (const layer of result.report.layers) expect(layer.errorAfter, layer.name).toBeGreaterThan(layer.errorBefore * (1 - 1e-3) - 1e-9);
  });
});

describe('sequential importance', () => {
  it('re-chooses masks on the pruned network inputs a direct forward pass gives, keeping every unit count, HSR step and the kept total', async () => {
    const calibration = samples(4, 31);
    const pruned = prune(dense, { variant: 'deprune-bh', ratio: 0.5 });
    for (const mode of ['inputs', 'refit'] as const) {
      const seen = new Map<string, PairedStatistics>();
      const hook = sequentialRemask(dense, { importance: 'obs', mode });
      const result = await reconstruct(dense, pruned.model, pruned.plan, calibration, {
        engine,
        remask: (event) => {
          seen.set(event.entry.name, event.statistics);
          return hook(event);
        },
      });
      // The model's zeros are the returned plan's; the runtime's gate accepts it.
      validatePlanForModel(result.plan, result.model, { checkWeights: true });
      let moved = 0;
      result.plan.layers.forEach((entry, position) => {
        const before = pruned.plan.layers[position];
        expect(entry.name).toBe(before.name);
        expect(unitCounts(entry), entry.name).toEqual(unitCounts(before));
        expect(entry.step).toBe(before.step);
        expect(entry.granularity).toBe(before.granularity);
        const mask = maskFromPlanEntry(entry);
        const weights = stored(result.model, entry.name, 1);
        expect(weights.filter((value, index) => mask[index] === 0 && value !== 0).length, entry.name).toBe(0);
        moved += result.report.layers[position].remasked ?? 0;
      });
      expect(moved, mode).toBeGreaterThan(0);
      for (const layer of result.report.layers) expect(layer.errorAfter, layer.name).toBeLessThanOrEqual(layer.errorBefore + 1e-12);
      // The statistics the scores came from are a direct forward pass through the final (re-masked, reconstructed) model.
      const shape = calibration[0].tensor.shape;
      const denseInfos = layerInfos(dense, 'input', shape);
      for (const entry of result.plan.layers.slice(-2)) {
        const info = layerInfos(result.model, 'input', shape).get(entry.name)!;
        const accumulator = new PairedAccumulator({ kind: info.kind as 'dw' | 'pw', name: entry.name, prunedChannels: info.inChannels, denseChannels: denseInfos.get(entry.name)!.inChannels, geometry: geometryOf(info) });
        const [prunedInput, denseInput] = [dataInputOf(indexGraph(result.model), entry.name), dataInputOf(indexGraph(dense), entry.name)];
        const [prunedHead, denseHead] = [truncateModel(result.model, [prunedInput]), truncateModel(dense, [denseInput])];
        for (const sample of calibration) accumulator.add((await engine.run(prunedHead, { input: sample.tensor }))[prunedInput], (await engine.run(denseHead, { input: sample.tensor }))[denseInput]);
        const expected = accumulator.result();
        const used = seen.get(entry.name)!;
        expect(used.count).toBe(expected.count);
        for (const key of ['pp', 'pd', 'sumP'] as const) {
          const worst = used[key].reduce((max, value, index) => Math.max(max, Math.abs(value - expected[key][index]) / (Math.abs(expected[key][index]) + 1e-6)), 0);
          expect(worst, `${entry.name} ${key}`).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('reselects within units: the top scores of each DW group and PW tile, same counts', () => {
    const dw: LayerPlanEntry = {
      name: 'dw',
      kind: 'dw',
      strategy: 'dcp',
      granularity: 'group',
      groupSize: 2,
      tileRows: null,
      step: 1,
      shape: { channels: 3, kernel: [1, 3] },
      kept: [2, 1, 1],
      keptIndices: [[0, 1], [0], [2]],
      sparsity: 5 / 9,
    };
    // Group 0 (channels 0, 1) keeps 3 of its 6 taps, wherever they are; channel 2 (a group of its own) keeps 1.
    const next = reselectWithinUnits(dw, Float64Array.from([0, 1, 8, 9, 2, 7, 5, 0, 1]));
    expect(next.keptIndices).toEqual([[2], [0, 2], [0]]);
    expect(unitCounts(next)).toEqual(unitCounts(dw));
    const pw: LayerPlanEntry = {
      name: 'pw',
      kind: 'pw',
      strategy: 'pcp',
      granularity: 'tile',
      groupSize: null,
      tileRows: 2,
      step: 1,
      shape: { outChannels: 3, inChannels: 3 },
      kept: [2, 1],
      keptIndices: [[0, 1], [0]],
      sparsity: 1 / 3,
    };
    // Tile 0: column norms over rows 0-1 are sqrt(1+1), sqrt(0+9), sqrt(4+0); tile 1 (row 2): 3, 1, 2.
    const scores = Float64Array.from([1, 0, 2, 1, 3, 0, 3, 1, 2]);
    expect(reselectWithinUnits(pw, scores).keptIndices).toEqual([[1, 2], [0]]);
    // An unbalanced or dense entry stays as it is.
    const unbalanced = { ...pw, granularity: 'none' as const };
    expect(reselectWithinUnits(unbalanced, scores)).toBe(unbalanced);
  });
});

describe('reconstruction through the activation', () => {
  it('finds the hardswish after each DW layer and its weights follow the slope', () => {
    const index = indexGraph(dense);
    const dwLayers = listLayers(dense).filter((info) => info.kind === 'dw');
    const found = dwLayers.map((info) => followingActivation(index, info.name));
    expect(found.filter((activation) => activation?.kind === 'hardswish').length).toBeGreaterThan(0);
    expect(found.filter((activation) => activation?.kind === 'relu').length).toBeGreaterThan(0);
    const hardswish = found.find((activation) => activation?.kind === 'hardswish')!;
    const z = Float32Array.from([-4, -1.5, 0, 1.5, 4]);
    const derivative = activationWeights(z, hardswish, 'derivative', 0);
    expect(Array.from(derivative)).toEqual([0, 0, 0.25, 1, 1]);
    expect(Array.from(activationWeights(z, hardswish, 'active', 0.5))).toEqual([0.5, 1.5, 1.5, 1.5, 1.5]);
  });

  for (const kind of ['dw', 'pw'] as const) {
    it(`with all weights 1 the weighted ${kind.toUpperCase()} sums are the plain ones`, async () => {
      const info = listLayers(dense).filter((layer) => layer.kind === kind)[1];
      const layer = layerInfos(dense, 'input', [1, 3, SIZE, SIZE]).get(info.name)!;
      const input = dataInputOf(indexGraph(dense), info.name);
      const head = truncateModel(dense, [input]);
      const spec = { kind, name: info.name, prunedChannels: layer.inChannels, denseChannels: layer.inChannels, geometry: geometryOf(layer) };
      const plain = new PairedAccumulator(spec);
      const weighted = new PairedAccumulator(spec);
      const pixels = (layer.outputShape ?? []).slice(2).reduce((product, dim) => product * dim, 1);
      for (const sample of samples(2, 41)) {
        const value = (await engine.run(head, { input: sample.tensor }))[input];
        plain.add(value, value);
        weighted.addWeighted(value, value, new Float32Array(layer.outChannels * pixels).fill(1));
      }
      const [a, b] = [plain.result(), weighted.result()];
      expect(b.count).toBe(a.count);
      for (const key of ['pp', 'pd', 'dd', 'sumP', 'sumD'] as const) {
        const worst = a[key].reduce((max, value, index) => Math.max(max, Math.abs(value - b[key][index]) / (Math.abs(value) + 1e-6)), 0);
        expect(worst, key).toBeLessThan(1e-6);
      }
      // Weights of 2 everywhere: the same means (the sums are brought back to the count).
      const doubled = new PairedAccumulator(spec);
      for (const sample of samples(2, 41)) {
        const value = (await engine.run(head, { input: sample.tensor }))[input];
        doubled.addWeighted(value, value, new Float32Array(layer.outChannels * pixels).fill(2));
      }
      const c = doubled.result();
      const worst = a.pp.reduce((max, value, index) => Math.max(max, Math.abs(value - c.pp[index]) / (Math.abs(value) + 1e-6)), 0);
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it('keeps the zero pattern and lowers every layer’s weighted error', async () => {
    const calibration = samples(4, 51);
    const pruned = prune(dense, { variant: 'deprune-bh', ratio: 0.5 });
    for (const activationLayers of ['dw', 'all'] as const) {
      const result = await reconstruct(dense, pruned.model, pruned.plan, calibration, { engine, activationWeighting: 'derivative', activationLayers });
      validatePlanForModel(result.plan, result.model, { checkWeights: true });
      expect(result.plan.layers).toEqual(pruned.plan.layers);
      const weighted = result.report.layers.filter((layer) => layer.activation !== undefined);
      expect(weighted.some((layer) => layer.kind === 'dw')).toBe(true);
      expect(weighted.some((layer) => layer.kind === 'pw')).toBe(activationLayers === 'all');
      for (const layer of result.report.layers) expect(layer.errorAfter, layer.name).toBeLessThanOrEqual(layer.errorBefore + 1e-12);
    }
  });
});
