import { buildZooModel } from '@deprune/zoo';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason } from '@deprune/gpu/chromium';
import { machineLine, pageFolderPath, runKernelSuiteInBrowser, runSuiteInBrowser, type HsrSuiteReport, type ModelSuiteReport, type PruneSuiteReport } from '../src/index';

/**
 * The suites in headless Chromium (SwiftShader) through this package's runner page (dist/page):
 * the browser-only gpu.js modes, as `deprune bench --browser chromium` runs them. Skipped with
 * a note where Chromium is missing, unless GPU modes are required (CI, DEPRUNE_REQUIRE_GPU_MODES=1).
 * Checks what ran and the report's shape, never timings.
 */
const missing = chromiumMissingReason();
const required = process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
if (missing !== undefined && !required) console.log(`SKIPPED the suites in headless Chromium: ${missing}`);
const run = missing === undefined || required;

describe.skipIf(!run)('the suites in headless Chromium (the runner page)', () => {
  it('runs the kernel suite in webgl2 on SwiftShader, with the browser in the machine record', async () => {
    expect(pageFolderPath()).toMatch(/dist[\\/]page$/);
    const stages: string[] = [];
    const report = await runKernelSuiteInBrowser({
      model: buildZooModel('mobilenetv3-small', { seed: 0 }),
      modelName: 'zoo:mobilenetv3-small',
      mode: 'webgl2',
      quick: true,
      includeDr: false,
      layers: 'features.1.*',
      command: 'deprune bench --suite kernels --model zoo:mobilenetv3-small --mode webgl2 --quick --skip-dr',
      onProgress: (event) => stages.push(event.stage),
    });
    expect(report).toMatchObject({ suite: 'kernels', mode: 'webgl2', model: 'zoo:mobilenetv3-small' });
    expect(report.machine.browser).toMatch(/headless Chromium .*SwiftShader/i);
    expect(machineLine(report.machine)).toContain('in headless Chromium');
    expect(report.layers.map((detail) => detail.layer)).toEqual(['features.1.block.0.0']);
    // webgl2 chains the pair as the runtime does: six dsconv rows and two unchained ones.
    expect(report.settings.chain).toBe(true);
    expect(report.rows).toHaveLength(6 * 3 + 2);
    expect(Object.keys(report.summary.unchainedOverChained ?? {})).toEqual(['dense', 'deprune-bh']);
    for (const row of report.rows) expect(row.medianMs > 0 && row.samplesMs.length === 3, `${row.op} ${row.variant}`).toBe(true);
    expect(stages).toContain('done');
  }, 300_000);

  it('runs the models, prune and hsr suites in the runner page, onnxruntime-web beside the models suite', async () => {
    const common = { model: { zoo: 'mobilenetv3-small' as const, inputSize: 64 }, modelName: 'zoo:mobilenetv3-small', inputShape: [1, 3, 64, 64], quick: true };
    const models = await runSuiteInBrowser<ModelSuiteReport>({
      ...common,
      suite: 'models',
      mode: 'webgl2',
      variants: ['dense', 'deprune-bh'],
      repeats: 1,
      warmup: 0,
      ortWeb: { backends: ['wasm'], threads: 1 },
    });
    // onnxruntime-web's wasm file and glue ship inside dist/page: its row is there, not an unavailable entry.
    expect(models.rows.map((row) => `${row.backend}:${row.variant}`)).toEqual(['gpu.js webgl2:dense', 'gpu.js webgl2:deprune-bh', 'onnxruntime-web wasm:dense']);
    expect(models.unavailable).toEqual([]);
    expect(models.machine.browser).toMatch(/headless Chromium/);
    for (const row of models.rows) expect(row.medianMs, row.backend).toBeGreaterThan(0);

    const prune = await runSuiteInBrowser<PruneSuiteReport>({ ...common, suite: 'prune', mode: 'cpu', variants: ['channel', 'deprune-bh'], repeats: 1, warmup: 0 });
    expect(prune.rows.map((row) => row.variant)).toEqual(['channel', 'deprune-bh']);
    expect(prune.environment).toBe('chromium');
    // The runner starts Chromium with --js-flags=--expose-gc, so the page collects garbage between timed calls.
    expect(prune.settings.gcBeforeCall).toBe(true);
    expect(prune.memory).toMatchObject({ measured: false });
    for (const row of prune.rows) expect(row.medianMs).toBeGreaterThan(0);

    const hsr = await runSuiteInBrowser<HsrSuiteReport>({ ...common, suite: 'hsr', mode: 'webgpu', layers: 'features.1.block.0.0' });
    expect(hsr.layers.map((layer) => [layer.layer, layer.kind, layer.kept.length])).toEqual([['features.1.block.0.0', 'dw', 10]]);
    expect(hsr.layers[0].latencyUs.every((value) => value > 0)).toBe(true);
    expect(hsr.layers[0].move).not.toBeNull();
  }, 600_000);

  it('refuses a mode the page does not have', async () => {
    await expect(
      runKernelSuiteInBrowser({ model: buildZooModel('mobilenetv3-small', { seed: 0 }), mode: 'headlessgl', quick: true, layers: 'features.1.*' }),
    ).rejects.toThrow(/mode headlessgl is not available in headless Chromium/);
  }, 120_000);
});
