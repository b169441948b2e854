import { BINARY_OPS, collapseBroadcast, encodeActivation, float32Data, MAX_COLLAPSED_RANK, UNARY_OPS, type BinaryFn, type SoftmaxFn, type UnaryFn } from '@deprune/kernels';
import { shapeSize } from '@deprune/tensor';
import * as host from '../host';
import type { KernelContext } from './conv';

/**
 * Element-wise kernels and softmax in WebAssembly: the residual adds, squeeze-excitation scales,
 * standalone activations and attention softmaxes of a DSConv model, reading resident results in
 * place. Operators, broadcasts and views the module does not cover (pow and the comparisons,
 * unary ops with no SIMD form, a broadcast past 4 collapsed axes, empty tensors) run on the host
 * kernels, which also make every argument check first.
 */

const FLOAT = 4;

/** BINARY_OPS codes binaryBroadcast computes (see assembly/kernels.ts). */
const WASM_BINARY = new Set<number>([BINARY_OPS.add, BINARY_OPS.sub, BINARY_OPS.mul, BINARY_OPS.div, BINARY_OPS.max, BINARY_OPS.min, BINARY_OPS.prelu]);
/** UNARY_OPS codes unaryMap computes. */
const WASM_UNARY = new Set<number>([UNARY_OPS.identity, UNARY_OPS.exp, UNARY_OPS.sqrt, UNARY_OPS.abs, UNARY_OPS.neg, UNARY_OPS.reciprocal, UNARY_OPS.floor, UNARY_OPS.ceil]);

function ownCode(table: Record<string, number>, op: string): number | undefined {
  return Object.hasOwn(table, op) ? table[op] : undefined;
}

export function elementwiseKernels(context: KernelContext): { unary: UnaryFn; binary: BinaryFn; softmax: SoftmaxFn } {
  const { engine, tensors } = context;

  const binary: BinaryFn = async (a, b, op, attrs = {}) => {
    const code = ownCode(BINARY_OPS, op);
    if (code === undefined || !WASM_BINARY.has(code) || a?.shape === undefined || b?.shape === undefined) return host.binary(a, b, op, attrs);
    let plan: ReturnType<typeof collapseBroadcast>;
    try {
      plan = collapseBroadcast([a.shape, b.shape], op);
    } catch {
      // Shapes that do not broadcast, or need more than MAX_COLLAPSED_RANK axes: the host says which.
      return host.binary(a, b, op, attrs);
    }
    const count = shapeSize(plan.outputShape);
    if (count === 0 || plan.dims.length !== MAX_COLLAPSED_RANK) return host.binary(a, b, op, attrs);
    const act = encodeActivation(attrs.activation);
    const left = tensors.input(float32Data(a));
    const right = tensors.input(float32Data(b));
    try {
      const out = engine.alloc(count * FLOAT);
      const [D0, D1, D2, D3] = plan.dims;
      const [sa, sb] = plan.strides;
      engine.exports.binaryBroadcast(left.offset, right.offset, out, D0, D1, D2, D3, sa[0], sa[1], sa[2], sa[3], sb[0], sb[1], sb[2], sb[3], code, act.code, act.alpha, act.beta);
      return tensors.output(out, plan.outputShape);
    } finally {
      left.done();
      right.done();
    }
  };

  const unary: UnaryFn = async (x, op, attrs = {}) => {
    const code = ownCode(UNARY_OPS, op);
    if (code === undefined || !WASM_UNARY.has(code) || x?.shape === undefined || shapeSize(x.shape) === 0) return host.unary(x, op, attrs);
    const act = encodeActivation(attrs.activation);
    const count = shapeSize(x.shape);
    const input = tensors.input(float32Data(x));
    try {
      const out = engine.alloc(count * FLOAT);
      engine.exports.unaryMap(input.offset, out, count, code, act.code, act.alpha, act.beta);
      return tensors.output(out, x.shape);
    } finally {
      input.done();
    }
  };

  const softmax: SoftmaxFn = async (x, view, attrs = {}) => {
    const valid = view !== null && typeof view === 'object' && [view.outer, view.length, view.inner].every((n) => Number.isInteger(n) && n > 0);
    if (!valid || x?.shape === undefined || shapeSize(x.shape) !== view.outer * view.length * view.inner) return host.softmax(x, view, attrs);
    const input = tensors.input(float32Data(x));
    try {
      const out = engine.alloc(shapeSize(x.shape) * FLOAT);
      engine.exports.softmaxAxis(input.offset, out, view.outer, view.length, view.inner, attrs.log === true ? 1 : 0);
      return tensors.output(out, x.shape);
    } finally {
      input.done();
    }
  };

  return { unary, binary, softmax };
}
