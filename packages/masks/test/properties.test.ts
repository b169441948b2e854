import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  balancedColumnsPerTile,
  channelNorms,
  columnNorms,
  maskFromPlanEntry,
  maskLayer,
  nmKeptInBlock,
  planEntryToJson,
  prunedCount,
  segmentNorms,
  tileCount,
  validatePlan,
  type LayerPlan,
  type PrunableLayer,
} from '../src/index';
import { abs, dwLayerArb, fcOptions, keptFromCounts, ones, pwLayerArb, ratioArb } from './helpers';

/** Invariants every plan satisfies, whatever the strategy. */
function checkPlanInvariants(layer: PrunableLayer, plan: LayerPlan): void {
  validatePlan(plan, layer);
  const kept = ones(plan.mask);
  expect(keptFromCounts(plan)).toBe(kept);
  expect(plan.sparsity).toBeCloseTo((layer.weights.length - kept) / layer.weights.length, 12);
  const entry = JSON.parse(JSON.stringify(planEntryToJson(plan)));
  expect(Buffer.compare(maskFromPlanEntry(entry, layer), plan.mask)).toBe(0);
  expect(plan.keptIndices.every((list) => list.every((index, i) => i === 0 || index > list[i - 1]))).toBe(true);
}

/** No pruned item outranks a kept one. */
function expectSeparated(values: ArrayLike<number>, keptFlags: ArrayLike<number>): void {
  let minKept = Infinity;
  let maxPruned = -Infinity;
  for (let index = 0; index < values.length; index++) {
    if (keptFlags[index]) minKept = Math.min(minKept, values[index]);
    else maxPruned = Math.max(maxPruned, values[index]);
  }
  expect(minKept).toBeGreaterThanOrEqual(maxPruned);
}

describe('dcp properties', () => {
  it('prunes exactly round(r*C*K) weights, the lowest-scoring ones', () => {
    fc.assert(
      fc.property(dwLayerArb, ratioArb, (layer, ratio) => {
        const plan = maskLayer(layer, { strategy: 'dcp', ratio });
        checkPlanInvariants(layer, plan);
        const total = layer.weights.length;
        expect(total - ones(plan.mask)).toBe(prunedCount(ratio, total));
        expectSeparated(abs(layer.weights), plan.mask);
      }),
      fcOptions,
    );
  });
});

describe('pcp properties', () => {
  it('plain: prunes round(r * tiles * Cin) segments, lowest norms first', () => {
    fc.assert(
      fc.property(pwLayerArb, ratioArb, fc.integer({ min: 1, max: 40 }), (layer, ratio, tileRowsOption) => {
        const plan = maskLayer(layer, { strategy: 'pcp', ratio, options: { tileRows: tileRowsOption } });
        checkPlanInvariants(layer, plan);
        const tileRows = Math.min(tileRowsOption, layer.outChannels);
        expect(plan.tileRows).toBe(tileRows);
        const tiles = tileCount(layer.outChannels, tileRows);
        const segments = tiles * layer.inChannels;
        const keptSegments = plan.kept.reduce((a, b) => a + b, 0);
        expect(segments - keptSegments).toBe(prunedCount(ratio, segments));
        for (const count of plan.kept) expect(count).toBeLessThanOrEqual(layer.inChannels);
        const flags = new Uint8Array(segments);
        plan.keptIndices.forEach((list, tile) => list.forEach((column) => (flags[tile * layer.inChannels + column] = 1)));
        expectSeparated(segmentNorms(layer, abs(layer.weights), tileRows), flags);
      }),
      fcOptions,
    );
  });

  it('balanced: every tile keeps q = Cin - round(r*Cin), its best segments', () => {
    fc.assert(
      fc.property(pwLayerArb, ratioArb, fc.integer({ min: 1, max: 40 }), (layer, ratio, tileRows) => {
        const plan = maskLayer(layer, { strategy: 'pcp', ratio, options: { tileRows, balanced: true } });
        checkPlanInvariants(layer, plan);
        const q = balancedColumnsPerTile(layer.inChannels, ratio);
        expect(plan.kept.every((count) => count === q)).toBe(true);
        const norms = segmentNorms(layer, abs(layer.weights), plan.tileRows!);
        plan.keptIndices.forEach((list, tile) => {
          const flags = new Uint8Array(layer.inChannels);
          for (const column of list) flags[column] = 1;
          expectSeparated(norms.subarray(tile * layer.inChannels, (tile + 1) * layer.inChannels), flags);
        });
      }),
      fcOptions,
    );
  });
});

describe('unstructured, nm and channel properties', () => {
  const layerArb = fc.oneof(dwLayerArb, pwLayerArb);

  it('unstructured prunes exactly round(r*N), lowest first', () => {
    fc.assert(
      fc.property(layerArb, ratioArb, (layer, ratio) => {
        const plan = maskLayer(layer, { strategy: 'unstructured', ratio });
        checkPlanInvariants(layer, plan);
        expect(layer.weights.length - ones(plan.mask)).toBe(prunedCount(ratio, layer.weights.length));
        expectSeparated(abs(layer.weights), plan.mask);
      }),
      fcOptions,
    );
  });

  it('nm keeps exactly N of every full block of M along the inner dimension', () => {
    const nmArb = fc.integer({ min: 1, max: 8 }).chain((m) => fc.record({ m: fc.constant(m), n: fc.integer({ min: 1, max: m }) }));
    fc.assert(
      fc.property(layerArb, nmArb, (layer, { n, m }) => {
        const plan = maskLayer(layer, { strategy: 'nm', ratio: 1 - n / m, options: { n, m } });
        checkPlanInvariants(layer, plan);
        const rowLength = layer.kind === 'dw' ? layer.kernel[0] * layer.kernel[1] : layer.inChannels;
        for (let start = 0; start < layer.weights.length; start += rowLength) {
          for (let block = 0; block < rowLength; block += m) {
            const size = Math.min(m, rowLength - block);
            const flags = plan.mask.subarray(start + block, start + block + size);
            expect(ones(flags)).toBe(size === m ? n : nmKeptInBlock(n, m, size));
            expectSeparated(abs(layer.weights.subarray(start + block, start + block + size)), flags);
          }
        }
      }),
      fcOptions,
    );
  });

  it('channel removes exactly round(r*C) whole channels / columns, lowest norm first', () => {
    fc.assert(
      fc.property(layerArb, ratioArb, (layer, ratio) => {
        const plan = maskLayer(layer, { strategy: 'channel', ratio });
        checkPlanInvariants(layer, plan);
        const removed = plan.removedChannels!;
        if (layer.kind === 'dw') {
          const taps = layer.kernel[0] * layer.kernel[1];
          expect(removed.length).toBe(prunedCount(ratio, layer.channels));
          expect(plan.kept.every((count, channel) => count === (removed.includes(channel) ? 0 : taps))).toBe(true);
          expectSeparated(channelNorms(layer, abs(layer.weights)), plan.kept);
        } else {
          expect(removed.length).toBe(prunedCount(ratio, layer.inChannels));
          expect(plan.tileRows).toBe(layer.outChannels);
          const flags = new Uint8Array(layer.inChannels);
          for (const column of plan.keptIndices[0]) flags[column] = 1;
          expectSeparated(columnNorms(layer, abs(layer.weights)), flags);
        }
      }),
      fcOptions,
    );
  });
});
