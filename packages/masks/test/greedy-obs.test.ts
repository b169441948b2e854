import { choleskyFactor, choleskySolve, createRng, dampedCholesky, inverseFromFactor } from '@deprune/tensor';
import { describe, expect, it } from 'vitest';
import { getScorer, greedyObsRemoval, maskLayer, obsGreedyScorer, obsScorer, type DwLayer, type LayerStatistics, type PwLayer } from '../src/index';

const rng = createRng(11);

/** A Gram matrix of `count` correlated random vectors of length n (pairs of inputs share a component). */
function correlatedGram(n: number, count: number): Float64Array {
  const gram = new Float64Array(n * n);
  for (let sample = 0; sample < count; sample++) {
    const shared = Array.from({ length: n }, () => rng.normal());
    const x = Array.from({ length: n }, (_, j) => shared[j] + 0.9 * shared[(j + 1) % n] + 0.3 * rng.normal());
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) gram[a * n + b] += x[a] * x[b];
  }
  return gram;
}

/**
 * The exact least-squares cost of removing the inputs in `removed` from every row, the others
 * re-fitted: min over d with d_S = w_S of d^T H d = w_S^T (H_SS - H_SK H_KK^-1 H_KS) w_S, summed over rows.
 */
function exactRemovalCost(weights: Float64Array, rows: number, n: number, h: Float64Array, removed: readonly number[]): number {
  const kept = Array.from({ length: n }, (_, j) => j).filter((j) => !removed.includes(j));
  const hkk = Float64Array.from(kept.flatMap((a) => kept.map((b) => h[a * n + b])));
  const factor = kept.length > 0 ? choleskyFactor(hkk, kept.length)! : new Float64Array(0);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const ws = removed.map((j) => weights[r * n + j]);
    const cross = kept.map((a) => removed.reduce((sum, j, index) => sum + h[a * n + j] * ws[index], 0));
    const dk = kept.length > 0 ? choleskySolve(factor, kept.length, cross).map((value) => -value) : new Float64Array(0);
    const d = new Float64Array(n);
    removed.forEach((j, index) => (d[j] = ws[index]));
    kept.forEach((a, index) => (d[a] = dk[index]));
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) total += d[a] * h[a * n + b] * d[b];
  }
  return total;
}

describe('greedyObsRemoval', () => {
  const n = 6;
  const rows = 3;
  const gram = correlatedGram(n, 40);
  const damped = dampedCholesky(gram, n, 0.01);
  const h = Float64Array.from(gram);
  for (let j = 0; j < n; j++) h[j * n + j] += damped.damping;
  const inverse = inverseFromFactor(damped.factor, n);
  const weights = Float64Array.from({ length: rows * n }, () => rng.normal());

  it('removes every input once, and its losses add up to the exact re-fitted cost of each removed prefix', () => {
    const { step, loss } = greedyObsRemoval(weights, rows, n, inverse);
    expect([...step].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => step[a] - step[b]);
    let cumulative = 0;
    for (let k = 1; k <= n; k++) {
      cumulative += loss[order[k - 1]];
      expect(cumulative).toBeCloseTo(exactRemovalCost(weights, rows, n, h, order.slice(0, k)), 8);
    }
  });

  it('takes the one-shot OBS minimum first, and at each step the cheapest next removal given the earlier ones', () => {
    const { step } = greedyObsRemoval(weights, rows, n, inverse);
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => step[a] - step[b]);
    for (let k = 0; k < n - 1; k++) {
      const costs = order.slice(k).map((j) => exactRemovalCost(weights, rows, n, h, [...order.slice(0, k), j]));
      expect(costs[0]).toBeCloseTo(Math.min(...costs), 8);
    }
  });

  it('leaves its inputs untouched', () => {
    const [w, hinv] = [Float64Array.from(weights), Float64Array.from(inverse)];
    greedyObsRemoval(weights, rows, n, inverse);
    expect(weights).toEqual(w);
    expect(inverse).toEqual(hinv);
  });
});

/**
 * The in-place downdate that `greedyObsRemoval` replaced, kept as its reference: H^-1 and W copied,
 * and after each removal every remaining row of H^-1 downdated (the last position moved into the
 * freed one).
 */
function referenceRemoval(weights: Float64Array, rows: number, n: number, inverse: Float64Array): { step: Int32Array; loss: Float64Array } {
  const w = Float64Array.from(weights);
  const h = Float64Array.from(inverse);
  const input = Int32Array.from({ length: n }, (_, j) => j);
  const step = new Int32Array(n);
  const loss = new Float64Array(n);
  for (let at = 0; at < n; at++) {
    const m = n - at;
    let best = -1;
    let bestLoss = Number.POSITIVE_INFINITY;
    for (let p = 0; p < m; p++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += w[r * n + p] * w[r * n + p];
      const cost = sum / h[p * n + p];
      if (cost < bestLoss || (cost === bestLoss && input[p] < input[best])) {
        bestLoss = cost;
        best = p;
      }
    }
    const pivot = h[best * n + best];
    for (let r = 0; r < rows; r++) {
      const factor = w[r * n + best] / pivot;
      for (let p = 0; p < m; p++) w[r * n + p] -= factor * h[best * n + p];
    }
    for (let i = 0; i < m; i++) {
      if (i === best) continue;
      const scale = h[i * n + best] / pivot;
      for (let p = 0; p < m; p++) h[i * n + p] -= scale * h[best * n + p];
    }
    step[input[best]] = at;
    loss[input[best]] = Math.max(0, bestLoss);
    const last = m - 1;
    if (best !== last) {
      input[best] = input[last];
      for (let r = 0; r < rows; r++) w[r * n + best] = w[r * n + last];
      for (let p = 0; p < m; p++) h[best * n + p] = h[last * n + p];
      for (let i = 0; i < m; i++) h[i * n + best] = h[i * n + last];
    }
  }
  return { step, loss };
}

/** H^-1 of a damped Gram of `count` random vectors, as the scorer computes it. */
function randomInverse(n: number, count: number): Float64Array {
  return inverseFromFactor(dampedCholesky(correlatedGram(n, count), n, 0.01).factor, n);
}

/** `copies` copies of `block` (k x k) on the diagonal of a (copies k) x (copies k) matrix, zero elsewhere. */
function repeatedBlocks(block: Float64Array, k: number, copies: number): Float64Array {
  const n = k * copies;
  const out = new Float64Array(n * n);
  for (let c = 0; c < copies; c++) for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) out[(c * k + a) * n + c * k + b] = block[a * k + b];
  return out;
}

function expectSameRemoval(weights: Float64Array, rows: number, n: number, inverse: Float64Array): void {
  const expected = referenceRemoval(weights, rows, n, inverse);
  const actual = greedyObsRemoval(weights, rows, n, inverse);
  expect(Array.from(actual.step)).toEqual(Array.from(expected.step));
  for (let j = 0; j < n; j++) {
    const tolerance = 1e-9 * Math.max(Math.abs(expected.loss[j]), Number.MIN_VALUE);
    if (Math.abs(actual.loss[j] - expected.loss[j]) > tolerance) expect(actual.loss[j]).toBe(expected.loss[j]);
  }
}

describe('greedyObsRemoval against the in-place downdate', () => {
  it('gives the same removal order and losses on random shapes', () => {
    // Lengths around the eight-position blocks of the pivot-row loop, n = 1 and rows = 1 included.
    for (const n of [1, 2, 3, 7, 8, 9, 13, 16, 17, 31, 40, 67]) {
      for (const rows of [1, 2, 4, 5]) {
        const inverse = randomInverse(n, 3 + rng.int(2 * n + 10));
        expectSameRemoval(Float64Array.from({ length: rows * n }, () => rng.normal()), rows, n, inverse);
      }
    }
  });

  it('breaks exact ties as the reference does: zero columns, equal costs on a diagonal H^-1, repeated blocks', () => {
    for (const n of [1, 5, 12, 19]) {
      const rows = 1 + rng.int(4);
      // Zero columns cost exactly 0 until one of them is chosen; the lower index goes first.
      const zeros = Float64Array.from({ length: rows * n }, () => (rng.next() < 0.4 ? 0 : rng.normal()));
      expectSameRemoval(zeros, rows, n, randomInverse(n, 2 * n));
      // A diagonal H^-1 of few values and weights of few values: many costs exactly equal, no re-fit.
      const diagonal = new Float64Array(n * n);
      for (let j = 0; j < n; j++) diagonal[j * n + j] = [0.5, 1, 2][rng.int(3)];
      expectSameRemoval(Float64Array.from({ length: rows * n }, () => [0, 1, -2][rng.int(3)]), rows, n, diagonal);
    }
    // Independent copies of one group (same H^-1 block, same weights) evolve bit for bit alike: each
    // copy removes its inputs in the same order, and a copy's i-th removal ties with the next copy's
    // i-th (same state), so it comes first.
    for (const [k, copies, rows] of [
      [1, 4, 1],
      [3, 3, 2],
      [5, 4, 4],
      [9, 2, 1],
    ]) {
      const block = randomInverse(k, 2 * k + 3);
      const blockWeights = Array.from({ length: rows * k }, () => rng.normal());
      const n = k * copies;
      const weights = Float64Array.from({ length: rows * n }, (_, index) => blockWeights[Math.floor(index / n) * k + ((index % n) % k)]);
      const { step } = greedyObsRemoval(weights, rows, n, repeatedBlocks(block, k, copies));
      const localOrder = (c: number) => Array.from({ length: k }, (_, j) => j).sort((a, b) => step[c * k + a] - step[c * k + b]);
      for (let c = 1; c < copies; c++) {
        expect(localOrder(c)).toEqual(localOrder(0));
        for (let j = 0; j < k; j++) expect(step[c * k + j]).toBeGreaterThan(step[(c - 1) * k + j]);
      }
      expectSameRemoval(weights, rows, n, repeatedBlocks(block, k, copies));
    }
  });
});

describe('obs-greedy scorer', () => {
  it('scores PW tiles column by column: a tile segment ranks as its greedy removal order', () => {
    const layer: PwLayer = { kind: 'pw', name: 'pw', outChannels: 5, inChannels: 6, weights: Float64Array.from({ length: 30 }, () => rng.normal()) };
    const stats: LayerStatistics = { gram: correlatedGram(6, 50) };
    const scores = obsGreedyScorer.score(layer, stats, { tileRows: 2 });
    const inverse = inverseFromFactor(dampedCholesky(stats.gram!, 6, 0.01).factor, 6);
    for (const [first, rows] of [
      [0, 2],
      [2, 2],
      [4, 1],
    ]) {
      const { step } = greedyObsRemoval(layer.weights.subarray(first * 6, (first + rows) * 6), rows, 6, inverse);
      const segment = (j: number) => Math.hypot(...Array.from({ length: rows }, (_, r) => scores[(first + r) * 6 + j]));
      const byScore = Array.from({ length: 6 }, (_, j) => j).sort((a, b) => segment(a) - segment(b));
      expect(byScore).toEqual(Array.from({ length: 6 }, (_, j) => j).sort((a, b) => step[a] - step[b]));
      for (let r = 1; r < rows; r++) for (let j = 0; j < 6; j++) expect(scores[(first + r) * 6 + j]).toBe(scores[first * 6 + j]);
    }
  });

  it('scores DW channels on their own Gram blocks; plans built on it keep the greedy survivors', () => {
    const taps = 4;
    const layer: DwLayer = { kind: 'dw', name: 'dw', channels: 2, kernel: [2, 2], weights: Float64Array.from({ length: 8 }, () => rng.normal()) };
    const gram = Float64Array.from([...correlatedGram(taps, 30), ...correlatedGram(taps, 30)]);
    const plan = maskLayer(layer, { strategy: 'dcp', ratio: 0.5, scorer: 'obs-greedy', stats: { gram } });
    const kept = plan.keptIndices.flat().length;
    expect(kept).toBe(4);
    const scores = getScorer('obs-greedy').score(layer, { gram });
    for (let channel = 0; channel < 2; channel++) {
      const block = gram.subarray(channel * 16, (channel + 1) * 16);
      const { step } = greedyObsRemoval(layer.weights.subarray(channel * taps, (channel + 1) * taps), 1, taps, inverseFromFactor(dampedCholesky(block, taps, 0.01).factor, taps));
      const order = [0, 1, 2, 3].sort((a, b) => scores[channel * taps + a] - scores[channel * taps + b]);
      expect(order).toEqual([0, 1, 2, 3].sort((a, b) => step[a] - step[b]));
    }
  });

  it('on correlated inputs its first removal matches obs, and it needs the Gram like obs does', () => {
    const layer: PwLayer = { kind: 'pw', name: 'blocks.2.pw', outChannels: 1, inChannels: 5, weights: Float64Array.from({ length: 5 }, () => rng.normal()) };
    const stats: LayerStatistics = { gram: correlatedGram(5, 40) };
    const greedy = obsGreedyScorer.score(layer, stats);
    const oneShot = obsScorer.score(layer, stats);
    const argmin = (values: Float64Array) => values.indexOf(Math.min(...values));
    expect(argmin(greedy)).toBe(argmin(oneShot));
    expect(() => obsGreedyScorer.score(layer, { inputNormSquared: new Float64Array(5) })).toThrow(/blocks\.2\.pw.*gram/);
  });
});
