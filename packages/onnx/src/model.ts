import { DeprunError, ModelFileError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import { WireFormatError, decodeModel, encodeModel, toNumber, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto';
import { decodeFloatTensor, decodeNumericTensor, encodeFloatTensor, tensorDims, type ExternalDataReader } from './tensor-proto';

/**
 * A loaded ONNX model. The protobuf is treated as immutable: rewrites return a new
 * OnnxModel that shares every untouched part with the old one.
 */
export interface OnnxModel {
  readonly proto: ModelProto;
  /** The file it came from, or a label such as '<bytes>'; used in every error message. */
  readonly source: string;
  /** Reads external tensor data, confined to the model's folder (set by the Node loader). */
  readonly readExternal?: ExternalDataReader;
  /**
   * The bytes of the file it was loaded from (set by the Node loader; the parsed tensors are
   * views into them, so keeping them costs nothing). A plan records its model file's hash and
   * is checked against these. Rewrites drop them: the result is no longer that file.
   */
  readonly fileBytes?: Uint8Array;
}

export interface ParseOptions {
  /** Name used in error messages (the file path when there is one). */
  source?: string;
  readExternal?: ExternalDataReader;
}

const PROTOBUF_HINT = 'the file is not a valid ONNX model (truncated, corrupt, or another format); export it again';

/**
 * Decodes and validates an ONNX model. Bytes whose protobuf wire format the official decoders
 * would not read the same way are refused (protobuf.ts). A decodable protobuf that is not an ONNX model
 * (no graph, no opset, nodes without op types) is refused as firmly as random bytes.
 * Nodes without a name get `<op_type>_<index>`: plans and reports address layers by
 * node name, so every node needs one.
 */
export function parseModel(bytes: Uint8Array, options: ParseOptions = {}): OnnxModel {
  const source = options.source ?? '<bytes>';
  if (bytes.length === 0) throw new ModelFileError('INVALID_MODEL', 'the file is empty', { file: source, hint: PROTOBUF_HINT });
  let proto: ModelProto;
  try {
    proto = decodeModel(bytes);
  } catch (cause) {
    if (!(cause instanceof WireFormatError)) throw cause;
    throw new ModelFileError('INVALID_MODEL', `cannot decode ONNX protobuf: ${cause.message}`, { file: source, hint: PROTOBUF_HINT, cause });
  }
  validateModel(proto, source);
  nameAnonymousNodes(proto.graph as GraphProto);
  return { proto, source, readExternal: options.readExternal };
}

function validateModel(proto: ModelProto, source: string): void {
  const problems: string[] = [];
  if (toNumber(proto.irVersion) <= 0) problems.push('no ir_version');
  if (!proto.opsetImport || proto.opsetImport.length === 0) problems.push('no opset_import');
  const graph = proto.graph;
  if (!graph) problems.push('no graph');
  else {
    if (!graph.node || graph.node.length === 0) problems.push('a graph without nodes');
    if (!graph.output || graph.output.length === 0) problems.push('a graph without outputs');
    const untyped = (graph.node ?? []).findIndex((node) => !node.opType);
    if (untyped >= 0) problems.push(`node #${untyped} without op_type`);
  }
  if (problems.length > 0) {
    throw new ModelFileError('INVALID_MODEL', `not an ONNX model: ${problems.join(', ')}`, { file: source, hint: PROTOBUF_HINT });
  }
}

function nameAnonymousNodes(graph: GraphProto): void {
  const taken = new Set((graph.node ?? []).map((node) => node.name).filter(Boolean));
  (graph.node ?? []).forEach((node, index) => {
    if (node.name) return;
    let name = `${node.opType}_${index}`;
    while (taken.has(name)) name = `${name}_`;
    taken.add(name);
    node.name = name;
  });
}

export function serializeModel(model: OnnxModel): Uint8Array {
  return encodeModel(model.proto);
}

export function graphOf(model: OnnxModel): GraphProto {
  return model.proto.graph as GraphProto;
}

export function nodesOf(model: OnnxModel): NodeProto[] {
  return graphOf(model).node ?? [];
}

/** The opset version of the default ('' or 'ai.onnx') domain. */
export function opsetVersion(model: OnnxModel): number {
  const entry = (model.proto.opsetImport ?? []).find((opset) => !opset.domain || opset.domain === 'ai.onnx');
  return entry ? toNumber(entry.version) : 0;
}

/** Where a constant tensor is stored: a graph initializer, or the `value` of a Constant node. */
export interface ConstantEntry {
  readonly name: string;
  readonly proto: TensorProto;
  readonly storage: 'initializer' | 'constant-node';
}

/**
 * Lookups over one graph, built once: which node produces a value, which nodes consume
 * it, which values are constants, and the real (non-initializer) graph inputs.
 */
export interface GraphIndex {
  readonly model: OnnxModel;
  readonly nodes: readonly NodeProto[];
  readonly producer: ReadonlyMap<string, NodeProto>;
  readonly consumers: ReadonlyMap<string, readonly NodeProto[]>;
  readonly constants: ReadonlyMap<string, ConstantEntry>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export function indexGraph(model: OnnxModel): GraphIndex {
  const graph = graphOf(model);
  const nodes = graph.node ?? [];
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  const constants = new Map<string, ConstantEntry>();
  for (const initializer of graph.initializer ?? []) {
    constants.set(initializer.name ?? '', { name: initializer.name ?? '', proto: initializer, storage: 'initializer' });
  }
  for (const node of nodes) {
    for (const output of node.output ?? []) if (output) producer.set(output, node);
    for (const input of node.input ?? []) {
      if (!input) continue;
      const list = consumers.get(input) ?? [];
      list.push(node);
      consumers.set(input, list);
    }
    if (node.opType === 'Constant') {
      const value = (node.attribute ?? []).find((attribute) => attribute.name === 'value')?.t;
      const output = node.output?.[0];
      if (value && output) constants.set(output, { name: output, proto: { ...value, name: output }, storage: 'constant-node' });
    }
  }
  const inputs = (graph.input ?? []).map((input) => input.name ?? '').filter((name) => !constants.has(name));
  const outputs = (graph.output ?? []).map((output) => output.name ?? '');
  return { model, nodes, producer, consumers, constants, inputs, outputs };
}

/** A constant float tensor (weights, BN statistics) by value name, or undefined if the value is not constant. */
export function readFloatConstant(index: GraphIndex, name: string): Tensor<Float32Array> | undefined {
  const entry = index.constants.get(name);
  if (!entry) return undefined;
  return decodeFloatTensor(entry.proto, { file: index.model.source, readExternal: index.model.readExternal });
}

/** A constant integer/float tensor as plain numbers (shape operands, axes, pads). */
export function readNumericConstant(index: GraphIndex, name: string): { dims: number[]; values: number[] } | undefined {
  const entry = index.constants.get(name);
  if (!entry) return undefined;
  return decodeNumericTensor(entry.proto, { file: index.model.source, readExternal: index.model.readExternal });
}

export function constantDims(index: GraphIndex, name: string): number[] | undefined {
  const entry = index.constants.get(name);
  return entry ? tensorDims(entry.proto) : undefined;
}

/**
 * Returns a new model whose named constants (initializers or Constant nodes) hold the
 * given float32 values, stored as `raw_data`. Shapes may change (physical pruning)
 * when `dims` is given; otherwise the value count must match the stored shape.
 * Unknown names are an error: a silent no-op would hide a wrong layer name.
 */
export function replaceConstants(
  model: OnnxModel,
  replacements: ReadonlyMap<string, { values: ArrayLike<number>; dims?: readonly number[] }>,
): OnnxModel {
  const index = indexGraph(model);
  for (const name of replacements.keys()) {
    if (!index.constants.has(name)) {
      throw new DeprunError('INVALID_MODEL', `no constant tensor named '${name}' to replace`, { file: model.source });
    }
  }
  const encode = (name: string, old: TensorProto): TensorProto => {
    const replacement = replacements.get(name)!;
    return encodeFloatTensor(name, replacement.values, replacement.dims ?? tensorDims(old));
  };
  const graph = graphOf(model);
  const initializer = (graph.initializer ?? []).map((tensorProto) =>
    replacements.has(tensorProto.name ?? '') ? encode(tensorProto.name ?? '', tensorProto) : tensorProto,
  );
  const node = (graph.node ?? []).map((current) => {
    const output = current.output?.[0] ?? '';
    if (current.opType !== 'Constant' || !replacements.has(output)) return current;
    const attribute = (current.attribute ?? []).map((attr) =>
      attr.name === 'value' && attr.t ? { ...attr, t: { ...encode(output, attr.t), name: attr.t.name ?? '' } } : attr,
    );
    return { ...current, attribute };
  });
  return withGraph(model, { ...graph, initializer, node });
}

/** A new model with the graph replaced (the rest of the ModelProto shared). */
export function withGraph(model: OnnxModel, graph: GraphProto): OnnxModel {
  // Not `...model`: the file's bytes no longer describe the rewritten model.
  return { source: model.source, readExternal: model.readExternal, proto: { ...model.proto, graph } };
}
