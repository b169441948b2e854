import { describe, expect, it } from 'vitest';
import { UsageError } from '@deprune/errors';
import { createRng } from '@deprune/tensor';
import { WasmProducts, type DepthwisePatchGeometry } from '../src/index';

/** The float64 reference: a plain triple loop. */
function referenceProducts(a: Float32Array, aRows: number, b: Float32Array, bRows: number, length: number, blocks: number): Float64Array {
  const out = new Float64Array(blocks * aRows * bRows);
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < aRows; i++) {
      for (let j = 0; j < bRows; j++) {
        let sum = 0;
        for (let p = 0; p < length; p++) sum += a[(block * aRows + i) * length + p] * b[(block * bRows + j) * length + p];
        out[(block * aRows + i) * bRows + j] = sum;
      }
    }
  }
  return out;
}

function randomValues(count: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count }, () => rng.next() * 2 - 1);
}

/** Largest |x - y| over the largest |y|: float64 sums in another order differ near 1e-16. */
function relativeDifference(actual: Float64Array, expected: Float64Array): number {
  let scale = 0;
  let worst = 0;
  for (let index = 0; index < expected.length; index++) {
    scale = Math.max(scale, Math.abs(expected[index]));
    worst = Math.max(worst, Math.abs(actual[index] - expected[index]));
  }
  return worst / Math.max(scale, 1e-300);
}

describe('float64 products on the wasm module (calibration sums)', () => {
  const products = WasmProducts.create();
  // Rows not a multiple of the 4 x 2 tile, odd and even lengths, one column, several blocks.
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [5, 3, 7, 1],
    [4, 2, 8, 1],
    [13, 9, 33, 1],
    [9, 9, 144, 6],
    [25, 25, 11, 3],
    [64, 48, 1, 1],
  ];

  for (const [aRows, bRows, length, blocks] of shapes) {
    it(`cross products ${aRows} x ${bRows} over ${length} (${blocks} block(s)) equal the float64 loop and add into the target`, () => {
      const a = randomValues(blocks * aRows * length, aRows * 31 + length);
      const b = randomValues(blocks * bRows * length, bRows * 17 + length + 1);
      const expected = referenceProducts(a, aRows, b, bRows, length, blocks);
      const offset = 3;
      const target = new Float64Array(offset + expected.length + 2).fill(0.5);
      products.addCrossProducts(a, aRows, b, bRows, length, target, offset, blocks);
      products.addCrossProducts(a, aRows, b, bRows, length, target, offset, blocks);
      const twice = Float64Array.from(expected, (value) => 2 * value + 0.5);
      expect(relativeDifference(target.subarray(offset, offset + expected.length), twice)).toBeLessThan(1e-13);
      // Nothing outside the blocks is touched.
      expect([...target.subarray(0, offset), ...target.subarray(offset + expected.length)]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    });

    it(`Gram ${aRows} x ${aRows} over ${length} (${blocks} block(s)) is the full symmetric matrix`, () => {
      const x = randomValues(blocks * aRows * length, aRows * 7 + length);
      const expected = referenceProducts(x, aRows, x, aRows, length, blocks);
      const target = new Float64Array(expected.length);
      products.addGram(x, aRows, length, target, 0, blocks);
      expect(relativeDifference(target, expected)).toBeLessThan(1e-13);
      for (let block = 0; block < blocks; block++) {
        for (let i = 0; i < aRows; i++) {
          for (let j = 0; j < i; j++) expect(target[block * aRows * aRows + i * aRows + j]).toBe(target[block * aRows * aRows + j * aRows + i]);
        }
      }
    });
  }

  it('is exact where float64 is: integer-valued inputs give integer sums', () => {
    const a = Float32Array.from({ length: 6 * 10 }, (_, index) => (index % 7) - 3);
    const target = new Float64Array(36);
    products.addGram(a, 6, 10, target);
    expect([...target]).toEqual([...referenceProducts(a, 6, a, 6, 10, 1)]);
  });

  it('refuses inputs that do not hold the rows, and a target they do not fit', () => {
    expect(() => products.addGram(new Float32Array(5), 2, 3, new Float64Array(4))).toThrow(UsageError);
    expect(() => products.addCrossProducts(new Float32Array(6), 2, new Float32Array(6), 2, 3, new Float64Array(3))).toThrow(/do not fit/);
    expect(() => products.addGram(new Float64Array(6) as unknown as Float32Array, 2, 3, new Float64Array(4))).toThrow(/Float32Array/);
    expect(() => products.addGram(new Float32Array(6), 2, 3, new Float64Array(4), -1)).toThrow(UsageError);
  });
});

/** The reference patches: tap (i, j) of channel plane `plane` at sampled output pixel q. */
function referencePatches(planes: Float32Array, plane: number, g: DepthwisePatchGeometry): Float32Array {
  const [kh, kw] = g.kernel;
  const out = new Float32Array(kh * kw * g.count);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let q = 0; q < g.count; q++) {
        const pixel = g.phase + q * g.step;
        const oy = Math.floor(pixel / g.outWidth);
        const ox = pixel % g.outWidth;
        const y = oy * g.strides[0] - g.padTop + i * g.dilations[0];
        const x = ox * g.strides[1] - g.padLeft + j * g.dilations[1];
        out[(i * kw + j) * g.count + q] = y >= 0 && y < g.height && x >= 0 && x < g.width ? planes[plane * g.height * g.width + y * g.width + x] : 0;
      }
    }
  }
  return out;
}

describe('depth-wise moments on the wasm module (calibration of DW layers)', () => {
  const products = WasmProducts.create();
  const cases: { name: string; channels: number; denseChannels: number; g: DepthwisePatchGeometry }[] = [
    { name: '3x3, pad 1, every pixel', channels: 3, denseChannels: 3, g: { height: 5, width: 7, kernel: [3, 3], strides: [1, 1], padTop: 1, padLeft: 1, dilations: [1, 1], outWidth: 7, step: 1, phase: 0, count: 35 } },
    { name: '5x5, stride 2, pads 2, every 3rd pixel from 1', channels: 5, denseChannels: 7, g: { height: 9, width: 11, kernel: [5, 5], strides: [2, 2], padTop: 2, padLeft: 2, dilations: [1, 1], outWidth: 6, step: 3, phase: 1, count: 10 } },
    { name: '3x3, stride (2, 1), dilation 2, 1xN input', channels: 2, denseChannels: 4, g: { height: 1, width: 13, kernel: [3, 3], strides: [2, 1], padTop: 2, padLeft: 2, dilations: [2, 2], outWidth: 13, step: 2, phase: 0, count: 7 } },
  ];
  for (const { name, channels, denseChannels, g } of cases) {
    it(`${name}: P P^T, P D^T (D's channels mapped), D D^T and the row sums equal products of the reference patches`, () => {
      const plane = g.height * g.width;
      const first = randomValues(channels * plane, channels * 13 + plane);
      const second = randomValues(denseChannels * plane, denseChannels * 5 + plane);
      const channelMap = Int32Array.from({ length: channels }, (_, c) => (c * 3 + 1) % denseChannels);
      const taps = g.kernel[0] * g.kernel[1];
      const targets = {
        gram: new Float64Array(channels * taps * taps),
        sum: new Float64Array(channels * taps),
        cross: new Float64Array(channels * taps * taps),
        secondGram: new Float64Array(channels * taps * taps),
        secondSum: new Float64Array(channels * taps),
      };
      products.addDepthwiseMoments(first, channels, g, targets, { planes: second, channelMap });
      for (let c = 0; c < channels; c++) {
        const p = referencePatches(first, c, g);
        const d = referencePatches(second, channelMap[c], g);
        const block = (values: Float64Array) => values.subarray(c * taps * taps, (c + 1) * taps * taps);
        expect(relativeDifference(block(targets.gram), referenceProducts(p, taps, p, taps, g.count, 1))).toBeLessThan(1e-13);
        expect(relativeDifference(block(targets.cross), referenceProducts(p, taps, d, taps, g.count, 1))).toBeLessThan(1e-13);
        expect(relativeDifference(block(targets.secondGram), referenceProducts(d, taps, d, taps, g.count, 1))).toBeLessThan(1e-13);
        const ones = new Float32Array(g.count).fill(1);
        expect(relativeDifference(targets.sum.subarray(c * taps, (c + 1) * taps), referenceProducts(p, taps, ones, 1, g.count, 1))).toBeLessThan(1e-13);
        expect(relativeDifference(targets.secondSum.subarray(c * taps, (c + 1) * taps), referenceProducts(d, taps, ones, 1, g.count, 1))).toBeLessThan(1e-13);
      }
    });
  }

  it('refuses a channel map outside the second input, cross targets without it, and a bad geometry', () => {
    const g = cases[0].g;
    const planes = new Float32Array(3 * 35);
    const targets = { gram: new Float64Array(3 * 81), sum: new Float64Array(27) };
    expect(() => products.addDepthwiseMoments(planes, 3, g, targets, { planes, channelMap: Int32Array.from([0, 1, 3]) })).toThrow(/channel map/);
    expect(() => products.addDepthwiseMoments(planes, 3, g, { ...targets, cross: new Float64Array(3 * 81) })).toThrow(/second input/);
    expect(() => products.addDepthwiseMoments(planes, 3, { ...g, outWidth: 0 }, targets)).toThrow(/geometry/);
    expect(() => products.addDepthwiseMoments(planes, 3, { ...g, step: 1.5 }, targets)).toThrow(UsageError);
  });
});
