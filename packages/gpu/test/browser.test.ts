import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuMode } from '../src/index';
import { chromiumMissingReason, openChromium, type ChromiumSession } from './browser/chromium';
import type { BrowserModeReport } from './browser/entry';
import { PARITY_KERNELS, parityCases, parityFailure, worstErrorByKernel, type ParityResult } from './parity/cases';
import { gpuModeGate, isRegistered, paritySeed } from './helpers';

/**
 * The browser GPU modes, webgl2 and webgpu, in headless Chromium (SwiftShader): the page runs the
 * shared parity list (test/parity/cases.ts, the same cases as the Node suites) through the
 * bundled test/browser/entry.ts and returns per-case relative errors; each must be < 1e-4.
 * Without Chromium the suite is skipped with a note, unless GPU modes are required (CI).
 */
const BROWSER_MODES: readonly GpuMode[] = ['webgl2', 'webgpu'];

/** The gpu.js kernel class each mode must really run on (no silent fallback to cpu or WebGL1). */
const KERNEL_CLASS: Partial<Record<GpuMode, string>> = { webgl2: 'WebGL2Kernel', webgpu: 'WebGPUKernel' };

const SESSION_TIMEOUT_MS = 60_000;
const MODE_TIMEOUT_MS = 150_000;

const seed = paritySeed();
const cases = parityCases(seed);

let session: ChromiumSession | undefined;
let unavailable = chromiumMissingReason();
let pageProbes = new Map<GpuMode, { available: boolean; reason: string }>();
if (unavailable === undefined) {
  try {
    session = await openChromium(SESSION_TIMEOUT_MS);
    pageProbes = new Map((await session.call('probe', undefined, SESSION_TIMEOUT_MS)).map((probe) => [probe.mode, probe]));
  } catch (error) {
    unavailable = `headless Chromium did not start: ${(error as Error).message.split('\n')[0]}`;
    await session?.close();
    session = undefined;
  }
}

afterAll(async () => {
  await session?.close();
});

function pageLog(): string {
  const lines = session?.messages.slice(-10) ?? [];
  return lines.length > 0 ? `\nlast page messages:\n  ${lines.join('\n  ')}` : '';
}

for (const mode of BROWSER_MODES) {
  const probe = pageProbes.get(mode);
  const reason = unavailable ?? (probe === undefined ? 'the page did not report this mode' : probe.reason);
  const run = gpuModeGate(`${mode} mode in headless Chromium`, unavailable === undefined && probe?.available === true, reason);

  describe.skipIf(!run)(`${mode} mode in headless Chromium`, () => {
    let report: BrowserModeReport;

    beforeAll(async () => {
      report = await session!.call('runMode', { mode, seed }, MODE_TIMEOUT_MS);
      const worst = [...worstErrorByKernel(report.results)].map(([kernel, error]) => `${kernel} ${error.toExponential(2)}`).join(', ');
      console.log(`${mode} in ${session!.version} on ${report.device}: ${report.results.length} cases in ${(report.ms / 1000).toFixed(1)} s, seed ${seed}; worst error per kernel: ${worst}`);
    }, MODE_TIMEOUT_MS + 10_000);

    it(`really runs in ${mode} (probe, gpu.js kernel class ${KERNEL_CLASS[mode]}, SwiftShader device)`, () => {
      expect(report.probe, pageLog()).toEqual({ available: true, reason: expect.any(String) });
      expect(report.kernelClass).toBe(KERNEL_CLASS[mode]);
      expect(report.device).toMatch(/swiftshader/i);
      // Every compiled kernel was checked against that class (GpuBackend.assertRanInMode): a
      // quiet fallback would show up as UNSUPPORTED "ran kernel ... on 'cpu'" failures.
      const degraded = report.results.filter((result) => /ran kernel .* instead of/.test(result.failure ?? ''));
      expect(degraded.map((result) => result.name)).toEqual([]);
    });

    it('ran exactly the shared case list', () => {
      expect(report.results.map((result) => result.name)).toEqual(cases.map((testCase) => testCase.name));
    });

    it.each(PARITY_KERNELS)('%s: every case within relative L2 error 1e-4 of the float64 reference', (kernel) => {
      const results = report.results.filter((result: ParityResult) => result.kernel === kernel);
      expect(results.length).toBe(cases.filter((testCase) => testCase.kernel === kernel).length);
      if (!isRegistered(kernel, mode)) {
        // A pair the registry refuses (documented in the README): it must say so, not compute.
        const wrong = results.filter((result) => result.code !== 'UNSUPPORTED').map((result) => result.name);
        expect(wrong, `${kernel} is not registered for ${mode}: every case must be refused with UNSUPPORTED`).toEqual([]);
        return;
      }
      const failures = results.map((result) => parityFailure(result)).filter((failure) => failure !== undefined);
      const summary = `${failures.length} of ${results.length} ${kernel} cases failed in ${mode} (seed ${seed}; replay with DEPRUNE_PARITY_SEED=${seed}):\n  ${failures.join('\n  ')}`;
      expect(failures, failures.length > 0 ? summary + pageLog() : undefined).toEqual([]);
    });
  });
}
