import { UsageError } from '@deprune/errors';

/**
 * Activations a conv kernel can fuse into its epilogue (ONNX semantics). Every backend receives an
 * activation as three numbers (code, alpha, beta): gpu.js bakes them into a kernel's constants,
 * the wasm backend passes them to its kernels, so the codes are part of the contract.
 */
export type ActivationName = 'none' | 'relu' | 'relu6' | 'clip' | 'hardswish' | 'hardsigmoid' | 'sigmoid' | 'silu';

export type Activation =
  | 'none'
  | 'relu'
  | 'relu6'
  | 'hardswish'
  | 'hardsigmoid'
  | 'sigmoid'
  | 'silu'
  | { kind: 'none' | 'relu' | 'relu6' | 'hardswish' | 'sigmoid' | 'silu' }
  /** ONNX Clip: min(max(x, min), max). relu6 is clip(0, 6). */
  | { kind: 'clip'; min: number; max: number }
  /** ONNX HardSigmoid: max(0, min(1, alpha * x + beta)); defaults alpha 0.2, beta 0.5. */
  | { kind: 'hardsigmoid'; alpha?: number; beta?: number }
  /**
   * scale * HardSwish(x) + shift: a HardSwish followed by a constant affine, as PP-LCNetV3 (PP-OCRv4
   * rec) applies a learnable scale and bias after each activation. Defaults 1 and 0 (HardSwish).
   */
  | { kind: 'hardswish'; scale?: number; shift?: number };

/** The numbers a kernel sees. Codes are part of compiled kernels' signatures; do not renumber. */
export interface EncodedActivation {
  code: number;
  alpha: number;
  beta: number;
}

export const ACTIVATION_CODES = Object.freeze({
  none: 0,
  relu: 1,
  clip: 2,
  hardswish: 3,
  hardsigmoid: 4,
  sigmoid: 5,
  silu: 6,
  /** alpha * HardSwish(x) + beta. */
  scaledHardswish: 7,
});

function finite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`activation ${name} must be a finite number, got ${String(value)}`);
  return value;
}

export function encodeActivation(activation: Activation | undefined | null): EncodedActivation {
  if (activation === undefined || activation === null) return { code: ACTIVATION_CODES.none, alpha: 0, beta: 0 };
  const kind = typeof activation === 'string' ? activation : activation?.kind;
  switch (kind) {
    case 'none':
      return { code: ACTIVATION_CODES.none, alpha: 0, beta: 0 };
    case 'relu':
      return { code: ACTIVATION_CODES.relu, alpha: 0, beta: 0 };
    case 'relu6':
      return { code: ACTIVATION_CODES.clip, alpha: 0, beta: 6 };
    case 'clip': {
      const { min, max } = activation as { min: number; max: number };
      const low = finite('clip min', min);
      const high = finite('clip max', max);
      if (low > high) throw new UsageError(`activation clip needs min <= max, got min ${low} and max ${high}`);
      return { code: ACTIVATION_CODES.clip, alpha: low, beta: high };
    }
    // ONNX HardSwish: x * max(0, min(1, x / 6 + 1 / 2)); with a scale or shift, then that affine.
    case 'hardswish': {
      const options = typeof activation === 'string' ? {} : (activation as { scale?: number; shift?: number });
      const scale = finite('hardswish scale', options.scale ?? 1);
      const shift = finite('hardswish shift', options.shift ?? 0);
      if (scale === 1 && shift === 0) return { code: ACTIVATION_CODES.hardswish, alpha: 1 / 6, beta: 0.5 };
      return { code: ACTIVATION_CODES.scaledHardswish, alpha: scale, beta: shift };
    }
    case 'hardsigmoid': {
      const options = typeof activation === 'string' ? {} : (activation as { alpha?: number; beta?: number });
      return {
        code: ACTIVATION_CODES.hardsigmoid,
        alpha: finite('hardsigmoid alpha', options.alpha ?? 0.2),
        beta: finite('hardsigmoid beta', options.beta ?? 0.5),
      };
    }
    case 'sigmoid':
      return { code: ACTIVATION_CODES.sigmoid, alpha: 0, beta: 0 };
    case 'silu':
      return { code: ACTIVATION_CODES.silu, alpha: 0, beta: 0 };
    default:
      throw new UsageError(
        `unknown activation ${JSON.stringify(activation)} (use none, relu, relu6, hardswish, hardsigmoid, sigmoid, silu, { kind: 'clip', min, max }, { kind: 'hardsigmoid', alpha, beta } or { kind: 'hardswish', scale, shift })`,
      );
  }
}

/** The epilogue on one value, in float64: the reference for FUSED_ACTIVATION_SOURCE. */
export function activationValue(value: number, { code, alpha, beta }: EncodedActivation): number {
  switch (code) {
    case ACTIVATION_CODES.relu:
      return Math.max(value, 0);
    case ACTIVATION_CODES.clip:
      return Math.min(Math.max(value, alpha), beta);
    case ACTIVATION_CODES.hardswish:
      return value * Math.min(Math.max(alpha * value + beta, 0), 1);
    case ACTIVATION_CODES.hardsigmoid:
      return Math.min(Math.max(alpha * value + beta, 0), 1);
    case ACTIVATION_CODES.sigmoid:
      return 1 / (1 + Math.exp(-value));
    case ACTIVATION_CODES.silu:
      return value / (1 + Math.exp(-value));
    case ACTIVATION_CODES.scaledHardswish:
      return alpha * (value * Math.min(Math.max(value / 6 + 0.5, 0), 1)) + beta;
    default:
      return value;
  }
}

/** Float64 reference of the same activation, in place; returns `values`. For parity tests and CPU fallbacks. */
export function applyActivation(values: Float64Array, activation: Activation | undefined | null): Float64Array {
  const encoded = encodeActivation(activation);
  if (encoded.code === ACTIVATION_CODES.none) return values;
  for (let index = 0; index < values.length; index++) values[index] = activationValue(values[index], encoded);
  return values;
}
