import { describe, expect, it } from 'vitest';
import { buildDwPlan, buildPwPlan, planEntryToJson } from '@deprune/masks';
import { keptColumnsOf, keptTapsOf, sparseKernelOf } from '../src/index';

/** The runtime hands the backends kept indices read off plan entries (issue 15): what goes across. */
describe('keptTapsOf / keptColumnsOf', () => {
  const dw = buildDwPlan({ kind: 'dw', name: 'b.dw', channels: 2, kernel: [3, 3], weights: new Float64Array(18) }, [[0, 4], [8]], { strategy: 'dcp', granularity: 'group', groupSize: 2, step: 3 });
  const pw = buildPwPlan({ kind: 'pw', name: 'b.pw', outChannels: 3, inChannels: 4, weights: new Float64Array(12) }, [[1, 3], [0]], { strategy: 'pcp', granularity: 'tile', tileRows: 2 });

  it('reads a DW entry as kept taps per channel, with its step and its balanced group', () => {
    expect(keptTapsOf(planEntryToJson(dw))).toEqual({ name: 'b.dw', channels: 2, kernel: [3, 3], keptTaps: [[0, 4], [8]], step: 3, groupSize: 2 });
    // An unbalanced plan's group size is no DR group: the backend picks G.
    expect(keptTapsOf({ ...planEntryToJson(dw), granularity: 'none' }).groupSize).toBeNull();
  });

  it('reads a PW entry as kept columns per row tile', () => {
    expect(keptColumnsOf(planEntryToJson(pw))).toEqual({ name: 'b.pw', outChannels: 3, inChannels: 4, tileRows: 2, keptColumns: [[1, 3], [0]], step: null });
  });

  it('refuses the other kind and an entry whose indices do not fit its shape, naming the layer', () => {
    expect(() => keptTapsOf(planEntryToJson(pw))).toThrow(/node 'b\.pw': keptTapsOf needs a DW plan entry, got kind 'pw'/);
    expect(() => keptColumnsOf(planEntryToJson(dw))).toThrow(/keptColumnsOf needs a PW plan entry/);
    expect(() => keptTapsOf({ ...planEntryToJson(dw), keptIndices: [[0, 9], [8]] })).toThrow(/node 'b\.dw': plan entry: keptIndices\[0\]\[1\] = 9 is outside \[0, 8\]/);
  });
});

describe('sparseKernelOf', () => {
  it('runs DCP entries on dwSparse, PCP entries on pwSparse, every other strategy dense', () => {
    expect(sparseKernelOf({ kind: 'dw', strategy: 'dcp' })).toBe('dwSparse');
    expect(sparseKernelOf({ kind: 'pw', strategy: 'pcp' })).toBe('pwSparse');
    for (const strategy of ['unstructured', 'nm', 'channel', 'dense', 'my-strategy']) {
      expect(sparseKernelOf({ kind: 'dw', strategy }), strategy).toBeNull();
      expect(sparseKernelOf({ kind: 'pw', strategy }), strategy).toBeNull();
    }
    // A strategy named for the other kind's kernel does not get it.
    expect(sparseKernelOf({ kind: 'dw', strategy: 'pcp' })).toBeNull();
    expect(sparseKernelOf({ kind: 'pw', strategy: 'dcp' })).toBeNull();
  });
});
