import { encodeActivation, float32Data, matmulShapes, type GemmFn, type MatmulFn } from '@deprune/kernels';
import { shapeSize, type Tensor } from '@deprune/tensor';
import * as host from '../host';
import { batchOffsets } from '../host/matmul';
import type { KernelContext } from './conv';
import { gemmPanels, packPanels } from './conv';

/**
 * MatMul and Gemm on the packed GEMM kernel. gemmPanels computes Y[rows, pixels] = W[rows, K] *
 * X[K, pixels] + a bias per row, so a product Y[M, N] = A[M, K] * B[K, N] + bias[N] runs
 * transposed: W = B^T (packed once when B is a constant weight), X = A^T, and Y^T comes back.
 * With one row (a classifier, M = 1) A^T and Y^T are A and Y as they lie in memory: no copy; the
 * kernel then runs its one-pixel column form, a GEMV. Cases the transposed form cannot express
 * (Gemm's C broadcast along M) go to the host kernels.
 */

const FLOAT = 4;

/** One product: op(A)[M, K] at `a` with element (m, k) at aRow * m + aStep * k; B^T given packed. */
interface Product {
  a: Float32Array;
  aStart: number;
  aRow: number;
  aStep: number;
  rows: number;
  inner: number;
  columns: number;
  /** The packed panels of B^T ([N, K] in panels of 4 rows). */
  panels: number;
  /** The bias per column of Y, zero-padded to whole panels. */
  bias: number;
  code: number;
  alpha: number;
  beta: number;
}

/** Runs one product into `out` (a block of rows * columns floats in wasm memory, row-major Y). */
async function runProduct(context: KernelContext, product: Product, out: number): Promise<void> {
  const { engine } = context;
  const { rows, inner, columns } = product;
  const xBytes = inner * rows * FLOAT;
  const xOffset = engine.alloc(xBytes);
  const yBytes = columns * rows * FLOAT;
  const yT = rows === 1 ? out : engine.alloc(yBytes);
  // X = op(A)^T: [K, M], row k holds column k of op(A) (for one row: the row itself).
  const view = engine.f32(xOffset, inner * rows);
  if (rows === 1 && product.aStep === 1) view.set(product.a.subarray(product.aStart, product.aStart + inner));
  else for (let m = 0; m < rows; m++) for (let k = 0; k < inner; k++) view[k * rows + m] = product.a[product.aStart + m * product.aRow + k * product.aStep];
  try {
    await gemmPanels(context, { weights: product.panels, x: xOffset, bias: product.bias, y: yT, inner, rows: columns, pixels: rows, xStride: rows, yStride: rows }, product);
    if (rows !== 1) engine.exports.transpose2d(yT, out, columns, rows);
  } finally {
    engine.release(xOffset, xBytes);
    if (yT !== out) engine.release(yT, yBytes);
  }
}

/** B^T [N, K] of a B that is [K, N] (transposed = false) or already [N, K], scaled, in panels. */
function packedTranspose(b: Float32Array, start: number, inner: number, columns: number, transposed: boolean, scale: number): Float32Array {
  const bt = new Float32Array(columns * inner);
  for (let n = 0; n < columns; n++) {
    for (let k = 0; k < inner; k++) bt[n * inner + k] = scale * (transposed ? b[start + n * inner + k] : b[start + k * columns + n]);
  }
  return packPanels(bt, columns, inner);
}

function paddedBias(values: Float32Array | null, columns: number, scale: number): Float32Array {
  const out = new Float32Array(Math.max(4, Math.ceil(columns / 4) * 4));
  if (values !== null) for (let n = 0; n < columns; n++) out[n] = scale * values[values.length === 1 ? 0 : n];
  return out;
}

export function gemmKernels(context: KernelContext): { matmul: MatmulFn; gemm: GemmFn } {
  const { engine, constants, tensors } = context;

  const gemm: GemmFn = async (a, b, c, attrs = {}) => {
    const { transA = false, transB = false } = attrs;
    const alpha = attrs.alpha ?? 1;
    const beta = attrs.beta ?? 1;
    const cShape = c === null || c === undefined ? null : c.shape;
    // C must be one value per output column (or one value) for the transposed form's row bias.
    const columnBias = cShape === null || shapeSize(cShape) === 1 || (cShape.length >= 1 && cShape[cShape.length - 1] === shapeSize(cShape));
    if (a.shape.length !== 2 || b.shape.length !== 2 || !columnBias || !Number.isFinite(alpha) || !Number.isFinite(beta)) return host.gemm(a, b, c, attrs);
    const [rows, inner] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [innerB, columns] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (inner !== innerB || rows === 0 || columns === 0 || inner === 0) return host.gemm(a, b, c, attrs);
    if (cShape !== null && shapeSize(cShape) !== 1 && shapeSize(cShape) !== columns) return host.gemm(a, b, c, attrs);
    const bData = float32Data(b);
    const panels = constants.get(b.data, `gemm-panels:${transB}:${alpha}`, () => packedTranspose(bData, 0, inner, columns, transB, alpha));
    const cData = cShape === null ? null : float32Data(c as Tensor);
    const bias = constants.get(cData ?? b.data, `gemm-bias:${columns}:${beta}`, () => paddedBias(cData, columns, beta));
    const act = encodeActivation(attrs.activation);
    const out = engine.alloc(rows * columns * FLOAT);
    await runProduct(context, { a: float32Data(a), aStart: 0, aRow: transA ? 1 : inner, aStep: transA ? rows : 1, rows, inner, columns, panels, bias, code: act.code, alpha: act.alpha, beta: act.beta }, out);
    return tensors.output(out, [rows, columns]);
  };

  const matmul: MatmulFn = async (a, b, bias, attrs = {}) => {
    if (a.shape.length < 2 || b.shape.length < 2) return host.matmul(a, b, bias, attrs);
    const { rows, inner, columns, aBatch, bBatch, batchShape } = matmulShapes(a.shape, b.shape);
    const batches = shapeSize(batchShape);
    if (batches === 0 || rows === 0 || columns === 0 || inner === 0) return host.matmul(a, b, bias, attrs);
    if (bias !== null && bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== columns)) return host.matmul(a, b, bias, attrs);
    const aData = float32Data(a);
    const bData = float32Data(b);
    const aOffsets = batchOffsets(batchShape, aBatch, rows * inner);
    const bOffsets = batchOffsets(batchShape, bBatch, inner * columns);
    const biasValues = bias === null || bias === undefined ? null : float32Data(bias);
    const biasBlock = constants.get(biasValues ?? b.data, `matmul-bias:${columns}`, () => paddedBias(biasValues, columns, 1));
    const act = encodeActivation(attrs.activation);
    const out = engine.alloc(batches * rows * columns * FLOAT);
    for (let batch = 0; batch < batches; batch++) {
      const start = bOffsets[batch];
      const panels = constants.get(b.data, `matmul-panels:${start}`, () => packedTranspose(bData, start, inner, columns, false, 1));
      await runProduct(context, { a: aData, aStart: aOffsets[batch], aRow: inner, aStep: 1, rows, inner, columns, panels, bias: biasBlock, code: act.code, alpha: act.alpha, beta: act.beta }, out + batch * rows * columns * FLOAT);
    }
    return tensors.output(out, [...batchShape, rows, columns]);
  };

  return { matmul, gemm };
}
