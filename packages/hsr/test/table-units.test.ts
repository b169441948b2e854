import { DeprunError } from '@deprune/errors';
import { balanceDw, balancePw } from '@deprune/bwt';
import { describe, expect, it } from 'vitest';
import { latencyTableUnits, LatencyTableMismatchError, planUnitOf, recalibrate, tableLatencyModel, validateLatencyTable, type LatencyTable, type LayerShape } from '../src/index';
import { abs, dwLayer, pwLayer, randomWeights } from '@deprune/test-fixtures';

const dw: LayerShape = { name: 'blocks.3.dw', kind: 'dw', channels: 40, kernel: [3, 3], granularity: 'channel', groupSize: 1 };
const pw: LayerShape = { name: 'blocks.3.pw', kind: 'pw', outChannels: 48, inChannels: 40, granularity: 'tile', tileRows: 32 };
const curve = { kept: [0, 4, 8, 9], latencyUs: [1, 2, 3, 4], step: 4 };

function tableOf(layers: LatencyTable['layers']): LatencyTable {
  return { backend: 'gpu.js-webasm', mode: 'webasm', layers };
}

/** The error a call throws (fails the test when it does not throw). */
function thrown(call: () => unknown): LatencyTableMismatchError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(LatencyTableMismatchError);
    return error as LatencyTableMismatchError;
  }
  throw new Error('expected a LatencyTableMismatchError');
}

describe('planUnitOf', () => {
  it('is the unit the plan balances, sized as BWT clamps it', () => {
    expect(planUnitOf(dw)).toEqual({ unit: 'channel', size: 1 });
    expect(planUnitOf({ ...dw, granularity: 'group', groupSize: 32 })).toEqual({ unit: 'group', size: 32 });
    // G = 64 on a 40-channel layer: one group of 40.
    expect(planUnitOf({ ...dw, granularity: 'group', groupSize: 64 })).toEqual({ unit: 'group', size: 40 });
    expect(planUnitOf(pw)).toEqual({ unit: 'tile', size: 32 });
    expect(planUnitOf({ ...pw, tileRows: 64 })).toEqual({ unit: 'tile', size: 48 });
  });
});

describe('tableLatencyModel: the table unit must match the plan', () => {
  it('prices layers whose plan balances the unit the table measured', () => {
    const model = tableLatencyModel(
      tableOf({
        'blocks.3.dw': { ...curve, unit: 'channel', unitSize: 1 },
        'blocks.3.pw': { kept: [0, 8, 40], latencyUs: [1, 2, 3], unit: 'tile', unitSize: 32 },
        'blocks.4.dw': { kept: [0, 36, 72], latencyUs: [1, 2, 3], unit: 'group', unitSize: 40 },
      }),
    );
    expect(model.latency(dw, 5)).toBe(3);
    expect(model.step!(dw)).toBe(4);
    expect(model.latency(pw, 7)).toBe(2);
    // A group table of a layer with fewer channels than G records the clamped size, as BWT uses it.
    expect(model.latency({ ...dw, name: 'blocks.4.dw', granularity: 'group', groupSize: 64 }, 40)).toBe(3);
  });

  it("refuses a 'channel' table for a 'group' plan, naming the layer and what to pass", () => {
    const model = tableLatencyModel(tableOf({ 'blocks.3.dw': { ...curve, unit: 'channel', unitSize: 1 } }));
    const error = thrown(() => model.latency({ ...dw, granularity: 'group', groupSize: 32 }, 5));
    expect(error).toBeInstanceOf(DeprunError);
    expect(error.code).toBe('BAD_CONFIG');
    expect(error.exitCode).toBe(2);
    expect(error.node).toBe('blocks.3.dw');
    expect(error.layer).toBe('blocks.3.dw');
    expect(error.tableUnit).toEqual({ unit: 'channel', size: 1 });
    expect(error.planUnit).toEqual({ unit: 'group', size: 32 });
    expect(error.message).toMatch(/^node 'blocks\.3\.dw': latency table gpu\.js-webasm\/webasm measured this layer per channel \(unit 'channel'\), but its plan balances work per group of 32 channels/);
    expect(error.message).toContain("--bwt-granularity channel");
    expect(error.message).toContain('--dw-unit group --group-size 32');
    // step() checks too: HSR asks it for the move's step.
    expect(() => model.step!({ ...dw, granularity: 'group', groupSize: 32 })).toThrow(LatencyTableMismatchError);
  });

  it("refuses a 'group' table for a 'channel' plan and another G", () => {
    const model = tableLatencyModel(tableOf({ 'blocks.3.dw': { kept: [0, 72, 144], latencyUs: [1, 2, 3], unit: 'group', unitSize: 16 } }));
    const channel = thrown(() => model.latency(dw, 2));
    expect(channel.message).toContain("per group of 16 channels (unit 'group', G = 16)");
    expect(channel.message).toContain('--bwt-granularity group --group-size 16');
    expect(channel.message).toContain('--dw-unit channel');
    const otherG = thrown(() => model.latency({ ...dw, granularity: 'group', groupSize: 32 }, 2));
    expect(otherG.message).toContain('per group of 32 channels');
    expect(otherG.message).toContain('--dw-unit group --group-size 32');
  });

  it('refuses a PW table of another tile size T', () => {
    const model = tableLatencyModel(tableOf({ 'blocks.3.pw': { kept: [0, 8, 40], latencyUs: [1, 2, 3], unit: 'tile', unitSize: 8 } }));
    const error = thrown(() => model.latency(pw, 8));
    expect(error.message).toContain("per tile of 8 output rows (unit 'tile', T = 8), but its plan balances work per tile of 32 output rows");
    expect(error.message).toContain('--tile-rows 8');
    expect(error.message).toContain('profile with --tile-rows 32');
  });

  it('does not check entries that do not say their unit, nor layers the table lacks', () => {
    const model = tableLatencyModel(tableOf({ 'blocks.3.dw': curve }));
    expect(model.latency({ ...dw, granularity: 'group', groupSize: 32 }, 5)).toBe(3);
    expect(model.source!(pw).measured).toBe(false);
    expect(model.latency(pw, 3)).toBeGreaterThan(0);
  });

  it('validates unit and unitSize', () => {
    expect(() => validateLatencyTable(tableOf({ a: { ...curve, unit: 'row' as never } }))).toThrow(/unit must be one of channel, group, tile/);
    expect(() => validateLatencyTable(tableOf({ a: { ...curve, unit: 'group', unitSize: 0 } }))).toThrow(/unitSize/);
  });

  it('stops recalibrate before any move, naming the layer', () => {
    const layer = dwLayer(8, [3, 3], randomWeights(72, 3), 'blocks.3.dw');
    const scores = abs(layer.weights);
    const groupPlan = balanceDw(layer, 0.5, scores, { granularity: 'group', groupSize: 4 });
    const model = tableLatencyModel(tableOf({ 'blocks.3.dw': { ...curve, unit: 'channel', unitSize: 1 } }));
    expect(() => recalibrate([groupPlan], [layer], [scores], model)).toThrow(/node 'blocks\.3\.dw'.*per channel.*per group of 4 channels/);
    const channelPlan = balanceDw(layer, 0.5, scores, { granularity: 'channel' });
    expect(recalibrate([channelPlan], [layer], [scores], model).moves[0]).toMatchObject({ keptBefore: 5, keptAfter: 8, measured: true });
    const pwL = pwLayer(8, 12, randomWeights(96, 4), 'blocks.3.pw');
    const pwPlan = balancePw(pwL, 0.5, abs(pwL.weights), { tileRows: 4 });
    const pwModel = tableLatencyModel(tableOf({ 'blocks.3.pw': { kept: [0, 4, 8, 12], latencyUs: [1, 2, 3, 4], unit: 'tile', unitSize: 8 } }));
    expect(() => recalibrate([pwPlan], [pwL], [abs(pwL.weights)], pwModel)).toThrow(LatencyTableMismatchError);
  });
});

describe('latencyTableUnits', () => {
  it('reads the BWT units a profiler table was measured for', () => {
    const table = tableOf({
      'a.dw': { ...curve, unit: 'group', unitSize: 32 },
      'b.dw': { ...curve, unit: 'group', unitSize: 16 }, // a 16-channel layer: G clamped
      'a.pw': { ...curve, unit: 'tile', unitSize: 32 },
      'b.pw': { ...curve, unit: 'tile', unitSize: 24 },
    });
    expect(latencyTableUnits(table)).toEqual({ dw: { unit: 'group', size: 32 }, pw: { unit: 'tile', size: 32 } });
    expect(latencyTableUnits(tableOf({ 'a.dw': { ...curve, unit: 'channel', unitSize: 1 } }))).toEqual({ dw: { unit: 'channel', size: 1 }, pw: null });
    expect(latencyTableUnits(tableOf({ 'a.dw': curve }))).toEqual({ dw: null, pw: null });
  });

  it('refuses a table whose DW layers were measured in different units', () => {
    const mixed = tableOf({ 'a.dw': { ...curve, unit: 'channel', unitSize: 1 }, 'b.dw': { ...curve, unit: 'group', unitSize: 32 } });
    expect(() => latencyTableUnits(mixed)).toThrow(/node 'b\.dw': latency table gpu\.js-webasm\/webasm mixes DW units: 'channel' and 'group'/);
  });
});
