import { ShapeError, UsageError } from '@deprune/errors';
import { broadcastOutputShape } from './elementwise';
import type { FloatArray, Tensor } from '@deprune/tensor';
import type { ColumnTable, TapTable } from './tables';

/** Argument checks every backend makes the same way, so every backend fails alike on bad input. */

/** Float32 view of a tensor's data: float32 as is (no copy), float64 rounded into a new array. */
export function float32Data(t: Tensor | FloatArray): Float32Array {
  const data = t instanceof Float32Array || t instanceof Float64Array ? t : t?.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new UsageError('kernel inputs must be tensors with Float32Array or Float64Array data');
}

/** A float32 vector of `length` values: the bias, or zeros when there is none. */
export function biasVector(bias: Tensor | null | undefined, length: number, op: string): Float32Array {
  if (bias === null || bias === undefined) return new Float32Array(length);
  if (bias.shape.length !== 1 || bias.shape[0] !== length) {
    throw new ShapeError(`${op} bias must have shape [${length}] (one value per output channel), got [${bias.shape.join(', ')}]`);
  }
  return float32Data(bias);
}

/** An input of `inputShape` [N, Cin, H, W] and a [Cout, Cin(, 1, 1)] weight -> (Cout, Cin); ShapeError otherwise. */
export function pointwiseShape(inputShape: readonly number[], weightShape: readonly number[], op: string): { outChannels: number; inChannels: number } {
  if (inputShape.length !== 4) throw new ShapeError(`${op} input must be [N, C, H, W], got [${inputShape.join(', ')}]`);
  const isMatrix = weightShape.length === 2;
  const isOnnx = weightShape.length === 4 && weightShape[2] === 1 && weightShape[3] === 1;
  if ((!isMatrix && !isOnnx) || weightShape[1] !== inputShape[1]) {
    throw new ShapeError(`${op} weight must be [M, ${inputShape[1]}] or [M, ${inputShape[1]}, 1, 1] for input [${inputShape.join(', ')}], got [${weightShape.join(', ')}]`);
  }
  return { outChannels: weightShape[0], inChannels: weightShape[1] };
}

export function checkTapTable(table: TapTable, channels: number, op: string): void {
  if (table === null || typeof table !== 'object' || table.kind !== 'dw-taps') {
    throw new UsageError(`${op} needs a tap table from buildTapTable(keptTaps, weights)`);
  }
  if (table.channels !== channels) {
    throw new ShapeError(`${op}: the tap table of '${table.name}' has ${table.channels} channels but the input has ${channels}`, { node: table.name });
  }
}

/** The column table's checks against the input: ShapeError / UsageError naming the layer. */
export function checkColumnTable(table: ColumnTable, inChannels: number, op: string): void {
  if (table === null || typeof table !== 'object' || table.kind !== 'pw-columns') {
    throw new UsageError(`${op} needs a column table from buildColumnTable(keptColumns, weights)`);
  }
  if (table.inChannels !== inChannels) {
    throw new ShapeError(`${op}: the column table of '${table.name}' expects ${table.inChannels} input channels, got ${inChannels}`, { node: table.name });
  }
}

/** The shapes of an ONNX MatMul (numpy semantics), as every backend reads them. */
export interface MatmulShapes {
  /** op(A) is [..., rows, inner], op(B) [..., inner, columns]; 1-D operands promoted. */
  rows: number;
  inner: number;
  columns: number;
  aBatch: number[];
  bBatch: number[];
  /** The broadcast of both operands' batch dims. */
  batchShape: number[];
  /** The result's shape: the promoted axes of 1-D operands removed again. */
  outputShape: number[];
}

/** MatMul's shapes for operands of `aShape` and `bShape`; a ShapeError naming both when they do not multiply. */
export function matmulShapes(aShape: readonly number[], bShape: readonly number[]): MatmulShapes {
  if (aShape.length === 0 || bShape.length === 0) throw new ShapeError('matmul operands must have rank >= 1 (ONNX MatMul takes no scalars)');
  const a = aShape.length === 1 ? [1, aShape[0]] : [...aShape];
  const b = bShape.length === 1 ? [bShape[0], 1] : [...bShape];
  const [rows, inner] = a.slice(-2);
  const [innerB, columns] = b.slice(-2);
  if (inner !== innerB) throw new ShapeError(`matmul inner dimensions differ: A is [${aShape.join(', ')}] and B is [${bShape.join(', ')}]`);
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const batchShape = broadcastOutputShape([aBatch, bBatch], 'matmul batch dims');
  const outputShape = [...batchShape, ...(aShape.length === 1 ? [] : [rows]), ...(bShape.length === 1 ? [] : [columns])];
  return { rows, inner, columns, aBatch, bBatch, batchShape, outputShape };
}
