import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { chromiumMissingReason, CHROMIUM_FLAGS, openBrowserPage } from '../src/chromium';
import { gpuModeGate } from './helpers';

/**
 * `@deprune/gpu/chromium`, the headless Chromium runner the browser parity suite and the benchmark
 * build on. Skipped with a note where Chromium is missing, unless GPU modes are required (CI).
 */
const missing = chromiumMissingReason();
const run = gpuModeGate('the headless Chromium runner', missing === undefined, missing ?? '');

describe('the headless Chromium runner', () => {
  it('uses SwiftShader for both GPU APIs, headless, without a sandbox or the network', () => {
    expect(CHROMIUM_FLAGS).toEqual(expect.arrayContaining(['--headless=new', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader', '--disable-background-networking']));
  });

  it('says why when there is no Chromium', async () => {
    await expect(openBrowserPage({ script: '', globalName: 'x', executablePath: '/no/such/chromium' })).rejects.toThrow(UnsupportedError);
    await expect(openBrowserPage({ script: '', globalName: 'x', executablePath: '/no/such/chromium' })).rejects.toThrow(/no Chromium at \/no\/such\/chromium/);
  });

  it.skipIf(!run)('serves a script and assets, calls the API it publishes, and the page can call back', async () => {
    const seen: number[] = [];
    const page = await openBrowserPage({
      script: "globalThis.api = { twice: (x) => 2 * x, asset: async (path) => Array.from(new Uint8Array(await (await fetch(path)).arrayBuffer())), report: async (x) => { await globalThis.note(x); return 'noted'; } };",
      globalName: 'api',
      assets: { '/bytes.bin': Uint8Array.of(1, 2, 3) },
      expose: { note: (value: never) => seen.push(value) },
    });
    try {
      expect(await page.call<number>('twice', 21, 10_000)).toBe(42);
      expect(await page.call<number[]>('asset', '/bytes.bin', 10_000)).toEqual([1, 2, 3]);
      expect(await page.call<string>('report', 7, 10_000)).toBe('noted');
      expect(seen).toEqual([7]);
      expect(page.version).toMatch(/^\d+\./);
    } finally {
      await page.close();
    }
  }, 90_000);

  it.skipIf(!run)('serves a built folder as the page, with its content types and the given headers, and nothing outside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deprune-root-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="/assets/main.js"></script>');
    writeFileSync(
      join(root, 'assets', 'main.js'),
      "globalThis.api = { get: async (path) => { const r = await fetch(path); return [r.status, r.headers.get('content-type')]; }, isolated: () => globalThis.crossOriginIsolated };",
    );
    writeFileSync(join(root, 'assets', 'tiny.wasm'), Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0));
    const page = await openBrowserPage({
      root,
      globalName: 'api',
      assets: { '/model.onnx': Uint8Array.of(1) },
      headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
    });
    try {
      expect(await page.call('get', '/assets/tiny.wasm', 10_000)).toEqual([200, 'application/wasm']);
      expect(await page.call('get', '/model.onnx', 10_000)).toEqual([200, 'application/octet-stream']);
      expect(await page.call('get', '/assets/missing.js', 10_000)).toEqual([404, null]);
      expect(await page.call('get', '/%2e%2e/%2e%2e/etc/passwd', 10_000)).toEqual([404, null]);
      expect(await page.call<boolean>('isolated', null, 10_000)).toBe(true);
      expect(await page.page.title()).toBe('');
    } finally {
      await page.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});
