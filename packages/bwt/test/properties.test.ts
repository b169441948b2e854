import { balancedColumnsPerTile, maskFromPlanEntry, maskLayer, planEntryToJson, segmentNorms, validatePlan } from '@deprune/masks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { balanceDw, balancePw, balanceReport, dwBudget, keptInGroup, keptPerGroup } from '../src/index';
import { abs, dwLayerArb as makeDwLayerArb, fcOptions as makeFcOptions, ones, pwLayerArb as makePwLayerArb, ratioArb } from '@deprune/test-fixtures';

const dwLayerArb = makeDwLayerArb();
const pwLayerArb = makePwLayerArb();
const fcOptions = makeFcOptions(80);

/** Within a unit, no dropped item outranks a kept one. */
function separated(values: ArrayLike<number>, flags: ArrayLike<number>): boolean {
  let minKept = Infinity;
  let maxDropped = -Infinity;
  for (let index = 0; index < values.length; index++) {
    if (flags[index]) minKept = Math.min(minKept, values[index]);
    else maxDropped = Math.max(maxDropped, values[index]);
  }
  return minKept >= maxDropped;
}

describe('BWT properties', () => {
  it('DW group: exactly n per full group, round(n*s/G) in the partial one, same budget up to rounding', () => {
    fc.assert(
      fc.property(dwLayerArb, ratioArb, fc.integer({ min: 1, max: 40 }), (layer, ratio, groupSizeOption) => {
        const scores = abs(layer.weights);
        const plan = balanceDw(layer, ratio, scores, { granularity: 'group', groupSize: groupSizeOption });
        validatePlan(plan, layer);
        expect(maskFromPlanEntry(JSON.parse(JSON.stringify(planEntryToJson(plan))), layer)).toEqual(plan.mask);
        const taps = layer.kernel[0] * layer.kernel[1];
        const groupSize = Math.min(groupSizeOption, layer.channels);
        expect(plan.groupSize).toBe(groupSize);
        const budget = dwBudget(layer, ratio);
        const n = keptPerGroup(budget, layer.channels, groupSize, taps);
        for (let first = 0; first < layer.channels; first += groupSize) {
          const size = Math.min(groupSize, layer.channels - first);
          const flags = plan.mask.subarray(first * taps, (first + size) * taps);
          expect(ones(flags)).toBe(keptInGroup(n, size, groupSize, taps));
          expect(separated(scores.subarray(first * taps, (first + size) * taps), flags)).toBe(true);
        }
        const kept = ones(plan.mask);
        expect(Math.abs(kept - budget)).toBeLessThanOrEqual((layer.channels / groupSize + 1) / 2 + 1e-9);
        const report = balanceReport(maskLayer(layer, { strategy: 'dcp', ratio }), plan);
        expect(report.imbalanceAfter).toBe(1);
        expect(report.keptBefore).toBe(budget);
        expect(report.imbalanceBefore).toBeGreaterThanOrEqual(1);
      }),
      fcOptions,
    );
  });

  it('DW channel: every channel keeps m = round(B/C), within C/2 of the budget', () => {
    fc.assert(
      fc.property(dwLayerArb, ratioArb, (layer, ratio) => {
        const scores = abs(layer.weights);
        const plan = balanceDw(layer, ratio, scores, { granularity: 'channel' });
        validatePlan(plan, layer);
        const taps = layer.kernel[0] * layer.kernel[1];
        const m = plan.kept[0];
        expect(plan.kept.every((count) => count === m)).toBe(true);
        expect(Math.abs(layer.channels * m - dwBudget(layer, ratio))).toBeLessThanOrEqual(layer.channels / 2 + 1e-9);
        for (let channel = 0; channel < layer.channels; channel++) {
          const range = [channel * taps, (channel + 1) * taps] as const;
          expect(separated(scores.subarray(...range), plan.mask.subarray(...range))).toBe(true);
        }
        expect(balanceReport(maskLayer(layer, { strategy: 'dcp', ratio }), plan).imbalanceAfter).toBe(1);
      }),
      fcOptions,
    );
  });

  it('PW: every tile keeps q = Cin - round(r*Cin), its best segments, exactly balanced', () => {
    fc.assert(
      fc.property(pwLayerArb, ratioArb, fc.integer({ min: 1, max: 40 }), (layer, ratio, tileRowsOption) => {
        const scores = abs(layer.weights);
        const plan = balancePw(layer, ratio, scores, { tileRows: tileRowsOption });
        validatePlan(plan, layer);
        const q = balancedColumnsPerTile(layer.inChannels, ratio);
        expect(plan.kept.every((count) => count === q)).toBe(true);
        const norms = segmentNorms(layer, scores, plan.tileRows!);
        plan.keptIndices.forEach((list, tile) => {
          const flags = new Uint8Array(layer.inChannels);
          for (const column of list) flags[column] = 1;
          expect(separated(norms.subarray(tile * layer.inChannels, (tile + 1) * layer.inChannels), flags)).toBe(true);
        });
        const plain = maskLayer(layer, { strategy: 'pcp', ratio, options: { tileRows: tileRowsOption } });
        expect(balanceReport(plain, plan).imbalanceAfter).toBe(1);
      }),
      fcOptions,
    );
  });
});
