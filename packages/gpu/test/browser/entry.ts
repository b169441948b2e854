/**
 * The browser side of the parity suite (test/browser.test.ts bundles this with esbuild and loads it
 * in headless Chromium). It runs the shared case list (test/parity/cases.ts) in one gpu.js mode
 * and returns plain JSON: per-case relative errors, plus what proves the mode really ran (the
 * mode's probe, the kernel class gpu.js chose, the renderer or adapter behind it).
 */
import { describeModeDevice, disposeBackend, getBackend, probeModes, type GpuMode } from '../../src/index';
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

async function runMode({ mode, seed, kernels }: BrowserRunOptions): Promise<BrowserModeReport> {
  const started = performance.now();
  const found = (await probeModes()).get(mode);
  const probe = { available: found?.available === true, reason: found?.reason ?? 'not probed' };
  const device = await describeModeDevice(mode);
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
