/**
 * Per-channel first and second moments of a feature map (over positions, for an N(0, 1)
 * input image), propagated analytically while the graph is built. The zoo uses them to give
 * every BatchNormalization running statistics that match what the layer would actually see,
 * as in a trained network in eval mode; without that, 50+ randomly initialised layers with
 * residual adds drift by orders of magnitude (MobileNetV3-Large reached std ~500).
 *
 * Assumptions (a calibration, not an exact simulation): inputs of a conv are independent
 * across channels and taps, padding borders are ignored, values entering an activation are
 * Gaussian per channel, and pooled (1x1) values are constant per image (variance 0).
 */
export interface Moments {
  readonly mean: Float64Array;
  readonly variance: Float64Array;
}

export function constantMoments(channels: number, mean: number, variance: number): Moments {
  return { mean: new Float64Array(channels).fill(mean), variance: new Float64Array(channels).fill(variance) };
}

/**
 * Moments of a grouped conv output: mean_c = sum_j (sum_k W[c,j,k]) m_j + b_c and
 * var_c = sum_j (sum_k W[c,j,k]^2) v_j, over the input channels j of c's group.
 */
export function convMoments(
  input: Moments,
  weight: Float32Array,
  shape: readonly [number, number, number, number],
  groups: number,
  bias?: Float32Array,
): Moments {
  const [outChannels, inPerGroup, kh, kw] = shape;
  const taps = kh * kw;
  const outPerGroup = outChannels / groups;
  const mean = new Float64Array(outChannels);
  const variance = new Float64Array(outChannels);
  for (let c = 0; c < outChannels; c++) {
    const firstInput = Math.floor(c / outPerGroup) * inPerGroup;
    let m = bias ? bias[c] : 0;
    let v = 0;
    for (let j = 0; j < inPerGroup; j++) {
      const offset = (c * inPerGroup + j) * taps;
      let sum = 0;
      let sumSquares = 0;
      for (let k = 0; k < taps; k++) {
        const w = weight[offset + k];
        sum += w;
        sumSquares += w * w;
      }
      m += sum * input.mean[firstInput + j];
      v += sumSquares * input.variance[firstInput + j];
    }
    mean[c] = m;
    variance[c] = v;
  }
  return { mean, variance };
}

/** y = gamma (x - mean) / sqrt(var + eps) + beta, per channel. */
export function batchNormMoments(
  input: Moments,
  gamma: Float32Array,
  beta: Float32Array,
  runningMean: Float32Array,
  runningVar: Float32Array,
  epsilon: number,
): Moments {
  const channels = gamma.length;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const scale = gamma[c] / Math.sqrt(runningVar[c] + epsilon);
    mean[c] = scale * (input.mean[c] - runningMean[c]) + beta[c];
    variance[c] = scale * scale * input.variance[c];
  }
  return { mean, variance };
}

// Trapezoid rule over z in [-7, 7] against the standard normal density: spectrally accurate for
// smooth functions and plenty for the kinks of ReLU/Clip at this step.
const QUADRATURE_STEP = 0.125;
const QUADRATURE_NODES: readonly number[] = Array.from({ length: 113 }, (_, i) => -7 + i * QUADRATURE_STEP);
const QUADRATURE_WEIGHTS: readonly number[] = (() => {
  const raw = QUADRATURE_NODES.map((z) => Math.exp(-0.5 * z * z));
  const total = raw.reduce((sum, w) => sum + w, 0);
  return raw.map((w) => w / total);
})();

/** Moments of f(x) for x ~ N(mean_c, var_c) per channel. */
export function elementwiseMoments(input: Moments, f: (x: number) => number): Moments {
  const channels = input.mean.length;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const mu = input.mean[c];
    const sigma = Math.sqrt(input.variance[c]);
    if (sigma === 0) {
      mean[c] = f(mu);
      continue;
    }
    let first = 0;
    let second = 0;
    for (let i = 0; i < QUADRATURE_NODES.length; i++) {
      const y = f(mu + sigma * QUADRATURE_NODES[i]);
      first += QUADRATURE_WEIGHTS[i] * y;
      second += QUADRATURE_WEIGHTS[i] * y * y;
    }
    mean[c] = first;
    variance[c] = Math.max(0, second - first * first);
  }
  return { mean, variance };
}

/** x * s with s constant per channel (a squeeze-excitation gate at 1x1). */
export function scaleMoments(input: Moments, scale: Moments): Moments {
  return {
    mean: input.mean.map((m, c) => m * scale.mean[c]),
    variance: input.variance.map((v, c) => v * scale.mean[c] * scale.mean[c]),
  };
}

/** a + b, treating the two as independent. */
export function addMoments(a: Moments, b: Moments): Moments {
  return { mean: a.mean.map((m, c) => m + b.mean[c]), variance: a.variance.map((v, c) => v + b.variance[c]) };
}

/** Global average pooling: the per-channel mean survives, the spatial spread does not. */
export function poolMoments(input: Moments): Moments {
  return { mean: Float64Array.from(input.mean), variance: new Float64Array(input.mean.length) };
}

export const relu = (x: number): number => (x > 0 ? x : 0);
export const relu6 = (x: number): number => Math.min(6, Math.max(0, x));
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const hardSigmoid = (x: number): number => Math.min(1, Math.max(0, x / 6 + 0.5));
export const hardSwish = (x: number): number => x * hardSigmoid(x);
export const silu = (x: number): number => x * sigmoid(x);
