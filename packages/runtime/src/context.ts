import { ShapeError, UnsupportedError } from '@deprune/errors';
import type { KernelBackend, KernelSignatures } from '@deprune/kernels';
import type { LayerPlanEntry } from '@deprune/masks';
import {
  constantSource,
  decodeNumericTensor,
  isFloatTensor,
  NodeReader,
  readFloatConstant,
  type GraphIndex,
  type LayerInfo,
  type NodeProto,
} from '@deprune/onnx';
import { tensor } from '@deprune/tensor';
import type { BackendMode } from './backends';
import type { Fusion } from './fusion';
import type { HostTensor, PlanLayerUse } from './types';

/**
 * What a graph compile knows before run time, shared by every node's compiler: the graph index,
 * static shapes and small values from @deprune/onnx's shape inference at the session's input
 * shapes, the Conv/Gemm layer list, the plan entries, the fusions, and the kernel backend.
 */
export interface GraphState {
  readonly index: GraphIndex;
  readonly opset: number;
  readonly mode: BackendMode;
  /** The session's kernel backend: every device step's kernels come from it. */
  readonly backend: KernelBackend;
  readonly shapes: ReadonlyMap<string, number[]>;
  readonly values: ReadonlyMap<string, number[]>;
  readonly layers: ReadonlyMap<string, LayerInfo>;
  /** Plan entries by layer name, for the masking variants; empty without a plan (or for `channel`). */
  readonly planEntries: ReadonlyMap<string, LayerPlanEntry>;
  /** Run DEPrune-planned layers on the sparse kernels (default); false runs them dense on the same weights. */
  readonly sparse: boolean;
  /** Filled by the compile's fusion pass before any node compiles. */
  readonly fusions: Map<string, Fusion>;
  /** DW node name -> the PW node run in the same `dsconv` step (chains.ts); filled before any node compiles. */
  readonly chains: Map<string, NodeProto>;
  /** Decoded constants, by value name, so a weight shared by several nodes is decoded once. */
  readonly constantCache: Map<string, HostTensor>;
  /** What each plan layer ran on; op compilers append. */
  readonly planUses: PlanLayerUse[];
}

/**
 * A constant value as float32: an initializer or Constant node (through Identity chains), or a
 * value shape inference computed; undefined for values only known at run time. Cached per graph.
 */
export function readConstant(graph: GraphState, name: string): HostTensor | undefined {
  const cached = graph.constantCache.get(name);
  if (cached !== undefined) return cached;
  let found: HostTensor | undefined;
  const source = constantSource(graph.index, name);
  if (source !== undefined) {
    const entry = graph.index.constants.get(source)!;
    if (isFloatTensor(entry.proto)) found = readFloatConstant(graph.index, source);
    else {
      const { dims, values } = decodeNumericTensor(entry.proto, { file: graph.index.model.source, readExternal: graph.index.model.readExternal });
      found = tensor(Float32Array.from(values), dims);
    }
  } else {
    const values = graph.values.get(name);
    const shape = graph.shapes.get(name);
    if (values !== undefined && shape !== undefined) found = tensor(Float32Array.from(values), shape);
  }
  if (found !== undefined) graph.constantCache.set(name, found);
  return found;
}

/** A node's inputs as the step sees them: a run-time value, or a tensor fixed at compile time. */
export type Operand = { kind: 'value'; name: string } | { kind: 'constant'; name: string; tensor: HostTensor };

/**
 * One node, as its op compiler sees it: names, static shapes, attributes, constants, the kernel
 * functions of the session's mode, and its plan entry and fusion. Every error it raises names
 * the node and the model file.
 */
export class NodeContext extends NodeReader {
  constructor(
    node: NodeProto,
    readonly graph: GraphState,
  ) {
    super(node);
  }

  get name(): string {
    return this.node.name ?? '';
  }

  get opType(): string {
    return this.node.opType ?? '';
  }

  get opset(): number {
    return this.graph.opset;
  }

  get mode(): BackendMode {
    return this.graph.mode;
  }

  get file(): string {
    return this.graph.index.model.source;
  }

  output(index: number): string {
    return this.node.output?.[index] ?? '';
  }

  /** The static shape of a value (a node input by position, or a value name). */
  shape(ref: number | string): number[] {
    const name = typeof ref === 'number' ? this.input(ref) : ref;
    const shape = this.graph.shapes.get(name);
    if (shape === undefined) throw this.error(`the shape of '${name}' is not known before run time`, 'shape inference could not resolve it; see deprune inspect');
    return shape;
  }

  /** The output shape of the node (its first output unless `index`). */
  outputShape(index = 0): number[] {
    return this.shape(this.output(index));
  }

  /** Values of a small tensor known at compile time (shape operands, axes, scales), if any. */
  value(index: number): number[] | undefined {
    return this.has(index) ? this.graph.values.get(this.input(index)) : undefined;
  }

  /** Like `value`, but a run-time operand is an UnsupportedError naming it. */
  needValue(index: number, what: string): number[] {
    const value = this.value(index);
    if (value === undefined) throw this.unsupported(`its ${what} ('${this.input(index)}') is computed at run time; the runtime needs it before the run`);
    return value;
  }

  /** A constant input as a float32 tensor: an initializer, a Constant node, or a value folded at compile time. */
  constant(index: number): HostTensor | undefined {
    return this.has(index) ? this.constantNamed(this.input(index)) : undefined;
  }

  constantNamed(name: string): HostTensor | undefined {
    return readConstant(this.graph, name);
  }

  /** Input `index` as an operand: a constant when known at compile time, else the run-time value. */
  operand(index: number): Operand {
    const name = this.input(index);
    const constant = this.constant(index);
    return constant === undefined ? { kind: 'value', name } : { kind: 'constant', name, tensor: constant };
  }

  /** The Conv/Gemm layer record of this node (geometry with auto_pad resolved). */
  layer(): LayerInfo {
    const info = this.graph.layers.get(this.name);
    if (info === undefined) throw this.error('is not in the layer list', 'this is a bug in deprune; please report it');
    return info;
  }

  planEntry(): LayerPlanEntry | undefined {
    return this.graph.planEntries.get(this.name);
  }

  fusion(): Fusion | undefined {
    return this.graph.fusions.get(this.name);
  }

  /** The kernel `name` of the session's backend. */
  kernel<Name extends keyof KernelSignatures>(name: Name): KernelSignatures[Name] {
    return this.graph.backend.kernel(name);
  }

  unsupported(reason: string, hint?: string): UnsupportedError {
    return new UnsupportedError(`${this.opType} ${reason}`, { file: this.file, node: this.name, hint });
  }

  error(reason: string, hint?: string): ShapeError {
    return new ShapeError(`${this.opType} ${reason}`, { file: this.file, node: this.name, hint });
  }
}
