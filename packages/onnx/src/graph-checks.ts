/**
 * The structural rules onnxruntime and the ONNX checker enforce before they run a graph, checked
 * here so a malformed model is refused with one line naming the node instead of being pruned into
 * a file nothing else can load:
 *
 * - every node input is defined: a graph input, an initializer, or the output of an earlier node;
 * - every value is assigned once (SSA), and each graph output is listed once and defined;
 * - the nodes are in topological order, so there is no cycle;
 * - the model rules of the ONNX checker (onnx/checker.cc): an IR version with opset imports (3 or
 *   later) and not newer than the newest ONNX release; a default-domain opset from 1 to the newest
 *   (imported once, or twice with one version); every node domain imported; metadata keys
 *   unique; a named graph whose inputs and outputs have names and element types, inputs named
 *   once; initializers named, named once, and (IR 3) listed as graph inputs;
 * - every tensor (initializer or attribute): a known data_type, no negative dimension, and its
 *   values in exactly one field, the one its type uses, and exactly as many as its shape needs;
 * - every attribute: a name, given once, a type, and a value in the field of that type;
 * - every default-domain node against its operator's schema at the model's opset (op-schemas.ts,
 *   generated from the official `onnx` package): the op exists and is not deprecated, the input
 *   and output counts, no required input or output left empty (''), only the schema's attributes,
 *   of the schema's types, lists not empty, required attributes present;
 * - a Conv's `group` is a positive integer that divides its output channels and, when the input's
 *   shape is known, its input channels (a group that does not divide them leaves the weight's
 *   channel slices undefined).
 *
 * The node, attribute and tensor rules also apply inside subgraphs (If, Loop bodies); the value
 * rules (defined inputs, SSA, order) only to the top-level graph, since a subgraph may read the
 * outer scope. Rules of the checker deprune does not enforce, and why, are in docs/reliability.md.
 */
import { InvalidGraphError } from '@deprune/errors';
import { intAttribute } from './attributes';
import { graphOf, indexGraph, type OnnxModel } from './model';
import { EXPERIMENTAL_OPS, NEWEST_IR_VERSION, NEWEST_OPSET, OP_SCHEMAS } from './op-schemas';
import { AttributeType, DATA_TYPES, DataLocation, toNumber, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type TypedDataField, type ValueInfoProto } from './proto';
import { tensorDims } from './tensor-proto';

/** AttributeType's names by value, for messages. */
const ATTRIBUTE_TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(AttributeType).map(([name, value]) => [value, name]));

const MALFORMED_HINT = 'the model is malformed; export it again';
const CORRUPT_HINT = 'the file is probably truncated or corrupt';

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

/** The newest ONNX IR version (of the `onnx` release op-schemas.ts comes from). A model claiming a later one was not written by a tool we know. */
export const MAX_IR_VERSION = NEWEST_IR_VERSION;

/** The newest default-domain opset (the same release): the op schemas are not known past it. */
export const MAX_OPSET = NEWEST_OPSET;


const isDefaultDomain = (domain: string | null | undefined) => !domain || domain === 'ai.onnx';

// ---------------------------------------------------------------------------------------------
// Operator schemas (op-schemas.ts), parsed on first use.

interface FormalParameters {
  /** One letter per fixed parameter: 's' single (required), 'o' optional. */
  readonly fixed: string;
  /** The least number of values a last, variadic parameter takes; undefined when there is none. */
  readonly variadicLeast?: number;
}

interface OpSchema {
  readonly since: number;
  readonly deprecated: boolean;
  readonly inputs: FormalParameters;
  readonly outputs: FormalParameters;
  readonly attributes: ReadonlyMap<string, { readonly type: number; readonly required: boolean }>;
}

function parseParameters(text: string): FormalParameters {
  if (text === '-') return { fixed: '' };
  const variadic = /v(\d+)$/.exec(text);
  return variadic ? { fixed: text.slice(0, variadic.index), variadicLeast: Number(variadic[1]) } : { fixed: text };
}

function parseSchema(line: string): OpSchema {
  const [since, inputs, outputs, ...attributes] = line.split(' ');
  if (inputs === 'deprecated') return { since: Number(since), deprecated: true, inputs: { fixed: '' }, outputs: { fixed: '' }, attributes: new Map() };
  return {
    since: Number(since),
    deprecated: false,
    inputs: parseParameters(inputs),
    outputs: parseParameters(outputs),
    attributes: new Map(
      attributes.map((entry) => {
        const [name, type] = entry.split(':');
        const required = type.endsWith('!');
        return [name, { type: AttributeType[(required ? type.slice(0, -1) : type) as keyof typeof AttributeType], required }];
      }),
    ),
  };
}

const parsedSchemas = new Map<string, readonly OpSchema[]>();

/** Every version of a default-domain op, oldest first; undefined when ONNX has no such op. */
function opSchemas(opType: string): readonly OpSchema[] | undefined {
  if (!Object.hasOwn(OP_SCHEMAS, opType)) return undefined;
  let versions = parsedSchemas.get(opType);
  if (!versions) parsedSchemas.set(opType, (versions = OP_SCHEMAS[opType].map(parseSchema)));
  return versions;
}

/** [least, most] values the parameters take, as ONNX counts them (OpSchema::Finalize). */
function parameterRange(parameters: FormalParameters): [number, number] {
  if (parameters.variadicLeast !== undefined) return [parameters.fixed.length + parameters.variadicLeast, Number.POSITIVE_INFINITY];
  return [parameters.fixed.lastIndexOf('s') + 1, parameters.fixed.length];
}

function describeRange([least, most]: [number, number], noun: string): string {
  if (most === Number.POSITIVE_INFINITY) return `${least} or more ${noun}s`;
  return least === most ? `${least} ${noun}${least === 1 ? '' : 's'}` : `${least} to ${most} ${noun}s`;
}

type Refuse = (why: string, hint?: string) => InvalidGraphError;

/** The checks of OpSchema::Verify (onnx/defs/schema.cc) for one default-domain node at `opset`. */
function verifySchema(node: NodeProto, opset: number, refuse: Refuse): void {
  const opType = node.opType ?? '';
  if (EXPERIMENTAL_OPS.includes(opType)) return;
  const versions = opSchemas(opType);
  if (!versions) throw refuse(`'${opType}' is not an ONNX operator`, "an operator of your own needs a domain of its own, with an opset_import");
  let schema: OpSchema | undefined;
  for (const version of versions) if (version.since <= opset) schema = version;
  if (!schema) throw refuse(`${opType} does not exist at opset ${opset}; ONNX added it at opset ${versions[0].since}`, 'export the model again at a newer opset');
  if (schema.deprecated) throw refuse(`${opType} is deprecated at opset ${opset} (since opset ${schema.since})`, 'export the model again with a current exporter');
  for (const [kind, values, parameters] of [
    ['input', node.input ?? [], schema.inputs],
    ['output', node.output ?? [], schema.outputs],
  ] as const) {
    const range = parameterRange(parameters);
    if (values.length < range[0] || values.length > range[1]) throw refuse(`${opType} takes ${describeRange(range, kind)}, it has ${values.length}`);
    const empty = values.findIndex((value, index) => value === '' && parameters.fixed[index] === 's');
    if (empty >= 0) throw refuse(`its ${kind} ${empty} is empty (''), but ${opType} requires it`);
  }
  const present = new Set<string>();
  for (const attribute of node.attribute ?? []) {
    const name = attribute.name ?? '';
    present.add(name);
    const expected = schema.attributes.get(name);
    if (expected === undefined) {
      // Names starting with two underscores are implementation details the checker ignores.
      if (name.startsWith('__')) continue;
      throw refuse(`${opType} has no attribute '${name}'`);
    }
    const type = attribute.type ?? AttributeType.UNDEFINED;
    if (type !== expected.type) throw refuse(`attribute '${name}' is ${ATTRIBUTE_TYPE_NAMES[type] ?? type}, but ${opType} takes ${ATTRIBUTE_TYPE_NAMES[expected.type]}`);
  }
  for (const [name, { required }] of schema.attributes) {
    if (required && !present.has(name)) throw refuse(`${opType} requires attribute '${name}' (opset ${opset})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Attributes and tensors.

/** Each attribute value field and the type it belongs to (check_attribute in onnx/checker.cc). */
const ATTRIBUTE_FIELDS: readonly (readonly [keyof AttributeProto, number])[] = [
  ['f', AttributeType.FLOAT],
  ['i', AttributeType.INT],
  ['s', AttributeType.STRING],
  ['t', AttributeType.TENSOR],
  ['g', AttributeType.GRAPH],
  ['sparseTensor', AttributeType.SPARSE_TENSOR],
  ['tp', AttributeType.TYPE_PROTO],
  ['floats', AttributeType.FLOATS],
  ['ints', AttributeType.INTS],
  ['strings', AttributeType.STRINGS],
  ['tensors', AttributeType.TENSORS],
  ['graphs', AttributeType.GRAPHS],
  ['sparseTensors', AttributeType.SPARSE_TENSORS],
  ['typeProtos', AttributeType.TYPE_PROTOS],
];

/** Attribute types whose value is a message or a list: they must hold one (FLOAT, INT, STRING may be a default 0 / ''). */
const NEEDS_VALUE = new Set<number>([AttributeType.TENSOR, AttributeType.GRAPH, AttributeType.SPARSE_TENSOR, AttributeType.FLOATS, AttributeType.INTS, AttributeType.STRINGS, AttributeType.TENSORS, AttributeType.GRAPHS]);

/** Whether a decoded (or built) message holds the field: a non-empty list, or a value set on the message itself. */
function holds(message: object, field: string): boolean {
  const value = (message as Record<string, unknown>)[field];
  if (Array.isArray(value) || value instanceof Uint8Array) return value.length > 0;
  return value !== null && value !== undefined && Object.hasOwn(message, field);
}

/** An attribute that is not well formed: no name, no type, or a value in a field its type does not use. */
function attributeProblem(attribute: AttributeProto): string | undefined {
  const name = attribute.name ?? '';
  if (!name) return 'an attribute has no name';
  const type = attribute.type ?? AttributeType.UNDEFINED;
  if (type === AttributeType.UNDEFINED || ATTRIBUTE_TYPE_NAMES[type] === undefined) return `attribute '${name}' has no type`;
  const fields = ATTRIBUTE_FIELDS.filter(([field]) => holds(attribute, field));
  if (fields.length > 1) return `attribute '${name}' holds more than one value (${fields.map(([field]) => field).join(', ')})`;
  if (fields.length === 1 && fields[0][1] !== type) return `attribute '${name}' is ${ATTRIBUTE_TYPE_NAMES[type]} but holds a ${ATTRIBUTE_TYPE_NAMES[fields[0][1]]} value`;
  if (fields.length === 0 && NEEDS_VALUE.has(type)) return `attribute '${name}' is ${ATTRIBUTE_TYPE_NAMES[type]} but holds no values`;
  return undefined;
}

const TYPED_FIELDS: readonly TypedDataField[] = ['floatData', 'int32Data', 'stringData', 'int64Data', 'doubleData', 'uint64Data'];
const snake = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * A tensor the checker (check_tensor) or a runtime would refuse, described in a line; undefined
 * when it is sound. Exactly as many values as the shape needs: onnxruntime refuses more, too.
 */
function tensorProblem(tensor: TensorProto): string | undefined {
  const label = `tensor '${tensor.name ?? ''}'`;
  const dataType = tensor.dataType ?? 0;
  if (!dataType) return `${label} has no data_type (UNDEFINED)`;
  if (!Object.hasOwn(DATA_TYPES, dataType)) return `${label} has data_type ${dataType}, which is not an ONNX type`;
  const info = DATA_TYPES[dataType];
  const dims = tensorDims(tensor);
  const shape = `[${dims.join(', ')}]`;
  const badDim = dims.find((dim) => !Number.isSafeInteger(dim) || dim < 0);
  if (badDim !== undefined) return `${label} has dimension ${badDim} in its shape ${shape}`;
  const fields = [...TYPED_FIELDS, 'rawData'].filter((field) => holds(tensor, field));
  if (tensor.dataLocation === DataLocation.EXTERNAL) {
    if (fields.length > 0) return `${label} is stored externally but also holds ${snake(fields[0])}`;
    if (!(tensor.externalData ?? []).some((entry) => entry.key === 'location')) return `${label} is stored externally but names no location`;
    return undefined;
  }
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (count === 0) return fields.length > 0 ? `${label} has no elements (shape ${shape}) but holds values` : undefined;
  if (fields.length === 0) return `${label} holds no values, but its shape ${shape} needs ${count}`;
  if (fields.length > 1) return `${label} holds values in both ${snake(fields[0])} and ${snake(fields[1])}`;
  const [field] = fields;
  if (field === 'rawData') {
    if (!info.rawBits) return `${label} holds strings in raw_data, where ONNX keeps them in string_data`;
    const bytes = Math.ceil((count * info.rawBits) / 8);
    const held = tensor.rawData!.length;
    return held === bytes ? undefined : `${label} has ${held} bytes of data but its shape ${shape} of ${info.name} needs ${bytes}`;
  }
  if (field !== info.field) return `${label} holds ${info.name} values in ${snake(field)}, where ONNX keeps them in ${snake(info.field)}`;
  const needed = Math.ceil(count * info.perElement);
  const held = ((tensor as Record<string, unknown>)[field] as unknown[]).length;
  return held === needed ? undefined : `${label} has ${held} values but its shape ${shape} of ${info.name} needs ${needed}`;
}

/** A graph input or output without a name or element type (check_value_info: the main graph's need a type). */
function valueInfoProblem(value: ValueInfoProto, role: 'input' | 'output'): string | undefined {
  if (!value.name) return `a graph ${role} has no name`;
  const type = value.type;
  const tensorType = type?.tensorType ?? type?.sparseTensorType;
  if (tensorType) {
    const elemType = tensorType.elemType ?? 0;
    if (!elemType) return `graph ${role} '${value.name}' has no element type`;
    if (!Object.hasOwn(DATA_TYPES, elemType)) return `graph ${role} '${value.name}' has element type ${elemType}, which is not an ONNX type`;
    return undefined;
  }
  return type?.sequenceType || type?.mapType || type?.optionalType ? undefined : `graph ${role} '${value.name}' has no type`;
}

// ---------------------------------------------------------------------------------------------
// The checker's rules, model, graph and node.

/** The default-domain opset the model imports, after checking every opset_import. */
function checkOpsetImports(model: OnnxModel): number {
  const file = model.source;
  const versions = new Map<string, number>();
  for (const opset of model.proto.opsetImport ?? []) {
    const domain = isDefaultDomain(opset.domain) ? '' : opset.domain!;
    const version = toNumber(opset.version);
    const label = domain || 'ai.onnx';
    // The checker refuses any version outside int32; a default-domain opset starts at 1.
    const least = domain === '' ? 1 : -(2 ** 31);
    if (!Number.isSafeInteger(version) || version < least || version > 2 ** 31 - 1) throw new InvalidGraphError(`opset_import for domain '${label}' has version ${version}`, { file, hint: MALFORMED_HINT });
    if (domain === '' && version > MAX_OPSET) {
      throw new InvalidGraphError(`opset_import names ONNX opset ${version}, newer than opset ${MAX_OPSET}, the newest known`, { file, hint: `export the model again at opset ${MAX_OPSET} or older` });
    }
    const earlier = versions.get(domain);
    if (earlier !== undefined && earlier !== version) throw new InvalidGraphError(`opset_import names domain '${label}' twice, at versions ${earlier} and ${version}`, { file, hint: MALFORMED_HINT });
    versions.set(domain, version);
  }
  return versions.get('') ?? 0;
}

/**
 * The ONNX checker's rules beyond the value rules of checkGraphStructure (onnx/checker.cc,
 * check_model, check_graph, check_node, check_attribute, check_tensor, and OpSchema::Verify
 * against op-schemas.ts). Throws InvalidGraphError naming the node, or the value or tensor.
 */
function checkCheckerRules(model: OnnxModel): void {
  const file = model.source;
  const ir = toNumber(model.proto.irVersion);
  if (ir < 3) throw new InvalidGraphError(`ir_version ${ir} predates opset imports (ONNX IR 3); no tool writes it with an opset_import`, { file, hint: MALFORMED_HINT });
  if (ir > MAX_IR_VERSION) throw new InvalidGraphError(`ir_version ${ir} is newer than ONNX IR ${MAX_IR_VERSION}, the newest known`, { file, hint: MALFORMED_HINT });
  const opset = checkOpsetImports(model);
  const imported = new Set((model.proto.opsetImport ?? []).map((entry) => (isDefaultDomain(entry.domain) ? '' : entry.domain!)));
  const keys = new Set<string>();
  for (const entry of model.proto.metadataProps ?? []) {
    if (keys.has(entry.key ?? '')) throw new InvalidGraphError(`metadata_props has the key '${entry.key}' twice`, { file, hint: MALFORMED_HINT });
    keys.add(entry.key ?? '');
  }
  const main = graphOf(model);
  // The graphs to check: the model's, then every subgraph (If branches, Loop bodies) met on the way.
  const pending: GraphProto[] = [main];
  for (let graph = pending.pop(); graph !== undefined; graph = pending.pop()) {
    const isMain = graph === main;
    const refuseIn = (why: string, node?: string, hint = MALFORMED_HINT) => new InvalidGraphError(why, { file, node, hint });
    if (!graph.name) throw refuseIn(isMain ? 'the graph has no name (the ONNX checker requires one)' : 'a subgraph has no name (the ONNX checker requires one)');
    const inputs = new Set<string>();
    for (const [role, values] of [
      ['input', graph.input ?? []],
      ['output', graph.output ?? []],
    ] as const) {
      for (const value of values) {
        const problem = isMain ? valueInfoProblem(value, role) : value.name ? undefined : `a subgraph ${role} has no name`;
        if (problem) throw refuseIn(problem);
        if (role !== 'input') continue;
        if (inputs.has(value.name!)) throw refuseIn(`graph input '${value.name}' is listed twice`);
        inputs.add(value.name!);
      }
    }
    const initializers = new Set<string>();
    const tensors = [...(graph.initializer ?? []), ...(graph.sparseInitializer ?? []).map((sparse) => sparse.values ?? { name: '' })];
    for (const tensor of tensors) {
      const name = tensor.name ?? '';
      if (!name) throw refuseIn('an initializer has no name');
      if (initializers.has(name)) throw refuseIn(`initializer '${name}' is defined twice`);
      initializers.add(name);
      if (ir <= 3 && isMain && !inputs.has(name)) throw refuseIn(`initializer '${name}' is not a graph input, which ir_version ${ir} requires (initializers are listed as inputs before IR 4)`);
      const problem = tensorProblem(tensor);
      if (problem) throw refuseIn(problem, undefined, CORRUPT_HINT);
    }
    (graph.node ?? []).forEach((node, position) => {
      const name = nodeName(node, position);
      const refuse: Refuse = (why, hint = MALFORMED_HINT) => refuseIn(why, name, hint);
      if ((node.input ?? []).length === 0 && (node.output ?? []).length === 0) throw refuse('it has no inputs and no outputs');
      const domain = isDefaultDomain(node.domain) ? '' : node.domain!;
      if (!imported.has(domain)) throw refuse(`its domain '${domain || 'ai.onnx'}' has no opset_import in the model`);
      const seen = new Set<string>();
      for (const attribute of node.attribute ?? []) {
        const problem = attributeProblem(attribute);
        if (problem) throw refuse(problem);
        if (seen.has(attribute.name!)) throw refuse(`attribute '${attribute.name}' appears more than once`);
        seen.add(attribute.name!);
        for (const tensor of [attribute.t, ...(attribute.tensors ?? [])]) {
          const tensorIssue = tensor ? tensorProblem(tensor) : undefined;
          if (tensorIssue) throw refuse(`attribute '${attribute.name}': ${tensorIssue}`, CORRUPT_HINT);
        }
        for (const subgraph of [attribute.g, ...(attribute.graphs ?? [])]) if (subgraph) pending.push(subgraph);
      }
      if (domain === '') verifySchema(node, opset, refuse);
    });
  }
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
