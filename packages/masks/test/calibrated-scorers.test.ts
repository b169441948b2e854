import { createRng } from '@deprune/tensor';
import { describe, expect, it } from 'vitest';
import { activationScorer, getScorer, listScorers, maskLayer, obsScorer, type DwLayer, type LayerStatistics, type PwLayer } from '../src/index';

/** Statistics of explicit input vectors (rows of `vectors`, each of length n), as calibration sums them. */
function statsOf(vectors: number[][], blocks = 1): LayerStatistics {
  const n = vectors[0].length / blocks;
  const gram = new Float64Array(blocks * n * n);
  const inputSum = new Float64Array(blocks * n);
  const inputNormSquared = new Float64Array(blocks * n);
  for (const vector of vectors) {
    for (let block = 0; block < blocks; block++) {
      for (let a = 0; a < n; a++) {
        inputSum[block * n + a] += vector[block * n + a];
        inputNormSquared[block * n + a] += vector[block * n + a] ** 2;
        for (let b = 0; b < n; b++) gram[block * n * n + a * n + b] += vector[block * n + a] * vector[block * n + b];
      }
    }
  }
  return { gram, inputSum, inputNormSquared, count: vectors.length };
}

const rng = createRng(7);
const randomVectors = (count: number, length: number, scales: number[]) =>
  Array.from({ length: count }, () => Array.from({ length }, (_, index) => rng.normal() * scales[index % scales.length]));

describe('activation scorer (|w| * ||x||)', () => {
  it('weights each PW column by its input norm', () => {
    const layer: PwLayer = { kind: 'pw', name: 'pw', outChannels: 2, inChannels: 3, weights: Float64Array.from([1, -1, 1, 2, 2, -2]) };
    const stats: LayerStatistics = { inputNormSquared: Float64Array.from([4, 1, 0]) };
    expect(Array.from(activationScorer.score(layer, stats))).toEqual([2, 1, 0, 4, 2, 0]);
  });

  it('falls back to the Gram diagonal, and a big input rescues a small weight that magnitude would prune', () => {
    const layer: DwLayer = { kind: 'dw', name: 'dw', channels: 1, kernel: [1, 3], weights: Float64Array.from([0.1, 1, 1]) };
    const stats = statsOf(randomVectors(400, 3, [100, 1, 1]));
    const scores = getScorer('activation').score(layer, { gram: stats.gram });
    expect(scores[0]).toBeGreaterThan(scores[1]);
    const magnitudePlan = maskLayer(layer, { strategy: 'dcp', ratio: 1 / 3 });
    const activationPlan = maskLayer(layer, { strategy: 'dcp', ratio: 1 / 3, scorer: 'activation', stats });
    expect(magnitudePlan.keptIndices[0]).toEqual([1, 2]);
    expect(activationPlan.keptIndices[0]).toContain(0);
  });

  it('without statistics it says what to do, naming the layer', () => {
    const layer: PwLayer = { kind: 'pw', name: 'blocks.3.pw', outChannels: 1, inChannels: 2, weights: Float64Array.from([1, 1]) };
    expect(() => activationScorer.score(layer)).toThrow(/blocks\.3\.pw.*calib/);
    expect(() => activationScorer.score(layer, { inputNormSquared: new Float64Array(3) })).toThrow(/3 values, expected 2/);
  });
});

describe('obs scorer (w^2 / [H^-1]_kk)', () => {
  it('with uncorrelated inputs it equals |w| * ||x|| up to damping', () => {
    // Orthogonal inputs: H is diagonal, [H^-1]_kk = 1 / (h_kk + lambda).
    const vectors = [
      [3, 0, 0],
      [0, 2, 0],
      [0, 0, 1],
    ];
    const stats = statsOf(vectors);
    const layer: PwLayer = { kind: 'pw', name: 'pw', outChannels: 1, inChannels: 3, weights: Float64Array.from([1, 1, 1]) };
    const lambda = 0.01 * (9 + 4 + 1) / 3;
    const scores = obsScorer.score(layer, stats);
    [9, 4, 1].forEach((h, k) => expect(scores[k]).toBeCloseTo(Math.sqrt(h + lambda), 10));
  });

  it('a weight whose input is duplicated by another input is cheap to remove', () => {
    // x0 and x1 are (almost) the same signal: removing either can be compensated by the other.
    const vectors = randomVectors(500, 3, [1, 1, 1]).map(([a, , c]) => [a, a + 1e-3 * rng.normal(), c]);
    const stats = statsOf(vectors);
    const layer: PwLayer = { kind: 'pw', name: 'pw', outChannels: 1, inChannels: 3, weights: Float64Array.from([1, 1, 0.5]) };
    const scores = obsScorer.score(layer, stats);
    expect(scores[0]).toBeLessThan(scores[2]);
    expect(scores[1]).toBeLessThan(scores[2]);
    expect(activationScorer.score(layer, stats)[0]).toBeGreaterThan(activationScorer.score(layer, stats)[2]);
  });

  it('scores DW channels with their own K x K blocks', () => {
    const layer: DwLayer = { kind: 'dw', name: 'dw', channels: 2, kernel: [1, 2], weights: Float64Array.from([1, 1, 1, 1]) };
    const stats = statsOf(randomVectors(300, 4, [1, 1, 5, 5]), 2);
    const scores = obsScorer.score(layer, stats);
    expect(scores[2]).toBeGreaterThan(3 * scores[0]);
    expect(() => obsScorer.score(layer, { inputNormSquared: new Float64Array(4) })).toThrow(/needs calibration statistics \(gram\)/);
  });
});

describe('needsStatistics', () => {
  it('marks exactly the scorers that read calibration statistics', () => {
    expect(listScorers().filter((scorer) => scorer.needsStatistics === true).map((scorer) => scorer.name)).toEqual(['activation', 'obs', 'obs-greedy']);
    expect(getScorer('magnitude').needsStatistics).toBeUndefined();
  });
});
