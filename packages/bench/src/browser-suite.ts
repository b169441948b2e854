/**
 * The kernel suite in headless Chromium, for the browser-only gpu.js modes (webgl2, webgpu; webasm
 * and cpu work there too): the same `runKernelSuite` as in Node, run by the benchmark page
 * (`runSuiteInBrowser`). Writing the report is `writeKernelReport`, as for a Node run.
 */
import { UsageError } from '@deprune/errors';
import { BUILTIN_VARIANTS } from '@deprune/masks';
import { serializeModel } from '@deprune/onnx';
import { runSuiteInBrowser, type BrowserRunOptions } from './browser-runner';
import type { KernelSuiteOptions, KernelSuiteProgress, KernelSuiteReport } from './kernels';

export interface BrowserSuiteOptions extends KernelSuiteOptions {
  /** Chromium binary. Default DEPRUNE_CHROMIUM, else /usr/bin/chromium. */
  executablePath?: string;
  /** Limit for the whole run in the page. Default 60 minutes. */
  timeoutMs?: number;
}

/** Runs the kernel suite in headless Chromium in `options.mode` and returns its report. */
export async function runKernelSuiteInBrowser(options: BrowserSuiteOptions): Promise<KernelSuiteReport> {
  const { model, onProgress, executablePath, timeoutMs, machine, inputShapes, modelName, mode, command, ...suiteOptions } = options;
  // The page has its own registry, with the built-ins only: a variant registered here is not there.
  const foreign = (suiteOptions.extraVariants ?? []).filter((name) => !(BUILTIN_VARIANTS as readonly string[]).includes(name));
  if (foreign.length > 0) {
    throw new UsageError(`extraVariants ${foreign.map((name) => `'${name}'`).join(', ')}: variants registered in this process do not reach the benchmark page`, {
      hint: 'time them with runKernelSuite in Node (a gpu.js mode or wasm)',
    });
  }
  const shapes = inputShapes === undefined ? [] : Object.values(inputShapes);
  const runOptions: BrowserRunOptions = {
    modelBytes: serializeModel(model),
    onProgress: (event) => onProgress?.(event.event as KernelSuiteProgress),
    ...(executablePath === undefined ? {} : { executablePath }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(machine === undefined ? {} : { machine }),
  };
  return runSuiteInBrowser<KernelSuiteReport>(
    {
      suite: 'kernels',
      model: { url: '/model.onnx' },
      modelName: modelName ?? model.source ?? 'model',
      inputShape: shapes.length === 1 ? [...shapes[0]] : null,
      mode,
      ...(command === undefined ? {} : { command }),
      suiteOptions: { ...suiteOptions },
    },
    runOptions,
  );
}
