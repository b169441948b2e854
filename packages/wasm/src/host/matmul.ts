import { ShapeError, UsageError } from '@deprune/errors';
import { encodeActivation, matmulShapes, type GemmFn, type MatmulFn } from '@deprune/kernels';
import { shapeSize, tensor } from '@deprune/tensor';
import { biasData, emptyResult, float32Data, storeActivated } from './common';

/**
 * Host fallbacks of MatMul and Gemm. Each output row is accumulated in float64 over contiguous
 * memory: i-k-j (row of A times rows of B) where B's rows are contiguous, i-j-k (dot products
 * with rows of B) for Gemm with transB; then the epilogue and one rounding on store.
 */

/** The start of every broadcast batch's matrix in an operand, in output batch order. */
export function batchOffsets(batchShape: readonly number[], operandBatch: readonly number[], matrixSize: number): number[] {
  const batches = shapeSize(batchShape);
  const lead = batchShape.length - operandBatch.length;
  const offsets = new Array<number>(batches);
  for (let flat = 0; flat < batches; flat++) {
    let rest = flat;
    let offset = 0;
    let stride = matrixSize;
    for (let axis = batchShape.length - 1; axis >= lead; axis--) {
      const coordinate = rest % batchShape[axis];
      rest = Math.floor(rest / batchShape[axis]);
      const dim = operandBatch[axis - lead];
      if (dim !== 1) offset += coordinate * stride;
      stride *= dim;
    }
    offsets[flat] = offset;
  }
  return offsets;
}

/** acc[0 .. columns) = the row of op(A) at aRow (elements aStep apart) times B [inner, columns] from bStart. */
function rowTimesMatrix(a: Float32Array, aRow: number, aStep: number, b: Float32Array, bStart: number, inner: number, columns: number, acc: Float64Array): void {
  acc.fill(0, 0, columns);
  for (let k = 0; k < inner; k++) {
    const value = a[aRow + k * aStep];
    const bRow = bStart + k * columns;
    for (let j = 0; j < columns; j++) acc[j] += value * b[bRow + j];
  }
}

/** ONNX MatMul (numpy semantics) with an optional bias [N] on every row and the fused activation. */
export const matmul: MatmulFn = async (a, b, bias, attrs = {}) => {
  const { rows, inner, columns, aBatch, bBatch, batchShape, outputShape } = matmulShapes(a.shape, b.shape);
  const biasValues = biasData(bias, columns, 'matmul');
  const batches = shapeSize(batchShape);
  if (batches === 0 || rows === 0 || columns === 0) return emptyResult(outputShape);
  const act = encodeActivation(attrs.activation);
  const aData = float32Data(a);
  const bData = float32Data(b);
  const aOffsets = batchOffsets(batchShape, aBatch, rows * inner);
  const bOffsets = batchOffsets(batchShape, bBatch, inner * columns);
  const out = new Float32Array(batches * rows * columns);
  const acc = new Float64Array(columns);
  for (let batch = 0; batch < batches; batch++) {
    for (let row = 0; row < rows; row++) {
      const aRow = aOffsets[batch] + row * inner;
      rowTimesMatrix(aData, aRow, 1, bData, bOffsets[batch], inner, columns, acc);
      if (biasValues !== null) for (let j = 0; j < columns; j++) acc[j] += biasValues[j];
      storeActivated(acc, columns, out, (batch * rows + row) * columns, act);
    }
  }
  return tensor(out, outputShape);
};

function finiteNumber(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`gemm ${name} must be a finite number, got ${String(value)}`);
  return value;
}

/** Strides that read C as [M, N] under ONNX's unidirectional broadcast (a broadcast axis gets stride 0). */
function cStrides(cShape: readonly number[], rows: number, columns: number): [number, number] {
  if (cShape.length > 2) throw new ShapeError(`gemm C must have rank <= 2 to broadcast to [${rows}, ${columns}], got [${cShape.join(', ')}]`);
  const [cRows, cColumns] = [...new Array<number>(2 - cShape.length).fill(1), ...cShape];
  if ((cRows !== 1 && cRows !== rows) || (cColumns !== 1 && cColumns !== columns)) {
    throw new ShapeError(`gemm C of shape [${cShape.join(', ')}] does not broadcast to the output [${rows}, ${columns}]`);
  }
  return [cRows === 1 ? 0 : cColumns, cColumns === 1 ? 0 : 1];
}

/** ONNX Gemm: Y = activation(alpha * op(A) * op(B) + beta * C), C broadcast unidirectionally -> [M, N]. */
export const gemm: GemmFn = async (a, b, c, attrs = {}) => {
  const { transA = false, transB = false } = attrs;
  const alpha = finiteNumber('alpha', attrs.alpha ?? 1);
  const beta = finiteNumber('beta', attrs.beta ?? 1);
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new ShapeError(`gemm A and B must be matrices, got A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}]`);
  }
  const [rows, inner] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [innerB, columns] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (inner !== innerB) {
    throw new ShapeError(`gemm inner dimensions differ: op(A) is [${rows}, ${inner}] and op(B) is [${innerB}, ${columns}] (transA=${transA}, transB=${transB})`);
  }
  const hasC = c !== null && c !== undefined;
  const [cRowStride, cColumnStride] = hasC ? cStrides(c.shape, rows, columns) : [0, 0];
  const shape = [rows, columns];
  if (rows === 0 || columns === 0) return emptyResult(shape);
  const act = encodeActivation(attrs.activation);
  const aData = float32Data(a);
  const bData = float32Data(b);
  const cData = hasC ? float32Data(c) : null;
  // Element (row, k) of op(A) is aData[row * aRowStride + k * aStep].
  const aRowStride = transA ? 1 : inner;
  const aStep = transA ? rows : 1;
  const out = new Float32Array(rows * columns);
  const acc = new Float64Array(columns);
  const aRowValues = transB ? new Float64Array(inner) : null;
  for (let row = 0; row < rows; row++) {
    const aRow = row * aRowStride;
    if (aRowValues !== null) {
      // B is [N, K]: dot products of op(A)'s row (gathered once) with B's contiguous rows.
      for (let k = 0; k < inner; k++) aRowValues[k] = aData[aRow + k * aStep];
      for (let j = 0, bRow = 0; j < columns; j++, bRow += inner) {
        let sum = 0;
        for (let k = 0; k < inner; k++) sum += aRowValues[k] * bData[bRow + k];
        acc[j] = sum;
      }
    } else {
      rowTimesMatrix(aData, aRow, aStep, bData, 0, inner, columns, acc);
    }
    for (let j = 0; j < columns; j++) acc[j] *= alpha;
    if (cData !== null) {
      const cRow = row * cRowStride;
      for (let j = 0; j < columns; j++) acc[j] += beta * cData[cRow + j * cColumnStride];
    }
    storeActivated(acc, columns, out, row * columns, act);
  }
  return tensor(out, shape);
};
