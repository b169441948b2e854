import { buildDwPlan, buildPwPlan, planEntryToJson, type DwLayer, type PwLayer } from '@deprune/masks';
import { describe, expect, it } from 'vitest';
import { buildColumnTable, buildDiagonalTable, buildTapTable, DEFAULT_DIAGONAL_GROUP_SIZE, DEFAULT_STEP } from '../src/index';

const weights3x3 = (channels: number) => Float64Array.from({ length: channels * 9 }, (_, index) => index + 1);
const dw = (channels: number): DwLayer => ({ kind: 'dw', name: 'dw', channels, kernel: [3, 3], weights: weights3x3(channels) });

describe('buildTapTable', () => {
  it('packs each channel\'s kept taps as (dy, dx, weight), padded with zero taps to a multiple of t', () => {
    const layer = dw(2);
    const plan = buildDwPlan(layer, [[0, 4, 8], [1, 2, 5]], { strategy: 'dcp', granularity: 'channel', groupSize: 1 });
    const table = buildTapTable(plan, layer.weights);
    expect(table.step).toBe(DEFAULT_STEP);
    expect(table.slots).toBe(4);
    expect(table.balance).toBe('channel');
    expect(table.efficiency).toBeCloseTo(3 / 4);
    expect(Array.from(table.taps)).toEqual([
      // channel 0: taps 0 (0,0), 4 (1,1), 8 (2,2), then one padding slot
      0, 0, 1, 1, 1, 5, 2, 2, 9, 0, 0, 0,
      // channel 1: taps 1 (0,1), 2 (0,2), 5 (1,2)
      0, 1, 11, 0, 2, 12, 1, 2, 15, 0, 0, 0,
    ]);
  });

  it('pads an unbalanced plan to its largest channel: the imbalance cost', () => {
    const layer = dw(3);
    const plan = buildDwPlan(layer, [[0], [0, 1, 2, 3, 4], [2, 3]], { strategy: 'dcp', granularity: 'none' });
    const table = buildTapTable(plan, layer.weights, { step: 1 });
    expect(table.slots).toBe(5);
    expect(table.balance).toBe('none');
    expect(table.efficiency).toBeCloseTo(8 / 15);
  });

  it("uses the plan's HSR step unless told otherwise, and rounds the trip count up to it", () => {
    const layer = dw(1);
    const plan = buildDwPlan(layer, [[0, 1, 2, 3, 4]], { strategy: 'dcp', granularity: 'channel', groupSize: 1, step: 3 });
    expect(buildTapTable(plan, layer.weights).slots).toBe(6);
    expect(buildTapTable(plan, layer.weights, { step: 2 }).slots).toBe(6);
    expect(buildTapTable(plan, layer.weights, { step: 1 }).slots).toBe(5);
  });

  it('accepts a plan entry read back from JSON (no mask) and a kept count of 0', () => {
    const layer = dw(2);
    const entry = JSON.parse(JSON.stringify(planEntryToJson(buildDwPlan(layer, [[], []], { strategy: 'dcp', granularity: 'channel', groupSize: 1 }))));
    const table = buildTapTable(entry, layer.weights);
    expect(table.slots).toBe(0);
    expect(table.taps.length).toBe(0);
  });

  it('rejects a PW entry, wrong weight counts and a bad step', () => {
    const layer = dw(2);
    const plan = buildDwPlan(layer, [[0], [1]], { strategy: 'dcp', granularity: 'channel', groupSize: 1 });
    expect(() => buildTapTable(plan, new Float32Array(5))).toThrow(/DW weights have 5 values but the plan's shape needs 18/);
    expect(() => buildTapTable(plan, layer.weights, { step: 0 })).toThrow(/step t must be an integer >= 1/);
    const pw: PwLayer = { kind: 'pw', name: 'pw', outChannels: 2, inChannels: 2, weights: new Float64Array(4) };
    const pwPlan = buildPwPlan(pw, [[0]], { strategy: 'pcp', granularity: 'tile', tileRows: 2 });
    expect(() => buildTapTable(pwPlan, pw.weights)).toThrow(expect.objectContaining({ code: 'BAD_USAGE' }));
  });
});

describe('buildColumnTable', () => {
  it('lists each tile\'s kept columns and compacts every row\'s weights onto them', () => {
    const pw: PwLayer = { kind: 'pw', name: 'pw', outChannels: 3, inChannels: 4, weights: Float64Array.from({ length: 12 }, (_, index) => index) };
    const plan = buildPwPlan(pw, [[1, 3], [0]], { strategy: 'pcp', granularity: 'none', tileRows: 2 });
    const table = buildColumnTable(plan, pw.weights, { step: 1 });
    expect(table.tiles).toBe(2);
    expect(table.slots).toBe(2);
    expect(table.balance).toBe('none');
    expect(Array.from(table.columns)).toEqual([1, 3, 0, 0]);
    // rows 0 and 1 (tile 0) read columns 1 and 3; row 2 (tile 1) reads column 0, then a zero pad
    expect(Array.from(table.weights)).toEqual([1, 3, 5, 7, 8, 0]);
    expect(table.efficiency).toBeCloseTo(5 / 6);
  });
});

describe('buildDiagonalTable', () => {
  it('makes one compacted column per kept tap of a group, and W_g rows that are zero off their own columns', () => {
    const layer = dw(3);
    const plan = buildDwPlan(layer, [[0, 1], [4], [8]], { strategy: 'dcp', granularity: 'group', groupSize: 2 });
    const table = buildDiagonalTable(plan, layer.weights, { step: 1 });
    expect(table.groupSize).toBe(2);
    expect(table.groups).toBe(2);
    expect(table.kept).toEqual([3, 1]);
    expect(table.slots).toBe(3);
    expect(Array.from(table.columns)).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(table.weights)).toEqual([1, 2, 0, 0, 0, 14, 27, 0, 0]);
    expect(table.balance).toBe('group');
  });

  it('defaults G to the plan\'s group size, else to the BWT default clamped to C', () => {
    const layer = dw(5);
    const none = buildDwPlan(layer, [[0], [0], [0], [0], [0]], { strategy: 'dcp', granularity: 'none' });
    expect(buildDiagonalTable(none, layer.weights).groupSize).toBe(Math.min(5, DEFAULT_DIAGONAL_GROUP_SIZE));
    const grouped = buildDwPlan(layer, [[0], [0], [0], [0], [0]], { strategy: 'dcp', granularity: 'group', groupSize: 2 });
    expect(buildDiagonalTable(grouped, layer.weights).groupSize).toBe(2);
    expect(buildDiagonalTable(grouped, layer.weights, { groupSize: 4 }).groups).toBe(2);
  });
});
