import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { concat, createRng, depthToSpace, expand, gather, pad, randomTensor, slice, tensor, tile, transpose, type Tensor } from '../src/index';
import { runSingleNode, type NodeInput } from './ort-model';
import { expectExactlyOrt } from './parity';

const counting = (shape: number[]) => tensor(Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => i), shape);
const counting32 = (shape: number[]) => tensor(Float32Array.from(counting(shape).data), shape);
const values = (t: Tensor) => Array.from(t.data);
const int64 = (data: (number | bigint)[]) => ({ int64: data, shape: [data.length] });
const INT64_MAX = 9223372036854775807n;

describe('layout ops keep the dtype', () => {
  it('returns Float32Array for float32 input and Float64Array for float64 input', () => {
    const inputs: Tensor[] = [counting([2, 3, 4]), counting32([2, 3, 4])];
    for (const x of inputs) {
      const dtype = x.data.constructor;
      const results = [
        transpose(x),
        concat([x, x], 1),
        slice(x, [1], [3], [2]),
        gather(x, { data: [1, 0], shape: [2] }, 0),
        pad(x, [0, 1, 0, 0, 1, 0]),
        expand(x, [2, 1, 1, 4]),
        tile(x, [1, 2, 1]),
        depthToSpace(tensor(x.data, [1, 4, 2, 3]), 2, 'DCR'),
      ];
      for (const result of results) expect(result.data.constructor).toBe(dtype);
    }
  });
});

describe('transpose', () => {
  it('reverses by default and permutes by perm', () => {
    const x = counting([2, 3]);
    expect(transpose(x).shape).toEqual([3, 2]);
    expect(values(transpose(x))).toEqual([0, 3, 1, 4, 2, 5]);
    const nchw = counting([1, 2, 2, 3]);
    expect(values(transpose(nchw, [0, 2, 3, 1]))).toEqual([0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]);
    expect(values(transpose(tensor(new Float64Array([7]), [])))).toEqual([7]);
  });

  it('rejects a perm that is not a permutation', () => {
    const x = counting([2, 3, 4]);
    expect(() => transpose(x, [0, 1])).toThrow(ShapeError);
    expect(() => transpose(x, [0, 1, 1])).toThrow(UsageError);
    expect(() => transpose(x, [0, 1, 1])).toThrow(/must be a permutation of 0..2/);
    expect(() => transpose(x, [0, 1, 3])).toThrow(UsageError);
  });
});

describe('concat', () => {
  it('joins along any axis', () => {
    const a = counting([2, 2]);
    const b = tensor(new Float64Array([9, 9]), [2, 1]);
    expect(values(concat([a, b], 1))).toEqual([0, 1, 9, 2, 3, 9]);
    expect(values(concat([a, a], -2))).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(concat([a, tensor(new Float64Array(0), [2, 0])], 1).shape).toEqual([2, 2]);
  });

  it('reports what does not fit', () => {
    const a = counting([2, 2]);
    expect(() => concat([], 0)).toThrow(UsageError);
    expect(() => concat([a, counting([3, 3])], 1)).toThrow(ShapeError);
    expect(() => concat([a, counting([3, 3])], 1)).toThrow(/same size on every axis except the concat axis 1/);
    expect(() => concat([a, counting([2])], 0)).toThrow(ShapeError);
    expect(() => concat<Float32Array | Float64Array>([a, counting32([2, 2])], 0)).toThrow(/share one dtype/);
    expect(() => concat([a], 2)).toThrow(/axis 2 is out of range/);
  });
});

describe('slice', () => {
  const x = counting([10]);
  it('follows ONNX clamping and negative indices', () => {
    expect(values(slice(x, [2], [5]))).toEqual([2, 3, 4]);
    expect(values(slice(x, [-3], [Number(INT64_MAX)]))).toEqual([7, 8, 9]);
    expect(values(slice(x, [-1], [-Number(INT64_MAX)], [0], [-1]))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(values(slice(x, [8], [1], [0], [-3]))).toEqual([8, 5, 2]);
    expect(values(slice(x, [1], [100], [-1], [4]))).toEqual([1, 5, 9]);
    expect(values(slice(x, [5], [2]))).toEqual([]);
    expect(values(slice(x, [20], [30]))).toEqual([]);
    expect(values(slice(x, [-20], [2]))).toEqual([0, 1]);
    const grid = counting([3, 4]);
    expect(values(slice(grid, [1, -1], [3, 0], [0, 1], [1, -2]))).toEqual([7, 5, 11, 9]);
  });

  it('reports bad arguments', () => {
    expect(() => slice(x, [0], [1], [0], [0])).toThrow(/step for axis 0 is 0/);
    expect(() => slice(x, [0, 1], [1])).toThrow(ShapeError);
    expect(() => slice(x, [0], [1], [1])).toThrow(/out of range/);
    expect(() => slice(counting([2, 2]), [0, 0], [1, 1], [1, -1])).toThrow(/name axis 1 twice/);
    expect(() => slice(x, [0.5], [1])).toThrow(UsageError);
  });
});

describe('gather', () => {
  it('picks along an axis with negative and repeated indices', () => {
    const x = counting([3, 2]);
    expect(values(gather(x, { data: [2, -3, 2], shape: [3] }, 0))).toEqual([4, 5, 0, 1, 4, 5]);
    const columns = gather(x, { data: new Int32Array([1, 0, 1, 1]), shape: [2, 2] }, -1);
    expect(columns.shape).toEqual([3, 2, 2]);
    expect(values(columns)).toEqual([1, 0, 1, 1, 3, 2, 3, 3, 5, 4, 5, 5]);
    const scalarIndex = gather(x, { data: [1], shape: [] }, 0);
    expect(scalarIndex.shape).toEqual([2]);
    expect(gather(x, { data: [], shape: [0] }, 1).shape).toEqual([3, 0]);
  });

  it('reports indices out of range', () => {
    const x = counting([3, 2]);
    expect(() => gather(x, { data: [0, 3], shape: [2] }, 0)).toThrow(ShapeError);
    expect(() => gather(x, { data: [0, 3], shape: [2] }, 0)).toThrow('gather index 3 at position 1 is out of range for axis 0 of size 3 (input [3, 2]): indices must be in -3..2');
    expect(() => gather(x, { data: [-4], shape: [1] }, 0)).toThrow(ShapeError);
    expect(() => gather(x, { data: [0.5], shape: [1] }, 0)).toThrow(UsageError);
    expect(() => gather(x, { data: [0, 1], shape: [3] }, 0)).toThrow(/2 values but shape \[3\] needs 3/);
    expect(() => gather(x, { data: [0], shape: [1] }, 2)).toThrow(/axis 2 is out of range/);
  });
});

describe('pad', () => {
  const x = counting([1, 4]);
  it('pads with a constant, reflects and repeats edges, crops with negative pads', () => {
    expect(values(pad(x, [0, 2, 0, 1]))).toEqual([0, 0, 0, 1, 2, 3, 0]);
    expect(values(pad(x, [0, 1, 0, 1], 'constant', 7.5))).toEqual([7.5, 0, 1, 2, 3, 7.5]);
    expect(values(pad(x, [0, 3, 0, 2], 'reflect'))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1]);
    expect(values(pad(x, [0, 2, 0, 2], 'edge'))).toEqual([0, 0, 0, 1, 2, 3, 3, 3]);
    expect(values(pad(x, [0, -1, 0, 2], 'reflect'))).toEqual([1, 2, 3, 2, 1]);
    expect(values(pad(x, [1, -4, 0, 1]))).toEqual([0, 0]);
    expect(pad(x, [1, -4, 0, 1]).shape).toEqual([2, 1]);
  });

  it('reports pads that cannot be applied', () => {
    expect(() => pad(x, [0, 1])).toThrow(/must have 4 entries/);
    expect(() => pad(x, [0, -3, 0, -2])).toThrow(/crops 5 values off axis 1, which has only 4/);
    expect(() => pad(x, [0, 4, 0, 0], 'reflect')).toThrow(ShapeError);
    expect(() => pad(x, [0, 4, 0, 0], 'reflect')).toThrow(/pads of at most 3/);
    expect(() => pad(counting([2, 1]), [0, 1, 0, 0], 'reflect')).toThrow(/at least 2 values/);
    expect(() => pad(counting([2, 0]), [0, 1, 0, 0], 'edge')).toThrow(/no edge value/);
    expect(() => pad(x, [0, 1, 0, 0], 'wrap' as never)).toThrow(UsageError);
  });
});

describe('expand and tile', () => {
  it('expands in both directions', () => {
    const column = counting([3, 1]);
    const expanded = expand(column, [2, 1, 4]);
    expect(expanded.shape).toEqual([2, 3, 4]);
    expect(values(expanded).slice(0, 8)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(expand(counting([2, 3]), [3]).shape).toEqual([2, 3]);
    expect(expand(counting([1, 3]), [0, 1]).shape).toEqual([0, 3]);
    expect(() => expand(counting([2, 3]), [4])).toThrow(ShapeError);
  });

  it('tiles, including zero repeats', () => {
    expect(values(tile(counting([2]), [3]))).toEqual([0, 1, 0, 1, 0, 1]);
    expect(values(tile(counting([1, 2]), [2, 2]))).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(tile(counting([2, 3]), [0, 1]).shape).toEqual([0, 3]);
    expect(() => tile(counting([2, 3]), [2])).toThrow(/must have 2 entries/);
    expect(() => tile(counting([2, 3]), [1, -1])).toThrow(UsageError);
  });
});

describe('depthToSpace', () => {
  it('rearranges channel blocks into space in DCR and CRD order', () => {
    const x = counting([1, 4, 1, 1]);
    expect(values(depthToSpace(x, 2, 'DCR'))).toEqual([0, 1, 2, 3]);
    const twoDeep = counting([1, 8, 1, 1]);
    // DCR: channel = (blockRow * 2 + blockCol) * 2 + c'; CRD: channel = c' * 4 + blockRow * 2 + blockCol.
    expect(values(depthToSpace(twoDeep, 2, 'DCR'))).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    expect(values(depthToSpace(twoDeep, 2, 'CRD'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('reports bad shapes and arguments', () => {
    expect(() => depthToSpace(counting([1, 6, 2, 2]), 2, 'DCR')).toThrow(/not divisible by blocksize² = 4/);
    expect(() => depthToSpace(counting([1, 4, 2]), 2, 'DCR')).toThrow(/rank 4/);
    expect(() => depthToSpace(counting([1, 4, 2, 2]), 0, 'DCR')).toThrow(UsageError);
    expect(() => depthToSpace(counting([1, 4, 2, 2]), 2, 'RCD' as never)).toThrow(UsageError);
  });
});

/** One exact-parity case: the ORT node and our call on the same float32 input. */
interface LayoutCase {
  name: string;
  shape: number[];
  opType: string;
  /** The node's extra inputs (after x) and attributes. */
  extraInputs?: NodeInput[];
  attributes?: Record<string, number | readonly number[] | string>;
  opset?: number;
  ours: (x: Tensor<Float32Array>) => Tensor;
}

const layoutCases: LayoutCase[] = [
  { name: 'Transpose default (reverse)', shape: [2, 3, 4, 5], opType: 'Transpose', ours: (x) => transpose(x) },
  { name: 'Transpose NCHW -> NHWC', shape: [2, 3, 4, 5], opType: 'Transpose', attributes: { perm: [0, 2, 3, 1] }, ours: (x) => transpose(x, [0, 2, 3, 1]) },
  { name: 'Transpose NHWC -> NCHW', shape: [1, 7, 9, 16], opType: 'Transpose', attributes: { perm: [0, 3, 1, 2] }, ours: (x) => transpose(x, [0, 3, 1, 2]) },
  { name: 'Transpose swap last two (PP-OCR rec)', shape: [1, 25, 96], opType: 'Transpose', attributes: { perm: [0, 2, 1] }, ours: (x) => transpose(x, [0, 2, 1]) },
  { name: 'Transpose with size-1 axes', shape: [3, 1, 4, 1], opType: 'Transpose', attributes: { perm: [3, 2, 0, 1] }, ours: (x) => transpose(x, [3, 2, 0, 1]) },
  { name: 'Transpose of an empty tensor', shape: [2, 0, 3], opType: 'Transpose', attributes: { perm: [1, 2, 0] }, ours: (x) => transpose(x, [1, 2, 0]) },
  { name: 'Slice positive', shape: [4, 10], opType: 'Slice', extraInputs: sliceInputs([1, 2], [3, 9]), ours: (x) => slice(x, [1, 2], [3, 9]) },
  { name: 'Slice negative starts/ends, negative axis', shape: [4, 10], opType: 'Slice', extraInputs: sliceInputs([-7], [-1], [-1]), ours: (x) => slice(x, [-7], [-1], [-1]) },
  { name: 'Slice step 2, clamped end', shape: [3, 11], opType: 'Slice', extraInputs: sliceInputs([1], [1000], [1], [2]), ours: (x) => slice(x, [1], [1000], [1], [2]) },
  { name: 'Slice INT64_MAX end', shape: [5, 6], opType: 'Slice', extraInputs: sliceInputs([2], [INT64_MAX], [0]), ours: (x) => slice(x, [2], [Number(INT64_MAX)], [0]) },
  { name: 'Slice reverse with -INT64_MAX', shape: [5, 6], opType: 'Slice', extraInputs: sliceInputs([-1, 4], [-INT64_MAX, 0], [1, 0], [-1, -2]), ours: (x) => slice(x, [-1, 4], [-Number(INT64_MAX), 0], [1, 0], [-1, -2]) },
  { name: 'Slice empty result', shape: [5, 6], opType: 'Slice', extraInputs: sliceInputs([4], [2], [1]), ours: (x) => slice(x, [4], [2], [1]) },
  { name: 'Slice on NCHW channels and width', shape: [1, 8, 3, 9], opType: 'Slice', extraInputs: sliceInputs([2, -8], [6, -1], [1, 3], [3, 3]), ours: (x) => slice(x, [2, -8], [6, -1], [1, 3], [3, 3]) },
  { name: 'Slice-1 attributes (opset 9, PP-OCR rec)', shape: [6, 4], opType: 'Slice', attributes: { axes: [0], starts: [3], ends: [4] }, opset: 9, ours: (x) => slice(x, [3], [4], [0]) },
  { name: 'Gather axis 0, negative indices', shape: [5, 3], opType: 'Gather', extraInputs: [{ name: 'i', value: int64([4, -5, 2, -1]), initializer: true }], attributes: { axis: 0 }, ours: (x) => gather(x, { data: [4, -5, 2, -1], shape: [4] }, 0) },
  { name: 'Gather axis 1, 2-D indices', shape: [2, 6, 3], opType: 'Gather', extraInputs: [{ name: 'i', value: { int64: [5, 0, 1, 1, -2, 3], shape: [2, 3] }, initializer: true }], attributes: { axis: 1 }, ours: (x) => gather(x, { data: [5, 0, 1, 1, -2, 3], shape: [2, 3] }, 1) },
  { name: 'Gather scalar index, last axis', shape: [2, 3, 4], opType: 'Gather', extraInputs: [{ name: 'i', value: { int64: [-1], shape: [] }, initializer: true }], attributes: { axis: -1 }, ours: (x) => gather(x, { data: [-1], shape: [] }, -1) },
  { name: 'Gather no indices', shape: [4, 3], opType: 'Gather', extraInputs: [{ name: 'i', value: { int64: [], shape: [0] }, initializer: true }], attributes: { axis: 0 }, ours: (x) => gather(x, { data: [], shape: [0] }, 0) },
  { name: 'Concat axis 1 (channels)', shape: [1, 3, 4, 4], opType: 'Concat', extraInputs: concatInputs([[1, 5, 4, 4], [1, 1, 4, 4]]), attributes: { axis: 1 }, ours: (x) => concat([x, ...concatValues([[1, 5, 4, 4], [1, 1, 4, 4]])], 1) },
  { name: 'Concat axis -1', shape: [2, 3, 2], opType: 'Concat', extraInputs: concatInputs([[2, 3, 5]]), attributes: { axis: -1 }, ours: (x) => concat([x, ...concatValues([[2, 3, 5]])], -1) },
  { name: 'Concat axis 0 with an empty input', shape: [2, 3], opType: 'Concat', extraInputs: concatInputs([[0, 3], [1, 3]]), attributes: { axis: 0 }, ours: (x) => concat([x, ...concatValues([[0, 3], [1, 3]])], 0) },
  { name: 'Concat one input', shape: [2, 3], opType: 'Concat', attributes: { axis: 1 }, ours: (x) => concat([x], 1) },
  { name: 'Pad constant 0 NCHW', shape: [1, 2, 3, 4], opType: 'Pad', extraInputs: padInputs([0, 0, 1, 2, 0, 0, 2, 1]), ours: (x) => pad(x, [0, 0, 1, 2, 0, 0, 2, 1]) },
  { name: 'Pad constant value', shape: [2, 5], opType: 'Pad', extraInputs: padInputs([1, 0, 0, 3], -2.5), ours: (x) => pad(x, [1, 0, 0, 3], 'constant', -2.5) },
  { name: 'Pad reflect', shape: [1, 2, 4, 5], opType: 'Pad', extraInputs: padInputs([0, 0, 3, 1, 0, 0, 2, 4]), attributes: { mode: 'reflect' }, ours: (x) => pad(x, [0, 0, 3, 1, 0, 0, 2, 4], 'reflect') },
  { name: 'Pad edge', shape: [1, 2, 3, 4], opType: 'Pad', extraInputs: padInputs([0, 1, 2, 5, 0, 0, 3, 1]), attributes: { mode: 'edge' }, ours: (x) => pad(x, [0, 1, 2, 5, 0, 0, 3, 1], 'edge') },
  { name: 'Pad negative (crop) with constant', shape: [3, 6], opType: 'Pad', extraInputs: padInputs([-1, 2, 1, -3]), ours: (x) => pad(x, [-1, 2, 1, -3]) },
  { name: 'Pad crop then reflect', shape: [2, 7], opType: 'Pad', extraInputs: padInputs([0, -2, 0, 3]), attributes: { mode: 'reflect' }, ours: (x) => pad(x, [0, -2, 0, 3], 'reflect') },
  { name: 'Pad crop then edge', shape: [4, 5], opType: 'Pad', extraInputs: padInputs([2, -1, -3, 2]), attributes: { mode: 'edge' }, ours: (x) => pad(x, [2, -1, -3, 2], 'edge') },
  { name: 'Pad 1xN image', shape: [1, 3, 1, 9], opType: 'Pad', extraInputs: padInputs([0, 0, 1, 1, 0, 0, 1, 1]), attributes: { mode: 'edge' }, ours: (x) => pad(x, [0, 0, 1, 1, 0, 0, 1, 1], 'edge') },
  { name: 'Expand column to 3-D', shape: [3, 1], opType: 'Expand', extraInputs: shapeInput([2, 1, 4]), ours: (x) => expand(x, [2, 1, 4]) },
  { name: 'Expand bidirectional', shape: [4, 1, 1], opType: 'Expand', extraInputs: shapeInput([1, 5, 6]), ours: (x) => expand(x, [1, 5, 6]) },
  { name: 'Expand to a smaller rank', shape: [2, 3], opType: 'Expand', extraInputs: shapeInput([3]), ours: (x) => expand(x, [3]) },
  { name: 'Expand scalar', shape: [], opType: 'Expand', extraInputs: shapeInput([2, 2]), ours: (x) => expand(x, [2, 2]) },
  { name: 'Tile 2-D', shape: [2, 3], opType: 'Tile', extraInputs: shapeInput([2, 3]), ours: (x) => tile(x, [2, 3]) },
  { name: 'Tile NCHW mixed', shape: [1, 4, 1, 2], opType: 'Tile', extraInputs: shapeInput([1, 1, 3, 2]), ours: (x) => tile(x, [1, 1, 3, 2]) },
  { name: 'Tile zero repeats', shape: [3, 2], opType: 'Tile', extraInputs: shapeInput([0, 2]), ours: (x) => tile(x, [0, 2]) },
  { name: 'DepthToSpace DCR b2', shape: [1, 8, 3, 4], opType: 'DepthToSpace', attributes: { blocksize: 2, mode: 'DCR' }, ours: (x) => depthToSpace(x, 2, 'DCR') },
  { name: 'DepthToSpace CRD b2', shape: [1, 8, 3, 4], opType: 'DepthToSpace', attributes: { blocksize: 2, mode: 'CRD' }, ours: (x) => depthToSpace(x, 2, 'CRD') },
  { name: 'DepthToSpace DCR b3, batch 2', shape: [2, 27, 2, 3], opType: 'DepthToSpace', attributes: { blocksize: 3, mode: 'DCR' }, ours: (x) => depthToSpace(x, 3, 'DCR') },
  { name: 'DepthToSpace CRD b3, 1xN', shape: [1, 18, 1, 5], opType: 'DepthToSpace', attributes: { blocksize: 3, mode: 'CRD' }, ours: (x) => depthToSpace(x, 3, 'CRD') },
];

function sliceInputs(starts: (number | bigint)[], ends: (number | bigint)[], axes?: number[], steps?: number[]): NodeInput[] {
  const inputs: NodeInput[] = [
    { name: 'starts', value: int64(starts), initializer: true },
    { name: 'ends', value: int64(ends), initializer: true },
  ];
  if (axes) inputs.push({ name: 'axes', value: int64(axes), initializer: true });
  if (steps) inputs.push({ name: 'steps', value: int64(steps), initializer: true });
  return inputs;
}

/** Seeded like the case's own input, so ORT and our call see the same extra tensors. */
function concatValues(shapes: number[][]): Tensor<Float32Array>[] {
  const rng = createRng(8500);
  return shapes.map((shape) => randomTensor(shape, rng, { dtype: 'float32' }) as Tensor<Float32Array>);
}

function concatInputs(shapes: number[][]): NodeInput[] {
  return concatValues(shapes).map((value, index) => ({ name: `c${index}`, value, initializer: true }));
}

function padInputs(pads: number[], value?: number): NodeInput[] {
  const inputs: NodeInput[] = [{ name: 'pads', value: int64(pads), initializer: true }];
  if (value !== undefined) inputs.push({ name: 'value', value: tensor(new Float32Array([value]), []), initializer: true });
  return inputs;
}

function shapeInput(shape: number[]): NodeInput[] {
  return [{ name: 'shape', value: int64(shape), initializer: true }];
}

describe('layout ops match onnxruntime exactly', () => {
  it.each(layoutCases.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const x = randomTensor(testCase.shape, createRng(8000 + index), { dtype: 'float32' }) as Tensor<Float32Array>;
    const ort = await runSingleNode({
      opType: testCase.opType,
      inputs: [{ name: 'x', value: x }, ...(testCase.extraInputs ?? [])],
      attributes: testCase.attributes,
      opset: testCase.opset,
    });
    expectExactlyOrt(testCase.opType, testCase.ours(x), ort);
  });
});
