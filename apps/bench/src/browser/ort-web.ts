/**
 * onnxruntime-web as the models suite's yardstick in the browser page: the dense model on its
 * `wasm` backend (CPU, WebAssembly SIMD) and on its `webgpu` backend, on the same input as our
 * runs. The wasm binary ships inside the npm package; the page bundles it (Vite copies it next to
 * the page), so nothing is fetched from outside. A backend that cannot start here (no WebGPU
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
  backends: readonly OrtWebBackend[];
  /**
   * WebAssembly threads. More than one needs a cross-origin isolated page (SharedArrayBuffer);
   * elsewhere it is 1 whatever is asked. onnxruntime-web fixes it when its first session starts.
   */
  threads: number;
}

/** The thread count onnxruntime-web can use in this page. */
export function ortWebThreads(requested: number): { threads: number; note?: string } {
  if (requested <= 1) return { threads: 1 };
  if (!globalThis.crossOriginIsolated) return { threads: 1, note: `${requested} threads asked, 1 used: the page is not cross-origin isolated (no SharedArrayBuffer)` };
  return { threads: requested };
}

export function onnxruntimeWebYardstick(options: OrtWebYardstickOptions): Yardstick {
  const { ort } = options;
  const { threads, note } = ortWebThreads(options.threads);
  return {
    name: 'onnxruntime-web',
    version: ort.env.versions?.web ?? 'unknown',
    async open(model, inputName, input) {
      ort.env.wasm.wasmPaths = { wasm: options.wasmUrl };
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
          const detail = backend === 'webgpu' ? 'WebGPU execution provider, outputs read back to the CPU' : `WebAssembly SIMD${note ? `; ${note}` : ''}`;
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
