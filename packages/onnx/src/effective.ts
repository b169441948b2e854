import { UnsupportedError, UsageError } from '@deprune/errors';
import { foldBatchNorm, tensor, toFloat64, type BatchNormParams, type Tensor } from '@deprune/tensor';
import { floatAttribute, intAttribute } from './attributes';
import { constantSource } from './layers';
import { readFloatConstant, opsetVersion, type GraphIndex } from './model';
import type { NodeProto } from './proto';

/** Distinct consumer nodes of a value (a node reading it twice counts once). */
export function consumersOf(index: GraphIndex, value: string): NodeProto[] {
  return [...new Set(index.consumers.get(value) ?? [])];
}

export function isGraphOutput(index: GraphIndex, value: string): boolean {
  return index.outputs.includes(value);
}

/**
 * Why a BatchNormalization cannot be read as an inference-mode affine map with constant
 * parameters, or undefined when it can.
 */
export function batchNormProblem(index: GraphIndex, bn: NodeProto): string | undefined {
  if (intAttribute(bn, 'training_mode', 0) === 1) return 'it runs in training mode (training_mode=1)';
  if (opsetVersion(index.model) < 9 && intAttribute(bn, 'spatial', 1) === 0) return 'it has spatial=0 (per-position statistics)';
  const extra = (bn.output ?? []).slice(1).find((output) => output && (consumersOf(index, output).length > 0 || isGraphOutput(index, output)));
  if (extra) return `its training output '${extra}' is used`;
  const labels = ['scale', 'B', 'mean', 'var'];
  for (let i = 1; i <= 4; i++) {
    const name = bn.input?.[i] ?? '';
    if (!name || !index.constants.has(name)) return `its ${labels[i - 1]} input '${name}' is not a constant`;
  }
  return undefined;
}

/** The BN's parameters (assumes batchNormProblem returned undefined). */
export function readBatchNormParams(index: GraphIndex, bn: NodeProto): BatchNormParams {
  const read = (i: number) => readFloatConstant(index, bn.input?.[i] ?? '')!;
  return { scale: read(1), bias: read(2), mean: read(3), variance: read(4), epsilon: floatAttribute(bn, 'epsilon', 1e-5) };
}

/**
 * The BatchNormalization that directly follows a Conv as the sole consumer of its output
 * (the output is not also a graph output) and has constant inference-mode parameters.
 */
export function followingBatchNorm(index: GraphIndex, conv: NodeProto): NodeProto | undefined {
  const output = conv.output?.[0] ?? '';
  if (!output || isGraphOutput(index, output)) return undefined;
  const consumers = consumersOf(index, output);
  if (consumers.length !== 1) return undefined;
  const [bn] = consumers;
  if (bn.opType !== 'BatchNormalization' || bn.input?.[0] !== output) return undefined;
  return batchNormProblem(index, bn) === undefined ? bn : undefined;
}

export function findNode(index: GraphIndex, name: string): NodeProto {
  const node = index.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new UsageError(`no node named '${name}'`, { file: index.model.source, hint: 'use a node name from the layer list' });
  return node;
}

export interface EffectiveConvWeights {
  /** [C_out, C_in/group, kh, kw], BN-folded when a BN follows. */
  weight: Tensor<Float64Array>;
  /** [C_out]: BN-folded bias, or the stored bias, or zeros. */
  bias: Tensor<Float64Array>;
  /** The BatchNormalization folded in, if any. */
  batchNorm?: string;
}

/**
 * A Conv's effective weights (method.md): multiplied per output channel by
 * gamma / sqrt(var + eps) of the BatchNormalization that directly follows it as the sole
 * consumer, or as stored when there is none. Importance is scored on these.
 */
export function effectiveConvWeights(index: GraphIndex, convName: string): EffectiveConvWeights {
  const conv = findNode(index, convName);
  if (conv.opType !== 'Conv') {
    throw new UsageError(`node '${convName}' is a ${conv.opType}, not a Conv`, { file: index.model.source, node: convName });
  }
  const read = (name: string, what: string): Tensor<Float32Array> => {
    const source = constantSource(index, name);
    const value = source ? readFloatConstant(index, source) : undefined;
    if (!value) {
      throw new UnsupportedError(`Conv ${what} '${name}' is not a constant stored in the model`, {
        file: index.model.source,
        node: convName,
        hint: 'export the model with constant weights',
      });
    }
    return value;
  };
  const weight = read(conv.input?.[1] ?? '', 'weight');
  const biasName = conv.input?.[2];
  const bias = biasName ? read(biasName, 'bias') : null;
  const bn = followingBatchNorm(index, conv);
  if (bn) {
    const folded = foldBatchNorm(weight, bias, readBatchNormParams(index, bn));
    return { weight: folded.weight, bias: folded.bias, batchNorm: bn.name ?? '' };
  }
  return {
    weight: toFloat64(weight),
    bias: bias ? toFloat64(bias) : tensor(new Float64Array(weight.shape[0]), [weight.shape[0]]),
  };
}
