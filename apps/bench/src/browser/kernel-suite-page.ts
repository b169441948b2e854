/**
 * The page side of the kernel suite in a browser: built by tsup into one browser ES module
 * (dist/browser/kernel-suite-page.js, gpu.js's browser build inside), served and driven by
 * `runKernelSuiteInBrowser`. It publishes `globalThis.depruneBench` with:
 * - `probe()`: every gpu.js mode as this page sees it (a real compile and run of a tiny kernel);
 * - `device(mode)`: what computes in that mode (WebGL2 renderer, WebGPU adapter);
 * - `run(options)`: fetches the model from the page's server, runs `runKernelSuite` and returns
 *   its report (plain JSON). Progress goes to the Node side through `depruneBenchProgress`.
 */
import { describeModeDevice, probeModes, type GpuMode } from '@deprune/gpu';
import { parseModel } from '@deprune/onnx';
import { runKernelSuite, type KernelSuiteOptions, type KernelSuiteProgress, type KernelSuiteReport } from '../kernels';

/** What `run` takes: the suite's options, with the model as a URL on the page's server. */
export interface PageSuiteOptions extends Omit<KernelSuiteOptions, 'model' | 'onProgress'> {
  modelUrl: string;
}

async function probe(): Promise<{ mode: GpuMode; available: boolean; reason: string }[]> {
  return [...(await probeModes()).values()].map(({ mode, available, reason }) => ({ mode, available, reason }));
}

async function run(options: PageSuiteOptions): Promise<KernelSuiteReport> {
  const response = await fetch(options.modelUrl);
  if (!response.ok) throw new Error(`the page could not fetch the model (${response.status})`);
  const model = parseModel(new Uint8Array(await response.arrayBuffer()), { source: options.modelName ?? options.modelUrl });
  const report = (globalThis as { depruneBenchProgress?: (event: KernelSuiteProgress) => void }).depruneBenchProgress;
  const { modelUrl: _modelUrl, ...suite } = options;
  return runKernelSuite({ ...suite, model, onProgress: (event) => report?.(event) });
}

export interface DepruneBenchPageApi {
  probe: typeof probe;
  device: typeof describeModeDevice;
  run: typeof run;
}

(globalThis as unknown as { depruneBench: DepruneBenchPageApi }).depruneBench = { probe, device: describeModeDevice, run };
