/**
 * onnxruntime-web as the models suite's yardstick in the browser page: the dense model on its
 * `wasm` backend (CPU, WebAssembly SIMD) and on its `webgpu` backend, on the same input as our
 * runs. The wasm binary and its glue ship inside the npm package; the page bundles them (Vite
 * copies them next to the page), so nothing is fetched from outside. A backend that cannot start here (no WebGPU
 * adapter, an operator the webgpu backend cannot run) comes back unavailable with the reason.
 */
import { ortRun, reasonOf, type OrtModule, type Yardstick, type YardstickRun, type YardstickUnavailable } from '../yardsticks';

export const ORT_WEB_BACKENDS = ['wasm', 'webgpu'] as const;
export type OrtWebBackend = (typeof ORT_WEB_BACKENDS)[number];

export interface OrtWebYardstickOptions {
  /** The loaded `onnxruntime-web` module (the page imports it; tests may pass another build). */
  ort: OrtModule & { env: { wasm: Record<string, unknown>; versions?: Record<string, string | undefined>; logLevel?: string } };
  /** Where the page serves onnxruntime-web's .wasm file. */
  wasmUrl: string;
  /**
   * Where the page serves its JavaScript glue (`ort-wasm-simd-threaded.jsep.mjs`). The bundle has a
   * copy inside, but WebAssembly threads start workers from the glue's own URL: inside a page
   * bundle that URL is the page's script, which cannot run in a worker (no `document`).
   */
  mjsUrl: string;
  backends: readonly OrtWebBackend[];
  /**
   * WebAssembly threads. More than one needs a cross-origin isolated page (SharedArrayBuffer);
   * elsewhere it is 1 whatever is asked. onnxruntime-web fixes it when its first session starts.
   */
  threads: number;
}

/** onnxruntime-web fixes its thread count when its WebAssembly starts, once per page. */
let startedWithThreads: number | null = null;

/** The thread count onnxruntime-web can use in this page. */
export function ortWebThreads(requested: number): { threads: number; note?: string } {
  const possible = requested <= 1 || globalThis.crossOriginIsolated ? Math.max(1, requested) : 1;
  if (startedWithThreads !== null && startedWithThreads !== possible) {
    return { threads: startedWithThreads, note: `${requested} thread(s) asked, ${startedWithThreads} used: onnxruntime-web started with ${startedWithThreads} in this page (reload it to change)` };
  }
  if (possible !== requested) return { threads: possible, note: `${requested} threads asked, 1 used: the page is not cross-origin isolated (no SharedArrayBuffer)` };
  return { threads: possible };
}

export function onnxruntimeWebYardstick(options: OrtWebYardstickOptions): Yardstick {
  const { ort } = options;
  return {
    name: 'onnxruntime-web',
    version: ort.env.versions?.web ?? 'unknown',
    async open(model, inputName, input) {
      const { threads, note } = ortWebThreads(options.threads);
      startedWithThreads = threads;
      ort.env.wasm.wasmPaths = { wasm: options.wasmUrl, mjs: options.mjsUrl };
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'error';
      const opened: (YardstickRun | YardstickUnavailable)[] = [];
      for (const backend of options.backends) {
        const label = `onnxruntime-web ${backend}`;
        if (backend === 'webgpu' && !('gpu' in navigator)) {
          opened.push({ backend: label, threads, reason: 'this browser has no WebGPU (navigator.gpu is missing)' });
          continue;
        }
        try {
          const detail = `${backend === 'webgpu' ? 'WebGPU execution provider, outputs read back to the CPU' : 'WebAssembly SIMD'}${note ? `; ${note}` : ''}`;
          const run = await ortRun(ort, model, { executionProviders: [backend], graphOptimizationLevel: 'all' }, inputName, input, label, threads, detail);
          // One run now: a backend that builds a session but cannot execute it is unavailable, not a failed suite.
          await run.run();
          opened.push(run);
        } catch (error) {
          opened.push({ backend: label, threads, reason: reasonOf(error) });
        }
      }
      return opened;
    },
  };
}
