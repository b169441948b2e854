import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, listFiles, runCli, runJson, tempDir } from './helpers';

interface PlanFile {
  config: { variant: string; bwt: { granularity: string; groupSize: number; tileRows: number }; hsr: { step: number; table: { backend: string } | null } };
  layers: { name: string; kind: string; granularity: string; groupSize: number | null; tileRows: number | null; kept: number[]; step?: number }[];
}

interface PruneDocument {
  report: { variant: string; hsr?: { unmeasured: string[]; latencyModel: string }; warnings: string[]; layers: { name: string; hsr?: { keptBefore: number; keptAfter: number } }[] };
}

/** Exit 2, nothing on stdout, the error as one line (the last: an error found while pruning follows the progress line). */
function expectUsageError(result: ReturnType<typeof runCli>, pattern: RegExp, { afterProgress = false } = {}): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  if (!afterProgress) expect(lines, result.stderr).toHaveLength(1);
  expect(lines.at(-1)).toMatch(/^deprune: /);
  expect(lines.at(-1)).toMatch(pattern);
}

/** A table as `deprune profile` writes it, for MobileNetV2's block-3 DW (144 channels, 3x3) and PW (144 -> 24). */
function profilerTable(dw: { unit: 'channel' | 'group'; unitSize: number }) {
  const dwFull = dw.unit === 'channel' ? 9 : dw.unitSize * 9;
  const dwKept = Array.from({ length: Math.floor(dwFull / 3) + 1 }, (_, index) => index * 3);
  return {
    backend: 'gpu.js-webasm',
    mode: 'webasm',
    layers: {
      'features.3.conv.1.0': { kept: dwKept, latencyUs: dwKept.map((count) => 10 + 5 * Math.ceil(count / 3)), step: 3, kind: 'dw', ...dw, full: dwFull },
      'features.3.conv.2': { kept: [0, 16, 32, 48, 64, 80, 96, 112, 128, 144], latencyUs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], step: 16, kind: 'pw', unit: 'tile', unitSize: 24, full: 144 },
    },
    meta: { tool: '@deprune/profiler profileLayers', kernelStep: 4 },
  };
}

describe('deprune prune --hsr-table', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
    writeFileSync(join(folder, 'channel.json'), JSON.stringify(profilerTable({ unit: 'channel', unitSize: 1 })));
    writeFileSync(join(folder, 'group16.json'), JSON.stringify(profilerTable({ unit: 'group', unitSize: 16 })));
  });
  afterAll(() => cleanup(folder));

  it('sets the latency table and the BWT units it was measured for', () => {
    const { document } = runJson<PruneDocument>(['prune', 'zoo:mobilenetv2', '-o', 'bh.onnx', '--ratio', '0.6', '--hsr-table', 'channel.json'], { cwd: folder });
    const plan = JSON.parse(readFileSync(join(folder, 'bh.deprune.json'), 'utf8')) as PlanFile;
    expect(plan.config.bwt).toEqual({ granularity: 'channel', groupSize: 32, tileRows: 24 });
    expect(plan.config.hsr.table?.backend).toBe('gpu.js-webasm');
    const dw = plan.layers.find((entry) => entry.name === 'features.3.conv.1.0')!;
    // BWT keeps 4 of 9 taps per channel; the table's stair (3 < n <= 6) ends at 6.
    expect(dw).toMatchObject({ granularity: 'channel', step: 3 });
    expect(new Set(dw.kept)).toEqual(new Set([6]));
    const pw = plan.layers.find((entry) => entry.name === 'features.3.conv.2')!;
    expect(pw).toMatchObject({ granularity: 'tile', tileRows: 24, step: 16, kept: [64] });
    expect(document.report.hsr!.unmeasured).not.toContain('features.3.conv.1.0');
    expect(document.report.hsr!.latencyModel).toMatch(/table/);

    runJson(['prune', 'zoo:mobilenetv2', '-o', 'g16.onnx', '--hsr-table', 'group16.json', '--group-size', '16'], { cwd: folder });
    const grouped = JSON.parse(readFileSync(join(folder, 'g16.deprune.json'), 'utf8')) as PlanFile;
    expect(grouped.config.bwt).toMatchObject({ granularity: 'group', groupSize: 16, tileRows: 24 });
    expect(grouped.layers.find((entry) => entry.name === 'features.3.conv.1.0')).toMatchObject({ granularity: 'group', groupSize: 16 });
  });

  it('a table made by deprune profile prunes the layers it measured', () => {
    const layers = 'features.1.block.0.0,features.1.block.2.0';
    const profiled = runCli(['profile', 'zoo:mobilenetv3-small', '--mode', 'webasm', '-o', 'v3.json', '--layers', layers, '--quick'], { cwd: folder });
    expect(profiled.status, profiled.stderr).toBe(0);
    const { document } = runJson<PruneDocument>(['prune', 'zoo:mobilenetv3-small', '-o', 'v3.onnx', '--hsr-table', 'v3.json'], { cwd: folder });
    const plan = JSON.parse(readFileSync(join(folder, 'v3.deprune.json'), 'utf8')) as PlanFile;
    expect(plan.config.bwt.granularity).toBe('channel');
    expect(plan.config.hsr.step).toBe(4);
    expect(plan.layers.find((entry) => entry.name === 'features.1.block.0.0')!.granularity).toBe('channel');
    expect(document.report.hsr!.unmeasured).not.toContain('features.1.block.0.0');
  });

  it('refuses BWT flags or config values that contradict the table, naming the table file', () => {
    const before = listFiles(folder);
    expectUsageError(
      runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'channel.json', '--bwt-granularity', 'group'], { cwd: folder }),
      /^deprune: channel\.json: the latency table measured the DW layers per channel \(unit 'channel'\), but --bwt-granularity group asks for granularity 'group' \(drop --bwt-granularity group \(the table sets it\), or make a table for that setting with deprune profile --dw-unit group --group-size 32\)$/,
    );
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'group16.json', '--group-size', '32'], { cwd: folder }), /group16\.json: .*per group of 16 channels.*but --group-size 32 asks for groups of 32 channels/);
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'channel.json', '--tile-rows', '8'], { cwd: folder }), /channel\.json: .*PW layers per tile of 24 output rows.*--tile-rows 8 asks for tiles of 8 rows/);
    writeFileSync(join(folder, 'prune.json'), JSON.stringify({ variant: 'deprune-bh', bwt: { granularity: 'group' } }));
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--config', 'prune.json', '--hsr-table', 'channel.json'], { cwd: folder }), /channel\.json: .*but bwt\.granularity in prune\.json asks for granularity 'group'/);
    expect(listFiles(folder)).toEqual([...before, 'prune.json'].sort());
  });

  it('a table in the config file that does not match the plan stops at the layer (exit 2)', () => {
    writeFileSync(join(folder, 'mismatch.json'), JSON.stringify({ variant: 'deprune-bh', bwt: { granularity: 'group' }, hsr: { table: profilerTable({ unit: 'channel', unitSize: 1 }) } }));
    expectUsageError(
      runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--config', 'mismatch.json'], { cwd: folder }),
      /^deprune: node 'features\.3\.conv\.1\.0': latency table gpu\.js-webasm\/webasm measured this layer per channel \(unit 'channel'\), but its plan balances work per group of 32 channels.*--bwt-granularity channel.*--dw-unit group --group-size 32/,
      { afterProgress: true },
    );
  });

  it('bad table files exit 2 naming the file', () => {
    writeFileSync(join(folder, 'broken.json'), '{ "backend": ');
    writeFileSync(join(folder, 'notatable.json'), JSON.stringify({ backend: 'b', mode: 'm', layers: { a: { kept: [0, 1], latencyUs: [1] } } }));
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'missing.json'], { cwd: folder }), /missing\.json: no such latency table \(check the --hsr-table path\)/);
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'broken.json'], { cwd: folder }), /broken\.json: not valid JSON/);
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'notatable.json'], { cwd: folder }), /notatable\.json: is not a usable latency table: .*same non-zero length/);
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--hsr-table', 'channel.json', '--bwt-granularity', 'row'], { cwd: folder }), /--bwt-granularity must be one of group, channel, got 'row'/);
    expectUsageError(runCli(['prune', 'zoo:mobilenetv2', '-o', 'x.onnx', '--group-size', '0'], { cwd: folder }), /--group-size must be an integer >= 1, got '0'/);
  });
});
