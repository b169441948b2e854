import { UnsupportedError } from '@deprune/errors';
import { buildZooModel } from '@deprune/zoo';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason, machineLine, openBrowserPage, pageBundlePath, runKernelSuiteInBrowser } from '../src/index';

/**
 * The kernel suite in headless Chromium (SwiftShader): the browser-only gpu.js modes. Skipped with
 * a note where Chromium is missing, unless GPU modes are required (CI, DEPRUNE_REQUIRE_GPU_MODES=1).
 * Checks what ran and the report's shape, never timings.
 */
const missing = chromiumMissingReason();
const required = process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
if (missing !== undefined && !required) console.log(`SKIPPED the kernel suite in headless Chromium: ${missing}`);
const run = missing === undefined || required;

describe.skipIf(!run)('the browser runner', () => {
  it('serves a script and assets, and calls the API it publishes', async () => {
    const page = await openBrowserPage({
      script: "globalThis.api = { twice: (x) => 2 * x, asset: async (path) => Array.from(new Uint8Array(await (await fetch(path)).arrayBuffer())) };",
      globalName: 'api',
      assets: { '/bytes.bin': Uint8Array.of(1, 2, 3) },
    });
    try {
      expect(await page.call<number>('twice', 21, 10_000)).toBe(42);
      expect(await page.call<number[]>('asset', '/bytes.bin', 10_000)).toEqual([1, 2, 3]);
      expect(page.version).toMatch(/^\d+\./);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('says why when there is no Chromium', async () => {
    await expect(openBrowserPage({ script: '', globalName: 'x', executablePath: '/no/such/chromium' })).rejects.toThrow(UnsupportedError);
    await expect(openBrowserPage({ script: '', globalName: 'x', executablePath: '/no/such/chromium' })).rejects.toThrow(/no Chromium at \/no\/such\/chromium/);
  });

  it('runs the kernel suite in webgl2 on SwiftShader, with the browser in the machine record', async () => {
    expect(pageBundlePath()).toMatch(/kernel-suite-page\.js$/);
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
    expect(report.rows).toHaveLength(6 * 3);
    for (const row of report.rows) expect(row.medianMs > 0 && row.samplesMs.length === 3, `${row.op} ${row.variant}`).toBe(true);
    expect(stages).toContain('done');
  }, 300_000);

  it('refuses a mode the page does not have', async () => {
    await expect(
      runKernelSuiteInBrowser({ model: buildZooModel('mobilenetv3-small', { seed: 0 }), mode: 'headlessgl', quick: true, layers: 'features.1.*' }),
    ).rejects.toThrow(/gpu mode headlessgl is not available in headless Chromium/);
  }, 120_000);
});
