import { ShapeError, UsageError } from '@deprune/errors';
import { formatShape } from './checks';
import { shapeSize, zerosFloat64, type Tensor } from './tensor';

/** ONNX `BatchNormalization` inputs in inference mode: scale = gamma, bias = beta, mean, variance (all [C]). */
export interface BatchNormParams {
  scale: Tensor;
  bias: Tensor;
  mean: Tensor;
  variance: Tensor;
  epsilon: number;
}

/** Checks the four BN vectors are 1-D of one common length and returns it. */
function batchNormChannels(bn: BatchNormParams): number {
  const channels = bn.scale.shape[0];
  for (const name of ['scale', 'bias', 'mean', 'variance'] as const) {
    const shape = bn[name].shape;
    if (shape.length !== 1 || shape[0] !== channels) {
      throw new ShapeError(`BatchNorm ${name} must have shape [${channels}] like scale ${formatShape(bn.scale.shape)}, got ${formatShape(shape)}`);
    }
  }
  if (typeof bn.epsilon !== 'number' || !Number.isFinite(bn.epsilon) || bn.epsilon < 0) {
    throw new UsageError(`BatchNorm epsilon must be a finite number >= 0, got ${String(bn.epsilon)}`);
  }
  return channels;
}

/**
 * gamma / sqrt(var + eps) per channel: the factor BN multiplies a conv output channel by. Importance
 * is scored on weights times this factor (method.md, "effective weight"). A channel with
 * var + eps <= 0 has no finite factor; that is a broken model, so it is reported, not propagated.
 */
export function effectiveScale(bn: BatchNormParams): Float64Array {
  const channels = batchNormChannels(bn);
  const factors = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const denominator = bn.variance.data[c] + bn.epsilon;
    if (!(denominator > 0)) {
      throw new UsageError(
        `BatchNorm channel ${c}: variance + epsilon = ${bn.variance.data[c]} + ${bn.epsilon} is not positive, so the channel has no finite scale`,
      );
    }
    factors[c] = bn.scale.data[c] / Math.sqrt(denominator);
  }
  return factors;
}

/**
 * Folds an inference-mode BN that follows a conv into the conv: for output channel m with
 * s = gamma/sqrt(var+eps), w'[m] = w[m] * s and b' = (b - mean) * s + beta (b = 0 when absent).
 */
export function foldBatchNorm(
  weight: Tensor,
  bias: Tensor | null | undefined,
  bn: BatchNormParams,
): { weight: Tensor<Float64Array>; bias: Tensor<Float64Array> } {
  if (weight.shape.length < 1) {
    throw new ShapeError(`foldBatchNorm weight must have the output channels first ([M, ...]), got a scalar`);
  }
  const outChannels = weight.shape[0];
  const factors = effectiveScale(bn);
  if (factors.length !== outChannels) {
    throw new ShapeError(
      `foldBatchNorm: BatchNorm has ${factors.length} channels but the weight ${formatShape(weight.shape)} has ${outChannels} output channels`,
    );
  }
  if (bias !== null && bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== outChannels)) {
    throw new ShapeError(`foldBatchNorm bias must have shape [${outChannels}], got ${formatShape(bias.shape)}`);
  }
  const perChannel = outChannels === 0 ? 0 : shapeSize(weight.shape) / outChannels;
  const foldedWeight = zerosFloat64(weight.shape);
  const foldedBias = zerosFloat64([outChannels]);
  for (let m = 0; m < outChannels; m++) {
    const factor = factors[m];
    const base = m * perChannel;
    for (let offset = 0; offset < perChannel; offset++) {
      foldedWeight.data[base + offset] = weight.data[base + offset] * factor;
    }
    const convBias = bias ? bias.data[m] : 0;
    foldedBias.data[m] = (convBias - bn.mean.data[m]) * factor + bn.bias.data[m];
  }
  return { weight: foldedWeight, bias: foldedBias };
}

/** Inference-mode ONNX BatchNormalization on [N, C, ...]: y = (x - mean) * gamma/sqrt(var+eps) + beta. */
export function batchNormalization(x: Tensor, bn: BatchNormParams): Tensor<Float64Array> {
  if (x.shape.length < 2) {
    throw new ShapeError(`batchNormalization input must be [N, C, ...], got ${formatShape(x.shape)}`);
  }
  const [batch, channels] = x.shape;
  const factors = effectiveScale(bn);
  if (factors.length !== channels) {
    throw new ShapeError(`batchNormalization: input ${formatShape(x.shape)} has ${channels} channels but BatchNorm has ${factors.length}`);
  }
  const spatial = shapeSize(x.shape.slice(2));
  const output = zerosFloat64(x.shape);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const factor = factors[c];
      const mean = bn.mean.data[c];
      const shift = bn.bias.data[c];
      const base = (n * channels + c) * spatial;
      for (let position = 0; position < spatial; position++) {
        output.data[base + position] = (x.data[base + position] - mean) * factor + shift;
      }
    }
  }
  return output;
}
