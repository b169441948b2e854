/**
 * Runs a suite in headless Chromium through the built benchmark page (dist/page, Vite): the page
 * a user opens on their own GPU is the page the Node side drives. `openBrowserPage` of
 * `@deprune/gpu/chromium` serves the built folder from a loopback-only server (127.0.0.1; WebGPU
 * needs a secure context) with cross-origin isolation headers (so onnxruntime-web may use
 * threads), plus the model's bytes at /model.onnx, starts the system's Chromium (SwiftShader for
 * WebGL2 and WebGPU) and calls `globalThis.depruneBench.run` with the request as JSON. The report
 * comes back as JSON; its machine record is this Node host's plus the browser and what computed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeprunError, UnsupportedError } from '@deprune/errors';
import type { BackendMode } from '@deprune/runtime';
import { openBrowserPage } from '@deprune/gpu/chromium';
import type { PageProgress, PageRunRequest, SuiteReport } from './browser/page-api';
import type { MachineInfo } from '@deprune/profiler';
import { machineInfo } from './suite-common';

/** The built page's folder under dist/ (vite build of page/). */
export const PAGE_FOLDER = 'page';

/** dist/page, from dist/index.js (next to it) or from src/ (tests and tsx: ../dist). */
export function pageFolderPath(): string {
  const candidates = [`./${PAGE_FOLDER}/index.html`, `../dist/${PAGE_FOLDER}/index.html`].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new DeprunError('INTERNAL', `the benchmark page (dist/${PAGE_FOLDER}) of @deprune/bench is missing`, { hint: 'build @deprune/bench first (tsup && vite build)' });
  return found.replace(/[\\/]index\.html$/, '');
}

/** Cross-origin isolation: SharedArrayBuffer for WebAssembly threads (onnxruntime-web). */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

export interface BrowserRunOptions {
  /** The model file's bytes, served at /model.onnx (the request's model is then `{ url: '/model.onnx' }`). */
  modelBytes?: Uint8Array;
  onProgress?: (event: PageProgress) => void;
  /** Chromium binary. Default DEPRUNE_CHROMIUM, else /usr/bin/chromium. */
  executablePath?: string;
  /** Limit for the run in the page. Default 60 minutes. */
  timeoutMs?: number;
  /** The host's record; the browser and its device are added. Default `machineInfo()`. */
  machine?: MachineInfo;
}

/** Runs `request` in the benchmark page in headless Chromium and returns the suite's report. */
export async function runSuiteInBrowser<R extends SuiteReport = SuiteReport>(request: Omit<PageRunRequest, 'machine'>, options: BrowserRunOptions = {}): Promise<R> {
  const page = await openBrowserPage({
    root: pageFolderPath(),
    globalName: 'depruneBench',
    headers: ISOLATION_HEADERS,
    assets: options.modelBytes === undefined ? {} : { '/model.onnx': options.modelBytes },
    expose: { depruneBenchProgress: (event: never) => options.onProgress?.(event) },
    ...(options.executablePath === undefined ? {} : { executablePath: options.executablePath }),
  });
  try {
    const mode: BackendMode = request.mode;
    if (request.suite !== 'prune') {
      const probes = await page.call<{ mode: BackendMode; available: boolean; reason: string }[]>('probe', undefined, 120_000);
      const probe = probes.find((candidate) => candidate.mode === mode);
      if (probe === undefined || !probe.available) {
        throw new UnsupportedError(`mode ${mode} is not available in headless Chromium ${page.version}: ${probe?.reason ?? 'the page does not know it'}`);
      }
    }
    const device = request.suite === 'prune' ? 'JavaScript on the CPU' : await page.call<string>('device', mode, 60_000);
    const machine = { ...(options.machine ?? machineInfo()), browser: `headless Chromium ${page.version} (${device})` };
    return await page.call<R>('run', { ...request, machine }, options.timeoutMs ?? 60 * 60_000);
  } catch (error) {
    if (error instanceof DeprunError || page.messages.length === 0) throw error;
    throw new DeprunError('INTERNAL', `${(error as Error).message.split('\n')[0]}; last page messages: ${page.messages.slice(-5).join(' | ')}`, { cause: error });
  } finally {
    await page.close();
  }
}
