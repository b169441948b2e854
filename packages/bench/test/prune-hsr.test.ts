import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZooModel } from '@deprune/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareRuns,
  hsrReportMarkdown,
  nodeGarbageCollector,
  nodePruneMemoryProbe,
  pruneChartSpec,
  pruneReportMarkdown,
  renderVegaLiteSvg,
  repeatabilityMarkdown,
  runHsrSuite,
  runPruneSuite,
  suiteReportFiles,
  writeSuiteReport,
  type HsrSuiteReport,
  type ModelSuiteReport,
  type PruneMemoryProbe,
  type PruneSuiteReport,
} from '../src/index';
import { chartProblems } from './chart-checks';

/** Rows, arithmetic and files of the prune and hsr suites on MobileNetV3-Small at 64x64; never timings. */
const model = buildZooModel('mobilenetv3-small', { seed: 0, inputSize: 64 });
const inputShape = [1, 3, 64, 64];

describe('runPruneSuite', () => {
  let report: PruneSuiteReport;
  let collections = 0;
  const measured: string[] = [];
  const probe: PruneMemoryProbe = {
    method: 'a probe that records what it was asked',
    async measure(_model, config) {
      measured.push(`${config.variant}@${config.ratio}`);
      return { baselineRssMiB: 100, peakRssMiB: 130, peakExtraMiB: 30, heapBeforeMiB: 10, heapAfterMiB: 20, samples: 5 };
    },
  };

  beforeAll(async () => {
    report = await runPruneSuite({ model, modelName: 'zoo:mobilenetv3-small', inputShape, ratio: 0.6, repeats: 2, warmup: 0, memory: probe, command: 'test', collectGarbage: () => collections++ });
  }, 120_000);

  it('collects garbage before every timed call when given a collector, and records that it did', () => {
    expect(collections).toBe(2 * report.rows.length);
    expect(report.settings.gcBeforeCall).toBe(true);
    expect(pruneReportMarkdown(report)).toContain('a full garbage collection (untimed) before every timed call');
  });

  it('nodeGarbageCollector returns a working gc, with or without --expose-gc', async () => {
    const gc = nodeGarbageCollector();
    const unreachable = new WeakRef(new Float64Array(1 << 16));
    // A WeakRef's target stays alive until the job that made it ends; then only a GC clears it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(unreachable.deref()).toBeUndefined();
  });

  it('times every variant, interleaved, and says what the slowest costs relative to each', () => {
    expect(report.rows.map((row) => row.variant)).toEqual(['unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh']);
    const slowest = Math.max(...report.rows.map((row) => row.medianMs));
    for (const row of report.rows) {
      expect(row.samplesMs).toHaveLength(2);
      expect(row.medianMs).toBeGreaterThan(0);
      expect(row.relativeToSlowest).toBeCloseTo(slowest / row.medianMs, 10);
      expect(row.sparsity).toBeGreaterThan(0.5);
      expect(row.layers).toBeGreaterThan(0);
    }
    expect(report.rows.find((row) => row.variant === report.summary.slowest)!.relativeToSlowest).toBe(1);
  });

  it('asks the memory probe once per variant with the timed config, and records its method', () => {
    expect(measured).toEqual(report.rows.map((row) => `${row.variant}@0.6`));
    expect(report.memory).toEqual({ measured: true, method: 'a probe that records what it was asked' });
    expect(report.rows[0].memory).toMatchObject({ peakExtraMiB: 30 });
  });

  it('without a probe, says memory was not measured and why', async () => {
    const bare = await runPruneSuite({ model, modelName: 'm', inputShape, variants: ['deprune'], repeats: 1, warmup: 0, memoryUnavailable: 'no peak API here' });
    expect(bare.memory).toEqual({ measured: false, reason: 'no peak API here' });
    expect(bare.settings.gcBeforeCall).toBe(false);
    expect(bare.rows[0].memory).toBeNull();
  });

  it('charts time and memory with titled axes and a legend each', async () => {
    expect(chartProblems(await renderVegaLiteSvg(pruneChartSpec(report)))).toEqual([]);
    const bare = await runPruneSuite({ model, modelName: 'm', inputShape, variants: ['deprune'], repeats: 1, warmup: 0, memoryUnavailable: 'no peak API here' });
    expect(chartProblems(await renderVegaLiteSvg(pruneChartSpec(bare)))).toEqual([]);
  });

  it("Node's probe prunes in a fresh process and sees the call's resident memory", async () => {
    const memory = await nodePruneMemoryProbe().measure(model, { variant: 'deprune-bh', ratio: 0.5, inputShapes: { input: inputShape } });
    expect(memory.samples).toBeGreaterThan(0);
    expect(memory.peakRssMiB).toBeGreaterThanOrEqual(memory.baselineRssMiB);
    expect(memory.peakExtraMiB).toBeCloseTo(memory.peakRssMiB - memory.baselineRssMiB, 10);
    expect(memory.baselineRssMiB).toBeGreaterThan(10);
  }, 60_000);
});

describe('runHsrSuite (wasm, two layers)', () => {
  it('profiles the wasm backend and prunes against its table', async () => {
    const report = await runHsrSuite({ model, modelName: 'zoo:mobilenetv3-small', mode: 'wasm', inputShape, quick: true, layers: 'features.1.block.0.0,features.2.block.2.0', command: 'test' });
    expect(report).toMatchObject({ mode: 'wasm', skipped: [], versions: { WebAssembly: expect.stringMatching(/SIMD/) } });
    expect(report.layers.map((layer) => [layer.layer, layer.kernel])).toEqual([
      ['features.1.block.0.0', 'dwSparse'],
      ['features.2.block.2.0', 'pwSparse'],
    ]);
    for (const layer of report.layers) {
      expect(layer.latencyUs.every((value) => value > 0)).toBe(true);
      expect(layer.move!.keptBH).toBeGreaterThanOrEqual(layer.move!.keptB);
    }
    expect(hsrReportMarkdown(report)).toMatch(/^# HSR staircases: zoo:mobilenetv3-small 1x3x64x64, deprune wasm, r = 0\.5/);
  }, 60_000);
});

describe('runHsrSuite (webasm, two layers)', () => {
  let report: HsrSuiteReport;
  let folder: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'deprune-hsr-'));
    report = await runHsrSuite({ model, modelName: 'zoo:mobilenetv3-small', mode: 'webasm', inputShape, quick: true, layers: 'features.1.block.0.0,features.2.block.2.0', command: 'test' });
  }, 180_000);
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("reports each layer's staircase and HSR's move against it, never below DEPrune-B", () => {
    expect(report.layers.map((layer) => [layer.layer, layer.kind, layer.unit, layer.full])).toEqual([
      ['features.1.block.0.0', 'dw', 'channel', 9],
      ['features.2.block.2.0', 'pw', 'tile', 72],
    ]);
    for (const layer of report.layers) {
      expect(layer.kept[0]).toBe(0);
      expect(layer.kept.at(-1)).toBe(layer.full);
      expect(layer.latencyUs).toHaveLength(layer.kept.length);
      // The profiler's table: positive, and never cheaper for more kept (stairs made increasing).
      expect(layer.latencyUs.every((value, index) => value > 0 && (index === 0 || value >= layer.latencyUs[index - 1]))).toBe(true);
      const move = layer.move!;
      expect(move.keptBH).toBeGreaterThanOrEqual(move.keptB);
      expect(move.weightsBH).toBeGreaterThanOrEqual(move.weightsB);
      // recover never raises the measured latency.
      expect(move.latencyBHUs).toBeLessThanOrEqual(move.latencyBUs);
    }
    expect(report.summary).toMatchObject({ layers: 2, dwLayers: 1, pwLayers: 1 });
    expect(report.summary.weights.bh).toBeGreaterThanOrEqual(report.summary.weights.b);
    expect(report.settings).toMatchObject({ quick: true, repeats: 3, stepWindow: 12, kernelStep: 4 });
  });

  it('writes the JSON, the Markdown page (command, machine, versions, date) and the staircase chart', async () => {
    const files = await writeSuiteReport(report, folder);
    expect(files).toEqual(suiteReportFiles(report, folder));
    expect(files.json).toBe(join(folder, 'hsr', 'webasm', 'mobilenetv3-small-64x64-r0.5.json'));
    for (const file of [files.json, files.markdown, files.chart]) expect(existsSync(file)).toBe(true);
    const markdown = readFileSync(files.markdown, 'utf8');
    for (const line of [/- Command: `test`/, /- Machine: .* cores/, /- Versions: gpu\.js 2\.24\.1/, /- Date: \d{4}-/]) expect(markdown).toMatch(line);
    expect(markdown).toMatch(/\| features\.1\.block\.0\.0 \| dw dwSparse \|/);
    expect(readFileSync(files.chart, 'utf8')).toMatch(/^<svg/);
    expect(chartProblems(readFileSync(files.chart, 'utf8'))).toEqual([]);
  });
});

describe('compareRuns', () => {
  const run = (date: string, rows: [string, number[]][]) =>
    ({
      suite: 'prune',
      date,
      command: `run ${date}`,
      rows: rows.map(([variant, samplesMs]) => ({ variant, samplesMs, medianMs: [...samplesMs].sort((a, b) => a - b)[Math.floor(samplesMs.length / 2)] })),
    }) as unknown as PruneSuiteReport;

  it('counts a row within when each median sits inside the other run fastest-to-slowest range', () => {
    const before = run('d1', [['deprune', [10, 11, 12]], ['channel', [5, 5.1, 5.2]], ['dropped', [1, 1, 1]]]);
    const after = run('d2', [['deprune', [10.5, 11.5, 13]], ['channel', [6, 6.1, 6.2]], ['new', [2, 2, 2]]]);
    const result = compareRuns(before, after);
    expect(result).toMatchObject({ previous: { date: 'd1', command: 'run d1' }, rows: 2, within: 1, unmatched: ['dropped', 'new'] });
    expect(result.details.map((detail) => [detail.key, detail.within])).toEqual([['deprune', true], ['channel', false]]);
    expect(repeatabilityMarkdown(result)).toMatch(/\*\*1 of 2\*\* medians within/);
    expect(() => compareRuns(before, { ...after, suite: 'models' } as unknown as PruneSuiteReport)).toThrow(/cannot compare a prune report with a models report/);
    expect(result.ratios).toBeNull();
  });

  it('checks the ratios to dense round by round, so a machine that slowed down between runs still compares', () => {
    const models = (date: string, scale: number) =>
      ({
        suite: 'models',
        date,
        command: date,
        rows: [
          { variant: 'dense', backend: 'gpu.js webasm', threads: 1, yardstick: false, samplesMs: [10, 12, 11].map((value) => value * scale), medianMs: 11 * scale },
          { variant: 'deprune-bh', backend: 'gpu.js webasm', threads: 1, yardstick: false, samplesMs: [5, 6, 5.4].map((value) => value * scale), medianMs: 5.4 * scale },
        ],
      }) as unknown as ModelSuiteReport;
    // Everything twice as slow in the second run: medians are not within, the ratios are.
    const result = compareRuns(models('d1', 1), models('d2', 2));
    expect(result.within).toBe(0);
    expect(result.ratios).toMatchObject({ rows: 1, within: 1 });
    expect(result.ratios!.details[0].current.medianMs).toBeCloseTo(2, 10);
    expect(repeatabilityMarkdown(result)).toMatch(/Ratios .*\*\*1 of 1\*\*/);
  });
});
