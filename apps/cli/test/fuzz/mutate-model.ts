/**
 * Structure-aware mutations of ONNX models: decode the seed, damage one part of the graph the way
 * a broken exporter or an attacker would (the list in issue 16: wrong, negative and 2^40 dims,
 * short raw_data, dtype changes, cycles, dangling inputs, duplicate outputs, bad groups, attribute
 * types, opsets, unknown ops and domains, external data paths, hostile names), encode it again.
 * A quarter of the cases also get byte-level damage on top, for the protobuf decoder.
 */
import { AttributeType, DataLocation, decodeModel, encodeModel, toNumber, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '@deprune/onnx';
import type { Rng } from '@deprune/tensor';
import { chance, EXTREME_NUMBERS, HOSTILE_NAMES, mutateBytes, pick, type Mutated } from './mutate';


type GraphMutation = (graph: GraphProto, rng: Rng, model: ModelProto) => string;

const nodesOf = (graph: GraphProto): NodeProto[] => graph.node ?? [];
const initializersOf = (graph: GraphProto): TensorProto[] => graph.initializer ?? [];
const someNode = (graph: GraphProto, rng: Rng): NodeProto | undefined => (nodesOf(graph).length > 0 ? pick(rng, nodesOf(graph)) : undefined);
const someConv = (graph: GraphProto, rng: Rng): NodeProto | undefined => {
  const convs = nodesOf(graph).filter((node) => node.opType === 'Conv');
  return convs.length > 0 ? pick(rng, convs) : someNode(graph, rng);
};
const someInitializer = (graph: GraphProto, rng: Rng): TensorProto | undefined => (initializersOf(graph).length > 0 ? pick(rng, initializersOf(graph)) : undefined);
const extreme = (rng: Rng): number => pick(rng, EXTREME_NUMBERS) * pick(rng, [1, 1, -1]);

function setAttribute(node: NodeProto, attribute: AttributeProto): void {
  node.attribute = [...(node.attribute ?? []).filter((each) => each.name !== attribute.name), attribute];
}

const mutations: Record<string, GraphMutation> = {
  initializerDim(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor?.dims?.length) return 'no initializer dims';
    const axis = rng.int(tensor.dims.length);
    const value = extreme(rng);
    tensor.dims[axis] = value;
    return `initializer '${tensor.name}' dim ${axis} = ${value}`;
  },
  initializerRank(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor) return 'no initializer';
    tensor.dims = chance(rng, 0.5) ? [] : [...(tensor.dims ?? []), 1, 1];
    return `initializer '${tensor.name}' dims [${(tensor.dims ?? []).map(toNumber).join(', ')}]`;
  },
  inputDim(graph, rng) {
    const input = graph.input?.[0];
    const dims = input?.type?.tensorType?.shape?.dim;
    if (!dims?.length) return 'no input dims';
    const axis = rng.int(dims.length);
    if (chance(rng, 0.3)) dims[axis] = { dimParam: pick(rng, ['N', 'H', '', '\u001b[2J']) };
    else dims[axis] = { dimValue: extreme(rng) };
    return `input dim ${axis} = ${JSON.stringify(dims[axis])}`;
  },
  inputRank(graph, rng) {
    const shape = graph.input?.[0]?.type?.tensorType?.shape;
    if (!shape) return 'no input shape';
    shape.dim = Array.from({ length: pick(rng, [0, 1, 2, 3, 5, 6]) }, () => ({ dimValue: pick(rng, [1, 3, 16]) }));
    return `input rank ${shape.dim.length}`;
  },
  dataType(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor) return 'no initializer';
    tensor.dataType = pick(rng, [0, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 99]);
    return `initializer '${tensor.name}' data type ${tensor.dataType}`;
  },
  shortRawData(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor?.rawData?.length) return 'no raw data';
    const length = rng.int(tensor.rawData.length);
    tensor.rawData = tensor.rawData.slice(0, length);
    return `initializer '${tensor.name}' raw_data cut to ${length} bytes`;
  },
  floatDataInstead(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor) return 'no initializer';
    tensor.rawData = new Uint8Array();
    tensor.floatData = Array.from({ length: pick(rng, [0, 1, 5]) }, () => rng.next());
    return `initializer '${tensor.name}' float_data of ${tensor.floatData.length}`;
  },
  externalData(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor) return 'no initializer';
    const location = pick(rng, ['../../../etc/passwd', '/etc/passwd', 'missing.bin', 'sub/../../x.bin', 'weights.bin', '', 'a\u0000b']);
    tensor.rawData = new Uint8Array();
    tensor.dataLocation = DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: location },
      ...(chance(rng, 0.5) ? [{ key: 'offset', value: String(extreme(rng)) }] : []),
      ...(chance(rng, 0.5) ? [{ key: 'length', value: pick(rng, [String(extreme(rng)), '1e3', 'x', '-0']) }] : []),
    ];
    return `initializer '${tensor.name}' external data at ${JSON.stringify(location)}`;
  },
  dropInitializer(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor) return 'no initializer';
    graph.initializer = initializersOf(graph).filter((each) => each !== tensor);
    return `drop initializer '${tensor.name}'`;
  },
  group(graph, rng) {
    const node = someConv(graph, rng);
    if (!node) return 'no node';
    const group = pick(rng, [0, -1, 2, 3, 5, 7, 2 ** 31, 2 ** 40]);
    setAttribute(node, { name: 'group', type: AttributeType.INT, i: group });
    return `node '${node.name}' group ${group}`;
  },
  duplicateAttribute(graph, rng) {
    const node = someConv(graph, rng);
    if (!node?.attribute?.length) return 'no attribute';
    node.attribute.push({ ...pick(rng, node.attribute) });
    return `node '${node.name}' attribute duplicated`;
  },
  attributeType(graph, rng) {
    const node = someConv(graph, rng);
    if (!node) return 'no node';
    const name = pick(rng, ['strides', 'pads', 'kernel_shape', 'dilations', 'group', 'auto_pad', 'transB', 'epsilon', 'axis']);
    const attribute: AttributeProto = pick(rng, [
      { name, type: AttributeType.FLOAT, f: 1.5 },
      { name, type: AttributeType.FLOATS, floats: [1, 2] },
      { name, type: AttributeType.STRING, s: new TextEncoder().encode('SAME_UPPER') },
      { name, type: AttributeType.INTS, ints: Array.from({ length: pick(rng, [0, 1, 3, 4, 9]) }, () => extreme(rng)) },
      { name, type: AttributeType.INT, i: extreme(rng) },
      { name, type: AttributeType.TENSOR, t: {} },
    ]);
    setAttribute(node, attribute);
    return `node '${node.name}' attribute ${name} type ${attribute.type}`;
  },
  opset(_graph, rng, model) {
    const version = pick(rng, [0, -1, 1, 6, 99, 2 ** 31]);
    const domain = pick(rng, ['', '', 'ai.onnx', 'com.example', 'ai.onnx.ml']);
    model.opsetImport = chance(rng, 0.2) ? [] : [{ domain, version }];
    return `opset ${JSON.stringify(domain)} ${version}`;
  },
  irVersion(_graph, rng, model) {
    model.irVersion = pick(rng, [0, -1, 1, 3, 100]);
    return `ir_version ${model.irVersion}`;
  },
  opType(graph, rng) {
    const node = someNode(graph, rng);
    if (!node) return 'no node';
    node.opType = pick(rng, ['Foo', 'Einsum', 'Conv', 'Gemm', 'MatMul', 'Relu', 'BatchNormalization', 'Reshape', 'Loop', '']);
    if (chance(rng, 0.3)) node.domain = pick(rng, ['com.example', 'ai.onnx.ml', 'com.microsoft']);
    return `node '${node.name}' op ${node.domain ? `${node.domain}.` : ''}${node.opType}`;
  },
  danglingInput(graph, rng) {
    const node = someNode(graph, rng);
    if (!node?.input?.length) return 'no node input';
    const position = rng.int(node.input.length);
    node.input[position] = pick(rng, ['ghost', '', 'x']);
    return `node '${node.name}' input ${position} = '${node.input[position]}'`;
  },
  cycle(graph, rng) {
    const nodes = nodesOf(graph);
    if (nodes.length < 2) return 'too few nodes';
    const early = rng.int(nodes.length - 1);
    const late = early + 1 + rng.int(nodes.length - early - 1);
    if (!nodes[early].input?.length || !nodes[late].output?.length) return 'no edge to rewire';
    nodes[early].input[0] = nodes[late].output[0];
    return `node '${nodes[early].name}' reads '${nodes[late].output[0]}' (a cycle)`;
  },
  duplicateOutput(graph, rng) {
    const nodes = nodesOf(graph);
    if (nodes.length < 2) return 'too few nodes';
    const [first, second] = [pick(rng, nodes), pick(rng, nodes)];
    if (!first.output?.length || !second.output?.length) return 'no outputs';
    second.output[0] = first.output[0];
    return `node '${second.name}' writes '${first.output[0]}' too`;
  },
  graphOutputs(graph, rng) {
    const outputs = graph.output ?? [];
    const choice = rng.int(3);
    if (choice === 0) graph.output = [];
    else if (choice === 1) graph.output = [...outputs, ...outputs];
    else graph.output = [...outputs, { name: 'ghost' }];
    return `graph outputs ${(graph.output ?? []).map((output) => output.name).join(', ') || 'none'}`;
  },
  reorderNodes(graph, rng) {
    const nodes = nodesOf(graph);
    if (nodes.length < 2) return 'too few nodes';
    const [a, b] = [rng.int(nodes.length), rng.int(nodes.length)];
    [nodes[a], nodes[b]] = [nodes[b], nodes[a]];
    return `swap nodes ${a} and ${b}`;
  },
  duplicateNode(graph, rng) {
    const node = someNode(graph, rng);
    if (!node) return 'no node';
    graph.node = [...nodesOf(graph), { ...node, attribute: [...(node.attribute ?? [])] }];
    return `node '${node.name}' duplicated`;
  },
  hostileName(graph, rng) {
    const name = pick(rng, HOSTILE_NAMES);
    const target = chance(rng, 0.5) ? someNode(graph, rng) : someInitializer(graph, rng);
    if (!target) return 'nothing to rename';
    target.name = name;
    return `renamed to ${JSON.stringify(name.slice(0, 20))}`;
  },
  hostileValueName(graph, rng) {
    const node = someNode(graph, rng);
    if (!node?.output?.length) return 'no output';
    const name = pick(rng, HOSTILE_NAMES);
    const old = node.output[0];
    node.output[0] = name;
    for (const consumer of nodesOf(graph)) consumer.input = (consumer.input ?? []).map((input) => (input === old ? name : input));
    for (const output of graph.output ?? []) if (output.name === old) output.name = name;
    return `value '${old}' renamed to ${JSON.stringify(name.slice(0, 20))}`;
  },
  kernelShape(graph, rng) {
    const node = someConv(graph, rng);
    if (!node) return 'no node';
    const name = pick(rng, ['kernel_shape', 'pads', 'strides', 'dilations']);
    const ints = Array.from({ length: pick(rng, [0, 1, 2, 4, 6]) }, () => pick(rng, [0, -1, 1, 2, 3, 1e9]));
    setAttribute(node, { name, type: AttributeType.INTS, ints });
    return `node '${node.name}' ${name} [${ints.join(', ')}]`;
  },
  stringInitializer(graph, rng) {
    const tensor = someInitializer(graph, rng);
    if (!tensor) return 'no initializer';
    tensor.dataType = 8;
    tensor.rawData = new Uint8Array();
    tensor.stringData = [new TextEncoder().encode(pick(rng, HOSTILE_NAMES))];
    return `initializer '${tensor.name}' as strings`;
  },
};

const MUTATION_NAMES = Object.keys(mutations);

/** One to three graph mutations, and in a quarter of the cases byte damage on top. */
export function mutateModel(seed: Uint8Array, rng: Rng): Mutated<Uint8Array> {
  const model = decodeModel(seed);
  const graph = model.graph as GraphProto;
  const steps: string[] = [];
  const count = 1 + rng.int(3);
  for (let step = 0; step < count; step++) {
    const name = pick(rng, MUTATION_NAMES);
    steps.push(`${name}: ${mutations[name](graph, rng, model)}`);
  }
  let value: Uint8Array = encodeModel(model);
  if (chance(rng, 0.25)) {
    const damaged = mutateBytes(value, rng);
    value = damaged.value;
    steps.push(...damaged.steps);
  }
  return { value, steps };
}
