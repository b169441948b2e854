import { ShapeError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import {
  applyMask,
  buildDwPlan,
  imbalance,
  keptWeightCount,
  maskFromPlanEntry,
  maskLayer,
  planEntryToJson,
  planFromJson,
  planFromMask,
  roundCount,
} from '../src/index';
import { dwLayer, pwLayer } from './helpers';

describe('plan entries', () => {
  it('serialise without the mask and rebuild it exactly', () => {
    const layer = pwLayer(5, 4, Array.from({ length: 20 }, (_, index) => Math.sin(index)));
    const plan = maskLayer(layer, { strategy: 'pcp', ratio: 0.5, options: { tileRows: 2 } });
    const json = JSON.stringify(planEntryToJson(plan));
    expect(json).not.toContain('mask');
    const entry = JSON.parse(json);
    expect(Object.keys(entry).sort()).toEqual(
      ['name', 'kind', 'strategy', 'granularity', 'groupSize', 'tileRows', 'step', 'shape', 'kept', 'keptIndices', 'sparsity'].sort(),
    );
    expect(Array.from(maskFromPlanEntry(entry))).toEqual(Array.from(plan.mask));
    expect(Array.from(maskFromPlanEntry(entry, layer))).toEqual(Array.from(plan.mask));
    expect(planFromJson(entry, layer)).toEqual({ ...planEntryToJson(plan), mask: plan.mask });
  });

  it('keeps removedChannels and the DW kernel', () => {
    const plan = maskLayer(dwLayer(3, [1, 2], [3, 0, 1, 1, 2, 2]), { strategy: 'channel', ratio: 0.34 });
    const entry = JSON.parse(JSON.stringify(planEntryToJson(plan)));
    expect(entry).toMatchObject({ removedChannels: [1], shape: { channels: 3, kernel: [1, 2] } });
    expect(Array.from(maskFromPlanEntry(entry))).toEqual([1, 1, 0, 0, 1, 1]);
  });

  it('refuses entries that do not fit the layer or are malformed', () => {
    const layer = dwLayer(2, [1, 2], [1, 2, 3, 4], 'dw_3');
    const entry = planEntryToJson(maskLayer(layer, { ratio: 0.5 }));
    expect(() => maskFromPlanEntry(entry, dwLayer(2, [2, 1], [1, 2, 3, 4]))).toThrow(/kernel/);
    expect(() => maskFromPlanEntry(entry, { channels: 3 })).toThrow(/channels/);
    expect(() => maskFromPlanEntry({ ...entry, keptIndices: [[1, 0], []], kept: [2, 0] })).toThrow(/ascending/);
    expect(() => maskFromPlanEntry({ ...entry, keptIndices: [[2], [0, 1]], kept: [1, 2] })).toThrow(/outside/);
    expect(() => maskFromPlanEntry({ ...entry, kept: [0, 0] })).toThrow(/kept\[/);
    expect(() => maskFromPlanEntry({ ...entry, keptIndices: [[1]], kept: [1] })).toThrow(ShapeError);
    expect(() => maskFromPlanEntry({ ...entry, granularity: 'blocky' as 'none' })).toThrow(/granularity/);
    expect(() => maskFromPlanEntry({ ...entry, kind: 'pw', tileRows: 1, shape: { outChannels: 2, inChannels: 2 } })).not.toThrow();
    expect(() => maskFromPlanEntry({ ...entry, kind: 'pw', tileRows: null, shape: { outChannels: 2, inChannels: 2 } })).toThrow(/tileRows/);
    expect(() => maskFromPlanEntry(entry)).not.toThrow();
    expect(() => maskFromPlanEntry({ ...entry, name: 'dw_3', kept: [9, 9] })).toThrow(/dw_3/);
  });

  it('planFromMask checks tile structure, buildDwPlan checks indices', () => {
    const layer = pwLayer(2, 2, [1, 2, 3, 4]);
    expect(() => planFromMask(layer, [1, 0, 0, 1], { strategy: 'x', granularity: 'none', tileRows: 2 })).toThrow(/same columns/);
    expect(planFromMask(layer, [1, 0, 1, 0], { strategy: 'x', granularity: 'none', tileRows: 2 }).keptIndices).toEqual([[0]]);
    expect(() => buildDwPlan(dwLayer(1, [1, 2], [1, 2]), [[0, 0]], { strategy: 'x', granularity: 'none' })).toThrow(/twice/);
    expect(() => buildDwPlan(dwLayer(1, [1, 2], [1, 2]), [[2]], { strategy: 'x', granularity: 'none' })).toThrow(/outside/);
  });

  it('applyMask and keptWeightCount', () => {
    const plan = maskLayer(dwLayer(1, [1, 4], [1, -4, 3, -2]), { ratio: 0.5 });
    expect(Array.from(applyMask(Float64Array.of(1, -4, 3, -2), plan.mask))).toEqual([0, -4, 3, 0]);
    expect(keptWeightCount(plan)).toBe(2);
  });
});

describe('imbalance', () => {
  it('is max / mean, 1 when balanced or empty', () => {
    expect(imbalance([2, 2, 2])).toBe(1);
    expect(imbalance([1, 3])).toBe(1.5);
    expect(imbalance([0, 0])).toBe(1);
    expect(imbalance([])).toBe(1);
    expect(imbalance(Int32Array.of(0, 4))).toBe(2);
    expect(() => imbalance([1, -1])).toThrow(/>= 0/);
  });
});

describe('roundCount', () => {
  it('rounds half up and absorbs float error', () => {
    expect(roundCount(0.7 * 5)).toBe(4);
    expect(roundCount(2.5)).toBe(3);
    expect(roundCount(2.49)).toBe(2);
    expect(roundCount(0.99 * 9)).toBe(9);
    expect(roundCount(0)).toBe(0);
  });
});
