import { DeprunError } from '@deprune/errors';
import { constantSource, indexGraph, readFloatConstant, type GraphIndex, type NodeProto, type OnnxModel } from '@deprune/onnx';
import type { HostTensor } from '@deprune/runtime';
import type { CalibrationProgress } from './collect';
import { singleInputName, type ForwardEngine } from './engine';
import { truncateModel, upstreamNodes, writeConvUpdates, type ConvUpdate } from './graph';
import { checkSamples, type CalibrationSample } from './samples';
import { declaredChannels } from './collect';
import { groupPasses } from './reconstruct';

/**
 * Bias correction after pruning (and reconstruction): per output channel c of a Conv, the mean over
 * the calibration set of (dense output - pruned output), `delta_c`, is added to the Conv's bias.
 * Layers are corrected in graph order, in passes of independent layers, each measured on the
 * network whose earlier layers are already corrected (sequential). Only biases change: the weights,
 * hence the zero pattern, the kept counts, BWT's balance and HSR's steps, are untouched.
 *
 * What it guarantees: with the layer's input fixed (the corrected predecessors), the per-channel
 * squared error of its output against the dense layer's on the calibration set falls by exactly
 * `delta_c^2` per output value (E[(r - delta)^2] = E[r^2] - delta^2 when delta = E[r]), so it never
 * raises a layer's calibration error at the time it is corrected. A following BatchNormalization
 * or affine is linear, so its output's mean matches the dense one's too.
 */

export interface BiasCorrectionOptions {
  engine: ForwardEngine;
  /**
   * Which Convs to correct, by node name, in any order (graph order is used). Default: every Conv
   * that depends on one of `after` (or, without `after`, every Conv of the model).
   */
  layers?: readonly string[];
  /** With no `layers`: correct every Conv downstream of these nodes (the pruned layers), and these themselves. */
  after?: readonly string[];
  onProgress?: (event: CalibrationProgress) => void;
}

export interface LayerBiasCorrection {
  name: string;
  channels: number;
  /** Root mean square over the channels of the shift added to the bias. */
  rmsShift: number;
  /** Mean squared error of the output against the dense layer's, over the calibration set, before / after (per output value). */
  errorBefore: number;
  errorAfter: number;
  pass: number;
}

export interface BiasCorrectionReport {
  samples: number;
  passes: number;
  layers: LayerBiasCorrection[];
  ms: number;
}

export interface BiasCorrectionResult {
  model: OnnxModel;
  report: BiasCorrectionReport;
}

function convNodes(index: GraphIndex): NodeProto[] {
  return index.nodes.filter((node) => node.opType === 'Conv' && node.name);
}

/** The Convs to correct, in graph order. */
function selectConvs(index: GraphIndex, options: BiasCorrectionOptions): NodeProto[] {
  const convs = convNodes(index);
  if (options.layers !== undefined) {
    const wanted = new Set(options.layers);
    for (const name of wanted) {
      if (!convs.some((node) => node.name === name)) throw new DeprunError('BAD_USAGE', `bias correction: no Conv named '${name}'`, { file: index.model.source, node: name });
    }
    return convs.filter((node) => wanted.has(node.name!));
  }
  if (options.after === undefined) return convs;
  const roots = new Set(options.after);
  const upstream = upstreamNodes(index, convs.map((node) => node.name!));
  return convs.filter((node) => roots.has(node.name!) || [...upstream.get(node.name!)!].some((name) => roots.has(name)));
}

function storedParameters(index: GraphIndex, node: NodeProto): { weights: Float32Array; bias: Float32Array; channels: number } {
  const weightName = node.input?.[1] ?? '';
  const weight = readFloatConstant(index, constantSource(index, weightName) ?? weightName);
  if (weight === undefined) throw new DeprunError('UNSUPPORTED', `the weight of '${node.name}' is not a constant`, { file: index.model.source, node: node.name });
  const channels = weight.shape[0];
  const biasName = node.input?.[2] ?? '';
  const biasSource = biasName ? constantSource(index, biasName) : undefined;
  const bias = biasSource ? readFloatConstant(index, biasSource) : undefined;
  if (biasName && bias === undefined) throw new DeprunError('UNSUPPORTED', `the bias of '${node.name}' is not a constant`, { file: index.model.source, node: node.name });
  return { weights: Float32Array.from(weight.data), bias: bias ? Float32Array.from(bias.data) : new Float32Array(channels), channels };
}

/** Per channel of two NC... tensors of one shape: sums of (dense - pruned) and of its square over everything but the channel axis; returns the values per channel. */
function addDifferenceSums(dense: HostTensor, pruned: HostTensor, sums: Float64Array, squares: Float64Array, name: string): number {
  const [batch, channels] = dense.shape;
  if (channels !== sums.length || pruned.data.length !== dense.data.length) {
    throw new DeprunError('INTERNAL', `bias correction: '${name}' gave outputs [${dense.shape.join(', ')}] and [${pruned.shape.join(', ')}] for ${sums.length} channels`);
  }
  const plane = dense.shape.slice(2).reduce((product, dim) => product * dim, 1);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const base = (n * channels + c) * plane;
      let sum = 0;
      let square = 0;
      for (let i = 0; i < plane; i++) {
        const value = dense.data[base + i] - pruned.data[base + i];
        sum += value;
        square += value * value;
      }
      sums[c] += sum;
      squares[c] += square;
    }
  }
  return batch * plane;
}

/**
 * Sequential bias correction of `current` (a pruned, possibly reconstructed model with the same
 * node names as `dense`) on the calibration samples. See the module comment.
 */
export async function correctBiases(dense: OnnxModel, current: OnnxModel, samples: readonly CalibrationSample[], options: BiasCorrectionOptions): Promise<BiasCorrectionResult> {
  const started = performance.now();
  const inputName = singleInputName(current);
  const denseInput = singleInputName(dense);
  checkSamples(samples, declaredChannels(current, inputName));
  const selected = selectConvs(indexGraph(current), options);
  const denseIndex = indexGraph(dense);
  const denseOutputs = new Map(convNodes(denseIndex).map((node) => [node.name!, node.output?.[0] ?? '']));
  for (const node of selected) {
    if (!denseOutputs.get(node.name!)) throw new DeprunError('INVALID_MODEL', `bias correction: the dense model has no Conv named '${node.name}'`, { node: node.name });
  }
  const passes = groupPasses(indexGraph(current), selected.map((node) => node.name!));
  const layers: LayerBiasCorrection[] = [];
  const total = passes.length * samples.length;
  let model = current;
  for (let pass = 0; pass < passes.length; pass++) {
    const index = indexGraph(model);
    const members = passes[pass].map((name) => index.nodes.find((node) => node.name === name)!);
    const prunedNames = members.map((node) => node.output![0]);
    const denseNames = members.map((node) => denseOutputs.get(node.name!)!);
    const prunedModel = truncateModel(model, [...new Set(prunedNames)]);
    const denseModel = truncateModel(dense, [...new Set(denseNames)]);
    const parameters = members.map((node) => storedParameters(index, node));
    // Per member and channel: sums of (dense - pruned output) and of its square; the shift stored.
    const sums = parameters.map(({ channels }) => ({ difference: new Float64Array(channels), shift: new Float64Array(channels), squared: new Float64Array(channels), count: 0 }));
    try {
      for (let position = 0; position < samples.length; position++) {
        options.onProgress?.({ stage: 'reconstruct', done: pass * samples.length + position, total, detail: `bias ${members.map((node) => node.name).join(', ')}` });
        const feed = samples[position].tensor;
        const prunedValues = await options.engine.run(prunedModel, { [inputName]: feed });
        const denseValues = await options.engine.run(denseModel, { [denseInput]: feed });
        members.forEach((node, member) => {
          const entry = sums[member];
          entry.count += addDifferenceSums(denseValues[denseNames[member]], prunedValues[prunedNames[member]], entry.difference, entry.squared, node.name!);
        });
      }
    } finally {
      await options.engine.release(prunedModel);
      await options.engine.release(denseModel);
    }
    const updates = new Map<string, ConvUpdate>();
    members.forEach((node, member) => {
      const { weights, bias, channels } = parameters[member];
      const entry = sums[member];
      let shiftSquares = 0;
      let before = 0;
      const next = Float32Array.from(bias);
      for (let c = 0; c < channels; c++) {
        const delta = entry.count > 0 ? entry.difference[c] / entry.count : 0;
        next[c] = bias[c] + delta;
        // The float32 bias may round delta: the error after is measured against the bias actually stored.
        const stored = next[c] - bias[c];
        shiftSquares += delta * delta;
        before += entry.squared[c];
        entry.shift[c] = stored;
      }
      let after = 0;
      for (let c = 0; c < channels; c++) {
        const mean = entry.difference[c] / Math.max(1, entry.count);
        const stored = entry.shift[c];
        // sum (r - s)^2 = sum r^2 - 2 s sum r + n s^2
        after += entry.squared[c] - 2 * stored * mean * entry.count + entry.count * stored * stored;
      }
      const values = entry.count * channels;
      updates.set(node.name!, { weights, bias: next });
      layers.push({
        name: node.name!,
        channels,
        rmsShift: Math.sqrt(shiftSquares / Math.max(1, channels)),
        errorBefore: values > 0 ? before / values : 0,
        errorAfter: values > 0 ? Math.max(0, after) / values : 0,
        pass,
      });
    });
    model = writeConvUpdates(model, updates);
  }
  options.onProgress?.({ stage: 'reconstruct', done: total, total });
  return { model, report: { samples: samples.length, passes: passes.length, layers, ms: performance.now() - started } };
}
