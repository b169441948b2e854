import { disposeBackend, GPU_JS_VERSION, isGpuMode } from '@deprune/gpu';
import { createKernelBackend, type BackendMode, type SessionBackend } from '@deprune/runtime';

/**
 * The kernel backend a kernel-level suite (kernels, hsr) times, by mode: `createKernelBackend` of
 * @deprune/runtime (the wasm backend, or a gpu.js mode's kernels through the kernel contract),
 * with what reports and latency tables say about it and how to free it.
 */
export interface SuiteBackend {
  mode: BackendMode;
  backend: SessionBackend;
  /** A latency table's `backend` field, as `deprune profile` writes it: 'wasm' or 'gpu.js-<mode>'. */
  tableName: string;
  /** One line about the backend: 'gpu.js 2.24.1' or 'WebAssembly relaxed SIMD (FMA)'. */
  detail: string;
  /** A report's versions entries for it. */
  versions: Record<string, string>;
  /** Frees what the backend compiled so far (a gpu.js mode's kernels); nothing to do for wasm. */
  settle(): Promise<void>;
  /** Frees the backend: its wasm memory, or the gpu.js mode's kernels. */
  dispose(): Promise<void>;
}

export async function suiteBackend(mode: BackendMode): Promise<SuiteBackend> {
  const backend = await createKernelBackend(mode);
  if (isGpuMode(mode)) {
    return {
      mode,
      backend,
      tableName: `gpu.js-${mode}`,
      detail: `gpu.js ${GPU_JS_VERSION}`,
      versions: { 'gpu.js': GPU_JS_VERSION },
      settle: () => disposeBackend(mode),
      dispose: () => disposeBackend(mode),
    };
  }
  const simd = (backend as { simd?: string }).simd === 'relaxed' ? 'relaxed SIMD (FMA)' : 'SIMD';
  return {
    mode,
    backend,
    tableName: mode,
    detail: `WebAssembly ${simd}`,
    versions: { WebAssembly: simd },
    settle: async () => undefined,
    dispose: async () => backend.dispose?.(),
  };
}
