/**
 * Physical channel removal for the structured `channel` baseline (method.md's variants
 * table: "whole DW channels, with the producer's output row and the PW input column").
 *
 * Removing DW channel c of a DSConv block (DW -> ... -> PW, as `findDsconvBlocks` finds it)
 * deletes, consistently:
 * - the producer: the Conv reached by walking back from the DW's input through per-channel
 *   ops (BatchNormalization, activations, SiLU / hard-swish written as x * gate(x), scalar
 *   or per-channel constant Mul/Add/Sub/Div/Pow); its output row c (weight rows, bias
 *   entry) and entry c of every per-channel tensor on the way (BN parameters, [1,C,1,1] /
 *   [C,1,1] affine constants, PRelu slopes);
 * - the DW conv: weight row c, bias entry c, `group` becomes the new channel count; the
 *   per-channel tensors between DW and PW;
 * - the squeeze-excitation branch: the reduce conv's input column c, the expand conv's
 *   output row c and bias entry c, and per-channel tensors on the C-channel side of the
 *   branch;
 * - the PW conv: input column c.
 *
 * `maskChannels` is the reference: the same graph and shapes with the DW rows/bias, the SE
 * reduce columns and the PW columns of the removed channels zeroed. Removed channels reach
 * the output only through those PW and SE-reduce columns, so both models compute the same.
 */
import { DeprunError, UsageError } from '@deprune/errors';
import {
  DataType,
  constantDims,
  constantSource,
  dataTypeName,
  encodeFloatTensor,
  findDsconvBlocks,
  graphOf,
  indexGraph,
  intAttribute,
  makeAttribute,
  readFloatConstant,
  replaceConstants,
  withGraph,
  type DsconvBlock,
  type GraphIndex,
  type GraphProto,
  type NodeProto,
  type OnnxModel,
  type TensorProto,
  type ValueInfoProto,
} from '@deprune/onnx';

/** A request to remove whole channels of one DW conv (and of its block). */
export interface ChannelRemoval {
  /** DW conv node name. */
  dw: string;
  /** DW channel indices to remove. */
  channels: readonly number[];
}

export interface ChannelRemovalEligibility {
  eligible: boolean;
  /** Why not, when not eligible (the first reason found). */
  reason?: string;
  /** The Conv whose output rows feed the DW, once found. */
  producer?: string;
}

export interface ChannelRemovalResult {
  /** A new model; the input model is not modified. */
  model: OnnxModel;
  removed: { dw: string; channels: number[]; touched: string[] }[];
  skipped: { dw: string; reason: string }[];
}

/** Single-input ops (other inputs constant) that act per element and keep the channel layout. */
const PASS_THROUGH = new Set([
  'BatchNormalization', 'Relu', 'Clip', 'HardSigmoid', 'HardSwish', 'Sigmoid', 'Tanh', 'LeakyRelu', 'PRelu', 'Elu', 'Selu',
  'Celu', 'Softplus', 'Mish', 'Gelu', 'Identity', 'Dropout',
]);
/** Binary ops allowed with a scalar or per-channel constant. */
const CHANNELWISE_BINARY = new Set(['Mul', 'Add', 'Sub', 'Div', 'Pow']);
/** Ops a gating activation branch (x * Sigmoid(x), x * HardSigmoid(x), x * Clip(x + 3) / 6) may contain. */
const ACTIVATION_BRANCH = new Set(['Sigmoid', 'HardSigmoid', 'Clip', 'Relu', 'Tanh', 'Identity', 'Mul', 'Add', 'Sub', 'Div']);
/** Ops that carry hard-coded shapes or move channels around. */
const SHAPE_OPS = new Set([
  'Reshape', 'Shape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Expand', 'Tile', 'Slice', 'Gather', 'Split', 'Concat',
  'Gemm', 'MatMul', 'DepthToSpace', 'SpaceToDepth', 'Resize', 'Upsample',
]);
const MAX_BRANCH_NODES = 48;
const MAX_WALK_STEPS = 64;

/** One constant operand of one node that loses (or, in the mask, zeroes) the removed channels on `axis`. */
interface ChannelSlice {
  node: NodeProto;
  input: number;
  axis: number;
}

/** Everything a removal touches, for one eligible block. */
interface BlockPlan {
  dw: NodeProto;
  channels: number;
  producer: NodeProto;
  slices: ChannelSlice[];
  /** Values whose channel count changes (value_info for them is dropped). */
  changedValues: string[];
}

/** The DW -> PW side of a block, which both removal and masking need. */
interface DownstreamPlan {
  dw: NodeProto;
  block: DsconvBlock;
  channels: number;
  /** DW rows/bias, C-side per-channel tensors, SE convs, PW columns. */
  slices: ChannelSlice[];
  /** What the mask zeroes: DW rows and bias, SE reduce columns, PW columns. */
  maskSlices: ChannelSlice[];
  nodes: NodeProto[];
}

type Failure = { reason: string; producer?: string };

interface Context {
  model: OnnxModel;
  index: GraphIndex;
  byName: Map<string, NodeProto>;
  order: Map<NodeProto, number>;
  blocks: Map<string, DsconvBlock>;
  /** DW node names of every block (to name "another block's DW" in reasons). */
  dwOfBlock: Set<string>;
}

function context(model: OnnxModel): Context {
  const index = indexGraph(model);
  const byName = new Map<string, NodeProto>();
  const order = new Map<NodeProto, number>();
  index.nodes.forEach((node, i) => {
    byName.set(node.name ?? '', node);
    order.set(node, i);
  });
  const blocks = new Map(findDsconvBlocks(model).map((block) => [block.dw, block]));
  return { model, index, byName, order, blocks, dwOfBlock: new Set(blocks.keys()) };
}

// ---------------------------------------------------------------------------------------
// Graph helpers

function distinctConsumers(ctx: Context, value: string): NodeProto[] {
  return [...new Set(ctx.index.consumers.get(value) ?? [])];
}

function isGraphOutput(ctx: Context, value: string): boolean {
  return ctx.index.outputs.includes(value);
}

function isConstant(ctx: Context, value: string): boolean {
  return constantSource(ctx.index, value) !== undefined;
}

function describe(node: NodeProto): string {
  return `${node.opType} '${node.name}'`;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

function isDefaultDomain(node: NodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

function byGraphOrder(ctx: Context, nodes: Iterable<NodeProto>): NodeProto[] {
  return [...new Set(nodes)].sort((a, b) => ctx.order.get(a)! - ctx.order.get(b)!);
}

/**
 * The axis of a constant that broadcasts per channel against an NCHW tensor with C channels
 * ([1,C,1,1] or [C,1,1]), 'scalar' for one element, undefined for anything else (a [C]
 * vector broadcasts along the width, not the channels).
 */
function perChannelAxis(dims: readonly number[], channels: number): number | 'scalar' | undefined {
  if (elementCount(dims) === 1) return 'scalar';
  if (dims.length > 4 || dims.length < 3) return undefined;
  const padded = [...new Array<number>(4 - dims.length).fill(1), ...dims];
  if (padded[0] !== 1 || padded[1] !== channels || padded[2] !== 1 || padded[3] !== 1) return undefined;
  return dims.length - 3;
}

/** A constant operand's source tensor, checked to be float32 (rewrites are stored as float32). */
function floatSource(ctx: Context, node: NodeProto, input: number, what: string): { source: string; dims: number[] } | Failure {
  const name = node.input?.[input] ?? '';
  const source = name ? constantSource(ctx.index, name) : undefined;
  if (!source) return { reason: `the ${what} '${name}' of ${describe(node)} is not a constant stored in the model` };
  const proto = ctx.index.constants.get(source)!.proto;
  if (proto.dataType !== DataType.FLOAT) {
    return { reason: `the ${what} '${source}' of ${describe(node)} is ${dataTypeName(proto.dataType)}; only float32 tensors are rewritten` };
  }
  return { source, dims: constantDims(ctx.index, source)! };
}

/**
 * The per-channel constant operands of a C-channel node: BN parameters, PRelu slopes,
 * per-channel constants of Mul/Add/Sub/Div/Pow. Scalars and the operands of other ops
 * (Clip bounds, Dropout ratio, ReduceMean axes) are left alone.
 */
function channelConstants(ctx: Context, node: NodeProto, channels: number): ChannelSlice[] | Failure {
  const op = node.opType ?? '';
  const inputs = node.input ?? [];
  const slices: ChannelSlice[] = [];
  if (op === 'BatchNormalization') {
    if (intAttribute(node, 'training_mode', 0) === 1) return { reason: `${describe(node)} runs in training mode` };
    const labels = ['scale', 'bias', 'mean', 'variance'];
    for (let i = 1; i <= 4; i++) {
      const found = floatSource(ctx, node, i, labels[i - 1]);
      if ('reason' in found) return found;
      if (found.dims.length !== 1 || found.dims[0] !== channels) {
        return { reason: `the ${labels[i - 1]} '${found.source}' of ${describe(node)} has shape [${found.dims}], not [${channels}]` };
      }
      slices.push({ node, input: i, axis: 0 });
    }
    return slices;
  }
  if (!CHANNELWISE_BINARY.has(op) && op !== 'PRelu') return slices;
  for (let i = 0; i < inputs.length; i++) {
    const name = inputs[i];
    if (!name || !isConstant(ctx, name)) continue;
    const source = constantSource(ctx.index, name)!;
    const dims = constantDims(ctx.index, source)!;
    const axis = perChannelAxis(dims, channels);
    if (axis === 'scalar') continue;
    if (axis === undefined) {
      return {
        reason: `the constant '${source}' of ${describe(node)} has shape [${dims}], neither a scalar nor per-channel ([1,${channels},1,1] or [${channels},1,1])`,
      };
    }
    const found = floatSource(ctx, node, i, 'constant');
    if ('reason' in found) return found;
    slices.push({ node, input: i, axis });
  }
  return slices;
}

// ---------------------------------------------------------------------------------------
// Upstream: DW input back to the producer Conv

/**
 * The side branch of a gating Mul read backwards: the nodes computing `gated` from `main`
 * (and constants) only, made of activation ops; undefined when `gated` is not such a
 * function of `main`.
 */
function gatingBranch(ctx: Context, main: string, gated: string): NodeProto[] | undefined {
  const branch = new Set<NodeProto>();
  const stack = [gated];
  while (stack.length > 0) {
    const value = stack.pop()!;
    if (!value || value === main || isConstant(ctx, value)) continue;
    const node = ctx.index.producer.get(value);
    if (!node || !ACTIVATION_BRANCH.has(node.opType ?? '') || !isDefaultDomain(node) || node.output?.[0] !== value) return undefined;
    if (branch.has(node)) continue;
    branch.add(node);
    if (branch.size > MAX_BRANCH_NODES) return undefined;
    stack.push(...(node.input ?? []));
  }
  if (![...branch].some((node) => (node.input ?? []).includes(main))) return undefined;
  return [...branch];
}

type BackStep = { next: string; nodes: NodeProto[] } | Failure;

/** One step back from `value` (produced by `node`) towards the producer Conv. */
function stepBack(ctx: Context, node: NodeProto, value: string): BackStep {
  const op = node.opType ?? '';
  const inputs = node.input ?? [];
  if (!isDefaultDomain(node)) return { reason: `'${value}' comes from ${describe(node)} of domain '${node.domain}', which is not a per-channel op` };
  if (node.output?.[0] !== value) return { reason: `'${value}' is a secondary output of ${describe(node)}` };
  if (SHAPE_OPS.has(op)) {
    return {
      reason: `'${value}' comes from ${describe(node)}, which ${op === 'Concat' ? 'concatenates tensors' : 'carries hard-coded shapes or moves channels'}; the DW's channels must come from a Conv through per-channel ops only`,
    };
  }
  if (PASS_THROUGH.has(op)) {
    const data = inputs[0] ?? '';
    if (!data || isConstant(ctx, data)) return { reason: `${describe(node)} computes '${value}' from constants only` };
    const nonConstant = inputs.slice(1).find((input) => input && !isConstant(ctx, input));
    if (nonConstant) return { reason: `${describe(node)} reads the computed value '${nonConstant}' besides its data input` };
    return { next: data, nodes: [node] };
  }
  if (CHANNELWISE_BINARY.has(op) && inputs.length === 2) {
    const [a, b] = inputs;
    const constA = isConstant(ctx, a);
    const constB = isConstant(ctx, b);
    if (constA && constB) return { reason: `${describe(node)} computes '${value}' from constants only` };
    if (constA || constB) return { next: constA ? b : a, nodes: [node] };
    if (a === b) return { next: a, nodes: [node] };
    if (op === 'Mul') {
      for (const [main, gated] of [[a, b], [b, a]]) {
        const branch = gatingBranch(ctx, main, gated);
        if (branch) return { next: main, nodes: [node, ...branch] };
      }
      return { reason: `${describe(node)} multiplies two computed values that are not an activation gate (x * f(x)) of one another` };
    }
    return { reason: `'${value}' comes from ${describe(node)} of two computed values (a residual or a merge), not from a Conv` };
  }
  return {
    reason: `'${value}' comes from ${describe(node)}, which is not a per-channel op (BatchNormalization, an activation, a scalar or per-channel affine constant) or a Conv`,
  };
}

interface Upstream {
  producer: NodeProto;
  /** Per-channel nodes between producer and DW, gating branches included. */
  nodes: NodeProto[];
}

/** Walks back from the DW's input to the producer Conv and checks the path is closed. */
function walkUpstream(ctx: Context, dw: NodeProto, channels: number): Upstream | Failure {
  const path: NodeProto[] = [];
  let value = dw.input?.[0] ?? '';
  let producer: NodeProto | undefined;
  let failure: string | undefined;
  for (let step = 0; step < MAX_WALK_STEPS && !producer && !failure; step++) {
    const node = ctx.index.producer.get(value);
    if (!node) {
      failure = ctx.index.inputs.includes(value)
        ? `its input comes from graph input '${value}', not from a Conv whose output rows could be removed`
        : isConstant(ctx, value)
          ? `its input '${value}' is a constant, not the output of a Conv`
          : `its input '${value}' has no producer`;
      break;
    }
    if (node.opType === 'Conv' && isDefaultDomain(node)) {
      producer = node;
      break;
    }
    const back = stepBack(ctx, node, value);
    if ('reason' in back) failure = back.reason;
    else {
      path.push(...back.nodes);
      value = back.next;
    }
  }
  if (!producer && !failure) failure = `no Conv found within ${MAX_WALK_STEPS} per-channel ops before the DW`;

  // Every value between the producer and the DW must stay inside the block (checked nearest the DW first).
  const inside = new Set<NodeProto>([...path, ...(producer ? [producer] : []), dw]);
  const where = producer ? `between producer ${describe(producer)} and the DW` : 'before the DW';
  for (const node of [...byGraphOrder(ctx, path).reverse(), ...(producer ? [producer] : [])]) {
    for (const output of node.output ?? []) {
      if (!output) continue;
      if (isGraphOutput(ctx, output)) return { reason: `'${output}' (${where}) is also a graph output`, producer: producer?.name ?? undefined };
      const outside = distinctConsumers(ctx, output).find((consumer) => !inside.has(consumer));
      if (outside) {
        const other = ctx.dwOfBlock.has(outside.name ?? '') ? ` (the DW of another block)` : '';
        return { reason: `'${output}' (${where}) is also read by ${describe(outside)}${other}, outside the block`, producer: producer?.name ?? undefined };
      }
    }
  }
  if (failure || !producer) return { reason: failure! };

  const group = intAttribute(producer, 'group', 1);
  if (group !== 1) return { reason: `its producer ${describe(producer)} is a grouped conv (group=${group}); only group-1 convs lose output rows`, producer: producer.name ?? '' };
  const weight = floatSource(ctx, producer, 1, 'weight');
  if ('reason' in weight) return { ...weight, producer: producer.name ?? '' };
  if (weight.dims[0] !== channels) {
    return { reason: `its producer ${describe(producer)} has ${weight.dims[0]} output channels, the DW ${channels}`, producer: producer.name ?? '' };
  }
  if (producer.input?.[2]) {
    const bias = floatSource(ctx, producer, 2, 'bias');
    if ('reason' in bias) return { ...bias, producer: producer.name ?? '' };
  }
  return { producer, nodes: byGraphOrder(ctx, path) };
}

// ---------------------------------------------------------------------------------------
// Downstream: DW -> PW, with the SE branch

/** Nodes of `within` that read `from`'s outputs, directly or through other nodes of `within`. */
function downstreamOf(ctx: Context, from: NodeProto, within: ReadonlySet<NodeProto>): Set<NodeProto> {
  const reached = new Set<NodeProto>();
  const stack = [...(from.output ?? [])];
  while (stack.length > 0) {
    const value = stack.pop()!;
    for (const consumer of distinctConsumers(ctx, value)) {
      if (!within.has(consumer) || reached.has(consumer)) continue;
      reached.add(consumer);
      stack.push(...(consumer.output ?? []));
    }
  }
  return reached;
}

function checkDw(ctx: Context, dw: NodeProto): { channels: number } | Failure {
  if (dw.opType !== 'Conv' || !isDefaultDomain(dw)) return { reason: `${describe(dw)} is not a depth-wise Conv` };
  const weight = floatSource(ctx, dw, 1, 'weight');
  if ('reason' in weight) return weight;
  const channels = weight.dims[0];
  const group = intAttribute(dw, 'group', 1);
  if (weight.dims.length !== 4 || weight.dims[1] !== 1 || group !== channels) {
    return { reason: `Conv '${dw.name}' is not depth-wise (weight [${weight.dims}], group ${group})` };
  }
  return { channels };
}

function planDownstream(ctx: Context, dw: NodeProto): DownstreamPlan | Failure {
  const checked = checkDw(ctx, dw);
  if ('reason' in checked) return checked;
  const { channels } = checked;
  const block = ctx.blocks.get(dw.name ?? '');
  if (!block) {
    return {
      reason: `DW '${dw.name}' starts no DSConv block: its output reaches something other than per-channel ops, one SE branch and a PW conv (a residual Add, a Concat, a pool, a graph output)`,
    };
  }
  const node = (name: string) => ctx.byName.get(name)!;
  const pw = node(block.pw);
  const between = block.between.map(node);
  const se = block.squeezeExcitation;
  const seNodes = (se?.nodes ?? []).map(node);
  const slices: ChannelSlice[] = [{ node: dw, input: 1, axis: 0 }];
  const maskSlices: ChannelSlice[] = [{ node: dw, input: 1, axis: 0 }];
  if (dw.input?.[2]) {
    const bias = floatSource(ctx, dw, 2, 'bias');
    if ('reason' in bias) return bias;
    slices.push({ node: dw, input: 2, axis: 0 });
    maskSlices.push({ node: dw, input: 2, axis: 0 });
  }

  // Closed path: what DW..gate compute is read only by the block (findDsconvBlocks ensures it; checked again here).
  const inside = new Set<NodeProto>([dw, ...between, ...seNodes, pw]);
  for (const current of [dw, ...between, ...seNodes]) {
    for (const output of current.output ?? []) {
      if (!output) continue;
      if (isGraphOutput(ctx, output)) return { reason: `'${output}' (between DW '${dw.name}' and PW '${pw.name}') is also a graph output` };
      const outside = distinctConsumers(ctx, output).find((consumer) => !inside.has(consumer));
      if (outside) return { reason: `'${output}' (between DW '${dw.name}' and PW '${pw.name}') is also read by ${describe(outside)}, outside the block` };
    }
  }

  // The C-channel nodes: the main path and the SE branch up to its reduce conv and after its expand conv.
  const cSide: NodeProto[] = [...between];
  if (se) {
    const unsupported = seNodes.find((current) => SHAPE_OPS.has(current.opType ?? ''));
    if (unsupported) {
      return { reason: `the squeeze-excitation branch of DW '${dw.name}' goes through ${describe(unsupported)}; only SE branches of 1x1 Convs are rewritten` };
    }
    const seSet = new Set(seNodes);
    const reduce = se.reduce ? node(se.reduce) : undefined;
    const expand = se.expand ? node(se.expand) : undefined;
    if (!reduce) cSide.push(...seNodes);
    else {
      for (const conv of expand ? [reduce, expand] : [reduce]) {
        const group = intAttribute(conv, 'group', 1);
        if (conv.opType !== 'Conv' || group !== 1) return { reason: `the SE conv ${describe(conv)} is not a group-1 Conv` };
      }
      const reduceWeight = floatSource(ctx, reduce, 1, 'weight');
      if ('reason' in reduceWeight) return reduceWeight;
      if (reduceWeight.dims[1] !== channels) {
        return { reason: `the SE reduce conv ${describe(reduce)} reads ${reduceWeight.dims[1]} channels, the DW has ${channels}` };
      }
      slices.push({ node: reduce, input: 1, axis: 1 });
      maskSlices.push({ node: reduce, input: 1, axis: 1 });
      const afterReduce = downstreamOf(ctx, reduce, seSet);
      cSide.push(...seNodes.filter((current) => current !== reduce && !afterReduce.has(current)));
      // A single SE conv that maps C to C is both reduce and expand.
      const last = expand ?? (reduceWeight.dims[0] === channels ? reduce : undefined);
      if (last) {
        const lastWeight = last === reduce ? reduceWeight : floatSource(ctx, last, 1, 'weight');
        if ('reason' in lastWeight) return lastWeight;
        if (lastWeight.dims[0] !== channels) {
          return { reason: `the SE expand conv ${describe(last)} writes ${lastWeight.dims[0]} channels, the DW has ${channels}` };
        }
        slices.push({ node: last, input: 1, axis: 0 });
        if (last.input?.[2]) {
          const bias = floatSource(ctx, last, 2, 'bias');
          if ('reason' in bias) return bias;
          slices.push({ node: last, input: 2, axis: 0 });
        }
        cSide.push(...downstreamOf(ctx, last, seSet));
      }
    }
  }
  for (const current of byGraphOrder(ctx, cSide)) {
    const found = channelConstants(ctx, current, channels);
    if ('reason' in found) return found;
    slices.push(...found);
  }

  if (intAttribute(pw, 'group', 1) !== 1) return { reason: `PW ${describe(pw)} is grouped` };
  const pwWeight = floatSource(ctx, pw, 1, 'weight');
  if ('reason' in pwWeight) return pwWeight;
  if (pwWeight.dims[1] !== channels) return { reason: `PW ${describe(pw)} reads ${pwWeight.dims[1]} channels, the DW writes ${channels}` };
  slices.push({ node: pw, input: 1, axis: 1 });
  maskSlices.push({ node: pw, input: 1, axis: 1 });
  return { dw, block, channels, slices, maskSlices, nodes: [dw, ...between, ...seNodes] };
}

function planBlock(ctx: Context, dw: NodeProto): BlockPlan | Failure {
  const checked = checkDw(ctx, dw);
  if ('reason' in checked) return checked;
  if (!ctx.blocks.has(dw.name ?? '')) return planDownstream(ctx, dw) as Failure;
  const upstream = walkUpstream(ctx, dw, checked.channels);
  if ('reason' in upstream) return upstream;
  const producerName = upstream.producer.name ?? '';
  const downstream = planDownstream(ctx, dw);
  if ('reason' in downstream) return { ...downstream, producer: producerName };
  const { producer } = upstream;
  const channels = downstream.channels;
  const slices: ChannelSlice[] = [{ node: producer, input: 1, axis: 0 }];
  if (producer.input?.[2]) slices.push({ node: producer, input: 2, axis: 0 });
  for (const current of upstream.nodes) {
    const found = channelConstants(ctx, current, channels);
    if ('reason' in found) return { ...found, producer: producerName };
    slices.push(...found);
  }
  slices.push(...downstream.slices);
  const changedValues = [producer, ...upstream.nodes, ...downstream.nodes].flatMap((node) => (node.output ?? []).filter(Boolean));
  return { dw, channels, producer, slices, changedValues };
}

// ---------------------------------------------------------------------------------------
// Requests

function findDwNode(ctx: Context, name: string): NodeProto {
  const node = ctx.byName.get(name);
  if (!node) {
    throw new UsageError(`no node named '${name}'`, { file: ctx.model.source, node: name, hint: 'name a DW conv from the layer list' });
  }
  return node;
}

interface Request {
  node: NodeProto;
  channels: number[];
}

/** Checks the removal list: known nodes, one entry per DW, integer channels in range, no duplicates. */
function validate(ctx: Context, removals: readonly ChannelRemoval[]): Request[] {
  const seen = new Set<string>();
  return removals.map(({ dw, channels }) => {
    const node = findDwNode(ctx, dw);
    if (seen.has(dw)) {
      throw new UsageError(`DW '${dw}' appears in more than one removal; give each DW a single list of channels`, { file: ctx.model.source, node: dw });
    }
    seen.add(dw);
    const weight = node.opType === 'Conv' ? constantSource(ctx.index, node.input?.[1] ?? '') : undefined;
    const count = weight ? constantDims(ctx.index, weight)![0] : undefined;
    const unique = new Set<number>();
    for (const channel of channels) {
      if (!Number.isInteger(channel) || channel < 0 || (count !== undefined && channel >= count)) {
        const range = count !== undefined ? `: it has ${count} channels (0..${count - 1})` : '';
        throw new UsageError(`channel ${channel} of DW '${dw}' is out of range${range}`, { file: ctx.model.source, node: dw });
      }
      if (unique.has(channel)) throw new UsageError(`channel ${channel} is listed twice for DW '${dw}'`, { file: ctx.model.source, node: dw });
      unique.add(channel);
    }
    return { node, channels: [...unique].sort((a, b) => a - b) };
  });
}

// ---------------------------------------------------------------------------------------
// Tensor edits

interface TensorEdit {
  remove: Map<number, Set<number>>;
  zero: Map<number, Set<number>>;
}

class EditSet {
  readonly edits = new Map<NodeProto, Map<number, TensorEdit>>();
  readonly groups = new Map<NodeProto, number>();
  readonly changedValues = new Set<string>();

  add(slice: ChannelSlice, channels: readonly number[], kind: 'remove' | 'zero'): void {
    const perNode = this.edits.get(slice.node) ?? new Map<number, TensorEdit>();
    this.edits.set(slice.node, perNode);
    const edit = perNode.get(slice.input) ?? { remove: new Map(), zero: new Map() };
    perNode.set(slice.input, edit);
    const target = edit[kind].get(slice.axis) ?? new Set<number>();
    edit[kind].set(slice.axis, target);
    for (const channel of channels) target.add(channel);
  }

  get size(): number {
    return this.edits.size + this.groups.size;
  }
}

function editKey(edit: TensorEdit): string {
  const part = (map: Map<number, Set<number>>) =>
    [...map.entries()].sort(([a], [b]) => a - b).map(([axis, set]) => `${axis}:${[...set].sort((a, b) => a - b).join(',')}`).join(';');
  return `remove(${part(edit.remove)}) zero(${part(edit.zero)})`;
}

/** Zeroes, then removes, the listed indices along their axes of a row-major tensor. */
function applyEdit(data: Float32Array, dims: readonly number[], edit: TensorEdit): { values: Float32Array; dims: number[] } {
  const source = edit.zero.size > 0 ? Float32Array.from(data) : data;
  const strides = dims.map((_, axis) => elementCount(dims.slice(axis + 1)));
  for (const [axis, indices] of edit.zero) {
    const outer = elementCount(dims.slice(0, axis));
    const inner = strides[axis];
    for (let o = 0; o < outer; o++) {
      for (const index of indices) source.fill(0, o * dims[axis] * inner + index * inner, o * dims[axis] * inner + (index + 1) * inner);
    }
  }
  if (edit.remove.size === 0) return { values: source, dims: [...dims] };
  const kept = dims.map((dim, axis) => {
    const removed = edit.remove.get(axis);
    return removed ? Array.from({ length: dim }, (_, i) => i).filter((i) => !removed.has(i)) : Array.from({ length: dim }, (_, i) => i);
  });
  const newDims = kept.map((list) => list.length);
  const values = new Float32Array(elementCount(newDims));
  let out = 0;
  const copy = (axis: number, offset: number): void => {
    if (axis === dims.length) {
      values[out++] = source[offset];
      return;
    }
    for (const i of kept[axis]) copy(axis + 1, offset + i * strides[axis]);
  };
  if (dims.length === 0) values[0] = source[0];
  else copy(0, 0);
  return { values, dims: newDims };
}

function withDims(info: ValueInfoProto, dims: readonly number[]): ValueInfoProto {
  const tensorType = info.type?.tensorType;
  if (!tensorType) return info;
  return { ...info, type: { ...info.type, tensorType: { ...tensorType, shape: { dim: dims.map((dim) => ({ dimValue: dim })) } } } };
}

/**
 * Rewrites the edited constants. A constant is rewritten in place when every node reading
 * it gets the same edit directly (not through Identity); otherwise each distinct edit gets a
 * fresh tensor (stored like the original) and the reading node is rewired to it, and the
 * original is dropped once nothing reads it.
 */
function applyEdits(ctx: Context, edits: EditSet): OnnxModel {
  const { model, index } = ctx;
  const graph = graphOf(model);
  type Ref = { node: NodeProto; input: number; edit: TensorEdit; key: string };
  const bySource = new Map<string, Ref[]>();
  for (const [node, perInput] of edits.edits) {
    for (const [input, edit] of perInput) {
      const source = constantSource(index, node.input?.[input] ?? '');
      if (!source) throw new DeprunError('INTERNAL', `edited operand ${input} of node '${node.name}' is not a constant`, { file: model.source });
      const refs = bySource.get(source) ?? [];
      refs.push({ node, input, edit, key: editKey(edit) });
      bySource.set(source, refs);
    }
  }

  const taken = new Set<string>([
    ...(graph.initializer ?? []).map((t) => t.name ?? ''),
    ...(graph.input ?? []).map((v) => v.name ?? ''),
    ...index.nodes.flatMap((node) => [...(node.input ?? []), ...(node.output ?? []), node.name ?? '']),
  ]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };

  const inPlace = new Map<string, { values: Float32Array; dims: number[] }>();
  const rewires = new Map<NodeProto, Map<number, string>>();
  const newInitializers: TensorProto[] = [];
  const newConstantNodes: NodeProto[] = [];
  const maybeDead = new Set<string>();
  for (const [source, refs] of bySource) {
    const entry = index.constants.get(source)!;
    const tensor = readFloatConstant(index, source)!;
    const readers = (index.consumers.get(source) ?? []).flatMap((node) =>
      (node.input ?? []).map((input, i) => ({ node, i, input })).filter(({ input }) => input === source),
    );
    const direct = refs.every((ref) => ref.node.input?.[ref.input] === source);
    const allEdited = readers.every(({ node, i }) => refs.some((ref) => ref.node === node && ref.input === i));
    const sameEdit = refs.every((ref) => ref.key === refs[0].key);
    if (direct && allEdited && sameEdit && !isGraphOutput(ctx, source)) {
      inPlace.set(source, applyEdit(tensor.data, tensor.shape, refs[0].edit));
      continue;
    }
    const freshByKey = new Map<string, string>();
    for (const ref of refs) {
      let name = freshByKey.get(ref.key);
      if (!name) {
        name = fresh(`${source}_channels`);
        freshByKey.set(ref.key, name);
        const result = applyEdit(tensor.data, tensor.shape, ref.edit);
        const proto = encodeFloatTensor(name, result.values, result.dims);
        if (entry.storage === 'constant-node') {
          newConstantNodes.push({ name: fresh(`${name}_constant`), opType: 'Constant', domain: '', input: [], output: [name], attribute: [makeAttribute('value', proto)] });
        } else newInitializers.push(proto);
      }
      const perNode = rewires.get(ref.node) ?? new Map<number, string>();
      perNode.set(ref.input, name);
      rewires.set(ref.node, perNode);
    }
    maybeDead.add(source);
  }

  const nodes = index.nodes.map((node) => {
    const rewire = rewires.get(node);
    const group = edits.groups.get(node);
    if (!rewire && group === undefined) return node;
    const input = (node.input ?? []).map((name, i) => rewire?.get(i) ?? name);
    const attribute = group === undefined ? node.attribute : (node.attribute ?? []).map((attr) => (attr.name === 'group' ? makeAttribute('group', group) : attr));
    return { ...node, input, attribute };
  });
  const read = new Set(nodes.flatMap((node) => node.input ?? []));
  const dead = new Set([...maybeDead].filter((name) => !read.has(name) && !isGraphOutput(ctx, name)));
  const resized = new Map([...inPlace].map(([name, { dims }]) => [name, dims]));
  const rewritten: GraphProto = {
    ...graph,
    node: [...newConstantNodes, ...nodes.filter((node) => !(node.opType === 'Constant' && dead.has(node.output?.[0] ?? '')))],
    initializer: [...(graph.initializer ?? []).filter((t) => !dead.has(t.name ?? '')), ...newInitializers],
    // Old IR versions list initializers as graph inputs too: keep their declared shapes right.
    input: (graph.input ?? [])
      .filter((info) => !dead.has(info.name ?? ''))
      .map((info) => (resized.has(info.name ?? '') ? withDims(info, resized.get(info.name ?? '')!) : info)),
    valueInfo: (graph.valueInfo ?? []).filter((info) => !edits.changedValues.has(info.name ?? '')),
  };
  const result = withGraph(model, rewritten);
  return inPlace.size > 0 ? replaceConstants(result, inPlace) : result;
}

// ---------------------------------------------------------------------------------------
// Public API

/**
 * Whether the whole-channel removal of DW `dwName` can be done physically: the DW starts a
 * DSConv block, its input comes from a group-1 Conv with constant float32 weights through
 * per-channel ops only, every value from that producer to the PW is read only inside the
 * block, and the SE branch (if any) is made of 1x1 Convs and per-channel ops. Reports the
 * first reason found, nearest the DW first. An unknown node name is a UsageError.
 */
export function channelRemovalEligibility(model: OnnxModel, dwName: string): ChannelRemovalEligibility {
  const ctx = context(model);
  const plan = planBlock(ctx, findDwNode(ctx, dwName));
  if ('reason' in plan) return { eligible: false, reason: plan.reason, ...(plan.producer ? { producer: plan.producer } : {}) };
  return { eligible: true, producer: plan.producer.name ?? '' };
}

/**
 * Physically removes whole DW channels with the producer's output rows, the SE branch's
 * columns/rows and the PW's input columns. Ineligible DWs, and removals that would leave a
 * DW without channels, are skipped with the reason; the rest are applied together (a PW
 * that is also the next block's producer loses both columns and rows). Unknown nodes, a DW
 * listed twice, and channels that are duplicated or out of range are UsageErrors.
 */
export function removeChannels(model: OnnxModel, removals: readonly ChannelRemoval[]): ChannelRemovalResult {
  const ctx = context(model);
  const requests = validate(ctx, removals);
  const removed: ChannelRemovalResult['removed'] = [];
  const skipped: ChannelRemovalResult['skipped'] = [];
  const edits = new EditSet();
  for (const { node, channels } of requests) {
    const dw = node.name ?? '';
    const plan = planBlock(ctx, node);
    if ('reason' in plan) {
      skipped.push({ dw, reason: plan.reason });
      continue;
    }
    if (channels.length >= plan.channels) {
      skipped.push({ dw, reason: `removing ${channels.length} of its ${plan.channels} channels would leave none; keep at least one` });
      continue;
    }
    if (channels.length === 0) {
      removed.push({ dw, channels: [], touched: [] });
      continue;
    }
    for (const slice of plan.slices) edits.add(slice, channels, 'remove');
    edits.groups.set(node, plan.channels - channels.length);
    for (const value of plan.changedValues) edits.changedValues.add(value);
    const touched = byGraphOrder(ctx, plan.slices.map((slice) => slice.node)).map((current) => current.name ?? '');
    removed.push({ dw, channels, touched });
  }
  return { model: edits.size > 0 ? applyEdits(ctx, edits) : model, removed, skipped };
}

/**
 * The reference for `removeChannels`: the same graph and shapes with the removed channels'
 * DW weight rows and bias entries, SE reduce input columns and PW input columns set to
 * zero. Needs only the DW -> PW side of the block, so the producer need not be eligible;
 * a DW without a DSConv block (or with an SE branch that is not 1x1 Convs) is a UsageError,
 * as are the request errors of `removeChannels`.
 */
export function maskChannels(model: OnnxModel, removals: readonly ChannelRemoval[]): OnnxModel {
  const ctx = context(model);
  const requests = validate(ctx, removals);
  const edits = new EditSet();
  for (const { node, channels } of requests) {
    const plan = planDownstream(ctx, node);
    if ('reason' in plan) throw new UsageError(`cannot mask channels of '${node.name}': ${plan.reason}`, { file: model.source, node: node.name ?? '' });
    if (channels.length === 0) continue;
    for (const slice of plan.maskSlices) edits.add(slice, channels, 'zero');
  }
  return edits.size > 0 ? applyEdits(ctx, edits) : model;
}
