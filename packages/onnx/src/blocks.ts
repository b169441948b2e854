import { intAttribute, intsAttribute } from './attributes';
import { consumersOf, isGraphOutput } from './effective';
import { constantSource, listLayers, type LayerInfo } from './layers';
import { constantDims, indexGraph, readNumericConstant, type GraphIndex, type OnnxModel } from './model';
import type { NodeProto } from './proto';

export interface SqueezeExcitation {
  /** The branch from the pooling node to the gate's input (the gate itself excluded), in graph order. */
  nodes: string[];
  /** The first conv (or Gemm/MatMul) of the branch: the channel reduction. */
  reduce?: string;
  /** The last conv of the branch when it has two or more: the channel expansion. */
  expand?: string;
  /** The Mul that scales the main path by the branch. */
  gate: string;
}

/** A depth-wise conv followed by a point-wise conv (method.md's DSConv block). */
export interface DsconvBlock {
  dw: string;
  pw: string;
  /** Nodes between DW and PW on the main path (activation sub-nodes and the SE gate included), in graph order. */
  between: string[];
  betweenOps: string[];
  squeezeExcitation?: SqueezeExcitation;
}

/** Single-input ops (other inputs constant) that act per element and keep the channel layout. */
const PASS_THROUGH = new Set([
  'BatchNormalization', 'Relu', 'Clip', 'HardSigmoid', 'HardSwish', 'Sigmoid', 'Tanh', 'LeakyRelu', 'PRelu', 'Elu', 'Selu',
  'Celu', 'Softplus', 'Mish', 'Gelu', 'Identity', 'Dropout',
]);
/** Binary ops allowed with a constant that is a scalar or per-channel ([C,1,1] / [1,C,1,1]). */
const CHANNELWISE_BINARY = new Set(['Mul', 'Add', 'Sub', 'Div', 'Pow']);
/** Ops a gating activation branch (SiLU, hard-swish written out) may contain. */
const ACTIVATION_BRANCH = new Set(['Sigmoid', 'HardSigmoid', 'Clip', 'Relu', 'Tanh', 'Identity', 'Mul', 'Add', 'Sub', 'Div']);
/** Ops a squeeze-excitation branch may contain after its pooling node. */
const SE_BRANCH = new Set([
  ...PASS_THROUGH, 'Mul', 'Add', 'Sub', 'Div', 'Conv', 'Gemm', 'MatMul', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze',
]);
/** A branch longer than this is not an activation or SE branch. */
const MAX_BRANCH_NODES = 48;

interface Step {
  nodes: NodeProto[];
  output: string;
  se?: { branch: NodeProto[]; gate: NodeProto };
}

class BlockWalker {
  private readonly order = new Map<NodeProto, number>();

  constructor(
    private readonly index: GraphIndex,
    private readonly kinds: ReadonlyMap<string, LayerInfo>,
  ) {
    index.nodes.forEach((node, i) => this.order.set(node, i));
  }

  private isConstant(name: string): boolean {
    return !name || constantSource(this.index, name) !== undefined;
  }

  private sorted(nodes: Iterable<NodeProto>): NodeProto[] {
    return [...nodes].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }

  /** A constant that broadcasts per channel (scalar, [1], [C,1,1], [1,C,1,1]) against an NCHW tensor. */
  private isChannelwiseConstant(name: string, channels: number): boolean {
    const source = constantSource(this.index, name);
    if (!source) return false;
    const dims = constantDims(this.index, source)!;
    if (dims.length > 4) return false;
    const padded = [...new Array<number>(4 - dims.length).fill(1), ...dims];
    return padded[0] === 1 && padded[2] === 1 && padded[3] === 1 && (padded[1] === 1 || padded[1] === channels);
  }

  /** Only output[0] of the node is used (Dropout masks, BN training outputs are not). */
  private onlyFirstOutputUsed(node: NodeProto): boolean {
    return (node.output ?? []).slice(1).every((output) => !output || (consumersOf(this.index, output).length === 0 && !isGraphOutput(this.index, output)));
  }

  /** `node` applied to main-path value `value` acts per element/channel and keeps its layout. */
  private isPassThrough(node: NodeProto, value: string, channels: number): boolean {
    const inputs = node.input ?? [];
    const op = node.opType ?? '';
    if (PASS_THROUGH.has(op)) {
      return inputs[0] === value && inputs.slice(1).every((input) => this.isConstant(input)) && this.onlyFirstOutputUsed(node);
    }
    if (CHANNELWISE_BINARY.has(op) && inputs.length === 2) {
      const other = inputs[0] === value ? inputs[1] : inputs[1] === value ? inputs[0] : undefined;
      return other !== undefined && other !== value && this.isChannelwiseConstant(other, channels);
    }
    return false;
  }

  private isSpatialPool(node: NodeProto, value: string): boolean {
    if (node.input?.[0] !== value) return false;
    if (node.opType === 'GlobalAveragePool') return true;
    if (node.opType !== 'ReduceMean' || intAttribute(node, 'keepdims', 1) !== 1) return false;
    const axesInput = node.input?.[1];
    const axes = axesInput ? readNumericConstant(this.index, axesInput)?.values : intsAttribute(node, 'axes');
    if (!axes) return false;
    const normalized = new Set(axes.map((axis) => (axis < 0 ? axis + 4 : axis)));
    return normalized.size === 2 && normalized.has(2) && normalized.has(3);
  }

  /**
   * The side branch that starts at `value` and ends in the gate's other input `gated`:
   * every node between them, provided the branch is closed (reads only `value`, its own
   * outputs and constants; its outputs go only to itself and the gate).
   */
  private sideBranch(value: string, gated: string, gate: NodeProto): NodeProto[] | undefined {
    const branch = new Set<NodeProto>();
    const pending = [gated];
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === value || this.isConstant(name)) continue;
      const producer = this.index.producer.get(name);
      if (!producer || producer === gate) return undefined;
      if (branch.has(producer)) continue;
      branch.add(producer);
      if (branch.size > MAX_BRANCH_NODES) return undefined;
      pending.push(...(producer.input ?? []));
    }
    for (const node of branch) {
      for (const output of node.output ?? []) {
        if (!output) continue;
        if (isGraphOutput(this.index, output)) return undefined;
        if (consumersOf(this.index, output).some((consumer) => consumer !== gate && !branch.has(consumer))) return undefined;
      }
    }
    const readsValue = [...branch].some((node) => (node.input ?? []).includes(value));
    return readsValue ? this.sorted(branch) : undefined;
  }

  /** A Mul reading `value` and a side branch of `value`: a gating activation or an SE. */
  private gate(value: string, consumers: readonly NodeProto[]): Step | undefined {
    for (const gate of consumers) {
      const inputs = gate.input ?? [];
      if (gate.opType !== 'Mul' || inputs.length !== 2 || !inputs.includes(value)) continue;
      const gated = inputs[0] === value ? inputs[1] : inputs[0];
      if (gated === value || this.isConstant(gated)) continue;
      const branch = this.sideBranch(value, gated, gate);
      if (!branch) continue;
      // Every reader of `value` must be the gate or inside the branch.
      if (consumers.some((consumer) => consumer !== gate && !branch.includes(consumer))) continue;
      const pools = branch.filter((node) => this.isSpatialPool(node, value));
      if (pools.length === 1) {
        const readers = branch.filter((node) => (node.input ?? []).includes(value));
        const valid = readers.length === 1 && readers[0] === pools[0] && branch.every((node) => node === pools[0] || SE_BRANCH.has(node.opType ?? ''));
        if (valid) return { nodes: [gate], output: gate.output![0], se: { branch, gate } };
        continue;
      }
      if (branch.every((node) => ACTIVATION_BRANCH.has(node.opType ?? ''))) {
        return { nodes: this.sorted([...branch, gate]), output: gate.output![0] };
      }
    }
    return undefined;
  }

  /** Walks forward from a DW conv to the first PW conv; undefined when the path leaves the allowed patterns. */
  walk(dw: NodeProto, channels: number): DsconvBlock | undefined {
    let value = dw.output?.[0] ?? '';
    const between: NodeProto[] = [];
    let se: { branch: NodeProto[]; gate: NodeProto } | undefined;
    for (let steps = 0; steps < 64; steps++) {
      if (!value || isGraphOutput(this.index, value)) return undefined;
      const consumers = consumersOf(this.index, value);
      if (consumers.length === 0) return undefined;
      let step: Step | undefined;
      if (consumers.length === 1) {
        const [next] = consumers;
        if (next.opType === 'Conv' && this.kinds.get(next.name ?? '')?.kind === 'pw' && next.input?.[0] === value) {
          const ordered = this.sorted(between);
          return {
            dw: dw.name ?? '',
            pw: next.name ?? '',
            between: ordered.map((node) => node.name ?? ''),
            betweenOps: ordered.map((node) => node.opType ?? ''),
            ...(se
              ? {
                  squeezeExcitation: {
                    nodes: se.branch.map((node) => node.name ?? ''),
                    ...seConvs(se.branch),
                    gate: se.gate.name ?? '',
                  },
                }
              : {}),
          };
        }
        if (this.isPassThrough(next, value, channels)) step = { nodes: [next], output: next.output![0] };
      } else {
        step = this.gate(value, consumers);
      }
      if (!step) return undefined;
      if (step.se) {
        if (se) return undefined; // one SE per block
        se = step.se;
      }
      between.push(...step.nodes);
      value = step.output;
    }
    return undefined;
  }
}

function seConvs(branch: readonly NodeProto[]): { reduce?: string; expand?: string } {
  const convs = branch.filter((node) => node.opType === 'Conv' || node.opType === 'Gemm' || node.opType === 'MatMul');
  if (convs.length === 0) return {};
  return { reduce: convs[0].name ?? '', ...(convs.length > 1 ? { expand: convs[convs.length - 1].name ?? '' } : {}) };
}

/**
 * Finds DSConv blocks: from each DW conv the main data path is followed forward to the
 * first PW conv, through BatchNormalization, element-wise activations (ReLU, ReLU6 as
 * Clip, HardSigmoid, HardSwish, Sigmoid, SiLU = x*Sigmoid(x), hard-swish written out as
 * x*Clip(x+3,0,6)/6 or x*HardSigmoid(x)), scalar/per-channel constant Mul/Add/Sub/Div
 * and at most one squeeze-excitation branch (global pool over H,W -> 1x1 convs ->
 * gate activation -> Mul with the main path). A DW whose output reaches anything else
 * before a PW (a residual Add, a Concat, a pool, a second conv) has no block.
 */
export function findDsconvBlocks(model: OnnxModel, layers?: readonly LayerInfo[]): DsconvBlock[] {
  const index = indexGraph(model);
  const byName = new Map((layers ?? listLayers(model)).map((layer) => [layer.name, layer]));
  const walker = new BlockWalker(index, byName);
  const blocks: DsconvBlock[] = [];
  for (const node of index.nodes) {
    const layer = byName.get(node.name ?? '');
    if (node.opType !== 'Conv' || layer?.kind !== 'dw') continue;
    const block = walker.walk(node, layer.outChannels);
    if (block) blocks.push(block);
  }
  return blocks;
}
