import { createRng, type Rng } from '@deprune/tensor';
import { describe, expect, it } from 'vitest';
import { PairedAccumulator, solveLayer, type LayerProblem, type PairedStatistics } from '../src/index';

/**
 * PW layers on explicit input vectors (a 1 x 1 "image" per vector: [1, C, 1, n] inputs), so the
 * statistics are those of known data and the least-squares optimum is known exactly.
 */
const ONE_BY_ONE = { kernel: [1, 1] as const, strides: [1, 1] as const, pads: [0, 0, 0, 0] as const, dilations: [1, 1] as const };

function pairedStats(pruned: Float32Array, dense: Float32Array, channels: number, pixels: number): PairedStatistics {
  const accumulator = new PairedAccumulator({ kind: 'pw', name: 'pw', prunedChannels: channels, denseChannels: channels, geometry: ONE_BY_ONE });
  accumulator.add({ data: pruned, shape: [1, channels, 1, pixels] }, { data: dense, shape: [1, channels, 1, pixels] });
  return accumulator.stats;
}

function randomMatrix(rng: Rng, rows: number, columns: number, scale = 1): Float32Array {
  return Float32Array.from({ length: rows * columns }, () => rng.normal() * scale);
}

function problem(rng: Rng, inputs: Float32Array, denseInputs: Float32Array, channels: number, pixels: number, rows: number, mask: Uint8Array): LayerProblem {
  const denseWeights = Float64Array.from(randomMatrix(rng, rows, channels));
  const denseBias = Float64Array.from({ length: rows }, () => rng.normal());
  return {
    name: 'pw',
    kind: 'pw',
    rows,
    rowLength: channels,
    weights: denseWeights.map((value, index) => (mask[index] ? value : 0)),
    bias: Float64Array.from(denseBias),
    mask,
    denseWeights,
    denseBias,
    denseLength: channels,
    rowMap: Int32Array.from({ length: rows }, (_, row) => row),
    stats: pairedStats(inputs, denseInputs, channels, pixels),
    damping: 0,
  };
}

describe('solveLayer', () => {
  it('recovers the exact solution when the pruned inputs are linear in the kept ones', () => {
    // Inputs 0..3 are random; inputs 4..5 are affine combinations of them. Pruning 4..5 loses
    // nothing: a_S = w_S + sum_k w_k c_k and b = b_d + sum_k w_k d_k reproduce the dense output exactly.
    const rng = createRng(11);
    const channels = 6;
    const pixels = 400;
    const inputs = new Float32Array(channels * pixels);
    inputs.set(randomMatrix(rng, 4, pixels));
    const mix = [
      [0.5, -1, 0, 2, 0.25],
      [1, 1, -0.5, 0, -1],
    ];
    for (let extra = 0; extra < 2; extra++) {
      for (let p = 0; p < pixels; p++) {
        let value = mix[extra][4];
        for (let k = 0; k < 4; k++) value += mix[extra][k] * inputs[k * pixels + p];
        inputs[(4 + extra) * pixels + p] = value;
      }
    }
    const rows = 3;
    const mask = Uint8Array.from({ length: rows * channels }, (_, index) => (index % channels < 4 ? 1 : 0));
    const layer = problem(rng, inputs, inputs, channels, pixels, rows, mask);
    const solution = solveLayer(layer);
    for (let row = 0; row < rows; row++) {
      const w = layer.denseWeights.subarray(row * channels, (row + 1) * channels);
      for (let k = 0; k < 4; k++) {
        const exact = w[k] + w[4] * mix[0][k] + w[5] * mix[1][k];
        expect(solution.weights[row * channels + k]).toBeCloseTo(exact, 4);
      }
      expect(solution.bias[row]).toBeCloseTo(layer.denseBias[row] + w[4] * mix[0][4] + w[5] * mix[1][4], 4);
    }
    expect(solution.errorBefore).toBeGreaterThan(0.01);
    expect(solution.errorAfter).toBeLessThan(1e-9);
  });

  it('never changes the zero pattern, lowers every layer error, and pays for upstream drift', () => {
    const rng = createRng(3);
    const channels = 24;
    const pixels = 300;
    for (const ratio of [0.25, 0.5, 0.75]) {
      const dense = randomMatrix(rng, channels, pixels);
      // The pruned network's input drifted: scaled, shifted and noisy.
      const pruned = dense.map((value) => 0.8 * value + 0.3 + 0.2 * rng.normal());
      const rows = 10;
      const mask = Uint8Array.from({ length: rows * channels }, () => (rng.next() >= ratio ? 1 : 0));
      const layer = { ...problem(rng, pruned, dense, channels, pixels, rows, mask), damping: 0.01 };
      const solution = solveLayer(layer);
      solution.weights.forEach((value, index) => {
        if (!mask[index]) expect(Object.is(value, 0)).toBe(true);
      });
      expect(solution.errorAfter).toBeLessThan(solution.errorBefore);
      expect(solution.biasOnlyRows).toBe(0);
      expect(solution.dampingUsed.min).toBe(0.01);
    }
  });

  it('matches a direct least-squares error computed from the data', () => {
    const rng = createRng(5);
    const channels = 5;
    const pixels = 200;
    const dense = randomMatrix(rng, channels, pixels);
    const pruned = dense.map((value) => value + 0.1 * rng.normal());
    const mask = Uint8Array.from([1, 0, 1, 1, 0]);
    const layer = problem(rng, pruned, dense, channels, pixels, 1, mask);
    const solution = solveLayer(layer);
    let error = 0;
    let energy = 0;
    for (let p = 0; p < pixels; p++) {
      let target = layer.denseBias[0];
      let output = solution.bias[0];
      for (let k = 0; k < channels; k++) {
        target += layer.denseWeights[k] * dense[k * pixels + p];
        output += solution.weights[k] * pruned[k * pixels + p];
      }
      error += (output - target) ** 2;
      energy += target ** 2;
    }
    expect(solution.errorAfter).toBeCloseTo(error / energy, 6);
  });

  it('refuses weights outside the mask and statistics of another shape', () => {
    const rng = createRng(1);
    const data = randomMatrix(rng, 3, 10);
    const layer = problem(rng, data, data, 3, 10, 1, Uint8Array.from([1, 0, 1]));
    expect(() => solveLayer({ ...layer, weights: Float64Array.from([1, 1, 1]) })).toThrow(/non-zero weight at pruned position 1/);
    expect(() => solveLayer({ ...layer, rowLength: 2, weights: new Float64Array(2), mask: new Uint8Array(2) })).toThrow(/another shape/);
  });
});
