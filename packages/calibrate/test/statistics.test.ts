import { createRng, im2col, tensor, toFloat64 } from '@deprune/tensor';
import { describe, expect, it } from 'vitest';
import { PairedAccumulator, StatisticsAccumulator, type ConvGeometry } from '../src/index';

/** Sum of x x^T over the columns of an im2col matrix rows [from, from + size). */
function gramOfRows(columns: Float64Array, pixels: number, from: number, size: number): number[] {
  const gram: number[] = [];
  for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) {
    let sum = 0;
    for (let p = 0; p < pixels; p++) sum += columns[(from + a) * pixels + p] * columns[(from + b) * pixels + p];
    gram.push(sum);
  }
  return gram;
}

describe('statistics accumulators against im2col', () => {
  const rng = createRng(9);
  const shape = [2, 3, 7, 9];
  const data = Float32Array.from({ length: 2 * 3 * 7 * 9 }, () => rng.normal());
  const geometries: ConvGeometry[] = [
    { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { kernel: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], dilations: [1, 1] },
  ];

  it('DW: each channel gets the K x K Gram of its patches (padding included as zeros), the sums and the count', () => {
    for (const geometry of geometries) {
      const accumulator = new StatisticsAccumulator({ kind: 'dw', name: 'dw', channels: 3, geometry, dwVectorsPerTap: Infinity });
      accumulator.add({ data, shape });
      const taps = geometry.kernel[0] * geometry.kernel[1];
      const stats = accumulator.statistics();
      const expectedGram = new Float64Array(3 * taps * taps);
      let pixels = 0;
      for (let n = 0; n < 2; n++) {
        const sample = tensor(toFloat64(tensor(data.slice(n * 189, (n + 1) * 189), [1, 3, 7, 9])).data, [1, 3, 7, 9]);
        const columns = im2col(sample, geometry.kernel, { strides: [...geometry.strides], pads: [...geometry.pads] });
        pixels = columns.shape[1];
        for (let c = 0; c < 3; c++) gramOfRows(columns.data as Float64Array, pixels, c * taps, taps).forEach((value, i) => (expectedGram[c * taps * taps + i] += value));
      }
      Array.from(stats.gram!).forEach((value, i) => expect(value).toBeCloseTo(expectedGram[i], 9));
      expect(stats.count).toBe(2 * pixels);
      for (let c = 0; c < 3; c++) for (let k = 0; k < taps; k++) expect(stats.inputNormSquared![c * taps + k]).toBe(stats.gram![c * taps * taps + k * taps + k]);
    }
  });

  it('DW sampling: a pixel subset (a new phase per sample) estimates the same second moments', () => {
    const big = Float32Array.from({ length: 8 * 4 * 24 * 24 }, () => rng.normal());
    const exact = new StatisticsAccumulator({ kind: 'dw', name: 'dw', channels: 4, geometry: geometries[0], dwVectorsPerTap: Infinity });
    const sampled = new StatisticsAccumulator({ kind: 'dw', name: 'dw', channels: 4, geometry: geometries[0], dwVectorsPerTap: 8 });
    for (let n = 0; n < 8; n++) {
      const view = { data: big.subarray(n * 2304, (n + 1) * 2304), shape: [1, 4, 24, 24] };
      exact.add(view);
      sampled.add(view);
    }
    expect(sampled.count).toBeLessThan(exact.count / 4);
    const a = exact.statistics();
    const b = sampled.statistics();
    // Means of x x^T agree within sampling noise (unit-variance inputs: diagonal 1, off-diagonal 0).
    for (let i = 0; i < a.gram!.length; i++) expect(Math.abs(a.gram![i] / exact.count - b.gram![i] / sampled.count)).toBeLessThan(0.15);
  });

  it('PW: the Cin x Cin Gram; strided 1x1 reads every other pixel', () => {
    const plain = new StatisticsAccumulator({ kind: 'pw', name: 'pw', channels: 3, geometry: { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] } });
    plain.add({ data, shape });
    const strided = new StatisticsAccumulator({ kind: 'pw', name: 'pw', channels: 3, geometry: { kernel: [1, 1], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] } });
    strided.add({ data, shape });
    const direct = (stride: number) => {
      const gram = new Float64Array(9);
      for (let n = 0; n < 2; n++) for (let y = 0; y < 7; y += stride) for (let x = 0; x < 9; x += stride) {
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) gram[a * 3 + b] += data[((n * 3 + a) * 7 + y) * 9 + x] * data[((n * 3 + b) * 7 + y) * 9 + x];
      }
      return gram;
    };
    Array.from(plain.statistics().gram!).forEach((value, i) => expect(value).toBeCloseTo(direct(1)[i], 9));
    Array.from(strided.statistics().gram!).forEach((value, i) => expect(value).toBeCloseTo(direct(2)[i], 9));
    expect(strided.count).toBe(2 * 4 * 5);
  });

  it('paired: the cross Gram follows the channel map; inputs of another shape are refused', () => {
    const geometry = geometries[0];
    const pruned = data.subarray(0, 189 * 1).slice(63, 189); // sample 0, channels 1..2 -> 2 pruned channels
    const accumulator = new PairedAccumulator({ kind: 'dw', name: 'dw', prunedChannels: 2, denseChannels: 3, channelMap: Int32Array.from([1, 2]), geometry, dwVectorsPerTap: Infinity });
    const dense = data.slice(0, 189);
    accumulator.add({ data: pruned, shape: [1, 2, 7, 9] }, { data: dense, shape: [1, 3, 7, 9] });
    // Pruned channel c' is dense channel c'+1 here: pp, pd and dd of each block coincide.
    const { pp, pd, dd } = accumulator.stats;
    Array.from(pp).forEach((value, i) => {
      expect(pd[i]).toBeCloseTo(value, 9);
      expect(dd[i]).toBeCloseTo(value, 9);
    });
    expect(() => accumulator.add({ data: pruned, shape: [1, 2, 7, 9] }, { data: dense.slice(0, 162), shape: [1, 3, 6, 9] })).toThrow(/differ in batch or size/);
    expect(() => accumulator.add({ data: dense, shape: [1, 3, 7, 9] }, { data: dense, shape: [1, 3, 7, 9] })).toThrow(/expects an NCHW input with 2 channels/);
  });
});
