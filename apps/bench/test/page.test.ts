import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISOLATION_HEADERS, MODEL_VARIANTS, type ModelSuiteReport } from '@deprune/bench';
import type { GpuMode } from '@deprune/gpu';
import { chromiumMissingReason, openBrowserPage, type BrowserPage } from '@deprune/gpu/chromium';

/**
 * The built benchmark page (dist/page, Vite) in headless Chromium (SwiftShader), as a user drives
 * it: the form, Run, the tables and chart, the JSON download. For webgl2 and webgpu a quick models
 * suite on MobileNetV3-Small (64x64, built in the page) must give a row for every variant and for
 * onnxruntime-web's wasm backend, and its webgpu backend either a row or an entry saying why not;
 * every number finite, every time positive. (The page API without the form, every suite, is
 * @deprune/bench's runner test.) Skipped with a note where Chromium is missing, a failure with
 * CI=true. Never asserts on timings.
 */
const pageFolder = fileURLToPath(new URL('../dist/page', import.meta.url));
const missing = chromiumMissingReason();
const required = process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
if (missing !== undefined && !required) console.log(`SKIPPED the benchmark page in headless Chromium: ${missing}`);
const run = missing === undefined || required;

function expectFiniteNumbers(value: unknown, path: string): void {
  if (typeof value === 'number') expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  else if (Array.isArray(value)) value.forEach((item, index) => expectFiniteNumbers(item, `${path}[${index}]`));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) expectFiniteNumbers(item, `${path}.${key}`);
}

describe.skipIf(!run)('the benchmark page in headless Chromium', () => {
  let browser: BrowserPage;

  beforeAll(async () => {
    expect(existsSync(`${pageFolder}/index.html`), 'the page is built (npx -y pnpm@12.4.2 --filter @deprune/bench-app build)').toBe(true);
    browser = await openBrowserPage({ root: pageFolder, globalName: 'depruneBench', headers: ISOLATION_HEADERS, timeoutMs: 120_000 });
    await browser.page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('probes the modes and offers webgl2 and webgpu, cross-origin isolated, with the bundled models', async () => {
    const { page } = browser;
    const modes = await page.$$eval('#mode option', (options) => options.map((option) => [(option as HTMLOptionElement).value, (option as HTMLOptionElement).disabled]));
    expect(modes).toEqual(expect.arrayContaining([['webgl2', false], ['webgpu', false]]));
    expect(await page.textContent('#isolation')).toMatch(/^cross-origin isolated/);
    expect(await page.$$eval('#model option', (options) => options.map((option) => (option as HTMLOptionElement).value))).toEqual(
      expect.arrayContaining(['zoo:mobilenetv2', 'zoo:efficientnet-b0', 'zoo:mobilenetv3-large', 'ppocr-det', 'ppocr-rec', 'ppocr-cls', 'file']),
    );
    // The PaddleOCR models ship with the page: no network needed.
    expect(await page.evaluate(async () => (await fetch('models/ch_ppocr_mobile_v2.0_cls_infer.onnx')).status)).toBe(200);
  });

  for (const mode of ['webgl2', 'webgpu'] as GpuMode[]) {
    it(`runs a quick models suite in ${mode} from the form: every row present, every number finite and positive`, async () => {
      const { page } = browser;
      await page.selectOption('#suite', 'models');
      await page.selectOption('#model', 'zoo:mobilenetv3-small');
      await page.fill('#input-shape', '1,3,64,64');
      await page.selectOption('#mode', mode);
      await page.check('#quick');
      await page.fill('#repeats', '2');
      await page.check('#ort-wasm');
      await page.check('#ort-webgpu');
      await page.click('#run');
      await page.waitForSelector('#results:not([hidden]), #error:not([hidden])', { timeout: 240_000 });
      expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
      expect(download.suggestedFilename()).toBe('mobilenetv3-small-64x64-r0.5.json');
      const report = JSON.parse(readFileSync((await download.path())!, 'utf8')) as ModelSuiteReport;
      expect(report).toMatchObject({ suite: 'models', mode, model: 'zoo:mobilenetv3-small', input: { shape: [1, 3, 64, 64] } });
      expect(report.machine.browser).toMatch(/Chromium/);
      expect(report.settings.gcBeforeCall).toBe(true);
      const ours = report.rows.filter((row) => !row.yardstick);
      expect(ours.map((row) => `${row.backend}:${row.variant}`)).toEqual(MODEL_VARIANTS.map((variant) => `gpu.js ${mode}:${variant}`));
      const yardsticks = [...report.rows.filter((row) => row.yardstick).map((row) => row.backend), ...report.unavailable.map((entry) => entry.backend)];
      expect(yardsticks.sort()).toEqual(['onnxruntime-web wasm', 'onnxruntime-web webgpu']);
      expect(report.rows.map((row) => row.backend)).toContain('onnxruntime-web wasm');
      for (const entry of report.unavailable) expect(entry.reason.length, entry.backend).toBeGreaterThan(0);
      expectFiniteNumbers(report, 'report');
      for (const row of report.rows) {
        const label = `${row.backend} ${row.variant}`;
        expect(row.medianMs, label).toBeGreaterThan(0);
        expect(row.samplesMs.length, label).toBe(2);
        for (const sample of row.samplesMs) expect(sample, label).toBeGreaterThan(0);
        expect(row.spreadMs, label).toBeGreaterThanOrEqual(0);
        expect(row.speedupVsDense, label).toBeGreaterThan(0);
      }
      for (const variant of ['deprune', 'deprune-b', 'deprune-bh']) {
        const row = ours.find((each) => each.variant === variant)!;
        expect(row.sparseLayers, variant).toBe(row.planLayers);
        expect(row.keptWeights, variant).toBeGreaterThan(0);
      }
      // What the page shows: one table row per report row and unavailable backend, the chart, three downloads.
      expect(await page.$$eval('#tables tbody tr', (rows) => rows.length)).toBe(report.rows.length + report.unavailable.length);
      expect(await page.$$eval('#chart svg', (svgs) => svgs.length)).toBe(1);
      expect(await page.$$eval('#downloads a', (links) => links.map((link) => (link as HTMLAnchorElement).download))).toEqual([
        'mobilenetv3-small-64x64-r0.5.json',
        'mobilenetv3-small-64x64-r0.5.md',
        'mobilenetv3-small-64x64-r0.5.svg',
      ]);
    }, 300_000);
  }
});
