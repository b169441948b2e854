import { DeprunError, UsageError } from '@deprune/errors';
import { constantSource, DataType, encodeFloatTensor, graphOf, indexGraph, readFloatConstant, replaceConstants, withGraph, type GraphIndex, type NodeProto, type OnnxModel, type ValueInfoProto } from '@deprune/onnx';

/**
 * The graph edits calibration needs: a model cut down to the nodes a set of values depends on
 * (so a pass that only needs early layers' inputs does not run the rest of the network), and
 * writing a layer's reconstructed weights and bias back.
 */

/**
 * The model with `outputs` as its graph outputs and only the nodes they depend on (constants
 * included). Any engine that runs ONNX runs it unchanged; graph inputs stay declared as they were.
 */
export function truncateModel(model: OnnxModel, outputs: readonly string[]): OnnxModel {
  const index = indexGraph(model);
  const needed = new Set<string>();
  const keep = new Set<NodeProto>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const value = stack.pop()!;
    if (needed.has(value)) continue;
    needed.add(value);
    const producer = index.producer.get(value);
    if (producer === undefined) {
      if (!index.constants.has(value) && !index.inputs.includes(value)) {
        throw new UsageError(`no value named '${value}' in the model`, { file: model.source });
      }
      continue;
    }
    if (keep.has(producer)) continue;
    keep.add(producer);
    for (const input of producer.input ?? []) if (input) stack.push(input);
  }
  const graph = graphOf(model);
  const node = (graph.node ?? []).filter((candidate) => keep.has(candidate));
  const initializer = (graph.initializer ?? []).filter((tensor) => needed.has(tensor.name ?? ''));
  const output = outputs.map((name): ValueInfoProto => ({ name, type: { tensorType: { elemType: DataType.FLOAT } } }));
  return withGraph(model, { ...graph, node, initializer, output });
}

/** The value a node reads as its data input (input 0). */
export function dataInputOf(index: GraphIndex, nodeName: string): string {
  const node = index.nodes.find((candidate) => candidate.name === nodeName);
  const input = node?.input?.[0];
  if (node === undefined || !input) throw new DeprunError('INVALID_MODEL', `no node named '${nodeName}' with an input`, { file: index.model.source, node: nodeName });
  return input;
}

/** For each node name, the set of node names it (transitively) depends on; used to group independent layers. */
export function upstreamNodes(index: GraphIndex, names: readonly string[]): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const byName = new Map(index.nodes.map((node) => [node.name ?? '', node]));
  // Iterative post-order over producers: graphs of a few thousand nodes, no recursion limits.
  const visit = (start: string): Set<string> => {
    const order: string[] = [];
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name) || memo.has(name)) continue;
      seen.add(name);
      order.push(name);
      for (const input of byName.get(name)?.input ?? []) {
        const producer = index.producer.get(input);
        if (producer?.name) stack.push(producer.name);
      }
    }
    for (const name of order.reverse()) {
      const result = new Set<string>();
      for (const input of byName.get(name)?.input ?? []) {
        const producer = index.producer.get(input);
        if (!producer?.name) continue;
        result.add(producer.name);
        for (const upstream of memo.get(producer.name) ?? []) result.add(upstream);
      }
      memo.set(name, result);
    }
    return memo.get(start)!;
  };
  return new Map(names.map((name) => [name, visit(name)]));
}

export interface ConvUpdate {
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * Writes new weights and biases into Convs. The weight constant is replaced in place (same name
 * and dims). The bias goes into the Conv's own bias constant when nothing else reads it, else
 * (shared, or the Conv has none) into a new initializer `<conv>.bias_reconstructed` wired as the
 * Conv's third input.
 */
export function writeConvUpdates(model: OnnxModel, updates: ReadonlyMap<string, ConvUpdate>): OnnxModel {
  const index = indexGraph(model);
  const replacements = new Map<string, { values: Float32Array }>();
  const newBiases = new Map<string, string>();
  for (const [name, update] of updates) {
    const node = index.nodes.find((candidate) => candidate.name === name);
    if (node === undefined || node.opType !== 'Conv') throw new DeprunError('INVALID_MODEL', `no Conv named '${name}'`, { file: model.source, node: name });
    const weight = constantSource(index, node.input?.[1] ?? '');
    if (weight === undefined) throw new DeprunError('UNSUPPORTED', `the weight of '${name}' is not a constant`, { file: model.source, node: name });
    replacements.set(weight, { values: update.weights });
    const biasInput = node.input?.[2] ?? '';
    const biasSource = biasInput ? constantSource(index, biasInput) : undefined;
    const sharedBias = biasInput !== '' && (index.consumers.get(biasInput) ?? []).length > 1;
    if (biasSource !== undefined && !sharedBias && readFloatConstant(index, biasSource) !== undefined) {
      replacements.set(biasSource, { values: update.bias });
    } else {
      newBiases.set(name, `${name}.bias_reconstructed`);
    }
  }
  let output = replacements.size > 0 ? replaceConstants(model, replacements) : model;
  if (newBiases.size > 0) {
    const graph = graphOf(output);
    const initializer = [...(graph.initializer ?? [])];
    const node = (graph.node ?? []).map((current) => {
      const biasName = newBiases.get(current.name ?? '');
      if (biasName === undefined) return current;
      const values = updates.get(current.name ?? '')!.bias;
      initializer.push(encodeFloatTensor(biasName, values, [values.length]));
      const inputs = [...(current.input ?? [])];
      inputs[2] = biasName;
      return { ...current, input: inputs } as NodeProto;
    });
    output = withGraph(output, { ...graph, node, initializer });
  }
  return output;
}
