import { ShapeError, UsageError } from '@deprune/errors';
import { assertPositiveInteger, assertRank, formatShape } from './checks';
import { broadcastShape } from './elementwise';
import { allocateLike, BULK_COPY_MIN, coalesceAxes, forEachRow, gatherAxes, normalizeAxes, normalizeAxis } from './strided';
import { shapeSize, stridesOf, tensor, type FloatArray, type Tensor } from './tensor';

/**
 * ONNX data-movement ops: Transpose, Concat, Slice, Gather, Pad, Expand, Tile, DepthToSpace. They
 * only move values, so they keep the input's dtype (Float32Array in, Float32Array out) and are
 * exact; the runtime uses them on its float32 host path as well as in tests.
 */

function assertTensorData(what: string, x: Tensor): void {
  if (!(x.data instanceof Float32Array) && !(x.data instanceof Float64Array)) {
    throw new UsageError(`${what} input data must be a Float32Array or a Float64Array`);
  }
  if (x.data.length !== shapeSize(x.shape)) {
    throw new ShapeError(`${what} input has ${x.data.length} values but shape ${formatShape(x.shape)} needs ${shapeSize(x.shape)}`);
  }
}

/** Integer list of a given length, or a UsageError naming the argument. */
function assertIntegers(what: string, values: readonly number[], length?: number): void {
  if (!Array.isArray(values as unknown) || values.some((value) => !Number.isInteger(value))) {
    throw new UsageError(`${what} must be an array of integers, got ${JSON.stringify(values)}`);
  }
  if (length !== undefined && values.length !== length) {
    throw new ShapeError(`${what} must have ${length} entries, got ${values.length} (${formatShape(values)})`);
  }
}

/** Permutes `data` of `shape` by `perm` (output axis a is input axis perm[a]); rows are strided copies. */
function permute<A extends FloatArray>(data: A, shape: readonly number[], perm: readonly number[]): { data: A; shape: number[] } {
  const outShape = perm.map((axis) => shape[axis]);
  const out = allocateLike(data, data.length);
  const inStrides = stridesOf(shape);
  const loop = coalesceAxes(outShape, [stridesOf(outShape), perm.map((axis) => inStrides[axis])]);
  const inStep = loop.strides[1][loop.strides[1].length - 1];
  forEachRow(loop, [0, 0], (offsets, length) => {
    let i = offsets[1];
    if (inStep === 1 && length >= BULK_COPY_MIN) {
      out.set(data.subarray(i, i + length), offsets[0]);
      return;
    }
    for (let o = offsets[0], end = o + length; o < end; o++, i += inStep) out[o] = data[i];
  });
  return { data: out, shape: outShape };
}

/** ONNX Transpose: output axis a is input axis perm[a]; the default perm reverses the axes. */
export function transpose<A extends FloatArray>(x: Tensor<A>, perm?: readonly number[]): Tensor<A> {
  assertTensorData('transpose', x);
  const rank = x.shape.length;
  const order = perm ?? x.shape.map((_, axis) => rank - 1 - axis);
  assertIntegers('transpose perm', order, rank);
  if ([...order].sort((p, q) => p - q).some((axis, index) => axis !== index)) {
    throw new UsageError(`transpose perm ${formatShape(order)} must be a permutation of 0..${rank - 1} (each axis once) for input ${formatShape(x.shape)}`);
  }
  const { data, shape } = permute(x.data, x.shape, order);
  return tensor(data, shape);
}

/** ONNX Concat along `axis` (negative counts from the end); every input has the same rank, dtype and other dims. */
export function concat<A extends FloatArray>(xs: readonly Tensor<A>[], axis: number): Tensor<A> {
  if (!Array.isArray(xs as unknown) || xs.length === 0) throw new UsageError('concat needs at least one input tensor');
  xs.forEach((x, index) => assertTensorData(`concat input ${index}`, x));
  const first = xs[0];
  const along = normalizeAxis('concat', axis, first.shape);
  xs.forEach((x, index) => {
    if (x.data.constructor !== first.data.constructor) {
      throw new UsageError(`concat inputs must share one dtype: input 0 is ${first.data.constructor.name} but input ${index} is ${x.data.constructor.name} (convert with toFloat32/toFloat64 first)`);
    }
    const agrees = x.shape.length === first.shape.length && x.shape.every((dim, a) => a === along || dim === first.shape[a]);
    if (!agrees) {
      throw new ShapeError(
        `concat input ${index} has shape ${formatShape(x.shape)} but input 0 has ${formatShape(first.shape)}: all inputs need the same rank and the same size on every axis except the concat axis ${along}`,
      );
    }
  });
  const outShape = [...first.shape];
  outShape[along] = xs.reduce((sum, x) => sum + x.shape[along], 0);
  const out = allocateLike(first.data, shapeSize(outShape));
  const outer = shapeSize(first.shape.slice(0, along));
  const inner = shapeSize(first.shape.slice(along + 1));
  const outChunk = outShape[along] * inner;
  let offset = 0;
  for (const x of xs) {
    // Each input contributes one contiguous chunk per outer index.
    const chunk = x.shape[along] * inner;
    for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * chunk, (o + 1) * chunk), o * outChunk + offset);
    offset += chunk;
  }
  return tensor(out, outShape);
}

function identityMap(size: number): Int32Array {
  const map = new Int32Array(size);
  for (let index = 0; index < size; index++) map[index] = index;
  return map;
}

/**
 * ONNX Slice. For each listed axis (default: the first starts.length axes) with step s (default 1,
 * never 0): negative starts/ends count from the end; then for s > 0 both clamp to [0, dim], for
 * s < 0 start clamps to [0, dim - 1] and end to [-1, dim - 1]; the slice takes start, start + s,
 * ... while before end. So huge ends (INT64_MAX) mean "to the end", and -INT64_MAX with a
 * negative step "to the beginning". An empty range gives a 0-size axis.
 */
export function slice<A extends FloatArray>(
  x: Tensor<A>,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): Tensor<A> {
  assertTensorData('slice', x);
  assertIntegers('slice starts', starts);
  assertIntegers('slice ends', ends, starts.length);
  const sliceAxes = normalizeAxes('slice', axes ?? starts.map((_, index) => index), x.shape);
  if (sliceAxes.length !== starts.length) {
    throw new ShapeError(`slice axes ${formatShape(axes ?? [])} must have one entry per start (${starts.length})`);
  }
  const sliceSteps = steps ?? starts.map(() => 1);
  assertIntegers('slice steps', sliceSteps, starts.length);
  const maps = x.shape.map(identityMap);
  sliceAxes.forEach((axis, index) => {
    const dim = x.shape[axis];
    const step = sliceSteps[index];
    if (step === 0) throw new UsageError(`slice step for axis ${axis} is 0; steps must be non-zero (negative steps walk backwards)`);
    const clamp = (value: number, low: number, high: number) => Math.min(Math.max(value, low), high);
    const fromEnd = (value: number) => (value < 0 ? value + dim : value);
    const start = step > 0 ? clamp(fromEnd(starts[index]), 0, dim) : clamp(fromEnd(starts[index]), 0, dim - 1);
    const end = step > 0 ? clamp(fromEnd(ends[index]), 0, dim) : clamp(fromEnd(ends[index]), -1, dim - 1);
    const count = Math.max(0, Math.ceil((end - start) / step));
    const map = new Int32Array(count);
    for (let k = 0; k < count; k++) map[k] = start + k * step;
    maps[axis] = map;
  });
  return tensor(gatherAxes(x.data, x.shape, maps, 0), maps.map((map) => map.length));
}

/**
 * ONNX Gather: picks entries of `x` along `axis` by `indices` (any shape, integer values, negative
 * counting from the end); the output shape is x.shape[:axis] + indices.shape + x.shape[axis+1:].
 * An index out of [-dim, dim - 1] is a ShapeError, as in onnxruntime.
 */
export function gather<A extends FloatArray>(x: Tensor<A>, indices: { data: ArrayLike<number>; shape: readonly number[] }, axis: number): Tensor<A> {
  assertTensorData('gather', x);
  const along = normalizeAxis('gather', axis, x.shape);
  if (indices === null || typeof indices !== 'object' || indices.data === undefined) {
    throw new UsageError('gather indices must be { data, shape } with integer data');
  }
  const count = shapeSize(indices.shape);
  if (indices.data.length !== count) {
    throw new ShapeError(`gather indices have ${indices.data.length} values but shape ${formatShape(indices.shape)} needs ${count}`);
  }
  const dim = x.shape[along];
  const resolved = new Int32Array(count);
  for (let position = 0; position < count; position++) {
    const index = Number(indices.data[position]);
    if (!Number.isInteger(index)) throw new UsageError(`gather index at position ${position} is ${String(indices.data[position])}, not an integer`);
    if (index < -dim || index >= dim) {
      throw new ShapeError(
        `gather index ${index} at position ${position} is out of range for axis ${along} of size ${dim} (input ${formatShape(x.shape)}): indices must be in ${dim === 0 ? 'an empty range (the axis is empty)' : `-${dim}..${dim - 1}`}`,
      );
    }
    resolved[position] = index < 0 ? index + dim : index;
  }
  const outShape = [...x.shape.slice(0, along), ...indices.shape, ...x.shape.slice(along + 1)];
  const out = allocateLike(x.data, shapeSize(outShape));
  const outer = shapeSize(x.shape.slice(0, along));
  const inner = shapeSize(x.shape.slice(along + 1));
  let o = 0;
  for (let block = 0; block < outer; block++) {
    const base = block * dim * inner;
    for (let position = 0; position < count; position++, o += inner) {
      const source = base + resolved[position] * inner;
      if (inner === 1) out[o] = x.data[source];
      else out.set(x.data.subarray(source, source + inner), o);
    }
  }
  return tensor(out, outShape);
}

/**
 * ONNX Pad. `pads` is [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}]; a negative entry crops.
 * As in onnxruntime, cropping happens first and padding is then computed on the cropped tensor:
 * 'constant' writes `value` (default 0), 'edge' repeats the border value (the cropped axis must be
 * non-empty), 'reflect' mirrors without repeating the border (the cropped axis must have at least
 * 2 values and each pad must be < its length).
 */
export function pad<A extends FloatArray>(x: Tensor<A>, pads: readonly number[], mode: 'constant' | 'reflect' | 'edge' = 'constant', value = 0): Tensor<A> {
  assertTensorData('pad', x);
  const rank = x.shape.length;
  assertIntegers(`pad pads (${rank} begins then ${rank} ends)`, pads, 2 * rank);
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') {
    throw new UsageError(`pad mode must be 'constant', 'reflect' or 'edge', got ${JSON.stringify(mode)}`);
  }
  if (typeof value !== 'number') throw new UsageError(`pad value must be a number, got ${typeof value}`);
  const maps = x.shape.map((dim, axis) => {
    const begin = pads[axis];
    const end = pads[axis + rank];
    const cropBegin = Math.max(0, -begin);
    const kept = dim - cropBegin - Math.max(0, -end);
    if (kept < 0) {
      throw new ShapeError(`pad crops ${-Math.min(begin, 0) - Math.min(end, 0)} values off axis ${axis}, which has only ${dim} (input ${formatShape(x.shape)}, pads ${formatShape(pads)})`);
    }
    const padBegin = Math.max(0, begin);
    const padEnd = Math.max(0, end);
    if (padBegin + padEnd > 0 && mode === 'edge' && kept === 0) {
      throw new ShapeError(`pad 'edge' cannot pad axis ${axis}: it is empty (after cropping) in input ${formatShape(x.shape)}, so there is no edge value to repeat`);
    }
    if (padBegin + padEnd > 0 && mode === 'reflect' && (kept < 2 || padBegin > kept - 1 || padEnd > kept - 1)) {
      throw new ShapeError(
        `pad 'reflect' on axis ${axis} needs at least 2 values and pads of at most ${Math.max(0, kept - 1)}, but the axis has ${kept} (after cropping) and pads ${padBegin}, ${padEnd}; use 'edge' or smaller pads`,
      );
    }
    const map = new Int32Array(kept + padBegin + padEnd);
    for (let j = 0; j < map.length; j++) {
      let t = j - padBegin; // position in the cropped axis
      if (t < 0 || t >= kept) {
        if (mode === 'constant') {
          map[j] = -1;
          continue;
        }
        if (mode === 'edge') t = t < 0 ? 0 : kept - 1;
        else t = t < 0 ? -t : 2 * (kept - 1) - t;
      }
      map[j] = cropBegin + t;
    }
    return map;
  });
  return tensor(gatherAxes(x.data, x.shape, maps, value), maps.map((map) => map.length));
}

/** ONNX Expand: broadcasts x and `shape` together (either may have the 1s), like numpy's x * ones(shape). */
export function expand<A extends FloatArray>(x: Tensor<A>, shape: readonly number[]): Tensor<A> {
  assertTensorData('expand', x);
  assertIntegers('expand shape', shape);
  const outShape = broadcastShape(x.shape, shape);
  const offset = outShape.length - x.shape.length;
  const inShape = [...new Array<number>(offset).fill(1), ...x.shape];
  const maps = outShape.map((dim, axis) => (inShape[axis] === 1 ? new Int32Array(dim) : identityMap(dim)));
  return tensor(gatherAxes(x.data, inShape, maps, 0), outShape);
}

/** ONNX Tile: repeats[a] copies of x along each axis a (0 gives an empty axis). */
export function tile<A extends FloatArray>(x: Tensor<A>, repeats: readonly number[]): Tensor<A> {
  assertTensorData('tile', x);
  assertIntegers('tile repeats (one per axis)', repeats, x.shape.length);
  repeats.forEach((count, axis) => {
    if (count < 0) throw new UsageError(`tile repeats[${axis}] is ${count}; repeats must be >= 0`);
  });
  const maps = x.shape.map((dim, axis) => {
    const map = new Int32Array(dim * repeats[axis]);
    for (let j = 0; j < map.length; j++) map[j] = j % dim;
    return map;
  });
  return tensor(gatherAxes(x.data, x.shape, maps, 0), maps.map((map) => map.length));
}

/**
 * ONNX DepthToSpace on NCHW: [N, C, H, W] -> [N, C/b², H*b, W*b]. 'DCR' (depth-column-row, the
 * default) reads the channel index as (blockRow, blockCol, c'), 'CRD' as (c', blockRow, blockCol).
 */
export function depthToSpace<A extends FloatArray>(x: Tensor<A>, blocksize: number, mode: 'DCR' | 'CRD'): Tensor<A> {
  assertTensorData('depthToSpace', x);
  assertRank('depthToSpace input', x.shape, 4, 'N, C, H, W');
  assertPositiveInteger('depthToSpace blocksize', blocksize);
  if (mode !== 'DCR' && mode !== 'CRD') throw new UsageError(`depthToSpace mode must be 'DCR' or 'CRD', got ${JSON.stringify(mode)}`);
  const [batch, channels, height, width] = x.shape;
  const b = blocksize;
  if (channels % (b * b) !== 0) {
    throw new ShapeError(`depthToSpace input ${formatShape(x.shape)} has ${channels} channels, which is not divisible by blocksize² = ${b * b}`);
  }
  const depth = channels / (b * b);
  // The ONNX definition: reshape to 6-D, transpose, reshape to [N, C/b², H*b, W*b].
  const view = mode === 'DCR' ? [batch, b, b, depth, height, width] : [batch, depth, b, b, height, width];
  const perm = mode === 'DCR' ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3];
  return tensor(permute(x.data, view, perm).data, [batch, depth, height * b, width * b]);
}
