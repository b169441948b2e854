/**
 * The structural rules onnxruntime and the ONNX checker enforce before they run a graph, checked
 * here so a malformed model is refused with one line naming the node instead of being pruned into
 * a file nothing else can load:
 *
 * - every node input is defined: a graph input, an initializer, or the output of an earlier node;
 * - every value is assigned once (SSA), and each graph output is listed once and defined;
 * - the nodes are in topological order, so there is no cycle;
 * - the IR version is one with opset imports (3 or later) and not newer than any ONNX release
 *   deprune knows; every node's domain has an opset import;
 * - a default-domain node's first input and first output are not empty ('' marks an omitted
 *   optional value, and those are required);
 * - no node repeats an attribute; Conv and ConvTranspose take only their schema's attributes, of
 *   the schema's types (`strides` INTS with values, ...), and Conv, ConvTranspose and
 *   BatchNormalization get the number of inputs their schema allows;
 * - a Conv's `group` is a positive integer that divides its output channels and, when the input's
 *   shape is known, its input channels (a group that does not divide them leaves the weight's
 *   channel slices undefined).
 *
 * Only the top-level graph is checked: subgraphs (If, Loop) may read the outer scope.
 */
import { InvalidGraphError } from '@deprune/errors';
import { intAttribute } from './attributes';
import { graphOf, indexGraph, type OnnxModel } from './model';
import { onnx, toNumber, type NodeProto } from './proto';
import { tensorDims } from './tensor-proto';

const MALFORMED_HINT = 'the model is malformed; export it again';

function nodeName(node: NodeProto, position: number): string {
  return node.name || `#${position} (${node.opType ?? '?'})`;
}

/** Names defined before any node runs: graph inputs and (sparse) initializers. */
function namesDefinedUpFront(model: OnnxModel): Set<string> {
  const graph = graphOf(model);
  const names = new Set<string>();
  for (const input of graph.input ?? []) if (input.name) names.add(input.name);
  for (const initializer of graph.initializer ?? []) if (initializer.name) names.add(initializer.name);
  for (const sparse of graph.sparseInitializer ?? []) if (sparse.values?.name) names.add(sparse.values.name);
  return names;
}

/**
 * A node on a cycle, if the graph has one: Kahn's algorithm leaves the nodes on (or after) a cycle
 * unordered; walking back from one of them through unordered producers must come round to a node
 * already seen, which is on the cycle.
 */
function nodeOnCycle(nodes: readonly NodeProto[]): NodeProto | undefined {
  const producerOf = new Map<string, number>();
  nodes.forEach((node, position) => (node.output ?? []).forEach((output) => output && producerOf.set(output, position)));
  const predecessors = nodes.map((node) => [...new Set((node.input ?? []).flatMap((input) => (input && producerOf.has(input) ? [producerOf.get(input)!] : [])))]);
  const waiting = predecessors.map((list) => list.length);
  const successors = nodes.map(() => [] as number[]);
  predecessors.forEach((list, position) => list.forEach((predecessor) => successors[predecessor].push(position)));
  const ready = waiting.flatMap((count, position) => (count === 0 ? [position] : []));
  const ordered = new Set<number>();
  while (ready.length > 0) {
    const position = ready.pop()!;
    ordered.add(position);
    for (const next of successors[position]) if (--waiting[next] === 0) ready.push(next);
  }
  let current = nodes.findIndex((_, position) => !ordered.has(position));
  if (current < 0) return undefined;
  const seen = new Set<number>();
  while (!seen.has(current)) {
    seen.add(current);
    current = predecessors[current].find((predecessor) => !ordered.has(predecessor))!;
  }
  return nodes[current];
}

/** The newest ONNX IR version (ONNX 1.18). A model claiming a later one was not written by a tool we know. */
export const MAX_IR_VERSION = 11;

const { AttributeType } = onnx.AttributeProto;

/** Attribute types of the conv ops the pruner reads (the ONNX schemas). */
const CONV_ATTRIBUTE_TYPES: Readonly<Record<string, number>> = {
  auto_pad: AttributeType.STRING,
  dilations: AttributeType.INTS,
  group: AttributeType.INT,
  kernel_shape: AttributeType.INTS,
  output_padding: AttributeType.INTS,
  output_shape: AttributeType.INTS,
  pads: AttributeType.INTS,
  strides: AttributeType.INTS,
};

/** Inputs the ops the pruner reads take (the ONNX schemas): [fewest, most]. */
const INPUT_COUNTS: Readonly<Record<string, readonly [number, number]>> = {
  Conv: [2, 3],
  ConvTranspose: [2, 3],
  BatchNormalization: [5, 5],
};

/** Ops whose first input may be omitted (''): Loop's trip count M. */
const OPTIONAL_FIRST_INPUT = new Set(['Loop']);

const isDefaultDomain = (domain: string | null | undefined) => !domain || domain === 'ai.onnx';

/**
 * The ONNX checker's model-level rules that deprune did not enforce (found by running the official
 * checker on what `prune` accepted from the fuzz corpus): IR version, opset imports per domain,
 * required first inputs and outputs, conv attribute types. Throws InvalidGraphError naming the node.
 */
function checkCheckerRules(model: OnnxModel): void {
  const file = model.source;
  const ir = toNumber(model.proto.irVersion);
  if (ir < 3) throw new InvalidGraphError(`ir_version ${ir} predates opset imports (ONNX IR 3); no tool writes it with an opset_import`, { file, hint: MALFORMED_HINT });
  if (ir > MAX_IR_VERSION) throw new InvalidGraphError(`ir_version ${ir} is newer than ONNX IR ${MAX_IR_VERSION}, the newest known`, { file, hint: MALFORMED_HINT });
  const imported = new Set((model.proto.opsetImport ?? []).map((opset) => (isDefaultDomain(opset.domain) ? '' : opset.domain!)));
  (graphOf(model).node ?? []).forEach((node, position) => {
    const name = nodeName(node, position);
    const refuse = (why: string) => new InvalidGraphError(why, { file, node: name, hint: MALFORMED_HINT });
    const domain = isDefaultDomain(node.domain) ? '' : node.domain!;
    if (!imported.has(domain)) throw refuse(`its domain '${domain || 'ai.onnx'}' has no opset_import in the model`);
    if (domain !== '') return;
    const inputs = node.input ?? [];
    if (inputs.length > 0 && inputs[0] === '' && !OPTIONAL_FIRST_INPUT.has(node.opType ?? '')) throw refuse(`its first input is empty, but ${node.opType} requires it`);
    const outputs = node.output ?? [];
    if (outputs.length > 0 && outputs[0] === '') throw refuse(`its first output is empty, but ${node.opType} requires it`);
    const seen = new Set<string>();
    for (const attribute of node.attribute ?? []) {
      if (seen.has(attribute.name ?? '')) throw refuse(`attribute '${attribute.name}' appears more than once`);
      seen.add(attribute.name ?? '');
    }
    const counts = INPUT_COUNTS[node.opType ?? ''];
    if (counts && (inputs.length < counts[0] || inputs.length > counts[1])) {
      throw refuse(`${node.opType} takes ${counts[0] === counts[1] ? counts[0] : `${counts[0]} to ${counts[1]}`} inputs, it has ${inputs.length}`);
    }
    if (node.opType !== 'Conv' && node.opType !== 'ConvTranspose') return;
    for (const attribute of node.attribute ?? []) {
      const expected = CONV_ATTRIBUTE_TYPES[attribute.name ?? ''];
      if (expected === undefined || (node.opType === 'Conv' && attribute.name?.startsWith('output_'))) throw refuse(`${node.opType} has no attribute '${attribute.name}'`);
      const type = attribute.type ?? AttributeType.UNDEFINED;
      if (type !== AttributeType.UNDEFINED && type !== expected) {
        throw refuse(`attribute '${attribute.name}' is ${AttributeType[type] ?? type}, but ${node.opType} takes ${AttributeType[expected]}`);
      }
      if (expected === AttributeType.INTS && type === AttributeType.INTS && (attribute.ints ?? []).length === 0) throw refuse(`attribute '${attribute.name}' is INTS but holds no values`);
    }
  });
}

/**
 * Refuses a graph with an undefined input, a value assigned twice, a graph output listed twice or
 * never defined, or nodes out of topological order (naming a node on the cycle when there is one);
 * and anything the checker rules above refuse.
 * Throws InvalidGraphError naming the model file and the node.
 */
export function checkGraphStructure(model: OnnxModel): void {
  checkCheckerRules(model);
  const file = model.source;
  const nodes = graphOf(model).node ?? [];
  const defined = namesDefinedUpFront(model);
  const producedLater = new Map<string, NodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) if (output && !producedLater.has(output)) producedLater.set(output, node);
  nodes.forEach((node, position) => {
    const name = nodeName(node, position);
    for (const input of node.input ?? []) {
      // '' marks an omitted optional input.
      if (!input || defined.has(input)) continue;
      const producer = producedLater.get(input);
      if (producer === undefined) {
        throw new InvalidGraphError(`input '${input}' is not defined (not a graph input, an initializer or any node's output)`, { file, node: name, hint: MALFORMED_HINT });
      }
      const cycle = nodeOnCycle(nodes);
      if (cycle) throw new InvalidGraphError('the graph has a cycle through this node', { file, node: cycle.name || name, hint: MALFORMED_HINT });
      throw new InvalidGraphError(`reads '${input}' before node '${producer.name ?? '?'}' produces it (nodes must be in topological order)`, { file, node: name, hint: MALFORMED_HINT });
    }
    for (const output of node.output ?? []) {
      if (!output) continue;
      if (defined.has(output)) throw new InvalidGraphError(`output '${output}' is assigned twice (a graph input, an initializer or another node defines it too)`, { file, node: name, hint: MALFORMED_HINT });
      defined.add(output);
    }
  });
  const listed = new Set<string>();
  for (const output of graphOf(model).output ?? []) {
    const name = output.name ?? '';
    if (listed.has(name)) throw new InvalidGraphError(`graph output '${name}' is listed twice`, { file, node: name, hint: MALFORMED_HINT });
    listed.add(name);
    if (!defined.has(name)) throw new InvalidGraphError(`graph output '${name}' is not defined by any node, input or initializer`, { file, node: name, hint: MALFORMED_HINT });
  }
}

/**
 * Refuses a Conv whose `group` is not a positive integer, does not divide the weight's output
 * channels, or (when `shapes` knows the input) does not divide the input's channels or disagrees
 * with the weight's per-group channels. Throws InvalidGraphError naming the node.
 */
export function checkConvGroups(model: OnnxModel, shapes?: ReadonlyMap<string, readonly number[]>): void {
  const file = model.source;
  const index = indexGraph(model);
  index.nodes.forEach((node, position) => {
    if (node.opType !== 'Conv' || (node.domain && node.domain !== 'ai.onnx')) return;
    const name = nodeName(node, position);
    const group = intAttribute(node, 'group', 1);
    const refuse = (why: string) => new InvalidGraphError(why, { file, node: name, hint: MALFORMED_HINT });
    if (!Number.isSafeInteger(group) || group < 1) throw refuse(`group ${group} is not a positive integer`);
    const weight = index.constants.get(node.input?.[1] ?? '');
    const dims = weight ? tensorDims(weight.proto) : shapes?.get(node.input?.[1] ?? '');
    if (dims && dims.length >= 2 && dims[0] % group !== 0) throw refuse(`group ${group} does not divide the ${dims[0]} output channels of the weight [${dims.join(', ')}]`);
    const input = shapes?.get(node.input?.[0] ?? '');
    if (!input || input.length < 2) return;
    const channels = input[1];
    if (channels % group !== 0) throw refuse(`group ${group} does not divide the ${channels} input channels`);
    if (dims && dims.length >= 2 && dims[1] * group !== channels) {
      throw refuse(`the input has ${channels} channels but the weight [${dims.join(', ')}] with group ${group} expects ${dims[1] * group}`);
    }
  });
}
