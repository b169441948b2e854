/**
 * What every shape rule works with: the OpContext a rule reads its inputs from and sets its
 * outputs on, the value bounds, and small helpers. The rules themselves are in this folder by op
 * family; index.ts is the table shapes.ts looks them up in.
 */
import { NodeReader } from '../attributes';
import { type NodeProto } from '../proto';
import { elementCount } from '../small-tensor';

/** Tensors with at most this many elements have their values tracked. */
export const MAX_VALUE_ELEMENTS = 1024;

/**
 * Inferred values with more elements are refused (the node stays unresolved, with the reason): no
 * typed array or texture holds them, and a model asking for one (a pad of 10^9) kept the runtime
 * busy for minutes where it should have said no. The same bound as the CLI's input shapes.
 */
export const MAX_INFERRED_ELEMENTS = 2 ** 31;

export class Unresolvable extends Error {}

export interface ShapeState {
  readonly shapes: Map<string, number[]>;
  readonly values: Map<string, number[]>;
  readonly types: Map<string, number>;
}

const INTEGER_TYPES: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

export function isIntegerType(type: number | undefined): boolean {
  return type !== undefined && INTEGER_TYPES.has(type);
}

export class OpContext extends NodeReader {
  constructor(
    node: NodeProto,
    readonly opset: number,
    private readonly state: ShapeState,
  ) {
    super(node);
  }

  fail(reason: string): never {
    throw new Unresolvable(reason);
  }

  shape(index: number): number[] {
    const name = this.input(index);
    if (!name) this.fail(`input #${index} is missing`);
    const shape = this.state.shapes.get(name);
    if (!shape) this.fail(`input '${name}' has no inferred shape`);
    return shape;
  }

  rank(index: number): number {
    return this.shape(index).length;
  }

  value(index: number): number[] | undefined {
    const name = this.input(index);
    return name ? this.state.values.get(name) : undefined;
  }

  /** A shape operand's values; failing names the input so the user sees what was dynamic. */
  needValue(index: number, what: string): number[] {
    const value = this.value(index);
    if (!value) this.fail(`${what} ('${this.input(index)}') is computed at run time from values that cannot be inferred statically`);
    return value;
  }

  type(index: number): number | undefined {
    const name = this.input(index);
    return name ? this.state.types.get(name) : undefined;
  }

  /** Sets output `index` (skipped when the node does not name it). */
  set(index: number, shape: readonly number[], value?: readonly number[], type?: number): void {
    const name = this.node.output?.[index];
    if (!name) return;
    if (shape.some((dim) => !Number.isInteger(dim) || dim < 0)) this.fail(`computed an invalid output shape [${shape.join(', ')}]`);
    if (elementCount(shape) > MAX_INFERRED_ELEMENTS) this.fail(`output [${shape.join(', ')}] would have ${elementCount(shape)} elements, over the limit of 2^31`);
    this.state.shapes.set(name, [...shape]);
    const outType = type ?? this.type(0);
    if (outType !== undefined) this.state.types.set(name, outType);
    if (value && value.length === elementCount(shape) && value.length <= MAX_VALUE_ELEMENTS) this.state.values.set(name, [...value]);
  }
}

export type Rule = (ctx: OpContext) => void;

export function normalizeAxis(ctx: OpContext, axis: number, rank: number): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return normalized;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
