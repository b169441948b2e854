import { buildZooModel } from '@deprune/zoo';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason } from '@deprune/gpu/chromium';
import { machineLine, pageFolderPath, runKernelSuiteInBrowser } from '../src/index';

/**
 * The kernel suite in headless Chromium (SwiftShader): the browser-only gpu.js modes. Skipped with
 * a note where Chromium is missing, unless GPU modes are required (CI, DEPRUNE_REQUIRE_GPU_MODES=1).
 * Checks what ran and the report's shape, never timings.
 */
const missing = chromiumMissingReason();
const required = process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
if (missing !== undefined && !required) console.log(`SKIPPED the kernel suite in headless Chromium: ${missing}`);
const run = missing === undefined || required;

describe.skipIf(!run)('the kernel suite in headless Chromium', () => {
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

  it('refuses a mode the page does not have', async () => {
    await expect(
      runKernelSuiteInBrowser({ model: buildZooModel('mobilenetv3-small', { seed: 0 }), mode: 'headlessgl', quick: true, layers: 'features.1.*' }),
    ).rejects.toThrow(/mode headlessgl is not available in headless Chromium/);
  }, 120_000);
});
