/**
 * The structural rules onnxruntime and the ONNX checker enforce before they run a graph, checked
 * here so a malformed model is refused with one line naming the node instead of being pruned into
 * a file nothing else can load:
 *
 * - every node input is defined: a graph input, an initializer, or the output of an earlier node;
 * - every value is assigned once (SSA), and each graph output is listed once and defined;
 * - the nodes are in topological order, so there is no cycle;
 * - a Conv's `group` is a positive integer that divides its output channels and, when the input's
 *   shape is known, its input channels (a group that does not divide them leaves the weight's
 *   channel slices undefined).
 *
 * Only the top-level graph is checked: subgraphs (If, Loop) may read the outer scope.
 */
import { InvalidGraphError } from '@deprune/errors';
import { intAttribute } from './attributes';
import { graphOf, indexGraph, type OnnxModel } from './model';
import type { NodeProto } from './proto';
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

/**
 * Refuses a graph with an undefined input, a value assigned twice, a graph output listed twice or
 * never defined, or nodes out of topological order (naming a node on the cycle when there is one).
 * Throws InvalidGraphError naming the model file and the node.
 */
export function checkGraphStructure(model: OnnxModel): void {
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
