import { UsageError } from '@deprune/errors';
import { getStrategy, maskLayer, validatePlan } from '@deprune/masks';
import { describe, expect, it } from 'vitest';
import { balanceDw, balanceLayer, balancePw, balanceReport, workPerUnit } from '../src/index';
import { abs, dwLayer, pwLayer } from '@deprune/test-fixtures';

// C = 5 channels of 2x2 taps; strong channels first, so DCP piles the budget onto group 0.
const dw = dwLayer(5, [2, 2], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01]);

describe('balanceDw', () => {
  it('group: every full group keeps n = round(B*G/C), the partial one round(n*s/G)', () => {
    // B = 20 - 10 = 10, G = 2: n = round(10 * 2 / 5) = 4, last group (1 channel) keeps round(4/2) = 2.
    const plan = balanceDw(dw, 0.5, abs(dw.weights), { granularity: 'group', groupSize: 2 });
    expect(plan.keptIndices).toEqual([[0, 1, 2, 3], [], [0, 1, 2, 3], [], [0, 1]]);
    expect(plan).toMatchObject({ strategy: 'dcp', granularity: 'group', groupSize: 2, tileRows: null, step: null, kept: [4, 0, 4, 0, 2] });
    validatePlan(plan, dw);
  });

  it('channel: every channel keeps m = round(B/C) taps', () => {
    const plan = balanceDw(dw, 0.5, abs(dw.weights), { granularity: 'channel' });
    expect(plan.keptIndices).toEqual([[0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]);
    expect(plan).toMatchObject({ granularity: 'channel', groupSize: 1 });
  });

  it('reports the imbalance DCP leaves and BWT removes', () => {
    const dcp = maskLayer(dw, { strategy: 'dcp', ratio: 0.5 });
    expect(dcp.kept).toEqual([4, 4, 2, 0, 0]);
    const after = balanceDw(dw, 0.5, abs(dw.weights), { groupSize: 2 });
    // Group work before: [8, 2, (0 partial, left out)] -> 8 / 5.
    expect(balanceReport(dcp, after)).toEqual({
      name: 'dw',
      unit: 'group',
      unitSize: 2,
      unitsCompared: 2,
      imbalanceBefore: 1.6,
      imbalanceAfter: 1,
      keptBefore: 10,
      keptAfter: 10,
    });
    const perChannel = balanceReport(dcp, balanceDw(dw, 0.5, abs(dw.weights), { granularity: 'channel' }));
    expect(perChannel).toMatchObject({ unit: 'channel', unitSize: 1, unitsCompared: 5, imbalanceBefore: 2, imbalanceAfter: 1 });
  });

  it('clamps G to C and defaults to groups of 32', () => {
    const plan = balanceDw(dw, 0.5, abs(dw.weights));
    expect(plan.groupSize).toBe(5);
    expect(plan.kept.reduce((a, b) => a + b, 0)).toBe(10);
    // One group holding the whole layer is DCP.
    expect(plan.keptIndices).toEqual(maskLayer(dw, { strategy: 'dcp', ratio: 0.5 }).keptIndices);
  });

  it('rejects bad input', () => {
    expect(() => balanceDw(dw, 0.5, abs(dw.weights), { groupSize: 0 })).toThrow(UsageError);
    expect(() => balanceDw(dw, 0.5, abs(dw.weights), { granularity: 'tile' as 'group' })).toThrow(/granularity/);
    expect(() => balanceDw(dw, 1, abs(dw.weights))).toThrow(/every weight/);
    expect(() => balanceDw(pwLayer(1, 1, [1]) as never, 0.5, Float64Array.of(1))).toThrow(/DW layers/);
    expect(() => balanceDw(dw, 0.5, new Float64Array(3))).toThrow(/scores/);
  });
});

describe('balancePw', () => {
  const pw = pwLayer(4, 4, [1, 0, 2, 0.1, 1, 0, 2, 0.1, 0, 3, 0, 0.2, 0, 3, 0, 0.2]);

  it('every tile keeps q = Cin - round(r*Cin) columns, like pcp balanced', () => {
    const plan = balancePw(pw, 0.25, abs(pw.weights), { tileRows: 2 });
    expect(plan.keptIndices).toEqual([[0, 2, 3], [0, 1, 3]]);
    expect(plan).toMatchObject({ strategy: 'pcp', granularity: 'tile', tileRows: 2, groupSize: null });
    const viaRegistry = getStrategy('pcp').mask(pw, 0.25, abs(pw.weights), { tileRows: 2, balanced: true });
    expect(viaRegistry).toEqual(plan);
  });

  it('reports the tile imbalance of plain PCP', () => {
    const plain = maskLayer(pw, { strategy: 'pcp', ratio: 0.25, options: { tileRows: 2 } });
    expect(plain.kept).toEqual([4, 2]);
    const report = balanceReport(plain, balancePw(pw, 0.25, abs(pw.weights), { tileRows: 2 }));
    expect(report).toMatchObject({ unit: 'tile', unitSize: 2, unitsCompared: 2, imbalanceBefore: 4 / 3, imbalanceAfter: 1, keptBefore: 12, keptAfter: 12 });
  });

  it('measures PW work of unstructured plans as the union of columns a tile touches', () => {
    const unstructured = maskLayer(pw, { strategy: 'unstructured', ratio: 0.5 });
    expect(workPerUnit(unstructured, 2).work).toEqual([2, 2]);
  });

  it('balanceLayer dispatches by kind', () => {
    expect(balanceLayer(pw, 0.25, abs(pw.weights), { tileRows: 2 }).granularity).toBe('tile');
    expect(balanceLayer(dw, 0.25, abs(dw.weights), { groupSize: 2 }).granularity).toBe('group');
  });

  it('refuses plans of different layers', () => {
    const plan = balancePw(pw, 0.25, abs(pw.weights));
    expect(() => balanceReport(plan, balanceDw(dw, 0.5, abs(dw.weights)))).toThrow(UsageError);
  });
});
