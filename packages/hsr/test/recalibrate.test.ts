import { ShapeError, UsageError } from '@deprune/errors';
import { balanceDw, balancePw } from '@deprune/bwt';
import { buildDwPlan, maskLayer, validatePlan, type LayerPlan } from '@deprune/masks';
import { describe, expect, it } from 'vitest';
import { analyticStaircase, recalibrate, tableLatencyModel, type LatencyModel } from '../src/index';
import { abs, dwLayer, pwLayer, randomWeights } from '@deprune/test-fixtures';

function isSuperset(outer: Uint8Array, inner: Uint8Array): boolean {
  return inner.every((bit, index) => !bit || outer[index] === 1);
}

const unitCost = analyticStaircase({ step: 4, costPerChunk: 1 });

describe('recalibrate: recover', () => {
  const dw = dwLayer(4, [3, 3], randomWeights(36, 7), 'dw');
  const dwScores = abs(dw.weights);

  it('channel granularity: m = 5 taps moves up to the step edge 8 at the same latency', () => {
    const bwt = balanceDw(dw, 0.5, dwScores, { granularity: 'channel' });
    expect(bwt.kept).toEqual([5, 5, 5, 5]);
    const result = recalibrate([bwt], [dw], [dwScores], unitCost, { mode: 'recover' });
    const [plan] = result.plans;
    expect(plan.kept).toEqual([8, 8, 8, 8]);
    expect(plan).toMatchObject({ step: 4, granularity: 'channel', groupSize: 1, strategy: 'dcp' });
    expect(isSuperset(plan.mask, bwt.mask)).toBe(true);
    validatePlan(plan, dw);
    expect(result.moves).toEqual([
      { layer: 'dw', unit: 'channel', keptBefore: 5, keptAfter: 8, full: 9, step: 4, latencyBeforeUs: 2, latencyAfterUs: 2, measured: false, latencySource: 'analytic staircase ceil(n / t) (t=4)' },
    ]);
    expect(result.predictedLatencyUs).toEqual({ before: 2, after: 2 });
    expect(result.budgetMet).toBeNull();
    expect(result.unmeasured).toEqual(['dw']);
    // The recovered taps are each channel's best: top 8 of 9 by score.
    for (let channel = 0; channel < 4; channel++) {
      const row = dwScores.subarray(channel * 9, channel * 9 + 9);
      const dropped = [...Array(9).keys()].find((tap) => !plan.keptIndices[channel].includes(tap))!;
      expect(row[dropped]).toBe(Math.min(...row));
    }
  });

  it('group granularity with a partial last group: full groups 14 -> 16, the partial group keeps max(5, round(16/3))', () => {
    const bwt = balanceDw(dw, 0.5, dwScores, { granularity: 'group', groupSize: 3 });
    const groupKept = (plan: LayerPlan) => [plan.kept.slice(0, 3).reduce((a, b) => a + b, 0), plan.kept[3]];
    expect(groupKept(bwt)).toEqual([14, 5]);
    const result = recalibrate([bwt], [dw], [dwScores], unitCost);
    expect(groupKept(result.plans[0])).toEqual([16, 5]);
    expect(result.moves[0]).toMatchObject({ unit: 'group', keptBefore: 14, keptAfter: 16, full: 27 });
    expect(isSuperset(result.plans[0].mask, bwt.mask)).toBe(true);
  });

  it('PW tiles: q = 5 columns per tile moves up to 8; Cout not a multiple of T', () => {
    const pw = pwLayer(10, 10, randomWeights(100, 3), 'pw');
    const bwt = balancePw(pw, 0.5, abs(pw.weights), { tileRows: 4 });
    const result = recalibrate([bwt], [pw], [abs(pw.weights)], unitCost);
    expect(result.plans[0].kept).toEqual([8, 8, 8]);
    expect(result.plans[0].tileRows).toBe(4);
    expect(result.moves[0]).toMatchObject({ unit: 'tile', keptBefore: 5, keptAfter: 8, full: 10 });
    expect(isSuperset(result.plans[0].mask, bwt.mask)).toBe(true);
  });

  it('caps at full and leaves unbalanced plans alone', () => {
    const bwt = balanceDw(dw, 0.2, dwScores, { granularity: 'channel' });
    expect(bwt.kept[0]).toBe(7);
    const dcp = maskLayer(dwLayer(4, [3, 3], dw.weights, 'other'), { strategy: 'dcp', ratio: 0.5 });
    const other = dwLayer(4, [3, 3], dw.weights, 'other');
    // t = 5 on K = 9: stairs 1-5 and 6-10, the second cut short at the full 9 taps.
    const result = recalibrate([bwt, dcp], [dw, other], [dwScores, dwScores], analyticStaircase({ step: 5, costPerChunk: 1 }));
    expect(result.plans[0].kept).toEqual([9, 9, 9, 9]);
    expect(result.plans[0].sparsity).toBe(0);
    expect(result.plans[1]).toBe(dcp);
    expect(result.moves.map((move) => move.layer)).toEqual(['dw']);
  });

  it('uses the measured table where it has the layer and says where it fell back', () => {
    const pw = pwLayer(8, 16, randomWeights(128, 5), 'pw');
    const table = { backend: 'gpu.js', mode: 'tiled', layers: { pw: { kept: [0, 6, 12, 16], latencyUs: [1, 2, 3, 4] } } };
    const bwtPw = balancePw(pw, 0.5, abs(pw.weights), { tileRows: 4 });
    const bwtDw = balanceDw(dw, 0.5, dwScores, { granularity: 'channel' });
    const result = recalibrate([bwtPw, bwtDw], [pw, dw], [abs(pw.weights), dwScores], tableLatencyModel(table), { mode: 'recover', step: 6 });
    // q = 8 is timed at 12 columns: recover keeps 12.
    expect(result.moves[0]).toMatchObject({ keptBefore: 8, keptAfter: 12, step: 6, measured: true, latencyBeforeUs: 3, latencyAfterUs: 3 });
    expect(result.moves[1]).toMatchObject({ keptAfter: 8, step: 4, measured: false });
    expect(result.moves[1].latencySource).toMatch(/not in latency table gpu.js\/tiled/);
    expect(result.unmeasured).toEqual(['dw']);
  });
});

describe('recalibrate: latency', () => {
  // Two identical shapes; layer b's recovered taps are nearly worthless, layer a's are not.
  const a = dwLayer(2, [3, 3], new Array(18).fill(1), 'a');
  const b = dwLayer(2, [3, 3], [10, ...new Array(8).fill(0.001), 10, ...new Array(8).fill(0.001)], 'b');
  const layers = [a, b];
  const scores = layers.map((layer) => abs(layer.weights));
  const plans = layers.map((layer, index) => balanceDw(layer, 0.5, scores[index], { granularity: 'channel' }));

  it('steps down the layer that loses the least importance per saved microsecond', () => {
    expect(plans.map((plan) => plan.kept[0])).toEqual([5, 5]);
    const result = recalibrate(plans, layers, scores, unitCost, { mode: 'latency', budgetUs: 3 });
    expect(result.moves.map((move) => [move.layer, move.keptAfter])).toEqual([['a', 8], ['b', 4]]);
    expect(result.plans[1].keptIndices).toEqual([[0, 1, 2, 3], [0, 1, 2, 3]]);
    expect(result.predictedLatencyUs).toEqual({ before: 4, after: 3 });
    expect(result.budgetMet).toBe(true);
  });

  it('stops at the floor and reports a budget it cannot meet', () => {
    const withOverhead: LatencyModel = { name: 'overhead', latency: (_layer, kept) => 10 + Math.ceil(kept / 4) };
    const result = recalibrate(plans, layers, scores, withOverhead, { mode: 'latency', budgetUs: 5 });
    expect(result.budgetMet).toBe(false);
    expect(result.moves.map((move) => move.keptAfter)).toEqual([0, 0]);
    expect(result.predictedLatencyUs.after).toBe(20);
    const floored = recalibrate(plans, layers, scores, withOverhead, { mode: 'latency', budgetUs: 5, minKeptFraction: 0.5 });
    expect(floored.moves.map((move) => move.keptAfter)).toEqual([8, 8]);
    // No step() on the model and no step option: the step is read off the staircase.
    expect(floored.moves[0].step).toBe(4);
  });
});

describe('recalibrate: errors', () => {
  const layer = dwLayer(2, [1, 2], [1, 2, 3, 4], 'x');
  const scores = abs(layer.weights);
  const plan = balanceDw(layer, 0.5, scores, { granularity: 'channel' });

  it('checks its arguments', () => {
    expect(() => recalibrate([plan], [layer], [], unitCost)).toThrow(/same length/);
    expect(() => recalibrate([plan], [dwLayer(2, [1, 2], [1, 2, 3, 4], 'y')], [scores], unitCost)).toThrow(ShapeError);
    expect(() => recalibrate([plan], [layer], [scores], unitCost, { mode: 'latency' })).toThrow(/budgetUs/);
    expect(() => recalibrate([plan], [layer], [scores], unitCost, { mode: 'fast' as 'latency' })).toThrow(UsageError);
    expect(() => recalibrate([plan], [layer], [scores], unitCost, { budgetUs: -1 })).toThrow(UsageError);
    expect(() => recalibrate([plan], [layer], [scores], { name: 'nan', latency: () => Number.NaN })).toThrow(/returned NaN/);
    expect(() => recalibrate([plan], [layer], [new Float64Array(1)], unitCost)).toThrow(ShapeError);
  });

  it('refuses a plan that claims a balanced granularity it does not have', () => {
    const lying = buildDwPlan(layer, [[0], [0, 1]], { strategy: 'dcp', granularity: 'channel', groupSize: 1 });
    expect(() => recalibrate([lying], [layer], [scores], unitCost)).toThrow(/keep different counts \(1, 2\)/);
  });
});
