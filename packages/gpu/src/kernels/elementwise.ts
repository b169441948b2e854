import { UsageError } from '@deprune/errors';
import { shapeSize } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { emptyResult, float32Data, nonEmpty, readback, runStep } from './launch';
import { BINARY_OPS, UNARY_OPS, collapseBroadcast } from '@deprune/kernels';
import type { UnaryFn, BinaryFn } from '@deprune/kernels';
export { BINARY_OPS, UNARY_OPS, MAX_COLLAPSED_RANK, broadcastOutputShape, collapseBroadcast } from '@deprune/kernels';
export type { BinaryOp, UnaryOp, ElementwiseAttrs, UnaryAttrs, UnaryFn, BinaryFn, CollapsedBroadcast } from '@deprune/kernels';

/** See dw-dense.ts: the fused epilogue (FUSED_ACTIVATION_SOURCE), called by its bare name inside kernel bodies. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;










interface UnaryConstants {
  op: number;
  opAlpha: number;
  plane: number;
  row: number;
  activation: number;
  alpha: number;
  beta: number;
}

/** Output dims [D3, D2, D0*D1] over a contiguous input: the flat index is recomputed from the thread. */
function unaryBody(this: IKernelFunctionThis<UnaryConstants>, x: number[]): number {
  const v = x[this.thread.z * this.constants.plane + this.thread.y * this.constants.row + this.thread.x];
  const op = this.constants.op;
  let y = v;
  if (op === 1) y = Math.exp(v);
  if (op === 2) y = Math.log(v);
  if (op === 3) y = Math.sqrt(v);
  if (op === 4) y = Math.abs(v);
  if (op === 5) y = -v;
  if (op === 6) y = 1 / v;
  if (op === 7) {
    // tanh from exp of a non-positive number: no overflow, and GLSL ES 1.00 has no tanh.
    const e = Math.exp(-2 * Math.abs(v));
    const t = (1 - e) / (1 + e);
    y = v < 0 ? -t : t;
  }
  if (op === 8) y = v < 0 ? this.constants.opAlpha * v : v;
  if (op === 9) y = v < 0 ? this.constants.opAlpha * (Math.exp(v) - 1) : v;
  if (op === 10) y = Math.max(v, 0) + Math.log(1 + Math.exp(-Math.abs(v)));
  if (op === 11) y = Math.floor(v);
  if (op === 12) y = Math.ceil(v);
  if (op === 13) {
    // Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): there is no erf in GLSL or WGSL.
    const a = Math.abs(v);
    const t = 1 / (1 + 0.3275911 * a);
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    const e = 1 - poly * Math.exp(-a * a);
    y = v < 0 ? -e : e;
  }
  if (op === 14) y = v > 0 ? 1 : v < 0 ? -1 : 0;
  if (op === 15) y = v === 0 ? 1 : 0;
  return fusedActivation(y, this.constants.activation, this.constants.alpha, this.constants.beta);
}

interface BinaryConstants {
  op: number;
  dim1: number;
  dim2: number;
  a0: number;
  a1: number;
  a2: number;
  a3: number;
  b0: number;
  b1: number;
  b2: number;
  b3: number;
  activation: number;
  alpha: number;
  beta: number;
}

/** Output dims [D3, 1, D0*D1*D2] (see binaryOutputDims); each input is read through its broadcast strides. */
function binaryBody(this: IKernelFunctionThis<BinaryConstants>, a: number[], b: number[]): number {
  const i01 = Math.floor((this.thread.z + 0.5) / this.constants.dim2); // + 0.5: exact even with a reciprocal division
  const i2 = this.thread.z - i01 * this.constants.dim2;
  const i0 = Math.floor((i01 + 0.5) / this.constants.dim1);
  const i1 = i01 - i0 * this.constants.dim1;
  const u = a[i0 * this.constants.a0 + i1 * this.constants.a1 + i2 * this.constants.a2 + this.thread.x * this.constants.a3];
  const v = b[i0 * this.constants.b0 + i1 * this.constants.b1 + i2 * this.constants.b2 + this.thread.x * this.constants.b3];
  const op = this.constants.op;
  let y = u + v;
  if (op === 1) y = u - v;
  if (op === 2) y = u * v;
  if (op === 3) y = u / v;
  if (op === 4) {
    // pow of a negative base is defined for integer exponents only (GLSL's pow is not).
    y = Math.pow(Math.abs(u), v);
    if (u < 0) {
      if (Math.floor(v) === v) {
        if (v - 2 * Math.floor(v / 2) === 1) y = -y;
      } else {
        // NaN, as ONNX defines it; computed at run time (WGSL refuses the constant 0 / 0). GLSL's
        // sqrt of a negative number is undefined rather than NaN, like its pow of one.
        y = Math.sqrt(u);
      }
    }
  }
  if (op === 5) y = Math.max(u, v);
  if (op === 6) y = Math.min(u, v);
  if (op === 7) y = u < 0 ? u * v : u;
  if (op === 8) y = u === v ? 1 : 0;
  if (op === 9) y = u < v ? 1 : 0;
  if (op === 10) y = u > v ? 1 : 0;
  if (op === 11) y = u <= v ? 1 : 0;
  if (op === 12) y = u >= v ? 1 : 0;
  return fusedActivation(y, this.constants.activation, this.constants.alpha, this.constants.beta);
}

function opCode<T extends Record<string, number>>(table: T, op: string, kernel: string): number {
  const code = (table as Record<string, number>)[op];
  if (code === undefined) throw new UsageError(`${kernel}: unknown operator '${String(op)}' (known: ${Object.keys(table).join(', ')})`);
  return code;
}

/** Collapsed output dims as gpu.js dims [D3, D2, D0*D1]. */
function outputDims(dims: readonly [number, number, number, number]): number[] {
  return [dims[3], dims[2], dims[0] * dims[1]];
}

/**
 * Binary output dims [D3, 1, D0*D1*D2]: the same memory order, with a middle dim of 1. gpu.js's GL
 * modes store an output whose depth is 1 as a texture of exactly [x, y], at most 8,192 texels a
 * side; a broadcast that collapses to two axes (EfficientNet's squeeze-excitation gate over a
 * 32-channel 112x112 map: [12544, 32]) would not fit. With y = 1 gpu.js packs the output into a
 * near-square texture instead, whatever the axes' sizes.
 */
function binaryOutputDims(dims: readonly [number, number, number, number]): number[] {
  return [dims[3], 1, dims[0] * dims[1] * dims[2]];
}

export const unaryKernel: KernelRegistration<UnaryFn> = {
  name: 'unary',
  description: 'element-wise unary operator (exp, log, sqrt, tanh, erf, leakyRelu, ...) with the fused activation epilogue',
  modes: '*',
  create(_gpu, config) {
    return async (x, op, attrs = {}) => {
      const code = opCode(UNARY_OPS, op, 'unary');
      const size = shapeSize(x.shape);
      if (size === 0) return emptyResult(x.shape);
      const { dims } = collapseBroadcast([x.shape], 'unary');
      const act = encodeActivation(attrs.activation);
      const opAlpha = attrs.alpha ?? (op === 'leakyRelu' ? 0.01 : 1);
      if (!Number.isFinite(opAlpha)) throw new UsageError(`unary ${op}: alpha must be a finite number, got ${String(attrs.alpha)}`);
      const out = await runStep(config, {
        label: 'unary',
        body: unaryBody,
        output: outputDims(dims),
        constants: { op: code, opAlpha, plane: dims[2] * dims[3], row: dims[3], activation: act.code, alpha: act.alpha, beta: act.beta },
        args: [float32Data(x)],
      });
      return readback(out, x.shape);
    };
  },
};

export const binaryKernel: KernelRegistration<BinaryFn> = {
  name: 'binary',
  description: 'element-wise binary operator (add, sub, mul, div, pow, max, min, prelu, comparisons) with numpy broadcasting and the fused activation epilogue',
  modes: '*',
  create(_gpu, config) {
    return async (a, b, op, attrs = {}) => {
      const code = opCode(BINARY_OPS, op, 'binary');
      const { outputShape, dims, strides } = collapseBroadcast([a.shape, b.shape], `binary ${op}`);
      if (shapeSize(outputShape) === 0) return emptyResult(outputShape);
      const act = encodeActivation(attrs.activation);
      const [sa, sb] = strides;
      const out = await runStep(config, {
        label: 'binary',
        body: binaryBody,
        output: binaryOutputDims(dims),
        constants: {
          op: code,
          dim1: dims[1],
          dim2: dims[2],
          a0: sa[0],
          a1: sa[1],
          a2: sa[2],
          a3: sa[3],
          b0: sb[0],
          b1: sb[1],
          b2: sb[2],
          b3: sb[3],
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [nonEmpty(float32Data(a)), nonEmpty(float32Data(b))],
      });
      return readback(out, outputShape);
    };
  },
};
