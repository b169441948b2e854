import { ShapeError } from '@deprune/errors';
import { assertFiniteNumber, assertRank, formatShape } from './checks';
import { zerosFloat64, type Tensor } from './tensor';

export interface GemmOptions {
  /** Use A transposed (A is then [K, M]). Default false. */
  transA?: boolean;
  /** Use B transposed (B is then [N, K]). Default false. */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 1. */
  beta?: number;
}

/**
 * Strides that read C as if it were [M, N]: ONNX Gemm broadcasts C unidirectionally, so it may be
 * a scalar ([] or [1]), [N], [1, N], [M, 1] or [M, N]; a broadcast axis gets stride 0.
 */
function broadcastStrides(cShape: readonly number[], rows: number, cols: number): [number, number] {
  if (cShape.length > 2) {
    throw new ShapeError(`gemm C must have rank <= 2 to broadcast to [${rows}, ${cols}], got ${formatShape(cShape)}`);
  }
  const padded = [...new Array<number>(2 - cShape.length).fill(1), ...cShape];
  const [cRows, cCols] = padded;
  if ((cRows !== 1 && cRows !== rows) || (cCols !== 1 && cCols !== cols)) {
    throw new ShapeError(
      `gemm C of shape ${formatShape(cShape)} does not broadcast to the output [${rows}, ${cols}] (each axis must be 1 or match)`,
    );
  }
  return [cRows === 1 ? 0 : cCols, cCols === 1 ? 0 : 1];
}

/** ONNX `Gemm`: Y = alpha * op(A) * op(B) + beta * C, computed in float64. */
export function gemm(a: Tensor, b: Tensor, c?: Tensor | null, options: GemmOptions = {}): Tensor<Float64Array> {
  const { transA = false, transB = false, alpha = 1, beta = 1 } = options;
  assertFiniteNumber('gemm alpha', alpha);
  assertFiniteNumber('gemm beta', beta);
  assertRank('gemm A', a.shape, 2, transA ? 'K, M with transA' : 'M, K');
  assertRank('gemm B', b.shape, 2, transB ? 'N, K with transB' : 'K, N');
  const [rows, innerA] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [innerB, cols] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (innerA !== innerB) {
    throw new ShapeError(
      `gemm inner dimensions differ: op(A) is [${rows}, ${innerA}] (A ${formatShape(a.shape)}, transA=${transA}) and op(B) is [${innerB}, ${cols}] (B ${formatShape(b.shape)}, transB=${transB})`,
    );
  }
  const cStrides = c === null || c === undefined ? undefined : broadcastStrides(c.shape, rows, cols);
  // Element (row, k) of op(A) is aData[row * aRowStride + k * aInnerStride]; likewise for op(B).
  const aRowStride = transA ? 1 : innerA;
  const aInnerStride = transA ? rows : 1;
  const bInnerStride = transB ? 1 : cols;
  const bColStride = transB ? innerB : 1;
  const output = zerosFloat64([rows, cols]);
  const out = output.data;
  const aData = a.data;
  const bData = b.data;

  for (let row = 0; row < rows; row++) {
    const outRow = row * cols;
    for (let k = 0; k < innerA; k++) {
      const scaledA = alpha * aData[row * aRowStride + k * aInnerStride];
      const bRow = k * bInnerStride;
      for (let col = 0; col < cols; col++) {
        out[outRow + col] += scaledA * bData[bRow + col * bColStride];
      }
    }
  }
  if (c !== null && c !== undefined && cStrides !== undefined) {
    const [cRowStride, cColStride] = cStrides;
    const cData = c.data;
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < cols; col++) {
        out[row * cols + col] += beta * cData[row * cRowStride + col * cColStride];
      }
    }
  }
  return output;
}

/** Plain 2-D matrix product [M, K] x [K, N] -> [M, N]. */
export function matmul(a: Tensor, b: Tensor): Tensor<Float64Array> {
  assertRank('matmul A', a.shape, 2, 'M, K');
  assertRank('matmul B', b.shape, 2, 'K, N');
  if (a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul inner dimensions differ: A is ${formatShape(a.shape)} and B is ${formatShape(b.shape)}`);
  }
  return gemm(a, b);
}
