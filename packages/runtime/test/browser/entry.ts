/**
 * The browser side of the runtime's Chromium suite (test/browser.test.ts bundles this with
 * esbuild): loads models, plans, inputs and onnxruntime's reference outputs from the page's
 * server, runs each model with @deprune/runtime in one gpu.js mode, and returns per-output
 * relative errors as plain JSON. What proves the mode really ran comes back too.
 */
import { describeModeDevice, disposeBackend, getBackend, isGpuMode, probeModes } from '@deprune/gpu';
import { parseModel } from '@deprune/onnx';
import type { PrunePlan } from '@deprune/pipeline';
import { relativeL2Error, tensor } from '@deprune/tensor';
import { createSession, resolveBackendMode, type BackendMode } from '../../src/index';

export interface BrowserModelCase {
  name: string;
  /** Served paths. */
  model: string;
  plan: string | null;
  input: { name: string; path: string; shape: number[] };
  /** Reference outputs (onnxruntime), by output name: served path and shape. */
  expected: { name: string; path: string; shape: number[] }[];
  fetch: string[];
}

export interface BrowserModelResult {
  name: string;
  errors: Record<string, number>;
  shapes: Record<string, number[]>;
  sparseLayers: number;
  planLayers: number;
  /** Steps that ran a DW conv and its PW conv as one `dsconv` (intermediate kept on the device). */
  chainedSteps: number;
  /** Threads the session ran on (wasm: more than one only with shared memory). */
  threads: number;
  ms: number;
  failure?: string;
}

export interface BrowserRuntimeReport {
  mode: BackendMode;
  /** The page is cross-origin isolated (SharedArrayBuffer: wasm threads). */
  crossOriginIsolated: boolean;
  probe: { available: boolean; reason: string };
  kernelClass: string | null;
  device: string;
  results: BrowserModelResult[];
}

async function bytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function floats(path: string): Promise<Float32Array> {
  const raw = await bytes(path);
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

async function runCase(mode: BackendMode, testCase: BrowserModelCase, threads: number): Promise<BrowserModelResult> {
  const started = performance.now();
  const base = { name: testCase.name, errors: {}, shapes: {}, sparseLayers: 0, planLayers: 0, chainedSteps: 0, threads: 1 };
  try {
    const model = parseModel(await bytes(testCase.model), { source: testCase.model });
    const plan = testCase.plan === null ? null : (JSON.parse(new TextDecoder().decode(await bytes(testCase.plan))) as PrunePlan);
    const session = await createSession(model, { mode, plan, threads });
    const feeds = { [testCase.input.name]: tensor(await floats(testCase.input.path), testCase.input.shape) };
    const { outputs } = await session.run(feeds, { fetch: testCase.fetch });
    const errors: Record<string, number> = {};
    const shapes: Record<string, number[]> = {};
    for (const expected of testCase.expected) {
      const actual = outputs[expected.name];
      shapes[expected.name] = [...actual.shape];
      errors[expected.name] = relativeL2Error(actual.data, await floats(expected.path));
    }
    const compiled = session.compile({ [testCase.input.name]: testCase.input.shape }, testCase.fetch);
    const uses = compiled.planLayers;
    const result = {
      ...base,
      errors,
      shapes,
      planLayers: uses.length,
      sparseLayers: uses.filter((use) => use.kernel.endsWith('Sparse')).length,
      chainedSteps: compiled.kernels.dsconv ?? 0,
      threads: session.backendInfo.threads,
      ms: performance.now() - started,
    };
    session.dispose();
    return result;
  } catch (error) {
    return { ...base, ms: performance.now() - started, failure: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

async function runMode({ mode, cases, threads = 1 }: { mode: BackendMode; cases: BrowserModelCase[]; threads?: number }): Promise<BrowserRuntimeReport> {
  const crossOriginIsolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const results: BrowserModelResult[] = [];
  if (!isGpuMode(mode)) {
    // The wasm backend: no gpu.js kernel class; the device is the CPU through WebAssembly SIMD.
    const probe = await resolveBackendMode(mode).then(
      (resolved) => ({ available: true, reason: resolved.reason }),
      (error: unknown) => ({ available: false, reason: error instanceof Error ? error.message : String(error) }),
    );
    if (probe.available) for (const testCase of cases) results.push(await runCase(mode, testCase, threads));
    return { mode, crossOriginIsolated, probe, kernelClass: null, device: 'WebAssembly SIMD on the CPU', results };
  }
  const found = (await probeModes()).get(mode);
  const probe = { available: found?.available === true, reason: found?.reason ?? 'not probed' };
  const device = await describeModeDevice(mode);
  let kernelClass: string | null = null;
  if (probe.available) {
    for (const testCase of cases) results.push(await runCase(mode, testCase, threads));
    kernelClass = (await getBackend(mode)).gpu.Kernel?.name ?? null;
    await disposeBackend(mode);
  }
  return { mode, crossOriginIsolated, probe, kernelClass, device, results };
}

export interface DepruneRuntimeApi {
  runMode: typeof runMode;
}

(globalThis as unknown as { depruneRuntime: DepruneRuntimeApi }).depruneRuntime = { runMode };
