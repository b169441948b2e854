import { ShapeError } from '@deprune/errors';
import { shapeSize } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { biasVector, emptyResult, float32Data, nonEmpty, readback, runStep } from './launch';
import { matmulShapes, type MatmulFn } from '@deprune/kernels';
export type { MatmulAttrs, MatmulFn } from '@deprune/kernels';

/** See dw-dense.ts: the fused epilogue (FUSED_ACTIVATION_SOURCE), called by its bare name inside kernel bodies. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface MatmulConstants {
  inner: number;
  columns: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * Output dims [N, M, batches]: thread (column, row, batch). Where each batch's A and B start is a
 * per-batch offset table computed on the host, which is how broadcast batch dims cost nothing here.
 */
function matmulBody(this: IKernelFunctionThis<MatmulConstants>, a: number[], b: number[], aOffsets: number[], bOffsets: number[], bias: number[]): number {
  const aStart = aOffsets[this.thread.z] + this.thread.y * this.constants.inner;
  const bStart = bOffsets[this.thread.z] + this.thread.x;
  let sum = 0;
  for (let k = 0; k < this.constants.inner; k++) {
    sum += a[aStart + k] * b[bStart + k * this.constants.columns];
  }
  return fusedActivation(sum + bias[this.thread.x], this.constants.activation, this.constants.alpha, this.constants.beta);
}

/** Float32 holds integers exactly up to 2^24: offsets past that would index the wrong element. */
const MAX_EXACT_OFFSET = 2 ** 24;

/** The offset of every broadcast batch's matrix in a (or b), in output batch order. */
function batchOffsets(batchShape: readonly number[], operandBatch: readonly number[], matrixSize: number): Float32Array {
  const batches = shapeSize(batchShape);
  const offsets = new Float32Array(Math.max(1, batches));
  const lead = batchShape.length - operandBatch.length;
  for (let flat = 0; flat < batches; flat++) {
    let rest = flat;
    let offset = 0;
    let stride = matrixSize;
    for (let axis = batchShape.length - 1; axis >= 0; axis--) {
      const coordinate = rest % batchShape[axis];
      rest = Math.floor(rest / batchShape[axis]);
      const operandAxis = axis - lead;
      if (operandAxis < 0) continue;
      if (operandBatch[operandAxis] !== 1) offset += coordinate * stride;
      stride *= operandBatch[operandAxis];
    }
    if (offset >= MAX_EXACT_OFFSET) throw new ShapeError(`matmul: operand of ${batches} batches is too large for float32 index math (offset ${offset} >= 2^24)`);
    offsets[flat] = offset;
  }
  return offsets;
}

export const matmulKernel: KernelRegistration<MatmulFn> = {
  name: 'matmul',
  description: 'ONNX MatMul: batched with broadcast batch dims and 1-D operands, optional fused bias [N] + activation',
  modes: '*',
  create(_gpu, config) {
    return async (a, b, bias, attrs = {}) => {
      const { rows, inner, columns, aBatch, bBatch, batchShape, outputShape } = matmulShapes(a.shape, b.shape);
      // The operands with 1-D ones promoted, as the kernel indexes them.
      const aShape = [...aBatch, rows, inner];
      const bShape = [...bBatch, inner, columns];
      const biasData = biasVector(bias, columns, 'matmul');
      const batches = shapeSize(batchShape);
      if (batches === 0 || rows === 0 || columns === 0) return emptyResult(outputShape);
      if (shapeSize(aShape) >= MAX_EXACT_OFFSET || shapeSize(bShape) >= MAX_EXACT_OFFSET) {
        throw new ShapeError(`matmul operands of ${shapeSize(aShape)} and ${shapeSize(bShape)} values are too large for float32 index math (2^24)`);
      }
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'batched',
        body: matmulBody,
        output: [columns, rows, batches],
        constants: { inner, columns, activation: act.code, alpha: act.alpha, beta: act.beta },
        args: [
          nonEmpty(float32Data(a)),
          nonEmpty(float32Data(b)),
          batchOffsets(batchShape, aBatch, rows * inner),
          batchOffsets(batchShape, bBatch, inner * columns),
          biasData,
        ],
      });
      return readback(out, outputShape);
    };
  },
};
