import { collapseBroadcast, type Activation } from '@deprune/kernels';
import { batchNormProblem, consumersOf, floatAttribute, readBatchNormParams, type GraphIndex, type NodeProto } from '@deprune/onnx';
import { effectiveScale } from '@deprune/tensor';
import type { HostTensor } from './types';

/**
 * Which nodes fold into the kernel of the node before them, decided once per compile:
 * - into a Conv / ConvTranspose: the per-output-channel affine maps that follow it (an inference
 *   BatchNormalization, and Mul / Div / Add / Sub by a per-channel or scalar constant: PP-LCNet's
 *   learnable `x * a + b` after every conv), folded into its weights and bias;
 * - into a MatMul: an Add of a constant vector along the last axis (its bias);
 * - into any of those and into element-wise and pooling kernels: one activation the kernels'
 *   fused epilogue computes (Relu, Clip with constant bounds, HardSigmoid, HardSwish, Sigmoid), or
 *   the gated forms SiLU `x * Sigmoid(x)` and hard-swish `x * HardSigmoid(x)` (alpha 1/6, beta 1/2)
 *   or written out, `x * Clip(x + 3, 0, 6) / 6` (PaddleOCR's paddle2onnx exports);
 * - after a HardSwish, the Mul / Div / Add / Sub by scalar constants that follow it (PP-LCNetV3's
 *   learnable scale and bias): the epilogue computes scale * HardSwish(x) + shift.
 * A chain stops at a value that another node also reads, at a graph output, and at any value the
 * caller asked to keep (fetched intermediates), so every value anyone can see is still computed.
 */
export interface Fusion {
  /** The nodes folded in, in graph order. */
  absorbed: NodeProto[];
  /** The value the fused step writes: the last absorbed node's output. */
  output: string;
  /** Per output channel: y = x * scale[c] + shift[c], applied before the activation (Conv, ConvTranspose). */
  scale?: Float64Array;
  shift?: Float64Array;
  /** Added along the last axis (MatMul). */
  bias?: Float64Array;
  activation?: Activation;
}

const AFFINE_PRODUCERS = new Set(['Conv', 'ConvTranspose']);
const BINARY_PRODUCERS = new Set(['Add', 'Sub', 'Mul', 'Div']);
const ACTIVATION_PRODUCERS = new Set(['Conv', 'ConvTranspose', 'BatchNormalization', 'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'GlobalMaxPool']);

/** Whether the binary kernel can index this broadcast (at most 4 axes once collapsed); else it runs on the host, unfused. */
export function broadcastFitsKernel(shapes: readonly (readonly number[])[]): boolean {
  try {
    collapseBroadcast(shapes, 'binary');
    return true;
  } catch {
    return false;
  }
}

/** Upper bound used for a Clip without min or max (float32's largest finite value). */
const FLOAT32_MAX = 3.4028234663852886e38;

export interface FusionInputs {
  index: GraphIndex;
  opset: number;
  shapes: ReadonlyMap<string, number[]>;
  /** Values that must stay visible: graph outputs are added automatically. */
  keep: ReadonlySet<string>;
  /** A constant (initializer, Constant node or compile-time value) as float32, or undefined. */
  readConstant(name: string): HostTensor | undefined;
}

export interface FusionPlan {
  /** By producer node name. */
  fusions: Map<string, Fusion>;
  /** Names of every absorbed node. */
  absorbed: Set<string>;
}

/** A Clip bound as the epilogue takes it: finite (an infinite bound clips nothing but an infinite input). */
function finiteBound(value: number): number {
  return Math.min(Math.max(value, -FLOAT32_MAX), FLOAT32_MAX);
}

/**
 * The activation a node computes on its input 0, when it is one the fused epilogue has (a Clip
 * only with constant bounds); undefined otherwise. The element-wise ops use it too.
 */
export function nodeActivation(node: NodeProto, opset: number, readConstant: (name: string) => HostTensor | undefined): Activation | undefined {
  switch (node.opType) {
    case 'Relu':
      return 'relu';
    case 'Sigmoid':
      return 'sigmoid';
    case 'HardSwish':
      return 'hardswish';
    case 'HardSigmoid':
      return { kind: 'hardsigmoid', alpha: floatAttribute(node, 'alpha', 0.2), beta: floatAttribute(node, 'beta', 0.5) };
    case 'Clip': {
      if (opset < 11) return { kind: 'clip', min: finiteBound(floatAttribute(node, 'min', -FLOAT32_MAX)), max: finiteBound(floatAttribute(node, 'max', FLOAT32_MAX)) };
      const bound = (position: number, fallback: number): number | undefined => {
        const name = node.input?.[position] ?? '';
        if (name === '') return fallback;
        const value = readConstant(name);
        return value !== undefined && value.data.length === 1 ? finiteBound(value.data[0]) : undefined;
      };
      const min = bound(1, -FLOAT32_MAX);
      const max = bound(2, FLOAT32_MAX);
      return min !== undefined && max !== undefined && min <= max ? { kind: 'clip', min, max } : undefined;
    }
    default:
      return undefined;
  }
}

/** The scalar value of a constant operand, or undefined. */
function scalarOperand(node: NodeProto, position: number, inputs: FusionInputs): number | undefined {
  const constant = inputs.readConstant(node.input?.[position] ?? '');
  return constant !== undefined && constant.data.length === 1 ? constant.data[0] : undefined;
}

/** `node` divides its input 0 by 6 (Div by 6, or Mul by 1/6 on either side). */
function dividesBySix(node: NodeProto, value: string, inputs: FusionInputs): boolean {
  if (node.opType === 'Div') return node.input?.[0] === value && Math.abs((scalarOperand(node, 1, inputs) ?? 0) - 6) < 1e-6;
  if (node.opType !== 'Mul') return false;
  const other = node.input?.[0] === value ? 1 : node.input?.[1] === value ? 0 : -1;
  return other >= 0 && Math.abs((scalarOperand(node, other, inputs) ?? 0) - 1 / 6) < 1e-6;
}

/** The only reader of `value`, when there is exactly one and `value` is not kept visible. */
function soleReader(value: string, inputs: FusionInputs): NodeProto | undefined {
  const readers = consumersOf(inputs.index, value);
  return readers.length === 1 && !inputs.keep.has(value) && !inputs.index.outputs.includes(value) ? readers[0] : undefined;
}

type Gated = { activation: Activation; nodes: NodeProto[]; output: string };

/**
 * hard-swish written out, as paddle2onnx and tf2onnx export it: `value` feeds `Add(value, 3) ->
 * Clip(0, 6)` and a `Mul` of `value` with that, and the result is divided by 6 once, right after
 * the Clip or after the Mul.
 */
function writtenOutHardSwish(value: string, readers: NodeProto[], inputs: FusionInputs): Gated | undefined {
  const add = readers.find((node) => node.opType === 'Add');
  const mul = readers.find((node) => node.opType === 'Mul');
  if (add === undefined || mul === undefined) return undefined;
  const addOther = add.input?.[0] === value ? 1 : add.input?.[1] === value ? 0 : -1;
  if (addOther < 0 || Math.abs((scalarOperand(add, addOther, inputs) ?? 0) - 3) > 1e-6) return undefined;
  const clip = soleReader(add.output?.[0] ?? '', inputs);
  const bounds = clip === undefined ? undefined : nodeActivation(clip, inputs.opset, inputs.readConstant);
  if (clip === undefined || clip.input?.[0] !== add.output?.[0] || typeof bounds !== 'object' || bounds.kind !== 'clip' || bounds.min !== 0 || bounds.max !== 6) return undefined;
  let gate = clip.output?.[0] ?? '';
  const nodes: NodeProto[] = [add, clip];
  const afterClip = soleReader(gate, inputs);
  if (afterClip !== undefined && afterClip !== mul && dividesBySix(afterClip, gate, inputs)) {
    nodes.push(afterClip);
    gate = afterClip.output?.[0] ?? '';
  }
  if ([...(mul.input ?? [])].sort().join('\n') !== [value, gate].sort().join('\n') || soleReader(gate, inputs) !== mul) return undefined;
  nodes.push(mul);
  let output = mul.output?.[0] ?? '';
  if (nodes.length === 3) {
    const after = soleReader(output, inputs);
    if (after === undefined || !dividesBySix(after, output, inputs)) return undefined;
    nodes.push(after);
    output = after.output?.[0] ?? '';
  }
  return { activation: 'hardswish', nodes, output };
}

/**
 * The gated activations: `value` feeds exactly a gate (Sigmoid: SiLU; HardSigmoid with alpha 1/6,
 * beta 1/2: hard-swish) and a Mul of value and gate; or the written-out hard-swish.
 */
function gatedActivation(value: string, readers: NodeProto[], inputs: FusionInputs): Gated | undefined {
  if (readers.length !== 2) return undefined;
  const gate = readers.find((node) => node.opType === 'Sigmoid' || node.opType === 'HardSigmoid');
  const mul = readers.find((node) => node.opType === 'Mul');
  if (gate === undefined) return writtenOutHardSwish(value, readers, inputs);
  if (mul === undefined || gate.input?.[0] !== value) return undefined;
  const gateOutput = gate.output?.[0] ?? '';
  const operands = [...(mul.input ?? [])].sort();
  if (operands.length !== 2 || operands.join('\n') !== [value, gateOutput].sort().join('\n')) return undefined;
  if (soleReader(gateOutput, inputs) !== mul) return undefined;
  let activation: Activation = 'silu';
  if (gate.opType === 'HardSigmoid') {
    const alpha = floatAttribute(gate, 'alpha', 0.2);
    const beta = floatAttribute(gate, 'beta', 0.5);
    if (Math.abs(alpha - 1 / 6) > 1e-6 || Math.abs(beta - 0.5) > 1e-6) return undefined;
    activation = 'hardswish';
  }
  return { activation, nodes: [gate, mul], output: mul.output?.[0] ?? '' };
}

/**
 * A constant operand as one value per channel of an output of `outputShape` (NCHW-like: channels
 * on axis 1), or undefined when it varies along any other axis.
 */
function perChannel(constant: HostTensor, outputShape: readonly number[]): Float64Array | undefined {
  const rank = outputShape.length;
  const channels = outputShape[1];
  if (rank < 2 || constant.shape.length > rank) return undefined;
  const aligned = [...new Array<number>(rank - constant.shape.length).fill(1), ...constant.shape];
  if (aligned.some((dim, axis) => axis !== 1 && dim !== 1)) return undefined;
  if (aligned[1] !== 1 && aligned[1] !== channels) return undefined;
  return Float64Array.from({ length: channels }, (_, channel) => constant.data[aligned[1] === 1 ? 0 : channel]);
}

interface Affine {
  scale: Float64Array;
  shift: Float64Array;
}

/** The per-channel affine map a node applies to `value`, if it is one with constant parameters. */
function affineOf(node: NodeProto, value: string, inputs: FusionInputs): Affine | undefined {
  const outputShape = inputs.shapes.get(value);
  if (outputShape === undefined || outputShape.length < 2) return undefined;
  const channels = outputShape[1];
  if (node.opType === 'BatchNormalization') {
    if (node.input?.[0] !== value || batchNormProblem(inputs.index, node) !== undefined) return undefined;
    const params = readBatchNormParams(inputs.index, node);
    if (params.scale.data.length !== channels) return undefined;
    const scale = effectiveScale(params);
    const shift = Float64Array.from(scale, (s, c) => params.bias.data[c] - params.mean.data[c] * s);
    return { scale, shift };
  }
  if (!['Mul', 'Div', 'Add', 'Sub'].includes(node.opType ?? '')) return undefined;
  const position = node.input?.[0] === value ? 0 : node.input?.[1] === value ? 1 : -1;
  if (position < 0 || node.input?.[0] === node.input?.[1]) return undefined;
  // Division and subtraction fold only with the conv output on the left (x / c, x - c).
  if (position === 1 && (node.opType === 'Div' || node.opType === 'Sub')) return undefined;
  const constant = inputs.readConstant(node.input?.[1 - position] ?? '');
  if (constant === undefined) return undefined;
  const values = perChannel(constant, outputShape);
  if (values === undefined) return undefined;
  const ones = new Float64Array(channels).fill(1);
  const zeros = new Float64Array(channels);
  switch (node.opType) {
    case 'Mul':
      return { scale: values, shift: zeros };
    case 'Div':
      return values.some((v) => v === 0) ? undefined : { scale: values.map((v) => 1 / v), shift: zeros };
    case 'Add':
      return { scale: ones, shift: values };
    default:
      return { scale: ones, shift: values.map((v) => -v) };
  }
}

/**
 * The scalar affine `value * scale + shift` that a chain of Mul / Div / Add / Sub by scalar
 * constants applies to `value` (PP-LCNetV3's learnable scale and bias after each HardSwish), while
 * each link is the only reader of the one before and keeps its shape; undefined when there is none.
 * The fused epilogue then computes scale * HardSwish(x) + shift in one pass instead of two
 * element-wise kernels (33 pairs, about 2.5 ms, in PP-OCRv4 rec).
 */
function scalarAffineAfter(value: string, inputs: FusionInputs, visible: (value: string) => boolean): { nodes: NodeProto[]; output: string; scale: number; shift: number } | undefined {
  const nodes: NodeProto[] = [];
  const shape = inputs.shapes.get(value);
  let scale = 1;
  let shift = 0;
  let current = value;
  while (!visible(current)) {
    const readers = consumersOf(inputs.index, current);
    if (readers.length !== 1) break;
    const [next] = readers;
    const position = next.input?.[0] === current ? 0 : next.input?.[1] === current ? 1 : -1;
    const output = next.output?.[0] ?? '';
    if (position < 0 || next.input?.[0] === next.input?.[1] || !BINARY_PRODUCERS.has(next.opType ?? '')) break;
    // Division and subtraction only with the value on the left (x / c, x - c).
    if (position === 1 && (next.opType === 'Div' || next.opType === 'Sub')) break;
    const constant = scalarOperand(next, 1 - position, inputs);
    const outShape = inputs.shapes.get(output);
    if (constant === undefined || shape === undefined || outShape === undefined || outShape.join() !== shape.join()) break;
    if (next.opType === 'Div' && constant === 0) break;
    if (next.opType === 'Mul' || next.opType === 'Div') {
      const factor = next.opType === 'Mul' ? constant : 1 / constant;
      scale *= factor;
      shift *= factor;
    } else shift += next.opType === 'Add' ? constant : -constant;
    nodes.push(next);
    current = output;
  }
  return nodes.length === 0 ? undefined : { nodes, output: current, scale, shift };
}

/** A MatMul's following Add of a constant that varies only along the last axis: its bias. */
function biasOf(node: NodeProto, value: string, inputs: FusionInputs): Float64Array | undefined {
  if (node.opType !== 'Add') return undefined;
  const position = node.input?.[0] === value ? 0 : node.input?.[1] === value ? 1 : -1;
  if (position < 0) return undefined;
  const outputShape = inputs.shapes.get(value);
  const constant = inputs.readConstant(node.input?.[1 - position] ?? '');
  if (outputShape === undefined || constant === undefined || outputShape.length === 0) return undefined;
  const columns = outputShape[outputShape.length - 1];
  if (constant.shape.length > outputShape.length || constant.shape.slice(0, -1).some((dim) => dim !== 1)) return undefined;
  const last = constant.shape.length === 0 ? 1 : constant.shape[constant.shape.length - 1];
  if (last !== 1 && last !== columns) return undefined;
  return Float64Array.from({ length: columns }, (_, column) => constant.data[last === 1 ? 0 : column]);
}

function composeAffine(first: Affine | undefined, second: Affine): Affine {
  if (first === undefined) return second;
  return {
    scale: first.scale.map((s, c) => s * second.scale[c]),
    shift: first.shift.map((t, c) => t * second.scale[c] + second.shift[c]),
  };
}

/** Decides every fusion of the graph (see the comment on `Fusion`). Pure: reads the graph, writes nothing. */
export function planFusions(inputs: FusionInputs): FusionPlan {
  const { index } = inputs;
  const fusions = new Map<string, Fusion>();
  const absorbed = new Set<string>();
  const visible = (value: string) => inputs.keep.has(value) || index.outputs.includes(value);
  for (const producer of index.nodes) {
    const opType = producer.opType ?? '';
    if (!ACTIVATION_PRODUCERS.has(opType) || absorbed.has(producer.name ?? '')) continue;
    const operandShapes = (producer.input ?? []).map((name) => inputs.shapes.get(name) ?? []);
    if (BINARY_PRODUCERS.has(opType) && !broadcastFitsKernel(operandShapes)) continue;
    let current = producer.output?.[0] ?? '';
    const taken: NodeProto[] = [];
    let affine: Affine | undefined;
    let bias: Float64Array | undefined;
    let activation: Activation | undefined;
    while (current !== '' && !visible(current) && activation === undefined) {
      const readers = consumersOf(index, current);
      const gated = gatedActivation(current, readers, inputs);
      if (gated !== undefined) {
        taken.push(...gated.nodes);
        activation = gated.activation;
        current = gated.output;
        break;
      }
      if (readers.length !== 1) break;
      const [next] = readers;
      const nextAffine = AFFINE_PRODUCERS.has(opType) ? affineOf(next, current, inputs) : undefined;
      const nextBias = opType === 'MatMul' && bias === undefined ? biasOf(next, current, inputs) : undefined;
      const nextActivation = next.input?.[0] === current ? nodeActivation(next, inputs.opset, inputs.readConstant) : undefined;
      if (nextAffine !== undefined) affine = composeAffine(affine, nextAffine);
      else if (nextBias !== undefined) bias = nextBias;
      else if (nextActivation !== undefined) activation = nextActivation;
      else break;
      taken.push(next);
      current = next.output?.[0] ?? '';
    }
    if (activation === 'hardswish' && !visible(current)) {
      const after = scalarAffineAfter(current, inputs, visible);
      if (after !== undefined) {
        taken.push(...after.nodes);
        current = after.output;
        activation = { kind: 'hardswish', scale: after.scale, shift: after.shift };
      }
    }
    if (taken.length === 0) continue;
    for (const node of taken) absorbed.add(node.name ?? '');
    fusions.set(producer.name ?? '', {
      absorbed: taken,
      output: current,
      ...(affine !== undefined ? { scale: affine.scale, shift: affine.shift } : {}),
      ...(bias !== undefined ? { bias } : {}),
      ...(activation !== undefined ? { activation } : {}),
    });
  }
  return { fusions, absorbed };
}

/** A one-line description of a fusion for reports: 'BatchNormalization+Clip'. */
export function describeFusion(fusion: Fusion): string {
  return fusion.absorbed.map((node) => node.opType).join('+');
}
