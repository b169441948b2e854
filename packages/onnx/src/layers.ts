import { UnsupportedError } from '@deprune/errors';
import { intAttribute, intsAttribute } from './attributes';
import { constantDims, indexGraph, type GraphIndex, type OnnxModel } from './model';
import type { NodeProto } from './proto';
import { resolveAutoPads, windowGeometry } from './shape-rules';
import type { ShapeInference } from './shapes';
import { elementCount } from './small-tensor';

/**
 * What a prunable layer is, in method.md's vocabulary:
 * - `dw`: depth-wise Conv, group == C_in == C_out (weight [C, 1, kh, kw]),
 * - `pw`: point-wise Conv, 1x1 kernel and group == 1 (a GEMM over channels),
 * - `conv`: any other Conv (dense kxk, grouped, depth multiplier > 1),
 * - `gemm`: a Gemm with a constant weight (fully connected).
 */
export type LayerKind = 'dw' | 'pw' | 'conv' | 'gemm';

export interface LayerInfo {
  /** ONNX node name (plans and reports address layers by it). */
  name: string;
  op: 'Conv' | 'Gemm';
  kind: LayerKind;
  /** Name of the constant weight tensor (Conv: [C_out, C_in/group, kh, kw]; Gemm: B as stored). */
  weight: string;
  bias?: string;
  inChannels: number;
  outChannels: number;
  group: number;
  kernel: [number, number];
  strides: [number, number];
  /** [top, left, bottom, right], after resolving auto_pad. */
  pads: [number, number, number, number];
  dilations: [number, number];
  /** From shape inference, when it was given and resolved this node. */
  inputShape?: number[];
  outputShape?: number[];
  /** Elements of the weight and bias tensors as stored. */
  params: number;
  /** Multiply-accumulates at batch 1; undefined without shapes. */
  macs?: number;
}

/**
 * Classifies a Conv from its weight shape [C_out, C_in/group, k...] and group:
 * a 1x1 kernel with group 1 is `pw`; group == C_in == C_out is `dw`; the rest (a depth
 * multiplier > 1, grouped convs, dense kxk) is `conv`.
 */
export function classifyConv(weightShape: readonly number[], group: number, inChannels?: number): LayerKind {
  const outChannels = weightShape[0];
  const perGroup = weightShape[1];
  const channelsIn = inChannels ?? perGroup * group;
  const kernel = weightShape.slice(2);
  if (group === 1 && kernel.every((k) => k === 1)) return 'pw';
  if (group === channelsIn && group === outChannels && perGroup === 1) return 'dw';
  return 'conv';
}

/**
 * The name of the constant a node input refers to, looking through Identity nodes (some
 * exporters route shared initializers through Identity); undefined if it is computed.
 */
export function constantSource(index: GraphIndex, name: string): string | undefined {
  let current = name;
  for (let hops = 0; hops < 8; hops++) {
    if (index.constants.has(current)) return current;
    const producer = index.producer.get(current);
    if (!producer || producer.opType !== 'Identity') return undefined;
    current = producer.input?.[0] ?? '';
  }
  return undefined;
}

/** What listLayers reads from shape inference: only the shapes (a ShapeInference will do). */
export type LayerShapes = Pick<ShapeInference, 'shapes'>;

function nonConstantWeight(index: GraphIndex, node: NodeProto, weight: string): UnsupportedError {
  const producer = index.producer.get(weight);
  const origin = producer
    ? `is computed at run time by ${producer.opType} '${producer.name}'`
    : index.inputs.includes(weight)
      ? 'is a graph input, not a stored initializer'
      : 'is not defined in the graph';
  return new UnsupportedError(`${node.opType} weight '${weight}' ${origin}`, {
    file: index.model.source,
    node: node.name ?? undefined,
    hint: 'deprune prunes weights stored in the model; export it with constant weights (constant folding, e.g. onnxsim)',
  });
}

function convLayer(index: GraphIndex, node: NodeProto, shapes: LayerShapes | undefined): LayerInfo {
  const weightInput = node.input?.[1] ?? '';
  const weight = constantSource(index, weightInput);
  if (!weight) throw nonConstantWeight(index, node, weightInput);
  const dims = constantDims(index, weight)!;
  const biasInput = node.input?.[2] || undefined;
  const bias = biasInput ? constantSource(index, biasInput) : undefined;
  if (biasInput && !bias) throw nonConstantWeight(index, node, biasInput);
  const spatialRank = dims.length - 2;
  if (spatialRank < 1 || spatialRank > 2) {
    throw new UnsupportedError(`${spatialRank}-D convolution (weight [${dims.join(', ')}]) is not supported; only 1-D and 2-D`, {
      file: index.model.source,
      node: node.name ?? undefined,
    });
  }
  const group = intAttribute(node, 'group', 1);
  const inputShape = shapes?.shapes.get(node.input?.[0] ?? '');
  const outputShape = shapes?.shapes.get(node.output?.[0] ?? '');
  const geometry = windowGeometry(node, intsAttribute(node, 'kernel_shape') ?? dims.slice(2));
  const pads = resolveAutoPads(inputShape?.slice(2), geometry);
  // A 1-D conv is reported as 2-D with a height-1 kernel.
  const two = (values: readonly number[], fill: number): [number, number] => (spatialRank === 2 ? [values[0], values[1]] : [fill, values[0]]);
  const kernel = two(geometry.kernel, 1);
  const inChannels = dims[1] * group;
  const outChannels = dims[0];
  let macs: number | undefined;
  if (outputShape && outputShape.length === dims.length) {
    macs = elementCount(outputShape.slice(2)) * outChannels * dims[1] * kernel[0] * kernel[1];
  }
  return {
    name: node.name ?? '',
    op: 'Conv',
    kind: classifyConv(dims, group, inChannels),
    weight,
    ...(bias ? { bias } : {}),
    inChannels,
    outChannels,
    group,
    kernel,
    strides: two(geometry.strides, 1),
    pads: spatialRank === 2 ? [pads[0], pads[1], pads[2], pads[3]] : [0, pads[0], 0, pads[1]],
    dilations: two(geometry.dilations, 1),
    ...(inputShape ? { inputShape: [...inputShape] } : {}),
    ...(outputShape ? { outputShape: [...outputShape] } : {}),
    params: elementCount(dims) + (bias ? elementCount(constantDims(index, bias)!) : 0),
    ...(macs !== undefined ? { macs } : {}),
  };
}

function gemmLayer(index: GraphIndex, node: NodeProto, shapes: LayerShapes | undefined): LayerInfo | undefined {
  const weight = constantSource(index, node.input?.[1] ?? '');
  // A Gemm of two activations (attention-style) has no weight to prune: not a layer.
  if (!weight) return undefined;
  const dims = constantDims(index, weight)!;
  if (dims.length !== 2) return undefined;
  const biasInput = node.input?.[2] || undefined;
  const bias = biasInput ? constantSource(index, biasInput) : undefined;
  const [inChannels, outChannels] = intAttribute(node, 'transB', 0) ? [dims[1], dims[0]] : dims;
  const inputShape = shapes?.shapes.get(node.input?.[0] ?? '');
  const outputShape = shapes?.shapes.get(node.output?.[0] ?? '');
  let macs: number | undefined;
  if (inputShape && inputShape.length === 2) {
    const rows = intAttribute(node, 'transA', 0) ? inputShape[1] : inputShape[0];
    macs = rows * outChannels * inChannels;
  }
  return {
    name: node.name ?? '',
    op: 'Gemm',
    kind: 'gemm',
    weight,
    ...(bias ? { bias } : {}),
    inChannels,
    outChannels,
    group: 1,
    kernel: [1, 1],
    strides: [1, 1],
    pads: [0, 0, 0, 0],
    dilations: [1, 1],
    ...(inputShape ? { inputShape: [...inputShape] } : {}),
    ...(outputShape ? { outputShape: [...outputShape] } : {}),
    params: elementCount(dims) + (bias ? elementCount(constantDims(index, bias)!) : 0),
    ...(macs !== undefined ? { macs } : {}),
  };
}

/**
 * Every Conv and (constant-weight) Gemm of the graph, in graph order, with its kind,
 * geometry, parameter count and, when `shapes` is given, shapes and MACs at batch 1.
 * A Conv whose weight is computed at run time is refused with an UnsupportedError.
 */
export function listLayers(model: OnnxModel, shapes?: LayerShapes): LayerInfo[] {
  const index = indexGraph(model);
  const layers: LayerInfo[] = [];
  for (const node of index.nodes) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (node.opType === 'Conv') layers.push(convLayer(index, node, shapes));
    else if (node.opType === 'Gemm') {
      const layer = gemmLayer(index, node, shapes);
      if (layer) layers.push(layer);
    }
  }
  return layers;
}
