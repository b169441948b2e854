import { balanceDw, balancePw } from '@deprune/bwt';
import { validatePlan, type LayerPlan, type PrunableLayer } from '@deprune/masks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyticStaircase, layerShapeOf, recalibrate, tableLatencyModel } from '../src/index';
import { abs, dwLayerArb as makeDwLayerArb, fcOptions as makeFcOptions, pwLayerArb as makePwLayerArb, ratioArb } from '@deprune/test-fixtures';

const dwLayerArb = makeDwLayerArb();
const pwLayerArb = makePwLayerArb();
const fcOptions = makeFcOptions(80);

function isSuperset(outer: Uint8Array, inner: Uint8Array): boolean {
  for (let index = 0; index < inner.length; index++) if (inner[index] && !outer[index]) return false;
  return true;
}

/** A small network: balanced DW (group or channel) and PW layers. */
const networkArb = fc
  .record({
    dws: fc.array(fc.record({ layer: dwLayerArb, channel: fc.boolean(), groupSize: fc.integer({ min: 1, max: 24 }) }), { minLength: 1, maxLength: 3 }),
    pws: fc.array(fc.record({ layer: pwLayerArb, tileRows: fc.integer({ min: 1, max: 40 }) }), { minLength: 1, maxLength: 3 }),
    ratio: ratioArb,
    step: fc.integer({ min: 1, max: 8 }),
  })
  .map(({ dws, pws, ratio, step }) => {
    const layers: PrunableLayer[] = [];
    const plans: LayerPlan[] = [];
    dws.forEach(({ layer, channel, groupSize }, index) => {
      const named = { ...layer, name: `dw${index}` };
      layers.push(named);
      plans.push(balanceDw(named, ratio, abs(named.weights), { granularity: channel ? 'channel' : 'group', groupSize }));
    });
    pws.forEach(({ layer, tileRows }, index) => {
      const named = { ...layer, name: `pw${index}`, outputPixels: 49 };
      layers.push(named);
      plans.push(balancePw(named, ratio, abs(named.weights), { tileRows }));
    });
    return { layers, plans, scores: layers.map((layer) => abs(layer.weights)), step };
  });

describe('HSR properties', () => {
  it('recover: never more latency, step edges, the largest such count, kept sets only grow', () => {
    fc.assert(
      fc.property(networkArb, ({ layers, plans, scores, step }) => {
        const model = analyticStaircase({ step });
        const result = recalibrate(plans, layers, scores, model, { mode: 'recover' });
        expect(result.predictedLatencyUs.after).toBeLessThanOrEqual(result.predictedLatencyUs.before);
        result.moves.forEach((move, index) => {
          const shape = layerShapeOf(plans[index], layers[index]);
          expect(move.latencyAfterUs).toBeLessThanOrEqual(move.latencyBeforeUs);
          expect(move.keptAfter % step === 0 || move.keptAfter === move.full).toBe(true);
          expect(move.keptAfter).toBeGreaterThanOrEqual(move.keptBefore);
          if (move.keptAfter < move.full) expect(model.latency(shape, move.keptAfter + 1)).toBeGreaterThan(move.latencyBeforeUs);
          expect(move.step).toBe(step);
          const plan = result.plans[index];
          validatePlan(plan, layers[index]);
          expect(plan.step).toBe(step);
          expect(isSuperset(plan.mask, plans[index].mask)).toBe(true);
        });
      }),
      fcOptions,
    );
  });

  it('latency mode meets any budget an empty layer could, with nested masks on step edges', () => {
    fc.assert(
      fc.property(networkArb, fc.double({ min: 0, max: 1.2, noNaN: true }), ({ layers, plans, scores, step }, fraction) => {
        const model = analyticStaircase({ step });
        const recovered = recalibrate(plans, layers, scores, model);
        const budgetUs = fraction * recovered.predictedLatencyUs.before;
        const result = recalibrate(plans, layers, scores, model, { mode: 'latency', budgetUs });
        expect(result.budgetMet).toBe(true);
        expect(result.predictedLatencyUs.after).toBeLessThanOrEqual(budgetUs + 1e-9 * Math.max(1, budgetUs));
        result.moves.forEach((move, index) => {
          expect(move.keptAfter % step === 0 || move.keptAfter === move.full).toBe(true);
          expect(move.keptAfter).toBeLessThanOrEqual(recovered.moves[index].keptAfter);
          validatePlan(result.plans[index], layers[index]);
          expect(isSuperset(recovered.plans[index].mask, result.plans[index].mask)).toBe(true);
        });
      }),
      { ...fcOptions, numRuns: 40 },
    );
  });

  it('a table measured at every count gives the same result as the model it measured', () => {
    fc.assert(
      fc.property(networkArb, ({ layers, plans, scores, step }) => {
        const model = analyticStaircase({ step });
        const tableLayers: Record<string, { kept: number[]; latencyUs: number[]; step: number }> = {};
        plans.forEach((plan, index) => {
          const shape = layerShapeOf(plan, layers[index]);
          // Every count a unit can keep: a full unit never holds more than the layer's weights.
          const counts = Array.from({ length: layers[index].weights.length + 1 }, (_, n) => n);
          tableLayers[plan.name] = { kept: counts, latencyUs: counts.map((n) => model.latency(shape, n)), step };
        });
        const table = tableLatencyModel({ backend: 'test', mode: 'exact', layers: tableLayers });
        const fromTable = recalibrate(plans, layers, scores, table);
        const fromModel = recalibrate(plans, layers, scores, model);
        expect(fromTable.plans.map((plan) => plan.kept)).toEqual(fromModel.plans.map((plan) => plan.kept));
        expect(fromTable.unmeasured).toEqual([]);
      }),
      { ...fcOptions, numRuns: 20 },
    );
  });
});
