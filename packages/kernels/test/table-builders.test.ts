import { describe, expect, it } from 'vitest';
import { buildColumnTable, buildDiagonalTable, buildTapTable, DEFAULT_DIAGONAL_GROUP_SIZE, DEFAULT_STEP, type DwKeptTaps, type PwKeptColumns } from '../src/index';

const weights3x3 = (channels: number) => Float64Array.from({ length: channels * 9 }, (_, index) => index + 1);
/** A 3x3 DW layer's kept taps, as the runtime hands them over (no plan entry, no masks). */
const dwKept = (keptTaps: number[][], extra: Partial<DwKeptTaps> = {}): DwKeptTaps => ({ name: 'dw', channels: keptTaps.length, kernel: [3, 3], keptTaps, ...extra });

describe('buildTapTable', () => {
  it('packs each channel\'s kept taps as (dy, dx, weight), padded with zero taps to a multiple of t', () => {
    const table = buildTapTable(dwKept([[0, 4, 8], [1, 2, 5]]), weights3x3(2));
    expect(table.step).toBe(DEFAULT_STEP);
    expect(table.slots).toBe(4);
    expect(table.kept).toEqual([3, 3]);
    expect(table.balance).toBe('channel');
    expect(table.efficiency).toBeCloseTo(3 / 4);
    expect(Array.from(table.taps)).toEqual([
      // channel 0: taps 0 (0,0), 4 (1,1), 8 (2,2), then one padding slot
      0, 0, 1, 1, 1, 5, 2, 2, 9, 0, 0, 0,
      // channel 1: taps 1 (0,1), 2 (0,2), 5 (1,2)
      0, 1, 11, 0, 2, 12, 1, 2, 15, 0, 0, 0,
    ]);
  });

  it('pads unbalanced kept taps to the largest channel: the imbalance cost', () => {
    const table = buildTapTable(dwKept([[0], [0, 1, 2, 3, 4], [2, 3]]), weights3x3(3), { step: 1 });
    expect(table.slots).toBe(5);
    expect(table.balance).toBe('none');
    expect(table.efficiency).toBeCloseTo(8 / 15);
  });

  it("uses the kept taps' HSR step unless told otherwise, and rounds the trip count up to it", () => {
    const kept = dwKept([[0, 1, 2, 3, 4]], { step: 3 });
    expect(buildTapTable(kept, weights3x3(1)).slots).toBe(6);
    expect(buildTapTable(kept, weights3x3(1), { step: 2 }).slots).toBe(6);
    expect(buildTapTable(kept, weights3x3(1), { step: 1 }).slots).toBe(5);
  });

  it('accepts kept indices read back from JSON and a kept count of 0', () => {
    const table = buildTapTable(JSON.parse(JSON.stringify(dwKept([[], []], { step: null }))) as DwKeptTaps, weights3x3(2));
    expect(table.slots).toBe(0);
    expect(table.taps.length).toBe(0);
  });

  it('rejects PW kept columns, wrong weight counts, a bad step and bad kept taps, naming the layer', () => {
    const kept = dwKept([[0], [1]]);
    expect(() => buildTapTable(kept, new Float32Array(5))).toThrow(/DW weights have 5 values but the layer's shape needs 18/);
    expect(() => buildTapTable(kept, weights3x3(2), { step: 0 })).toThrow(/step t must be an integer >= 1/);
    const pw: PwKeptColumns = { name: 'pw', outChannels: 2, inChannels: 2, tileRows: 2, keptColumns: [[0]] };
    expect(() => buildTapTable(pw as unknown as DwKeptTaps, new Float64Array(4))).toThrow(expect.objectContaining({ code: 'BAD_USAGE' }));
    expect(() => buildTapTable(dwKept([[0], [9]]), weights3x3(2))).toThrow(/node 'dw': buildTapTable: keptTaps\[1\]\[0\] is outside \[0, 8\]/);
    expect(() => buildTapTable(dwKept([[0], [4, 2]]), weights3x3(2))).toThrow(/keptTaps\[1\] must be strictly ascending/);
    expect(() => buildTapTable({ ...kept, keptTaps: [[0]] }, weights3x3(2))).toThrow(/expected 2 lists of keptTaps, got 1/);
  });
});

describe('buildColumnTable', () => {
  it('lists each tile\'s kept columns and compacts every row\'s weights onto them', () => {
    const weights = Float64Array.from({ length: 12 }, (_, index) => index);
    const table = buildColumnTable({ name: 'pw', outChannels: 3, inChannels: 4, tileRows: 2, keptColumns: [[1, 3], [0]] }, weights, { step: 1 });
    expect(table.tiles).toBe(2);
    expect(table.slots).toBe(2);
    expect(table.balance).toBe('none');
    expect(Array.from(table.columns)).toEqual([1, 3, 0, 0]);
    // rows 0 and 1 (tile 0) read columns 1 and 3; row 2 (tile 1) reads column 0, then a zero pad
    expect(Array.from(table.weights)).toEqual([1, 3, 5, 7, 8, 0]);
    expect(table.efficiency).toBeCloseTo(5 / 6);
  });

  it('rejects a tile height outside the rows, a tile count that does not fit, and a column past the inputs', () => {
    const weights = new Float64Array(12);
    const kept: PwKeptColumns = { name: 'pw', outChannels: 3, inChannels: 4, tileRows: 2, keptColumns: [[1], [0]] };
    expect(() => buildColumnTable({ ...kept, tileRows: 4 }, weights)).toThrow(/tileRows must be an integer in \[1, 3\], got 4/);
    expect(() => buildColumnTable({ ...kept, tileRows: 1 }, weights)).toThrow(/expected 3 lists of keptColumns, got 2/);
    expect(() => buildColumnTable({ ...kept, keptColumns: [[1], [4]] }, weights)).toThrow(/keptColumns\[1\]\[0\] is outside \[0, 3\]/);
  });
});

describe('buildDiagonalTable', () => {
  it('makes one compacted column per kept tap of a group, and W_g rows that are zero off their own columns', () => {
    const table = buildDiagonalTable(dwKept([[0, 1], [4], [8]], { groupSize: 2 }), weights3x3(3), { step: 1 });
    expect(table.groupSize).toBe(2);
    expect(table.groups).toBe(2);
    expect(table.kept).toEqual([3, 1]);
    expect(table.slots).toBe(3);
    expect(Array.from(table.columns)).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(table.weights)).toEqual([1, 2, 0, 0, 0, 14, 27, 0, 0]);
    expect(table.balance).toBe('group');
  });

  it('defaults G to the kept taps\' group size, else to the BWT default clamped to C', () => {
    const taps = [[0], [0], [0], [0], [0]];
    expect(buildDiagonalTable(dwKept(taps), weights3x3(5)).groupSize).toBe(Math.min(5, DEFAULT_DIAGONAL_GROUP_SIZE));
    expect(buildDiagonalTable(dwKept(taps, { groupSize: null }), weights3x3(5)).groupSize).toBe(Math.min(5, DEFAULT_DIAGONAL_GROUP_SIZE));
    expect(buildDiagonalTable(dwKept(taps, { groupSize: 2 }), weights3x3(5)).groupSize).toBe(2);
    expect(buildDiagonalTable(dwKept(taps, { groupSize: 2 }), weights3x3(5), { groupSize: 4 }).groups).toBe(2);
  });
});
