/**
 * The browser side of the parity suite (test/browser.test.ts bundles this with esbuild and loads it
 * in headless Chromium). It runs the shared case list (test/parity/cases.ts) in one gpu.js mode
 * and returns plain JSON: per-case relative errors, plus what proves the mode really ran (the
 * mode's probe, the kernel class gpu.js chose, the renderer or adapter behind it).
 */
import { disposeBackend, getBackend, probeModes, type GpuMode } from '../../src/index';
import { parityCases, runParityCase, type ParityKernel, type ParityResult } from '../parity/cases';

export interface BrowserModeReport {
  mode: GpuMode;
  /** The mode's probe in this page (a real compile-and-run of a tiny kernel). */
  probe: { available: boolean; reason: string };
  /** gpu.js's kernel class for the mode (`gpu.Kernel.name`), e.g. WebGL2Kernel; null if none started. */
  kernelClass: string | null;
  /** WebGL2 RENDERER / WebGPU adapter description: what actually computed. */
  device: string;
  results: ParityResult[];
  ms: number;
}

export interface BrowserRunOptions {
  mode: GpuMode;
  seed: number;
  kernels?: ParityKernel[];
}

async function describeDevice(mode: GpuMode): Promise<string> {
  try {
    if (mode === 'webgl2') {
      const gl = document.createElement('canvas').getContext('webgl2');
      if (!gl) return 'no WebGL2 context';
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
      const version = String(gl.getParameter(gl.VERSION));
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      return `${version}, ${renderer}`;
    }
    if (mode === 'webgpu') {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu;
      const adapter = await gpu?.requestAdapter();
      if (!adapter) return 'no WebGPU adapter';
      const info = adapter.info ?? {};
      return ['vendor', 'architecture', 'device', 'description'].map((key) => info[key]).filter((value) => value).join(', ') || 'adapter without info';
    }
  } catch (error) {
    return `could not query the device: ${(error as Error).message}`;
  }
  return mode;
}

async function runMode({ mode, seed, kernels }: BrowserRunOptions): Promise<BrowserModeReport> {
  const started = performance.now();
  const found = (await probeModes()).get(mode);
  const probe = { available: found?.available === true, reason: found?.reason ?? 'not probed' };
  const device = await describeDevice(mode);
  const results: ParityResult[] = [];
  let kernelClass: string | null = null;
  if (probe.available) {
    for (const testCase of parityCases(seed, kernels)) results.push(await runParityCase(testCase, mode));
    try {
      kernelClass = (await getBackend(mode)).gpu.Kernel?.name ?? null;
    } catch {
      kernelClass = null;
    }
    await disposeBackend(mode);
  }
  return { mode, probe, kernelClass, device, results, ms: performance.now() - started };
}

/** The modes as this page sees them (each probed by a real compile-and-run). */
async function probe(): Promise<{ mode: GpuMode; available: boolean; reason: string }[]> {
  return [...(await probeModes()).values()].map(({ mode, available, reason }) => ({ mode, available, reason }));
}

export interface DepruneParityApi {
  probe: typeof probe;
  runMode: typeof runMode;
}

(globalThis as unknown as { depruneParity: DepruneParityApi }).depruneParity = { probe, runMode };
