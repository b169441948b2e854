/**
 * Index arithmetic on small tensors held as plain number arrays (C order). Shape
 * inference uses these to carry the VALUES of shape operands (Shape -> Gather ->
 * Concat -> Reshape chains), which never hold more than a few hundred elements.
 */

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

/** Numpy-style (multidirectional) broadcast of several shapes; undefined when they do not broadcast. */
export function broadcastShapes(shapes: readonly (readonly number[])[]): number[] | undefined {
  const rank = Math.max(0, ...shapes.map((shape) => shape.length));
  const result = new Array<number>(rank);
  for (let axis = 0; axis < rank; axis++) {
    let dim = 1;
    for (const shape of shapes) {
      const offset = axis - (rank - shape.length);
      if (offset < 0) continue;
      const current = shape[offset];
      if (current === 1) continue;
      if (dim !== 1 && dim !== current) return undefined;
      dim = current;
    }
    result[axis] = dim;
  }
  return result;
}

/** For each output element, the flat index of the (broadcast) input element it reads. */
function broadcastIndexer(outShape: readonly number[], inShape: readonly number[]): (outIndex: number) => number {
  const rank = outShape.length;
  const inStrides = stridesOf(inShape);
  const outStrides = stridesOf(outShape);
  const lead = rank - inShape.length;
  return (outIndex) => {
    let rest = outIndex;
    let inIndex = 0;
    for (let axis = 0; axis < rank; axis++) {
      const coordinate = Math.floor(rest / outStrides[axis]);
      rest -= coordinate * outStrides[axis];
      const inAxis = axis - lead;
      if (inAxis >= 0 && inShape[inAxis] !== 1) inIndex += coordinate * inStrides[inAxis];
    }
    return inIndex;
  };
}

export interface SmallTensor {
  shape: readonly number[];
  values: readonly number[];
}

/** Element-wise op over broadcast inputs. */
export function mapBroadcast(outShape: readonly number[], inputs: readonly SmallTensor[], fn: (...xs: number[]) => number): number[] {
  const indexers = inputs.map((input) => broadcastIndexer(outShape, input.shape));
  const count = elementCount(outShape);
  const out = new Array<number>(count);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k].values[indexers[k](i)];
    out[i] = fn(...args);
  }
  return out;
}

/** Visits every multi-index of `shape` in C order. */
function forEachIndex(shape: readonly number[], visit: (index: number[], flat: number) => void): void {
  const count = elementCount(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    visit(index, flat);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
}

export function transposeValues(input: SmallTensor, perm: readonly number[], outShape: readonly number[]): number[] {
  const inStrides = stridesOf(input.shape);
  const out = new Array<number>(elementCount(outShape));
  forEachIndex(outShape, (index, flat) => {
    let offset = 0;
    for (let axis = 0; axis < perm.length; axis++) offset += index[axis] * inStrides[perm[axis]];
    out[flat] = input.values[offset];
  });
  return out;
}

/** out[i0, i1, ...] = in[starts[0] + i0 * steps[0], ...]. */
export function sliceValues(input: SmallTensor, starts: readonly number[], steps: readonly number[], outShape: readonly number[]): number[] {
  const inStrides = stridesOf(input.shape);
  const out = new Array<number>(elementCount(outShape));
  forEachIndex(outShape, (index, flat) => {
    let offset = 0;
    for (let axis = 0; axis < index.length; axis++) offset += (starts[axis] + index[axis] * steps[axis]) * inStrides[axis];
    out[flat] = input.values[offset];
  });
  return out;
}

export function concatValues(inputs: readonly SmallTensor[], axis: number, outShape: readonly number[]): number[] {
  const out = new Array<number>(elementCount(outShape));
  const outStrides = stridesOf(outShape);
  let base = 0;
  for (const input of inputs) {
    forEachIndex(input.shape, (index, flat) => {
      let offset = 0;
      for (let a = 0; a < index.length; a++) offset += (a === axis ? index[a] + base : index[a]) * outStrides[a];
      out[offset] = input.values[flat];
    });
    base += input.shape[axis];
  }
  return out;
}

/** ONNX Gather: indices (already made non-negative) select along `axis`. */
export function gatherValues(data: SmallTensor, indices: SmallTensor, axis: number, outShape: readonly number[]): number[] {
  const dataStrides = stridesOf(data.shape);
  const indexRank = indices.shape.length;
  const indexStrides = stridesOf(indices.shape);
  const out = new Array<number>(elementCount(outShape));
  forEachIndex(outShape, (index, flat) => {
    let indexFlat = 0;
    for (let k = 0; k < indexRank; k++) indexFlat += index[axis + k] * indexStrides[k];
    let offset = 0;
    for (let a = 0; a < data.shape.length; a++) {
      const coordinate = a < axis ? index[a] : a === axis ? indices.values[indexFlat] : index[a + indexRank - 1];
      offset += coordinate * dataStrides[a];
    }
    out[flat] = data.values[offset];
  });
  return out;
}

export function tileValues(input: SmallTensor, outShape: readonly number[]): number[] {
  const inStrides = stridesOf(input.shape);
  const out = new Array<number>(elementCount(outShape));
  forEachIndex(outShape, (index, flat) => {
    let offset = 0;
    for (let a = 0; a < index.length; a++) offset += (index[a] % input.shape[a]) * inStrides[a];
    out[flat] = input.values[offset];
  });
  return out;
}
