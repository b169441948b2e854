import { UsageError } from '@deprune/errors';

/**
 * Activations a conv kernel can fuse into its epilogue (ONNX semantics). The kernels receive an
 * activation as three numbers (code, alpha, beta) in gpu.js `constants`, so each activation is
 * its own compiled kernel and the branch below folds away where the backend compiler can.
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
  | { kind: 'hardsigmoid'; alpha?: number; beta?: number };

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
    // ONNX HardSwish: x * max(0, min(1, x / 6 + 1 / 2)).
    case 'hardswish':
      return { code: ACTIVATION_CODES.hardswish, alpha: 1 / 6, beta: 0.5 };
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
        `unknown activation ${JSON.stringify(activation)} (use none, relu, relu6, hardswish, hardsigmoid, sigmoid, silu, { kind: 'clip', min, max } or { kind: 'hardsigmoid', alpha, beta })`,
      );
  }
}

/**
 * The epilogue's formulas, one per activation code, as source text over a value `v` and the
 * parameters `a` (alpha) and `b` (beta). Both forms the kernels get are made from this one list:
 * the helper `FUSED_ACTIVATION_SOURCE` and the inlined epilogue (`inlineFusedActivation`).
 * `activationValue` below is the same formulas in float64.
 */
const EPILOGUE_FORMULAS: readonly (readonly [code: number, formula: (v: string, a: string, b: string) => string])[] = [
  [ACTIVATION_CODES.relu, (v) => `Math.max(${v}, 0)`],
  [ACTIVATION_CODES.clip, (v, a, b) => `Math.min(Math.max(${v}, ${a}), ${b})`],
  [ACTIVATION_CODES.hardswish, (v, a, b) => `${v} * Math.min(Math.max(${a} * ${v} + ${b}, 0), 1)`],
  [ACTIVATION_CODES.hardsigmoid, (v, a, b) => `Math.min(Math.max(${a} * ${v} + ${b}, 0), 1)`],
  [ACTIVATION_CODES.sigmoid, (v) => `1 / (1 + Math.exp(-${v}))`],
  [ACTIVATION_CODES.silu, (v) => `${v} / (1 + Math.exp(-${v}))`],
];

/**
 * The fused epilogue as gpu.js helper source, named `fusedActivation`: kernel bodies call it by
 * that bare name. It is a string, not a function, on purpose: a bundler renames a module-level
 * function whose name is also used as a free identifier (the kernel bodies' call), and gpu.js
 * would then look for a helper that does not exist. `launch.ts` inlines the call where it can
 * (`inlineFusedActivation`); the helper stays for calls it cannot inline.
 */
export const FUSED_ACTIVATION_SOURCE = `function fusedActivation(value, code, alpha, beta) {
${EPILOGUE_FORMULAS.map(([code, formula]) => `  if (code === ${code}) return ${formula('value', 'alpha', 'beta')};`).join('\n')}
  return value;
}`;

/** A compile-time constant of a kernel body: `this.constants.<name>`. */
const CONSTANT_REFERENCE = /^this\.constants\.[A-Za-z_$][\w$]*$/;
const EPILOGUE_CALL = 'return fusedActivation(';

/** The top-level comma-separated arguments of the call whose '(' is at `open`, and the index of its ')'. */
function callArguments(source: string, open: number): { args: string[]; close: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let at = open; at < source.length; at++) {
    const char = source[at];
    if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      depth--;
      if (depth === 0) {
        args.push(source.slice(start, at).trim());
        return { args, close: at };
      }
    } else if (char === ',' && depth === 1) {
      args.push(source.slice(start, at).trim());
      start = at + 1;
    }
  }
  return undefined;
}

/**
 * Rewrites a kernel body whose last statement is
 * `return fusedActivation(value, this.constants.c, this.constants.a, this.constants.b);` into the
 * epilogue written out in place: a `let` holding the value, one `if` per activation code on the
 * compile-time constant code, and `return` of the value. Any other body is returned unchanged (its
 * calls go to the helper, which computes the same formulas).
 *
 * Why: the webasm backend vectorizes a kernel body over 4 output elements but runs a helper call
 * once per lane (4 scalar calls, each walking the code's if-chain), which cost about as much as
 * two taps of a 3x3 depth-wise kernel per output. Written out, the branches test constants (the
 * same for all lanes, folded by the wasm compiler) and the formulas vectorize. The GL and WebGPU
 * modes get the same code.
 */
export function inlineFusedActivation(source: string): string {
  const at = source.lastIndexOf(EPILOGUE_CALL);
  if (at < 0) return source;
  const call = callArguments(source, at + EPILOGUE_CALL.length - 1);
  if (call === undefined || call.args.length !== 4 || !call.args.slice(1).every((arg) => CONSTANT_REFERENCE.test(arg))) return source;
  // Only the body's final statement: then the rewrite sits in the body's statement list.
  // (`;` optional: minifying transforms drop the one before `}`).
  const tail = /^\s*;?\s*\}\s*$/.exec(source.slice(call.close + 1));
  if (tail === null) return source;
  const [value, code, alpha, beta] = call.args;
  const name = 'fusedEpilogueValue';
  const lines = [
    `let ${name} = ${value};`,
    ...EPILOGUE_FORMULAS.map(([each, formula]) => `if (${code} === ${each}) { ${name} = ${formula(name, alpha, beta)}; }`),
    `return ${name};`,
    '}',
  ];
  return source.slice(0, at) + lines.join('\n');
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
