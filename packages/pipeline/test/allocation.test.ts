import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '@deprune/errors';
import type { LayerStatistics, PwLayer } from '@deprune/masks';
import type { OnnxModel } from '@deprune/onnx';
import { choleskySolve, dampedCholesky } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { allocateRatios, normalizedSaliency, prune, type AllocationLayer } from '../src/index';

/** Summed loss of pruning the `count` smallest losses of a layer. */
function cheapest(losses: Float64Array, count: number): number {
  return [...losses].sort((a, b) => a - b).slice(0, count).reduce((sum, value) => sum + value, 0);
}

/** Every way to prune k_l weights of each layer (within bounds) that removes exactly `total`: the least summed loss. */
function bruteForceLeastLoss(layers: readonly AllocationLayer[], total: number, bounds: { minRatio: number; maxRatio: number }): number {
  let best = Infinity;
  const walk = (index: number, removed: number, loss: number) => {
    if (index === layers.length) {
      if (removed === total) best = Math.min(best, loss);
      return;
    }
    const size = layers[index].losses.length;
    for (let count = Math.ceil(bounds.minRatio * size - 1e-9); count <= Math.floor(bounds.maxRatio * size + 1e-9); count++) {
      walk(index + 1, removed + count, loss + cheapest(layers[index].losses, count));
    }
  };
  walk(0, 0, 0);
  return best;
}

describe('allocateRatios', () => {
  it('prunes the cheap layer first, up to maxRatio, and the rest from the dear one', () => {
    const cheap = Float64Array.from({ length: 10 }, (_, index) => 1e-6 * (index + 1));
    const dear = Float64Array.from({ length: 10 }, (_, index) => 1 + index);
    const result = allocateRatios(
      [
        { name: 'cheap', losses: cheap, ratio: 0.5, fixed: false },
        { name: 'dear', losses: dear, ratio: 0.5, fixed: false },
      ],
      { minRatio: 0, maxRatio: 0.8 },
    );
    expect(result.budget).toBe(10);
    expect(result.ratios).toEqual([0.8, 0.2]);
    expect(result.allocated).toBe(10);
    expect(result.budgetMet).toBe(true);
    expect(result.threshold).toBe(2);
  });

  it('removes at least the budget with the least summed loss (brute force over every split)', () => {
    const layer = fc.record({
      losses: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 9 }),
      ratio: fc.constantFrom(0.25, 0.5, 0.75),
    });
    fc.assert(
      fc.property(fc.array(layer, { minLength: 1, maxLength: 3 }), fc.constantFrom(0.6, 0.8, 0.95), (spec, maxRatio) => {
        // Distinct losses: ties would let the threshold take a whole tie and overshoot the budget.
        let next = 0;
        const layers: AllocationLayer[] = spec.map((entry, index) => ({
          name: `l${index}`,
          losses: Float64Array.from(entry.losses, (value) => value + 1e-6 * next++),
          ratio: entry.ratio,
          fixed: false,
        }));
        const bounds = { minRatio: 0, maxRatio };
        const result = allocateRatios(layers, bounds);
        const removed = result.ratios.map((ratio, index) => Math.round(ratio * layers[index].losses.length));
        const total = removed.reduce((sum, count) => sum + count, 0);
        const capacity = layers.reduce((sum, entry) => sum + Math.floor(maxRatio * entry.losses.length + 1e-9), 0);
        if (result.budgetMet) {
          expect(total).toBeGreaterThanOrEqual(result.budget - 1e-9);
          // One weight more than the budget's ceiling at most (the threshold lands on one weight).
          expect(total).toBeLessThanOrEqual(Math.ceil(result.budget - 1e-9));
        } else {
          expect(total).toBe(capacity);
        }
        const loss = removed.reduce((sum, count, index) => sum + cheapest(layers[index].losses, count), 0);
        expect(loss).toBeCloseTo(bruteForceLeastLoss(layers, total, bounds), 6);
      }),
      { numRuns: 150 },
    );
  });

  it('leaves fixed layers and ratio-0 layers alone, and keeps them out of the budget', () => {
    const losses = (scale: number) => Float64Array.from({ length: 8 }, (_, index) => scale * (index + 1));
    const result = allocateRatios(
      [
        { name: 'fixed', losses: new Float64Array(0), ratio: 0.25, fixed: true },
        { name: 'dense', losses: losses(1e-9), ratio: 0, fixed: false },
        { name: 'a', losses: losses(1), ratio: 0.5, fixed: false },
        { name: 'b', losses: losses(1), ratio: 0.5, fixed: false },
      ],
      { minRatio: 0, maxRatio: 0.9 },
    );
    expect(result.budget).toBe(8);
    expect(result.ratios).toEqual([0.25, 0, 0.5, 0.5]);
  });

  it('with costs, prices each weight per unit of budget: a dearer weight saves more, so it goes earlier', () => {
    const losses = Float64Array.from({ length: 10 }, (_, index) => index + 1);
    const layers: AllocationLayer[] = [
      { name: 'big', losses, ratio: 0.5, fixed: false, cost: 4 },
      { name: 'small', losses, ratio: 0.5, fixed: false, cost: 1 },
    ];
    const result = allocateRatios(layers, { minRatio: 0, maxRatio: 0.9 });
    // Budget 5 x 4 + 5 x 1 = 25 units; prices are loss / 4 and loss / 1.
    expect(result.budget).toBe(25);
    // Units removed: 4 per 'big' weight, 1 per 'small' one. At price 1.5, big gives 6 (prices
    // 0.25..1.5) and small 1 (price 1): 25 units; at 1.25 only 21.
    expect(result.ratios).toEqual([0.6, 0.1]);
    expect(result.threshold).toBe(1.5);
    expect(result.allocated).toBe(25);
  });

  it('reports a budget the bounds cannot meet, and honours minRatio', () => {
    const losses = Float64Array.from({ length: 10 }, (_, index) => index + 1);
    const capped = allocateRatios([{ name: 'a', losses, ratio: 0.75, fixed: false }], { minRatio: 0, maxRatio: 0.5 });
    expect(capped.ratios).toEqual([0.5]);
    expect(capped.budgetMet).toBe(false);
    const floor = allocateRatios(
      [
        { name: 'a', losses, ratio: 0.2, fixed: false },
        { name: 'b', losses: losses.map((value) => value * 1e-6), ratio: 0.2, fixed: false },
      ],
      { minRatio: 0.1, maxRatio: 0.9 },
    );
    expect(floor.ratios).toEqual([0.1, 0.3]);
  });
});

/** A PW layer and the Gram of random inputs (Cin x samples), some of them correlated. */
function randomPw(seed: number): { layer: PwLayer; gram: Float64Array; inputs: Float64Array[] } {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const inChannels = 6;
  const outChannels = 3;
  const samples = 40;
  const inputs = Array.from({ length: samples }, () => {
    const x = Float64Array.from({ length: inChannels }, random);
    x[5] = 0.8 * x[0] + 0.2 * x[5];
    return x;
  });
  const gram = new Float64Array(inChannels * inChannels);
  for (const x of inputs) for (let a = 0; a < inChannels; a++) for (let b = 0; b < inChannels; b++) gram[a * inChannels + b] += x[a] * x[b];
  const weights = Float64Array.from({ length: outChannels * inChannels }, random);
  return { layer: { kind: 'pw', name: 'pw', outChannels, inChannels, weights }, gram, inputs };
}

describe('normalizedSaliency', () => {
  it('is the re-fitted output error of removing one weight, over the layer output energy', () => {
    for (const seed of [1, 2, 3]) {
      const { layer, gram, inputs } = randomPw(seed);
      const n = layer.inChannels;
      const losses = normalizedSaliency(layer, { gram });
      let energy = 0;
      for (let row = 0; row < layer.outChannels; row++) {
        for (const x of inputs) {
          let y = 0;
          for (let a = 0; a < n; a++) y += layer.weights[row * n + a] * x[a];
          energy += y * y;
        }
      }
      // Removing weight (row, j) and re-fitting the rest of the row minimises (w - v)^T H_d (w - v)
      // over v with v_j = 0, H_d the damped Gram the scorer uses: solve it directly on the other columns.
      const { damping } = dampedCholesky(gram, n, 0.01);
      for (let row = 0; row < layer.outChannels; row++) {
        for (let j = 0; j < n; j++) {
          const others = [...Array(n).keys()].filter((a) => a !== j);
          const reduced = Float64Array.from(others.flatMap((a) => others.map((b) => gram[a * n + b] + (a === b ? damping : 0))));
          const w = layer.weights.subarray(row * n, (row + 1) * n);
          // Re-fit: with d = v - w and d_j = -w_j, the others solve H_oo d_o = H_oj w_j.
          const rhs = others.map((a) => gram[a * n + j] * w[j]);
          const delta = choleskySolve(dampedCholesky(reduced, n - 1, 0).factor, n - 1, rhs);
          const change = new Float64Array(n);
          change[j] = -w[j];
          others.forEach((a, index) => (change[a] = delta[index]));
          let error = 0;
          for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) error += change[a] * (gram[a * n + b] + (a === b ? damping : 0)) * change[b];
          expect(losses[row * n + j]).toBeCloseTo(error / energy, 9);
        }
      }
    }
  });

  it('needs the Gram matrix and names the layer', () => {
    const { layer } = randomPw(4);
    expect(() => normalizedSaliency(layer, undefined)).toThrow(UsageError);
    expect(() => normalizedSaliency(layer, { inputNormSquared: new Float64Array(6) })).toThrow(/allocation 'saliency' needs calibration statistics \(gram\) for layer 'pw'/);
  });
});

describe("prune() with allocation 'saliency'", () => {
  let model: OnnxModel;
  beforeAll(() => {
    model = buildZooModel('mobilenetv3-small', { seed: 1, inputSize: 96 });
  });

  /** Identity-like Grams for every layer; the layer named `dead` sees inputs of which the first 90% are always zero. */
  function statistics(dead: string): Map<string, LayerStatistics> {
    const uniform = prune(model, { variant: 'unstructured', ratio: 0.5 });
    const map = new Map<string, LayerStatistics>();
    for (const entry of uniform.plan.layers) {
      const size = entry.kind === 'dw' ? entry.shape.kernel![0] * entry.shape.kernel![1] : entry.shape.inChannels!;
      const blocks = entry.kind === 'dw' ? entry.shape.channels! : 1;
      const gram = new Float64Array(blocks * size * size);
      for (let block = 0; block < blocks; block++) {
        for (let a = 0; a < size; a++) gram[block * size * size + a * (size + 1)] = entry.name === dead && a < 0.9 * size ? 0 : 1;
      }
      map.set(entry.name, { gram });
    }
    return map;
  }

  it('prunes a layer with dead inputs hardest and removes at least the uniform budget', () => {
    const uniform = prune(model, { variant: 'unstructured', ratio: 0.5 });
    const dead = uniform.plan.layers.filter((entry) => entry.kind === 'pw').at(-1)!.name;
    const result = prune(model, { variant: 'unstructured', ratio: 0.5, importance: 'obs', allocation: { mode: 'saliency', maxRatio: 0.85 } }, { statistics: statistics(dead) });
    const allocation = result.report.allocation!;
    expect(allocation.mode).toBe('saliency');
    // floor(0.85 x size) weights: the bound rounds inwards.
    expect(allocation.ratios[dead]).toBeCloseTo(0.85, 2);
    expect(allocation.ratios[dead]).toBeLessThanOrEqual(0.85);
    const pruned = (report: typeof result.report) => report.layers.reduce((sum, layer) => sum + layer.weights - layer.keptWeights, 0);
    // Each layer rounds its count once: at most one weight per layer below the budget.
    expect(allocation.budget).toBe('weights');
    expect(pruned(result.report)).toBeGreaterThanOrEqual(allocation.budgetAmount - result.report.layers.length);
    expect(Math.abs(pruned(result.report) - pruned(uniform.report))).toBeLessThan(result.report.layers.length + 1);
    expect(result.report.layers.find((layer) => layer.name === dead)!.sparsity).toBeCloseTo(0.85, 2);
    expect(result.plan.config.allocation).toEqual({ mode: 'saliency', budget: 'weights', minRatio: 0, maxRatio: 0.85 });
  });

  it("budget 'macs' removes the MACs the uniform ratios would, and needs layer shapes", () => {
    const uniform = prune(model, { variant: 'unstructured', ratio: 0.5, inputShapes: { '*': [1, 3, 96, 96] } });
    const stats = statistics('none');
    const result = prune(model, { variant: 'unstructured', ratio: 0.5, importance: 'obs', inputShapes: { '*': [1, 3, 96, 96] }, allocation: { mode: 'saliency', budget: 'macs' } }, { statistics: stats });
    const allocation = result.report.allocation!;
    expect(allocation.budget).toBe('macs');
    const removedMacs = (report: typeof result.report) => report.layers.reduce((sum, layer) => sum + layer.macsBefore! - layer.macsAfter!, 0);
    const largestPixels = Math.max(...result.report.layers.map((layer) => layer.macsBefore! / layer.weights));
    // Each layer rounds its count once: at most one weight's MACs per layer below the budget.
    expect(removedMacs(result.report)).toBeGreaterThanOrEqual(allocation.budgetAmount - largestPixels * result.report.layers.length);
    expect(Math.abs(removedMacs(result.report) - removedMacs(uniform.report))).toBeLessThanOrEqual(largestPixels * result.report.layers.length);
    const weights = prune(model, { variant: 'unstructured', ratio: 0.5, importance: 'obs', inputShapes: { '*': [1, 3, 96, 96] }, allocation: { mode: 'saliency' } }, { statistics: stats });
    expect(Object.values(allocation.ratios)).not.toEqual(Object.values(weights.report.allocation!.ratios));
    // A dynamic input without inputShapes: no layer shapes, so no MACs to count.
    const dynamic = buildZooModel('mobilenetv3-small', { seed: 1, inputSize: 'dynamic' });
    expect(() => prune(dynamic, { variant: 'unstructured', ratio: 0.5, allocation: { mode: 'saliency', budget: 'macs' } }, { statistics: stats })).toThrow(/allocation.budget 'macs' needs the output shape of layer '/);
  });

  it('keeps a layers[] ratio, ignores allocation for channel, and needs statistics', () => {
    const uniform = prune(model, { variant: 'deprune-b', ratio: 0.5 });
    const first = uniform.plan.layers[1].name;
    const stats = statistics('none');
    const result = prune(model, { variant: 'deprune-b', ratio: 0.5, importance: 'obs', allocation: { mode: 'saliency' }, layers: { [first]: { ratio: 0.25 } } }, { statistics: stats });
    expect(result.report.allocation!.ratios[first]).toBe(0.25);
    const channel = prune(model, { variant: 'channel', ratio: 0.5, importance: 'obs', allocation: { mode: 'saliency' } }, { statistics: stats });
    expect(channel.report.allocation).toBeUndefined();
    expect(channel.report.warnings).toContain("allocation 'saliency' is ignored by variant 'channel' (masking variants with a ratio only)");
    expect(() => prune(model, { variant: 'deprune-b', ratio: 0.5, allocation: { mode: 'saliency' } })).toThrow(/allocation 'saliency' needs calibration statistics \(gram\) for layer '/);
  });
});
