import ort from 'onnxruntime-node';
import { decodeModel, encodeModel, type ModelProto, type TensorProto } from '@deprune/onnx';

export interface OrtLayer {
  op: 'Conv' | 'Gemm';
  outputShape: number[];
  /** Multiply-accumulates computed from ORT's output shape and the stored weight shape. */
  macs: number;
  params: number;
}

function dimsOf(tensor: TensorProto | undefined): number[] | undefined {
  return tensor?.dims?.map((dim) => Number(dim));
}

/**
 * An independent measurement for `inspect`: onnxruntime runs the model with every
 * Conv/Gemm output exposed, and MACs come from the shapes it actually produced
 * (Conv: output elements x C_in/group x kh x kw; Gemm: batch x weight elements).
 */
export async function ortLayers(modelBytes: Uint8Array, inputShape: number[]): Promise<Map<string, OrtLayer>> {
  const proto = decodeModel(modelBytes) as ModelProto;
  const graph = proto.graph!;
  const weights = new Map<string, number[]>();
  for (const initializer of graph.initializer ?? []) weights.set(initializer.name ?? '', dimsOf(initializer) ?? []);
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Constant') continue;
    const value = node.attribute?.find((attribute) => attribute.name === 'value')?.t;
    if (value) weights.set(node.output?.[0] ?? '', dimsOf(value) ?? []);
  }
  const layers = (graph.node ?? []).filter((node) => (node.opType === 'Conv' || node.opType === 'Gemm') && weights.has(node.input?.[1] ?? ''));
  const existing = new Set((graph.output ?? []).map((output) => output.name));
  for (const node of layers) if (!existing.has(node.output![0])) graph.output!.push({ name: node.output![0] });
  const session = await ort.InferenceSession.create(encodeModel(proto));
  const count = inputShape.reduce((a, b) => a * b, 1);
  const results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(count), inputShape) });
  const measured = new Map<string, OrtLayer>();
  for (const node of layers) {
    const outputShape = [...results[node.output![0]].dims];
    const weight = weights.get(node.input![1])!;
    const weightCount = weight.reduce((a, b) => a * b, 1);
    const bias = node.input?.[2] ? (weights.get(node.input[2]) ?? []).reduce((a, b) => a * b, 1) : 0;
    const outputCount = outputShape.reduce((a, b) => a * b, 1);
    const macs = node.opType === 'Conv' ? outputCount * weight.slice(1).reduce((a, b) => a * b, 1) : outputShape[0] * weightCount;
    measured.set(node.name!, { op: node.opType as 'Conv' | 'Gemm', outputShape, macs, params: weightCount + bias });
  }
  await session.release();
  return measured;
}
