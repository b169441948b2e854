import { beforeAll, describe, expect, it } from 'vitest';
import { LatencyTableMismatchError, type LatencyTable } from '@deprune/hsr';
import type { OnnxModel } from '@deprune/onnx';
import { buildZooModel } from '@deprune/zoo';
import { ConfigError, prune, withLatencyTable, type PruneConfig } from '../src/index';

/** A profiler-like table of MobileNetV2's block-3 DW (3x3, 144 channels) and PW (144 -> 24) layers. */
function profilerTable(dw: { unit: 'channel' | 'group'; unitSize: number }, tileRows = 24): LatencyTable & { meta: { kernelStep: number } } {
  const dwFull = dw.unit === 'channel' ? 9 : dw.unitSize * 9;
  const dwKept = Array.from({ length: dwFull / 3 + 1 }, (_, index) => index * 3).filter((count) => count <= dwFull);
  return {
    backend: 'gpu.js-webasm',
    mode: 'webasm',
    layers: {
      'features.3.conv.1.0': { kept: dwKept, latencyUs: dwKept.map((count) => 10 + 5 * Math.ceil(count / 4)), step: 4, ...dw },
      'features.3.conv.2': { kept: [0, 16, 32, 48, 64, 80, 96, 112, 128, 144], latencyUs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], step: 16, unit: 'tile', unitSize: tileRows },
    },
    meta: { kernelStep: 4 },
  };
}

function refusal(call: () => unknown): ConfigError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('withLatencyTable', () => {
  const base: PruneConfig = { variant: 'deprune-bh', ratio: 0.6 };

  it('sets the table and the BWT units it was measured for, and the kernels step', () => {
    const table = profilerTable({ unit: 'channel', unitSize: 1 });
    const config = withLatencyTable(base, table, { file: 't.json' });
    expect(config.bwt).toEqual({ granularity: 'channel', tileRows: 24 });
    expect(config.hsr).toEqual({ table, step: 4 });
    expect(config.hsr!.table).not.toBe(table);
    const group = withLatencyTable({ ...base, hsr: { step: 8, mode: 'recover' } }, profilerTable({ unit: 'group', unitSize: 16 }, 32), { file: 't.json' });
    expect(group.bwt).toEqual({ granularity: 'group', groupSize: 16, tileRows: 32 });
    expect(group.hsr).toMatchObject({ step: 8, mode: 'recover' });
    // Explicit settings that agree with the table are fine.
    expect(withLatencyTable({ ...base, bwt: { granularity: 'group', groupSize: 16 } }, profilerTable({ unit: 'group', unitSize: 16 }), { file: 't.json' }).bwt).toEqual({ granularity: 'group', groupSize: 16, tileRows: 24 });
    // A table without units changes no BWT setting.
    const plain = { backend: 'b', mode: 'm', layers: { a: { kept: [0, 4], latencyUs: [1, 2] } } };
    expect(withLatencyTable({ ...base, bwt: { granularity: 'group' } }, plain, { file: 't.json' }).bwt).toEqual({ granularity: 'group' });
  });

  it('refuses explicit settings that contradict the table, naming the file, the setting and what to do', () => {
    const channel = profilerTable({ unit: 'channel', unitSize: 1 });
    const granularity = refusal(() => withLatencyTable({ ...base, bwt: { granularity: 'group' } }, channel, { file: 'tables/mnv2.json', origins: { granularity: '--bwt-granularity group' } }));
    expect(granularity.code).toBe('BAD_CONFIG');
    expect(granularity.file).toBe('tables/mnv2.json');
    expect(granularity.key).toBe('bwt.granularity');
    expect(granularity.message).toBe(
      "tables/mnv2.json: the latency table measured the DW layers per channel (unit 'channel'), but --bwt-granularity group asks for granularity 'group' (drop --bwt-granularity group (the table sets it), or make a table for that setting with deprune profile --dw-unit group --group-size 32)",
    );
    const groupSize = refusal(() => withLatencyTable({ ...base, bwt: { groupSize: 8 } }, profilerTable({ unit: 'group', unitSize: 16 }), { file: 't.json' }));
    expect(groupSize.message).toContain("per group of 16 channels (unit 'group', G = 16), but config key 'bwt.groupSize' asks for groups of 8 channels");
    expect(groupSize.message).toContain('--dw-unit group --group-size 8');
    const tiles = refusal(() => withLatencyTable({ ...base, bwt: { tileRows: 64 } }, channel, { file: 't.json', origins: { tileRows: '--tile-rows 64' } }));
    expect(tiles.message).toContain("measured the PW layers per tile of 24 output rows (unit 'tile', T = 24), but --tile-rows 64 asks for tiles of 64 rows");
    expect(tiles.message).toContain('deprune profile --tile-rows 64');
  });

  it('refuses something that is not a latency table, naming the file', () => {
    expect(refusal(() => withLatencyTable(base, { backend: 'b' }, { file: 'x.json' })).message).toMatch(/^x\.json: is not a usable latency table: /);
    const mixed = { backend: 'b', mode: 'm', layers: { a: { kept: [0], latencyUs: [1], unit: 'channel' }, b: { kept: [0], latencyUs: [1], unit: 'group', unitSize: 4 } } };
    expect(refusal(() => withLatencyTable(base, mixed, { file: 'x.json' })).message).toMatch(/mixes DW units/);
  });
});

describe('prune() with a profiler table', () => {
  let mobilenet: OnnxModel;
  beforeAll(() => {
    mobilenet = buildZooModel('mobilenetv2');
  });

  it('recalibrates the measured layers when the BWT units come from the table', () => {
    const config = withLatencyTable({ variant: 'deprune-bh', ratio: 0.6 }, profilerTable({ unit: 'channel', unitSize: 1 }), { file: 't.json' });
    const { plan, report } = prune(mobilenet, config);
    const dw = plan.layers.find((entry) => entry.name === 'features.3.conv.1.0')!;
    // BWT keeps round(0.4 * 9) = 4 taps per channel; the table's stair of 3 counts (3 < n <= 6) ends at 6.
    expect(dw.granularity).toBe('channel');
    expect(new Set(dw.kept)).toEqual(new Set([6]));
    expect(report.hsr!.unmeasured).not.toContain('features.3.conv.1.0');
  });

  it("stops with a LatencyTableMismatchError naming the layer when a 'channel' table meets group plans", () => {
    const table = profilerTable({ unit: 'channel', unitSize: 1 });
    expect(() => prune(mobilenet, { variant: 'deprune-bh', ratio: 0.6, bwt: { granularity: 'group' }, hsr: { table } })).toThrow(LatencyTableMismatchError);
    expect(() => prune(mobilenet, { variant: 'deprune-bh', ratio: 0.6, bwt: { granularity: 'group' }, hsr: { table } })).toThrow(/node 'features\.3\.conv\.1\.0'/);
  });
});
