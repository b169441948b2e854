/**
 * The kernel suite in headless Chromium, for the browser-only gpu.js modes (webgl2, webgpu; webasm
 * and cpu work there too): the same `runKernelSuite` as in Node, run by the pre-built page bundle
 * (src/browser/kernel-suite-page.ts) that `@deprune/gpu/chromium`'s `openBrowserPage` serves with
 * the model's bytes. The
 * report comes back as JSON; its machine record is this Node process's, plus the browser and the
 * renderer or adapter that computed. Writing it is `writeKernelReport`, as for a Node run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeprunError, UnsupportedError } from '@deprune/errors';
import type { GpuMode } from '@deprune/gpu';
import { openBrowserPage } from '@deprune/gpu/chromium';
import { serializeModel } from '@deprune/onnx';
import type { PageSuiteOptions } from './browser/kernel-suite-page';
import type { KernelSuiteOptions, KernelSuiteReport } from './kernels';
import { machineInfo } from './machine';

/** The page bundle's file name under dist/ (built by tsup from src/browser/kernel-suite-page.ts). */
export const PAGE_BUNDLE = 'browser/kernel-suite-page.js';

/** The built page bundle, from dist/index.js (next to it) or from src/ (tests and tsx: ../dist). */
export function pageBundlePath(): string {
  const candidates = [`./${PAGE_BUNDLE}`, `../dist/${PAGE_BUNDLE}`, `../../dist/${PAGE_BUNDLE}`].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) throw new DeprunError('INTERNAL', `the browser page bundle ${PAGE_BUNDLE} of @deprune/bench is missing`, { hint: 'build @deprune/bench first (tsup)' });
  return found;
}

export interface BrowserSuiteOptions extends KernelSuiteOptions {
  /** Chromium binary. Default DEPRUNE_CHROMIUM, else /usr/bin/chromium. */
  executablePath?: string;
  /** Limit for the whole run in the page. Default 60 minutes. */
  timeoutMs?: number;
}

/** Runs the kernel suite in headless Chromium in `options.mode` and returns its report. */
export async function runKernelSuiteInBrowser(options: BrowserSuiteOptions): Promise<KernelSuiteReport> {
  const { model, onProgress, executablePath, timeoutMs = 60 * 60_000, machine: givenMachine, ...rest } = options;
  const page = await openBrowserPage({
    script: readFileSync(pageBundlePath(), 'utf8'),
    globalName: 'depruneBench',
    assets: { '/model.onnx': serializeModel(model) },
    expose: { depruneBenchProgress: (event: never) => onProgress?.(event) },
    title: 'deprune kernel suite',
    ...(executablePath === undefined ? {} : { executablePath }),
  });
  try {
    const probes = await page.call<{ mode: GpuMode; available: boolean; reason: string }[]>('probe', undefined, 120_000);
    const probe = probes.find((candidate) => candidate.mode === options.mode);
    if (probe === undefined || !probe.available) {
      throw new UnsupportedError(`gpu mode ${options.mode} is not available in headless Chromium ${page.version}: ${probe?.reason ?? 'the page does not know it'}`);
    }
    const device = await page.call<string>('device', options.mode, 60_000);
    const machine = { ...(givenMachine ?? machineInfo()), browser: `headless Chromium ${page.version} (${device})` };
    const pageOptions: PageSuiteOptions = { ...rest, modelName: options.modelName ?? model.source ?? 'model', machine, modelUrl: '/model.onnx' };
    return await page.call<KernelSuiteReport>('run', pageOptions, timeoutMs);
  } catch (error) {
    if (error instanceof DeprunError || page.messages.length === 0) throw error;
    throw new DeprunError('INTERNAL', `${(error as Error).message.split('\n')[0]}; last page messages: ${page.messages.slice(-5).join(' | ')}`, { cause: error });
  } finally {
    await page.close();
  }
}
