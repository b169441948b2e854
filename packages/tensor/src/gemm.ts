import { ShapeError } from '@deprune/errors';
import { assertFiniteNumber, assertRank, formatShape } from './checks';
import { broadcastShape, broadcastStrides as stridesBroadcastTo } from './elementwise';
import { coalesceAxes, forEachRow } from './strided';
import { stridesOf, zerosFloat64, type Tensor } from './tensor';

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

/**
 * ONNX MatMul (numpy matmul) in float64: the last two axes multiply as matrices and the leading
 * (batch) axes broadcast. A 1-D A is read as a row [1, K] and a 1-D B as a column [K, 1], and that
 * axis is removed from the result again, so [K] x [K] gives a scalar (shape []).
 */
export function matmulBroadcast(a: Tensor, b: Tensor): Tensor<Float64Array> {
  if (a.shape.length === 0 || b.shape.length === 0) {
    throw new ShapeError(`matmulBroadcast needs operands of rank >= 1, got A ${formatShape(a.shape)} and B ${formatShape(b.shape)} (use mapElementwise for a scalar product)`);
  }
  const aMatrix = a.shape.length === 1 ? [1, a.shape[0]] : a.shape.slice(-2);
  const bMatrix = b.shape.length === 1 ? [b.shape[0], 1] : b.shape.slice(-2);
  const [rows, inner] = aMatrix;
  const [innerB, cols] = bMatrix;
  if (inner !== innerB) {
    throw new ShapeError(`matmulBroadcast inner dimensions differ: A ${formatShape(a.shape)} has K = ${inner} but B ${formatShape(b.shape)} has K = ${innerB}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShape(aBatch, bBatch);
  } catch (error) {
    throw new ShapeError(`matmulBroadcast batch axes of A ${formatShape(a.shape)} and B ${formatShape(b.shape)} do not broadcast: ${(error as Error).message}`);
  }
  const outShape = [...batch, ...(a.shape.length === 1 ? [] : [rows]), ...(b.shape.length === 1 ? [] : [cols])];
  const output = zerosFloat64(outShape);
  const out = output.data;
  const aData = a.data;
  const bData = b.data;
  const aBlock = rows * inner;
  const bBlock = inner * cols;
  const outBlock = rows * cols;
  // One loop over the batch positions; each operand's batch strides count whole matrices.
  const loop = coalesceAxes(batch, [
    stridesBroadcastTo(aBatch, batch).map((stride) => stride * aBlock),
    stridesBroadcastTo(bBatch, batch).map((stride) => stride * bBlock),
    stridesOf(batch).map((stride) => stride * outBlock),
  ]);
  const [aStep, bStep, outStep] = loop.strides.map((strides) => strides[strides.length - 1]);
  forEachRow(loop, [0, 0, 0], (offsets, length) => {
    for (let index = 0; index < length; index++) {
      const aBase = offsets[0] + index * aStep;
      const bBase = offsets[1] + index * bStep;
      const outBase = offsets[2] + index * outStep;
      for (let row = 0; row < rows; row++) {
        const outRow = outBase + row * cols;
        for (let k = 0; k < inner; k++) {
          const aValue = aData[aBase + row * inner + k];
          const bRow = bBase + k * cols;
          for (let col = 0; col < cols; col++) out[outRow + col] += aValue * bData[bRow + col];
        }
      }
    }
  });
  return output;
}
