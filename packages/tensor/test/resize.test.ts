import { ShapeError, UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import {
  createRng,
  randomTensor,
  resize2d,
  resizeOutputGeometry,
  resizeSourceCoordinate,
  tensor,
  type Resize2dParams,
  type ResizeCoordinateMode,
  type ResizeNearestMode,
  type Tensor,
} from '../src/index';
import { runSingleNode, type NodeInput } from './ort-model';
import { expectCloseToOrt } from './parity';

const counting = (shape: number[]) => tensor(Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => i + 1), shape);

describe('resizeSourceCoordinate', () => {
  it('implements each coordinate transformation mode', () => {
    expect(resizeSourceCoordinate(3, 2, 4, 8, 'half_pixel')).toBe(1.25);
    expect(resizeSourceCoordinate(0, 2, 4, 8, 'half_pixel')).toBe(-0.25);
    expect(resizeSourceCoordinate(3, 2, 4, 8, 'asymmetric')).toBe(1.5);
    expect(resizeSourceCoordinate(3, 2, 4, 8, 'tf_half_pixel_for_nn')).toBe(1.75);
    expect(resizeSourceCoordinate(7, 2, 4, 8, 'align_corners')).toBe(3);
    expect(resizeSourceCoordinate(0, 2, 4, 1, 'align_corners')).toBe(0);
    expect(resizeSourceCoordinate(3, 2, 4, 8, 'pytorch_half_pixel')).toBe(1.25);
    expect(resizeSourceCoordinate(0, 0.25, 4, 1, 'pytorch_half_pixel')).toBe(0);
    expect(resizeSourceCoordinate(0, 0.25, 4, 1, 'half_pixel')).toBe(1.5);
  });

  it('rounds each step to float32 as onnxruntime does', () => {
    const scale = Math.fround(7 / 3);
    const coordinate = resizeSourceCoordinate(5, scale, 3, 7, 'asymmetric');
    expect(coordinate).toBe(Math.fround(5 / scale));
    expect(Math.fround(coordinate)).toBe(coordinate);
  });

  it('rejects an unknown mode', () => {
    expect(() => resizeSourceCoordinate(0, 2, 4, 8, 'tf_crop_and_resize' as never)).toThrow(UsageError);
  });
});

describe('resizeOutputGeometry', () => {
  it('derives sizes from scales and scales from sizes in float32', () => {
    expect(resizeOutputGeometry(5, 7, { scales: [2, 1.5] })).toEqual({ outHeight: 10, outWidth: 10, scaleH: 2, scaleW: 1.5 });
    expect(resizeOutputGeometry(3, 4, { sizes: [7, 2] })).toEqual({ outHeight: 7, outWidth: 2, scaleH: Math.fround(7 / 3), scaleW: 0.5 });
    expect(resizeOutputGeometry(4, 4, { scales: [0.6, 0.5] })).toMatchObject({ outHeight: 2, outWidth: 2 });
    expect(resizeOutputGeometry(0, 4, { sizes: [0, 2] })).toMatchObject({ outHeight: 0, scaleH: 1 });
  });

  it('rejects bad scales and sizes', () => {
    expect(() => resizeOutputGeometry(4, 4, { scales: [0, 1] })).toThrow(UsageError);
    expect(() => resizeOutputGeometry(4, 4, { sizes: [2.5, 1] })).toThrow(UsageError);
    expect(() => resizeOutputGeometry(0, 4, { sizes: [2, 1] })).toThrow(ShapeError);
  });
});

describe('resize2d, hand-checked', () => {
  it('nearest x2 with asymmetric/floor repeats each pixel (the PaddleOCR det up-sampling)', () => {
    const y = resize2d(counting([1, 1, 2, 2]), { outHeight: 4, outWidth: 4, scaleH: 2, scaleW: 2, mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(y.data).toBeInstanceOf(Float64Array);
  });

  it('round_prefer_floor and round_prefer_ceil differ only at ties', () => {
    // half_pixel, 2 -> 3 (scale 1.5): output 1 maps to 0.5 exactly.
    const base: Resize2dParams = { outHeight: 1, outWidth: 3, scaleH: 1, scaleW: 1.5, mode: 'nearest' };
    const x = counting([1, 1, 1, 2]);
    expect(Array.from(resize2d(x, base).data)).toEqual([1, 1, 2]);
    expect(Array.from(resize2d(x, { ...base, nearestMode: 'round_prefer_ceil' }).data)).toEqual([1, 2, 2]);
  });

  it('bilinear half_pixel interpolates and clamps at the borders', () => {
    const y = resize2d(counting([1, 1, 1, 2]), { outHeight: 1, outWidth: 4, scaleH: 1, scaleW: 2, mode: 'linear' });
    expect(Array.from(y.data)).toEqual([1, 1.25, 1.75, 2]);
  });

  it('resizes empty batches and rejects bad parameters', () => {
    expect(resize2d(tensor(new Float32Array(0), [0, 2, 3, 3]), { outHeight: 6, outWidth: 6, scaleH: 2, scaleW: 2, mode: 'nearest' }).shape).toEqual([0, 2, 6, 6]);
    const x = counting([1, 1, 2, 2]);
    const good: Resize2dParams = { outHeight: 4, outWidth: 4, scaleH: 2, scaleW: 2, mode: 'nearest' };
    expect(() => resize2d(counting([2, 2]), good)).toThrow(/rank 4/);
    expect(() => resize2d(x, { ...good, mode: 'cubic' as never })).toThrow(/cubic is not supported/);
    expect(() => resize2d(x, { ...good, scaleW: 0 })).toThrow(UsageError);
    expect(() => resize2d(x, { ...good, outHeight: -1 })).toThrow(UsageError);
    expect(() => resize2d(x, { ...good, coordinateTransformationMode: 'tf_crop_and_resize' as never })).toThrow(/not supported/);
    expect(() => resize2d(x, { ...good, nearestMode: 'round' as never })).toThrow(UsageError);
    expect(() => resize2d(x, { ...good, nearestModePerAxis: ['floor'] as never })).toThrow(/pair/);
    expect(() => resize2d(counting([1, 1, 0, 2]), good)).toThrow(ShapeError);
  });
});

const COORDINATE_MODES: ResizeCoordinateMode[] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'];
const NEAREST_MODES: ResizeNearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** Input H x W and the target: scales [h, w] or sizes [h, w]; up, down, mixed, identity, to 1, 1xN. */
const geometries: { input: [number, number]; scales?: [number, number]; sizes?: [number, number] }[] = [
  { input: [5, 7], scales: [2, 2] },
  { input: [4, 6], scales: [3, 1.5] },
  { input: [9, 8], scales: [0.5, 0.75] },
  { input: [6, 5], scales: [1.7, 0.6] },
  { input: [3, 4], sizes: [7, 9] },
  { input: [10, 9], sizes: [4, 5] },
  { input: [5, 5], sizes: [1, 5] },
  { input: [1, 11], sizes: [1, 23] },
];

interface ResizeCase {
  name: string;
  input: number[];
  scales?: [number, number];
  sizes?: [number, number];
  mode: 'nearest' | 'linear';
  coordinates: ResizeCoordinateMode;
  nearest: ResizeNearestMode;
  opset: 11 | 13;
}

function resizeCases(): ResizeCase[] {
  const cases: ResizeCase[] = [];
  let index = 0;
  for (const coordinates of COORDINATE_MODES) {
    for (const geometry of geometries) {
      // Every nearest mode meets every coordinate mode and every geometry across the cases.
      const nearest = NEAREST_MODES[index % NEAREST_MODES.length];
      const opset = coordinates === 'tf_half_pixel_for_nn' || index % 2 === 0 ? 11 : 13;
      for (const mode of ['nearest', 'linear'] as const) {
        const target = geometry.scales ? `scales ${geometry.scales.join('x')}` : `sizes ${geometry.sizes?.join('x')}`;
        cases.push({
          name: `${mode} ${coordinates}${mode === 'nearest' ? ` ${nearest}` : ''}, ${geometry.input.join('x')} ${target}, opset ${opset}`,
          input: [1 + (index % 2), 2, ...geometry.input],
          scales: geometry.scales,
          sizes: geometry.sizes,
          mode,
          coordinates,
          nearest,
          opset,
        });
      }
      index++;
    }
  }
  return cases;
}

/** Resize-11 takes roi and scales as (possibly empty) tensors; from opset 13 missing inputs may be left out by name. */
function resizeInputs(x: Tensor, scales: [number, number] | undefined, sizes: [number, number] | undefined, opset: number): NodeInput[] {
  const empty = tensor(new Float32Array(0), [0]);
  const scalesTensor = scales ? tensor(new Float32Array([1, 1, ...scales]), [4]) : empty;
  const inputs: NodeInput[] = [{ name: 'x', value: x }, opset >= 13 ? { name: '' } : { name: 'roi', value: empty, initializer: true }];
  if (!sizes) return [...inputs, { name: 'scales', value: scalesTensor, initializer: true }];
  return [
    ...inputs,
    opset >= 13 ? { name: '' } : { name: 'scales', value: empty, initializer: true },
    { name: 'sizes', value: { int64: [x.shape[0], x.shape[1], ...sizes], shape: [4] }, initializer: true },
  ];
}

describe('resize2d matches onnxruntime Resize (opset 11 and 13)', () => {
  it.each(resizeCases().map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const x = randomTensor(testCase.input, createRng(4000 + index), { dtype: 'float32' });
    const attributes: Record<string, string> = { mode: testCase.mode, coordinate_transformation_mode: testCase.coordinates };
    if (testCase.mode === 'nearest') attributes.nearest_mode = testCase.nearest;
    const ort = await runSingleNode({ opType: 'Resize', inputs: resizeInputs(x, testCase.scales, testCase.sizes, testCase.opset), attributes, opset: testCase.opset });
    const [height, width] = testCase.input.slice(2);
    const geometry = resizeOutputGeometry(height, width, testCase.sizes ? { sizes: testCase.sizes } : { scales: testCase.scales ?? [1, 1] });
    const ours = resize2d(x, { ...geometry, mode: testCase.mode, coordinateTransformationMode: testCase.coordinates, nearestMode: testCase.nearest });
    expectCloseToOrt(`Resize ${testCase.mode}`, ours, ort);
  });

  it.each(['round_prefer_ceil', 'ceil'] as const)('nearest %s with tf_half_pixel_for_nn on an axis of scale 1 (no index-to-index shortcut)', async (nearest) => {
    const x = randomTensor([1, 2, 4, 6], createRng(4050), { dtype: 'float32' });
    const attributes = { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: nearest };
    const ort = await runSingleNode({ opType: 'Resize', inputs: resizeInputs(x, [2, 1], undefined, 11), attributes, opset: 11 });
    const params = { ...resizeOutputGeometry(4, 6, { scales: [2, 1] }), mode: 'nearest', coordinateTransformationMode: 'tf_half_pixel_for_nn', nearestMode: nearest } as const;
    expectCloseToOrt('Resize nearest', resize2d(x, params), ort);
  });

  it('the PaddleOCR det up-sampling: Resize-11 nearest, asymmetric, floor, scales 2, on a 1x96x20x13 feature map', async () => {
    const x = randomTensor([1, 96, 20, 13], createRng(4100), { dtype: 'float32' });
    const ort = await runSingleNode({
      opType: 'Resize',
      inputs: resizeInputs(x, [2, 2], undefined, 11),
      attributes: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
      opset: 11,
    });
    const ours = resize2d(x, { ...resizeOutputGeometry(20, 13, { scales: [2, 2] }), mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
    expectCloseToOrt('Resize nearest', ours, ort);
  });
});

/** Opset <= 10: asymmetric coordinates; nearest rounds down on an up-sampled axis and up on a down-sampled one. */
function legacyParams(height: number, width: number, scales: [number, number], mode: 'nearest' | 'linear'): Resize2dParams {
  const geometry = resizeOutputGeometry(height, width, { scales });
  const roundFor = (scale: number): ResizeNearestMode => (scale < 1 ? 'ceil' : 'floor');
  return { ...geometry, mode, coordinateTransformationMode: 'asymmetric', nearestModePerAxis: [roundFor(scales[0]), roundFor(scales[1])] };
}

describe('resize2d matches onnxruntime Upsample (opset 9) and Resize (opset 10)', () => {
  const cases: { input: number[]; scales: [number, number]; mode: 'nearest' | 'linear'; op: 'Upsample' | 'Resize' }[] = [
    { input: [1, 3, 4, 5], scales: [2, 2], mode: 'nearest', op: 'Upsample' },
    { input: [2, 2, 3, 7], scales: [2, 1.5], mode: 'nearest', op: 'Upsample' },
    { input: [1, 2, 4, 5], scales: [3, 2.5], mode: 'linear', op: 'Upsample' },
    { input: [1, 3, 4, 5], scales: [2, 2], mode: 'nearest', op: 'Resize' },
    { input: [1, 2, 9, 6], scales: [0.6, 1.7], mode: 'nearest', op: 'Resize' },
    { input: [1, 2, 8, 7], scales: [0.5, 0.7], mode: 'nearest', op: 'Resize' },
    { input: [1, 2, 6, 5], scales: [1.5, 0.6], mode: 'linear', op: 'Resize' },
    { input: [1, 1, 1, 9], scales: [1, 2], mode: 'linear', op: 'Resize' },
  ];
  it.each(cases.map((testCase, index) => [`${testCase.op} ${testCase.mode} ${testCase.input.join('x')} scales ${testCase.scales.join('x')}`, testCase, index] as const))(
    '%s',
    async (_name, testCase, index) => {
      const x = randomTensor(testCase.input, createRng(4200 + index), { dtype: 'float32' });
      const opset = testCase.op === 'Upsample' ? 9 : 10;
      const scales = tensor(new Float32Array([1, 1, ...testCase.scales]), [4]);
      const ort = await runSingleNode({
        opType: testCase.op,
        inputs: [{ name: 'x', value: x }, { name: 'scales', value: scales, initializer: true }],
        attributes: { mode: testCase.mode },
        opset,
      });
      const [height, width] = testCase.input.slice(2);
      expectCloseToOrt(`${testCase.op}-${opset} ${testCase.mode}`, resize2d(x, legacyParams(height, width, testCase.scales, testCase.mode)), ort);
    },
  );
});
