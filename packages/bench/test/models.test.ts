import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZooModel } from '@deprune/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_VARIANTS, modeFolder, modelReportMarkdown, onnxruntimeNodeYardstick, runModelSuite, writeModelReport, type ModelSuiteReport, type Yardstick } from '../src/index';
import { chartProblems } from './chart-checks';

/** A yardstick whose only backend cannot run: the report must list it with the reason. */
const unavailableYardstick: Yardstick = {
  name: 'absent-runtime',
  version: '0.0.0',
  open: async () => [{ backend: 'absent-runtime gpu', threads: null, reason: 'no such device here' }],
};

/** MobileNetV3-Small at 64x64, one warm-up and two rounds: checks rows and arithmetic, never timings. */
describe('runModelSuite (MobileNetV3-Small 64x64)', () => {
  let report: ModelSuiteReport;
  let folder: string;
  const stages: string[] = [];

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'deprune-models-'));
    report = await runModelSuite({
      model: buildZooModel('mobilenetv3-small', { seed: 0, inputSize: 64 }),
      modelName: 'zoo:mobilenetv3-small',
      mode: 'webasm',
      inputShape: [1, 3, 64, 64],
      repeats: 2,
      command: 'test',
      yardsticks: [onnxruntimeNodeYardstick(), unavailableYardstick],
      onProgress: (event) => stages.push(event.stage),
    });
  }, 120_000);
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('has a row per variant on gpu.js and two onnxruntime-node rows (1 thread, every core)', () => {
    const ours = report.rows.filter((row) => row.backend === 'gpu.js webasm');
    expect(ours.map((row) => row.variant)).toEqual([...MODEL_VARIANTS]);
    expect(ours.every((row) => !row.yardstick)).toBe(true);
    const ort = report.rows.filter((row) => row.backend === 'onnxruntime-node');
    expect(ort.map((row) => row.threads)).toEqual([...new Set([1, report.machine.cores])]);
    expect(ort.every((row) => row.yardstick && row.variant === 'dense')).toBe(true);
    expect(report.unavailable).toEqual([{ backend: 'absent-runtime gpu', threads: null, reason: 'no such device here' }]);
    expect(report.versions).toEqual({ 'gpu.js': '2.24.1', 'onnxruntime-node': '1.30.0', 'absent-runtime': '0.0.0' });
    expect(report.settings.yardsticks).toEqual(['onnxruntime-node', 'absent-runtime']);
    expect(stages).toEqual(expect.arrayContaining(['prune', 'warmup', 'time']));
  });

  it('numbers are finite and positive; speedups are our dense over the row; DEPrune runs its plan on sparse kernels', () => {
    const dense = report.rows[0];
    for (const row of report.rows) {
      expect(row.medianMs).toBeGreaterThan(0);
      expect(row.samplesMs).toHaveLength(2);
      expect(row.speedupVsDense).toBeCloseTo(dense.medianMs / row.medianMs, 10);
      expect(row.cosineVsDense).toBeGreaterThan(-1.0001);
    }
    expect(dense.cosineVsDense).toBeCloseTo(1, 6);
    // onnxruntime computes the same dense model: same output up to float32 rounding.
    for (const row of report.rows.filter((each) => each.backend === 'onnxruntime-node')) expect(row.cosineVsDense).toBeGreaterThan(0.9999);
    for (const variant of ['deprune', 'deprune-b', 'deprune-bh'] as const) {
      const row = report.rows.find((each) => each.variant === variant && each.backend !== 'onnxruntime-node')!;
      expect(row.planLayers).toBeGreaterThan(0);
      expect(row.sparseLayers, variant).toBe(row.planLayers);
      expect(row.sparsity).toBeGreaterThan(0.3);
    }
    expect(report.rows.find((row) => row.variant === 'unstructured')!.sparseLayers).toBe(0);
    expect(report.summary.speedup.dense).toBe(1);
    expect(Object.keys(report.summary.yardstickVsDense)).toContain('onnxruntime-node (1 thread)');
  });

  it('writes the JSON, a Markdown page with the command and machine, and an SVG chart', async () => {
    const files = await writeModelReport(report, folder);
    expect(files.json).toBe(join(folder, 'models', 'webasm', 'mobilenetv3-small-64x64-r0.5.json'));
    for (const file of [files.json, files.markdown, files.chart]) expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).rows).toHaveLength(report.rows.length);
    expect(readFileSync(files.chart, 'utf8')).toMatch(/^<svg/);
    expect(chartProblems(readFileSync(files.chart, 'utf8'))).toEqual([]);
    const markdown = modelReportMarkdown(report, 'chart.svg');
    expect(markdown).toMatch(/- Command: `test`/);
    expect(markdown).toMatch(/onnxruntime-node \(1 thread\) dense/);
    expect(markdown).toMatch(/- Versions: gpu\.js 2\.24\.1, onnxruntime-node 1\.30\.0/);
    expect(markdown).toMatch(/absent-runtime gpu: not run here: no such device here\./);
    expect(markdown).toMatch(/!\[median latency per run\]\(chart\.svg\)/);
  });
});

it('keeps page runs of a mode that also runs in Node apart from the Node runs', () => {
  expect(modeFolder('wasm', false)).toBe('wasm');
  expect(modeFolder('wasm', true)).toBe('wasm-chromium');
  expect(modeFolder('webasm', true)).toBe('webasm-chromium');
  // webgl2 and webgpu run only in the page: their folder is the mode.
  expect(modeFolder('webgl2', true)).toBe('webgl2');
});
