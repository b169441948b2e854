import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { constantDims, indexGraph, intAttribute, intsAttribute, serializeModel, type NodeProto, type OnnxModel } from '@deprune/onnx';
import { createRng, randomTensor } from '@deprune/tensor';

/** A seeded N(0, 1) image batch [batch, 3, size, size]. */
export function randomImage(size = 224, seed = 2024, batch = 1): Float32Array {
  return randomTensor([batch, 3, size, size], createRng(seed), { dtype: 'float32' }).data as Float32Array;
}

/** Runs the model in onnxruntime-node and returns `logits` with its dims. */
export async function runLogits(model: OnnxModel, image: Float32Array, size = 224): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await InferenceSession.create(serializeModel(model));
  try {
    const batch = image.length / (3 * size * size);
    const outputs = await session.run({ input: new OrtTensor('float32', image, [batch, 3, size, size]) });
    return { data: outputs.logits.data as Float32Array, dims: outputs.logits.dims };
  } finally {
    await session.release();
  }
}

export function meanAndStd(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

export interface ConvFacts {
  node: NodeProto;
  weightDims: number[];
  group: number;
  stride: number;
  kernel: number;
  isDepthwise: boolean;
}

/** Every Conv with its weight shape; DW means group == C_in == C_out (weight [C, 1, k, k]). */
export function convFacts(model: OnnxModel): ConvFacts[] {
  const index = indexGraph(model);
  return index.nodes
    .filter((node) => node.opType === 'Conv')
    .map((node) => {
      const weightDims = constantDims(index, node.input![1])!;
      const group = intAttribute(node, 'group', 1);
      const [outChannels, inPerGroup, kernel] = weightDims;
      return {
        node,
        weightDims,
        group,
        stride: intsAttribute(node, 'strides')?.[0] ?? 1,
        kernel,
        isDepthwise: group > 1 && group === outChannels && inPerGroup === 1,
      };
    });
}

/**
 * Multiply-accumulates of Conv and Gemm at a square input, by shape arithmetic alone: every
 * graph value carries its spatial side, Conv maps it by floor((s + 2p - k) / stride) + 1,
 * GlobalAveragePool sends it to 1, everything else keeps it. A conv costs
 * C_out * H_out * W_out * (C_in / group) * k * k, a Gemm in * out.
 */
export function countMacs(model: OnnxModel, size = 224): { total: number; depthwise: number; pointwise: number; other: number; gemm: number } {
  const index = indexGraph(model);
  const side = new Map<string, number>(index.inputs.map((name) => [name, size]));
  const totals = { total: 0, depthwise: 0, pointwise: 0, other: 0, gemm: 0 };
  for (const node of index.nodes) {
    const input = node.input![0];
    let outSide = side.get(input) ?? 1;
    if (node.opType === 'Conv') {
      const [outChannels, inPerGroup, kh, kw] = constantDims(index, node.input![1])!;
      const pads = intsAttribute(node, 'pads') ?? [0, 0, 0, 0];
      const stride = intsAttribute(node, 'strides')?.[0] ?? 1;
      outSide = Math.floor((outSide + pads[0] + pads[2] - kh) / stride) + 1;
      const macs = outChannels * outSide * outSide * inPerGroup * kh * kw;
      const group = intAttribute(node, 'group', 1);
      if (group > 1 && group === outChannels && inPerGroup === 1) totals.depthwise += macs;
      else if (kh === 1 && kw === 1) totals.pointwise += macs;
      else totals.other += macs;
      totals.total += macs;
    } else if (node.opType === 'GlobalAveragePool') {
      outSide = 1;
    } else if (node.opType === 'Gemm') {
      const [outFeatures, inFeatures] = constantDims(index, node.input![1])!;
      totals.gemm += outFeatures * inFeatures;
      totals.total += outFeatures * inFeatures;
    }
    for (const output of node.output ?? []) side.set(output, outSide);
  }
  return totals;
}

/** Channels of every BatchNormalization (the gamma count folding removes). */
export function batchNormChannels(model: OnnxModel): number {
  const index = indexGraph(model);
  return index.nodes
    .filter((node) => node.opType === 'BatchNormalization')
    .reduce((sum, node) => sum + constantDims(index, node.input![1])![0], 0);
}
