import { AttributeType, toNumber, type AttributeProto, type NodeProto, type TensorProto } from './proto';


function find(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((attribute) => attribute.name === name);
}

export function hasAttribute(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = find(node, name);
  return attribute ? toNumber(attribute.i) : fallback;
}

export function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = find(node, name);
  return attribute ? (attribute.f ?? fallback) : fallback;
}

export function intsAttribute(node: NodeProto, name: string): number[] | undefined {
  const attribute = find(node, name);
  return attribute ? (attribute.ints ?? []).map(toNumber) : undefined;
}

export function floatsAttribute(node: NodeProto, name: string): number[] | undefined {
  const attribute = find(node, name);
  return attribute ? [...(attribute.floats ?? [])] : undefined;
}

export function stringAttribute(node: NodeProto, name: string, fallback: string): string {
  const attribute = find(node, name);
  return attribute?.s ? new TextDecoder().decode(attribute.s) : fallback;
}

export function tensorAttribute(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t ?? undefined;
}

/** Attribute values the graph builder accepts; see `makeAttribute` for how numbers are typed. */
export type AttributeValue = number | string | readonly number[] | TensorProto | { float: number } | { floats: readonly number[] };

/** Attributes that ONNX defines as FLOAT even when the value happens to be whole (Clip min=0). */
const FLOAT_ATTRIBUTES = new Set(['alpha', 'beta', 'epsilon', 'momentum', 'min', 'max', 'bias', 'gamma', 'lambd', 'ratio', 'scale', 'value_float', 'extrapolation_value', 'cubic_coeff_a', 'spatial_scale']);

function isNumberList(value: AttributeValue): value is readonly number[] {
  return Array.isArray(value);
}

/**
 * A node's input names and attributes, read with ONNX's conventions (an omitted optional input is
 * ''; an absent attribute takes its default): the base of every per-node context (shape
 * inference's OpContext, the runtime's NodeContext), so both read a node the same way.
 */
export class NodeReader {
  constructor(readonly node: NodeProto) {}

  /** The name of input `index` ('' when omitted). */
  input(index: number): string {
    return this.node.input?.[index] ?? '';
  }

  /** True when optional input `index` is present (not omitted, not ''). */
  has(index: number): boolean {
    return this.input(index) !== '';
  }

  get inputCount(): number {
    return (this.node.input ?? []).length;
  }

  int(name: string, fallback: number): number {
    return intAttribute(this.node, name, fallback);
  }

  ints(name: string): number[] | undefined {
    return intsAttribute(this.node, name);
  }

  float(name: string, fallback: number): number {
    return floatAttribute(this.node, name, fallback);
  }

  str(name: string, fallback: string): string {
    return stringAttribute(this.node, name, fallback);
  }
}

/**
 * Builds an AttributeProto. Numbers become INT when whole and FLOAT otherwise, except
 * the attributes ONNX types as FLOAT (see FLOAT_ATTRIBUTES); `{ float }` forces FLOAT.
 */
export function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) && !FLOAT_ATTRIBUTES.has(name)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (isNumberList(value)) {
    const numbers = value;
    return numbers.every(Number.isInteger) && !FLOAT_ATTRIBUTES.has(name)
      ? { name, type: AttributeType.INTS, ints: [...numbers] }
      : { name, type: AttributeType.FLOATS, floats: [...numbers] };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  return { name, type: AttributeType.TENSOR, t: value };
}
