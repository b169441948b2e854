import { ACTIVATION_CODES } from '@deprune/kernels';

export { ACTIVATION_CODES, encodeActivation, activationValue, applyActivation } from '@deprune/kernels';
export type { Activation, ActivationName, EncodedActivation } from '@deprune/kernels';

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
  [ACTIVATION_CODES.scaledHardswish, (v, a, b) => `${a} * (${v} * Math.min(Math.max(${v} / 6 + 0.5, 0), 1)) + ${b}`],
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

