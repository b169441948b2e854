import { foldBatchNorm } from '@deprune/tensor';
import { batchNormProblem, consumersOf, isGraphOutput, readBatchNormParams } from './effective';
import { graphOf, indexGraph, readFloatConstant, replaceConstants, withGraph, type GraphIndex, type OnnxModel } from './model';
import { DataType, dataTypeName, type NodeProto, type TensorProto } from './proto';
import { encodeFloatTensor } from './tensor-proto';

export interface BatchNormFoldResult {
  /** A new model; the input model is not modified. */
  model: OnnxModel;
  folded: { conv: string; batchNorm: string }[];
  skipped: { batchNorm: string; reason: string }[];
}

/** Why this BN cannot be folded into the Conv before it, or the Conv when it can. */
function foldTarget(index: GraphIndex, bn: NodeProto): { conv: NodeProto } | { reason: string } {
  const input = bn.input?.[0] ?? '';
  const producer = index.producer.get(input);
  if (!producer) return { reason: `its input '${input}' is a graph input, not a Conv output` };
  if (producer.opType !== 'Conv' || (producer.domain && producer.domain !== 'ai.onnx')) {
    return { reason: `its input comes from ${producer.opType} '${producer.name}', not from a Conv` };
  }
  if (producer.output?.[0] !== input) return { reason: `its input is not the Conv's output` };
  if (isGraphOutput(index, input)) return { reason: `the output of Conv '${producer.name}' is also a graph output` };
  const others = consumersOf(index, input).filter((node) => node !== bn);
  if (others.length > 0) {
    return { reason: `the output of Conv '${producer.name}' is also used by ${others.map((node) => `${node.opType} '${node.name}'`).join(', ')}` };
  }
  const problem = batchNormProblem(index, bn);
  if (problem) return { reason: problem };
  const weight = producer.input?.[1] ?? '';
  if (!index.constants.has(weight)) return { reason: `the weight '${weight}' of Conv '${producer.name}' is not a constant` };
  const bias = producer.input?.[2];
  if (bias && !index.constants.has(bias)) return { reason: `the bias '${bias}' of Conv '${producer.name}' is not a constant` };
  for (const name of [weight, bias]) {
    const type = name ? index.constants.get(name)!.proto.dataType : DataType.FLOAT;
    // Folded values are written as float32; a float16/float64 graph would then mix types.
    if (type !== DataType.FLOAT) return { reason: `'${name}' of Conv '${producer.name}' is ${dataTypeName(type)}; only float32 convs are folded` };
  }
  const channels = readFloatConstant(index, bn.input?.[1] ?? '')!.shape;
  const weightShape = readFloatConstant(index, weight)!.shape;
  if (channels.length !== 1 || channels[0] !== weightShape[0]) {
    return { reason: `it has ${channels.join('x')} channels but Conv '${producer.name}' has ${weightShape[0]} output channels` };
  }
  return { conv: producer };
}

/**
 * Folds every BatchNormalization that directly follows a Conv (as the sole consumer of
 * its output, with constant weights, bias and BN parameters) into that Conv:
 * w' = w * s and b' = (b - mean) * s + beta per output channel, s = gamma / sqrt(var + eps).
 * The BN node disappears and the Conv writes the BN's output name, so downstream names
 * are unchanged. A weight or bias that other nodes also read is left alone and the folded
 * values get a new initializer; constants nothing reads any more are dropped. Returns a
 * new model; BNs it could not fold are listed in `skipped` with the reason.
 */
export function foldBatchNormalization(model: OnnxModel): BatchNormFoldResult {
  const index = indexGraph(model);
  const graph = graphOf(model);
  const folded: BatchNormFoldResult['folded'] = [];
  const skipped: BatchNormFoldResult['skipped'] = [];
  const inPlace = new Map<string, { values: ArrayLike<number> }>();
  const added: TensorProto[] = [];
  const rewritten = new Map<NodeProto, NodeProto>();
  const removed = new Set<NodeProto>();
  const maybeDead = new Set<string>();
  const staleValues = new Set<string>();

  const taken = new Set<string>([
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...(graph.input ?? []).map((v) => v.name ?? ''),
    ...index.nodes.flatMap((node) => [...(node.input ?? []), ...(node.output ?? [])]),
  ]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  // Another reader than this conv (or a graph output) means the stored tensor must stay as it is.
  const sharedBeyond = (name: string, conv: NodeProto) =>
    isGraphOutput(index, name) || consumersOf(index, name).some((node) => node !== conv) || (conv.input ?? []).filter((input) => input === name).length > 1;

  for (const bn of index.nodes) {
    if (bn.opType !== 'BatchNormalization' || (bn.domain && bn.domain !== 'ai.onnx')) continue;
    const target = foldTarget(index, bn);
    if ('reason' in target) {
      skipped.push({ batchNorm: bn.name ?? '', reason: target.reason });
      continue;
    }
    const conv = target.conv;
    const weightName = conv.input![1];
    const biasName = conv.input?.[2] || undefined;
    const weight = readFloatConstant(index, weightName)!;
    const bias = biasName ? readFloatConstant(index, biasName)! : null;
    const result = foldBatchNorm(weight, bias, readBatchNormParams(index, bn));

    let newWeight = weightName;
    if (sharedBeyond(weightName, conv)) {
      newWeight = fresh(`${weightName}_bnfold`);
      added.push(encodeFloatTensor(newWeight, result.weight.data, weight.shape));
      maybeDead.add(weightName);
    } else inPlace.set(weightName, { values: result.weight.data });

    let newBias: string;
    if (biasName && !sharedBeyond(biasName, conv)) {
      newBias = biasName;
      inPlace.set(biasName, { values: result.bias.data });
    } else {
      newBias = fresh(biasName ? `${biasName}_bnfold` : `${conv.name || weightName}_bias`);
      added.push(encodeFloatTensor(newBias, result.bias.data, [weight.shape[0]]));
      if (biasName) maybeDead.add(biasName);
    }

    const convOutput = conv.output![0];
    staleValues.add(convOutput);
    rewritten.set(conv, {
      ...conv,
      input: [conv.input![0], newWeight, newBias],
      output: [bn.output![0], ...(conv.output ?? []).slice(1)],
    });
    removed.add(bn);
    for (const param of (bn.input ?? []).slice(1)) if (param) maybeDead.add(param);
    folded.push({ conv: conv.name ?? '', batchNorm: bn.name ?? '' });
  }
  if (folded.length === 0) return { model, folded, skipped };

  const nodes = index.nodes.filter((node) => !removed.has(node)).map((node) => rewritten.get(node) ?? node);
  const read = new Set(nodes.flatMap((node) => node.input ?? []));
  const dead = new Set([...maybeDead].filter((name) => !read.has(name) && !isGraphOutput(index, name)));
  const keptNodes = nodes.filter((node) => !(node.opType === 'Constant' && dead.has(node.output?.[0] ?? '')));
  const rewiredGraph = {
    ...graph,
    node: keptNodes,
    initializer: [...(graph.initializer ?? []).filter((t) => !dead.has(t.name ?? '')), ...added],
    input: (graph.input ?? []).filter((v) => !dead.has(v.name ?? '')),
    valueInfo: (graph.valueInfo ?? []).filter((v) => !staleValues.has(v.name ?? '')),
  };
  const rewired = withGraph(model, rewiredGraph);
  return { model: inPlace.size > 0 ? replaceConstants(rewired, inPlace) : rewired, folded, skipped };
}
