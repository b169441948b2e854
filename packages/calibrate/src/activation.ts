import { constantSource, floatAttribute, readFloatConstant, type GraphIndex, type NodeProto } from '@deprune/onnx';

/**
 * The activation that follows a Conv, for reconstruction targets that look through it: the value
 * the activation reads (after a BatchNormalization and constant Mul / Add affines, PP-LCNetV3's
 * learnable affine included) and the activation's kind. HardSwish is found as an op or as the
 * decompositions exporters write (`z * Clip(z + 3, 0, 6) / 6`, `z * HardSigmoid(z)`).
 */
export type ActivationKind = 'relu' | 'clip' | 'hardswish';

export interface FollowingActivation {
  /** The activation's input value (the pre-activation z). */
  value: string;
  kind: ActivationKind;
  /** Clip bounds (`clip`). */
  min: number;
  max: number;
}

/**
 * How reconstruction weights each output value's squared error through the activation f:
 * `derivative`: f'(z_dense)^2 (the first-order change of the activation's output); `active`: 1 where
 * f is not flat at z_dense (0 in ReLU's or HardSwish's dead zone), 0 elsewhere. Both add `floor`.
 */
export type ActivationWeighting = 'derivative' | 'active';

/** Added to every weight so that no output value is ignored entirely (a dead-on-calibration channel still gets a fit). */
export const ACTIVATION_WEIGHT_FLOOR = 0.01;

function constantValues(index: GraphIndex, name: string): Float32Array | undefined {
  const source = constantSource(index, name);
  return source === undefined ? undefined : readFloatConstant(index, source)?.data;
}

function onlyConsumer(index: GraphIndex, value: string): NodeProto | undefined {
  const consumers = index.consumers.get(value) ?? [];
  return consumers.length === 1 ? consumers[0] : undefined;
}

/** The other input of a binary node when it is a constant, else undefined. */
function constantOperand(index: GraphIndex, node: NodeProto, value: string): Float32Array | undefined {
  const inputs = node.input ?? [];
  if (inputs.length !== 2) return undefined;
  const other = inputs[0] === value ? inputs[1] : inputs[1] === value ? inputs[0] : undefined;
  return other === undefined ? undefined : constantValues(index, other);
}

function clipBounds(index: GraphIndex, node: NodeProto): [number, number] {
  const inputs = node.input ?? [];
  const read = (position: number, attribute: string, fallback: number) => {
    const name = inputs[position];
    if (name) return constantValues(index, name)?.[0] ?? Number.NaN;
    return floatAttribute(node, attribute, fallback);
  };
  return [read(1, 'min', -Infinity), read(2, 'max', Infinity)];
}

export function followingActivation(index: GraphIndex, convName: string): FollowingActivation | undefined {
  const conv = index.nodes.find((node) => node.name === convName);
  let value = conv?.output?.[0];
  if (!value) return undefined;
  // Per-channel affines between the Conv and the activation.
  for (let hops = 0; hops < 6; hops++) {
    const next = onlyConsumer(index, value);
    if (next === undefined) break;
    const affine = next.opType === 'BatchNormalization' || ((next.opType === 'Mul' || next.opType === 'Add') && constantOperand(index, next, value) !== undefined);
    if (!affine) break;
    value = next.output![0];
  }
  const consumers = index.consumers.get(value) ?? [];
  if (consumers.length === 1) {
    const [node] = consumers;
    if (node.opType === 'Relu') return { value, kind: 'relu', min: 0, max: Infinity };
    if (node.opType === 'HardSwish') return { value, kind: 'hardswish', min: -3, max: 3 };
    if (node.opType === 'Clip') {
      const [min, max] = clipBounds(index, node);
      return Number.isNaN(min) || Number.isNaN(max) ? undefined : { value, kind: 'clip', min, max };
    }
    return undefined;
  }
  // z * HardSigmoid(z) with alpha 1/6, beta 0.5 (torchvision's hardswish in opset 13).
  if (consumers.length === 2) {
    const gate = consumers.find((node) => node.opType === 'HardSigmoid');
    const mul = consumers.find((node) => node.opType === 'Mul');
    if (gate && mul && (mul.input ?? []).includes(gate.output![0])) {
      const alpha = floatAttribute(gate, 'alpha', 0.2);
      const beta = floatAttribute(gate, 'beta', 0.5);
      if (Math.abs(alpha - 1 / 6) < 1e-6 && Math.abs(beta - 0.5) < 1e-6) return { value, kind: 'hardswish', min: -3, max: 3 };
    }
  }
  // z * Clip(z + 3, 0, 6) [/ 6]: an Add of 3 feeding a Clip(0, 6), and a Mul of z with the Clip's output (or its / 6).
  if (consumers.length === 2) {
    const add = consumers.find((node) => node.opType === 'Add' && constantOperand(index, node, value!)?.[0] === 3);
    const mul = consumers.find((node) => node.opType === 'Mul');
    const clip = add ? onlyConsumer(index, add.output![0]) : undefined;
    if (add && mul && clip?.opType === 'Clip') {
      const [min, max] = clipBounds(index, clip);
      const clipOut = clip.output![0];
      const reaches = (mul.input ?? []).some((input) => input === clipOut || index.producer.get(input)?.input?.[0] === clipOut);
      if (min === 0 && max === 6 && reaches) return { value, kind: 'hardswish', min: -3, max: 3 };
    }
  }
  return undefined;
}

/** The weight of each output value from the dense pre-activation z (see ActivationWeighting). */
export function activationWeights(z: Float32Array, activation: FollowingActivation, weighting: ActivationWeighting, floor = ACTIVATION_WEIGHT_FLOOR): Float32Array {
  const out = new Float32Array(z.length);
  const { kind, min, max } = activation;
  for (let i = 0; i < z.length; i++) {
    const x = z[i];
    let slope: number;
    if (kind === 'hardswish') slope = x <= -3 ? 0 : x >= 3 ? 1 : (2 * x + 3) / 6;
    else slope = x > min && x < max ? 1 : 0;
    const weight = weighting === 'active' ? (kind === 'hardswish' ? (x > -3 ? 1 : 0) : slope) : slope * slope;
    out[i] = weight + floor;
  }
  return out;
}
