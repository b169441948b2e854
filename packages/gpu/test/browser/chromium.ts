/**
 * Node side of the browser suite: bundles test/browser/entry.ts with esbuild and opens it in the
 * system's headless Chromium with `openBrowserPage` of `@deprune/gpu/chromium` (src/chromium.ts:
 * loopback-only server, fresh profile, SwiftShader flags, playwright-core).
 */
import { fileURLToPath } from 'node:url';
import { chromiumMissingReason, openBrowserPage, withTimeout } from '../../src/chromium';
import type { DepruneParityApi } from './entry';

export { chromiumMissingReason };

const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

/** The browser entry as one ES module (gpu.js resolves to its browser build; Node-only imports stay out). */
export async function bundleEntry(): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // src/node-probes.ts imports these dynamically, behind isNode(): never evaluated in a page.
    external: ['node:*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export interface ChromiumSession {
  /** Chromium's version string. */
  version: string;
  /** The page's console errors and warnings and uncaught errors, for failure messages. */
  messages: string[];
  call<K extends keyof DepruneParityApi>(name: K, arg: Parameters<DepruneParityApi[K]>[0], timeoutMs: number): Promise<Awaited<ReturnType<DepruneParityApi[K]>>>;
  close(): Promise<void>;
}

/** Bundles, serves and opens the entry in headless Chromium; throws saying which step failed. */
export async function openChromium(timeoutMs = 60_000): Promise<ChromiumSession> {
  const script = await withTimeout(bundleEntry(), timeoutMs, 'bundling test/browser/entry.ts');
  const page = await openBrowserPage({ script, globalName: 'depruneParity', title: '@deprune/gpu parity', timeoutMs });
  return {
    version: page.version,
    messages: page.messages,
    call: (name, arg, callTimeoutMs) => page.call(name, arg, callTimeoutMs),
    close: () => page.close(),
  };
}
