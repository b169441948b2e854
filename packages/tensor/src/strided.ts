import { ShapeError, UsageError } from '@deprune/errors';
import { formatShape } from './checks';
import { shapeSize, stridesOf, type FloatArray } from './tensor';

/**
 * Strided iteration shared by the elementwise, reduction, matmul and layout kernels. Not part of
 * the public API. The kernels describe each operand (output included) by its strides over one
 * common loop shape; a stride of 0 repeats a value (broadcasting) or accumulates into one slot
 * (reduction). Loops run in C order over rows of the innermost axis, so the per-element work stays
 * a plain indexed loop and only the per-row bookkeeping is generic.
 */

/** A C-order loop nest: operand k reads element `index` at `sum(index[a] * strides[k][a])` (plus its base offset). */
export interface StridedLoop {
  readonly shape: readonly number[];
  readonly strides: readonly (readonly number[])[];
}

/**
 * Drops size-1 axes and merges neighbouring axes that every operand walks as one
 * (`stride[a] === stride[a + 1] * shape[a + 1]`). A contiguous copy or a same-shape elementwise op
 * then becomes a single long row, which is what keeps the row-at-a-time loops fast.
 */
export function coalesceAxes(shape: readonly number[], strides: readonly (readonly number[])[]): StridedLoop {
  const keptAxes: number[] = [];
  for (let axis = 0; axis < shape.length; axis++) if (shape[axis] !== 1) keptAxes.push(axis);
  if (keptAxes.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  const mergedShape = [shape[keptAxes[0]]];
  const mergedStrides = strides.map((operand) => [operand[keptAxes[0]]]);
  for (let index = 1; index < keptAxes.length; index++) {
    const axis = keptAxes[index];
    const last = mergedShape.length - 1;
    const mergeable = strides.every((operand, k) => mergedStrides[k][last] === operand[axis] * shape[axis]);
    if (mergeable) {
      mergedShape[last] *= shape[axis];
      strides.forEach((operand, k) => (mergedStrides[k][last] = operand[axis]));
    } else {
      mergedShape.push(shape[axis]);
      strides.forEach((operand, k) => mergedStrides[k].push(operand[axis]));
    }
  }
  return { shape: mergedShape, strides: mergedStrides };
}

/**
 * Calls `row(offsets, length)` once per row of the innermost axis, in C order. `offsets[k]` is
 * operand k's offset of the row's first element (the array is reused between calls: read it, do
 * not keep it); along the row operand k advances by `loop.strides[k][last]`. Nothing is called
 * when the loop is empty.
 */
export function forEachRow(
  loop: StridedLoop,
  baseOffsets: readonly number[],
  row: (offsets: readonly number[], length: number) => void,
): void {
  const { shape, strides } = loop;
  if (shapeSize(shape) === 0) return;
  const outerRank = shape.length - 1;
  const rowLength = shape[outerRank];
  const operands = strides.length;
  const offsets = [...baseOffsets];
  const counters = new Array<number>(outerRank).fill(0);
  let rows = 1;
  for (let axis = 0; axis < outerRank; axis++) rows *= shape[axis];
  for (let r = 0; r < rows; r++) {
    row(offsets, rowLength);
    // Odometer step over the outer axes, moving every operand's offset along with it.
    for (let axis = outerRank - 1; axis >= 0; axis--) {
      counters[axis]++;
      if (counters[axis] < shape[axis]) {
        for (let k = 0; k < operands; k++) offsets[k] += strides[k][axis];
        break;
      }
      counters[axis] = 0;
      for (let k = 0; k < operands; k++) offsets[k] -= strides[k][axis] * (shape[axis] - 1);
    }
  }
}

/** An empty array of the same float type as `like`: the data-movement ops keep their input's dtype. */
export function allocateLike<A extends FloatArray>(like: A, size: number): A {
  return (like instanceof Float32Array ? new Float32Array(size) : new Float64Array(size)) as A;
}

/**
 * `axis` in [-rank, rank - 1], negative counting from the end, as ONNX allows; returns it in
 * [0, rank - 1].
 */
export function normalizeAxis(what: string, axis: number, shape: readonly number[]): number {
  if (!Number.isInteger(axis)) throw new UsageError(`${what} axis must be an integer, got ${String(axis)}`);
  const rank = shape.length;
  if (axis < -rank || axis >= rank) {
    throw new ShapeError(
      `${what} axis ${axis} is out of range for a rank-${rank} input ${formatShape(shape)}: use ${rank === 0 ? 'no axis (the input is a scalar)' : `-${rank}..${rank - 1}`}`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalized, distinct axes; a repeated axis is a UsageError (ONNX leaves it undefined). */
export function normalizeAxes(what: string, axes: readonly number[], shape: readonly number[]): number[] {
  if (!Array.isArray(axes as unknown)) throw new UsageError(`${what} axes must be an array of integers, got ${String(axes)}`);
  const normalized = axes.map((axis) => normalizeAxis(what, axis, shape));
  const seen = new Set<number>();
  normalized.forEach((axis, index) => {
    if (seen.has(axis)) {
      throw new UsageError(`${what} axes ${formatShape(axes)} name axis ${axis} twice (at position ${index}): list each axis once`);
    }
    seen.add(axis);
  });
  return normalized;
}

/**
 * A run of output positions along the innermost axis: `length` values read from
 * `source + j * step` (in elements of that axis), or the fill value when `source` is -1.
 */
interface Run {
  outStart: number;
  length: number;
  source: number;
  step: number;
}

/** Splits an innermost-axis index map into runs of constant step, so rows copy in few tight loops. */
function runsOf(map: Int32Array): Run[] {
  const runs: Run[] = [];
  let start = 0;
  while (start < map.length) {
    const source = map[start];
    let end = start + 1;
    let step = 0;
    if (source < 0) {
      while (end < map.length && map[end] < 0) end++;
    } else if (end < map.length && map[end] >= 0) {
      step = map[end] - source;
      while (end < map.length && map[end] >= 0 && map[end] - map[end - 1] === step) end++;
    }
    runs.push({ outStart: start, length: end - start, source, step });
    start = end;
  }
  return runs;
}

/** Rows at least this long are copied with `TypedArray.set`, whose call overhead then pays off. */
export const BULK_COPY_MIN = 16;

/**
 * The one loop behind pad, slice, tile and expand: every output axis reads its input axis through
 * an index map, `out[i0, ..., in] = x[map0[i0], ..., mapn[in]]`, and an entry of -1 anywhere
 * writes `fill` instead (constant padding). The output shape is the maps' lengths; the output has
 * the input's dtype.
 */
export function gatherAxes<A extends FloatArray>(data: A, inShape: readonly number[], maps: readonly Int32Array[], fill: number): A {
  const rank = inShape.length;
  const outShape = maps.map((map) => map.length);
  const out = allocateLike(data, shapeSize(outShape));
  if (out.length === 0) return out;
  if (rank === 0) {
    out[0] = data[0];
    return out;
  }
  const inStrides = stridesOf(inShape);
  const last = rank - 1;
  const innerStride = inStrides[last];
  const runs = runsOf(maps[last]);
  const rowLength = outShape[last];
  const counters = new Array<number>(last).fill(0);
  const rows = out.length / rowLength;
  for (let r = 0, outRow = 0; r < rows; r++, outRow += rowLength) {
    let base = 0;
    for (let axis = 0; axis < last && base >= 0; axis++) {
      const source = maps[axis][counters[axis]];
      base = source < 0 ? -1 : base + source * inStrides[axis];
    }
    if (base < 0) {
      out.fill(fill, outRow, outRow + rowLength);
    } else {
      for (const run of runs) {
        const outStart = outRow + run.outStart;
        if (run.source < 0) {
          out.fill(fill, outStart, outStart + run.length);
          continue;
        }
        const first = base + run.source * innerStride;
        const step = run.step * innerStride;
        if (step === 1 && run.length >= BULK_COPY_MIN) {
          out.set(data.subarray(first, first + run.length), outStart);
        } else {
          for (let j = 0, source = first; j < run.length; j++, source += step) out[outStart + j] = data[source];
        }
      }
    }
    for (let axis = last - 1; axis >= 0; axis--) {
      if (++counters[axis] < outShape[axis]) break;
      counters[axis] = 0;
    }
  }
  return out;
}
