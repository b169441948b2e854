import { ShapeError, UsageError } from '@deprune/errors';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { emptyResult, float32Data, nonEmpty, readback, runStep } from './launch';
import type { GemmFn } from '@deprune/kernels';
export type { GemmAttrs, GemmFn } from '@deprune/kernels';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface GemmConstants {
  inner: number;
  aRowStride: number;
  aInnerStride: number;
  bInnerStride: number;
  bColumnStride: number;
  cRowStride: number;
  cColumnStride: number;
  /** Gemm's alpha and beta. Not named alpha / beta: gpu.js's cpu mode reads kernel constants of
   * those names inside the fusedActivation helper in place of its own alpha / beta parameters. */
  productScale: number;
  biasScale: number;
  activation: number;
  actAlpha: number;
  actBeta: number;
}

/**
 * Output dims [N, M] (thread.x = column, thread.y = row). Transposes are strides baked into the
 * constants, so one body serves all four (transA, transB) cases without a branch in the loop.
 */
function gemmBody(this: IKernelFunctionThis<GemmConstants>, a: number[], b: number[], c: number[]): number {
  const row = this.thread.y;
  const column = this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.inner; k++) {
    sum += a[row * this.constants.aRowStride + k * this.constants.aInnerStride] * b[k * this.constants.bInnerStride + column * this.constants.bColumnStride];
  }
  const value = this.constants.productScale * sum + this.constants.biasScale * c[row * this.constants.cRowStride + column * this.constants.cColumnStride];
  return fusedActivation(value, this.constants.activation, this.constants.actAlpha, this.constants.actBeta);
}

function finiteNumber(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`gemm ${name} must be a finite number, got ${String(value)}`);
  return value;
}

/** Strides that read C as [M, N] under ONNX's unidirectional broadcast (a broadcast axis gets stride 0). */
function broadcastStrides(cShape: readonly number[], rows: number, columns: number): [number, number] {
  if (cShape.length > 2) throw new ShapeError(`gemm C must have rank <= 2 to broadcast to [${rows}, ${columns}], got [${cShape.join(', ')}]`);
  const [cRows, cColumns] = [...new Array<number>(2 - cShape.length).fill(1), ...cShape];
  if ((cRows !== 1 && cRows !== rows) || (cColumns !== 1 && cColumns !== columns)) {
    throw new ShapeError(`gemm C of shape [${cShape.join(', ')}] does not broadcast to the output [${rows}, ${columns}]`);
  }
  return [cRows === 1 ? 0 : cColumns, cColumns === 1 ? 0 : 1];
}

export const gemmKernel: KernelRegistration<GemmFn> = {
  name: 'gemm',
  description: 'ONNX Gemm (transA/transB, alpha, beta, broadcast C) for classifiers, fused activation',
  modes: '*',
  create(_gpu, config) {
    return async (a, b, c, attrs = {}) => {
      const { transA = false, transB = false } = attrs;
      const alpha = finiteNumber('alpha', attrs.alpha ?? 1);
      const beta = finiteNumber('beta', attrs.beta ?? 1);
      if (a.shape.length !== 2 || b.shape.length !== 2) {
        throw new ShapeError(`gemm A and B must be matrices, got A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}]`);
      }
      const [rows, innerA] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      const [innerB, columns] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
      if (innerA !== innerB) {
        throw new ShapeError(`gemm inner dimensions differ: op(A) is [${rows}, ${innerA}] and op(B) is [${innerB}, ${columns}] (transA=${transA}, transB=${transB})`);
      }
      const hasC = c !== null && c !== undefined;
      const [cRowStride, cColumnStride] = hasC ? broadcastStrides(c.shape, rows, columns) : [0, 0];
      const shape = [rows, columns];
      if (rows === 0 || columns === 0) return emptyResult(shape);
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'gemm',
        body: gemmBody,
        output: [columns, rows],
        constants: {
          inner: innerA,
          aRowStride: transA ? 1 : innerA,
          aInnerStride: transA ? rows : 1,
          bInnerStride: transB ? 1 : columns,
          bColumnStride: transB ? innerB : 1,
          cRowStride,
          cColumnStride,
          productScale: alpha,
          biasScale: hasC ? beta : 0,
          activation: act.code,
          actAlpha: act.alpha,
          actBeta: act.beta,
        },
        args: [nonEmpty(float32Data(a)), nonEmpty(float32Data(b)), hasC ? nonEmpty(float32Data(c)) : new Float32Array(1)],
      });
      return readback(out, shape);
    };
  },
};
