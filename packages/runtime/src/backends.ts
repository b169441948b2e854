import { DeprunError, UnsupportedError, UsageError } from '@deprune/errors';
import type { KernelBackend } from '@deprune/kernels';
import { createWasmBackend, wasmSupport, type SimdLevel } from '@deprune/wasm';

/**
 * The backends a session can run on, by mode name: `wasm` (@deprune/wasm, WebAssembly SIMD on
 * the CPU) and the gpu.js modes of @deprune/gpu. This is the one place that maps a mode to its
 * backend package; everything past it sees only the kernel contract (`KernelBackend`).
 *
 * @deprune/gpu is an optional peer dependency, loaded only when a gpu.js mode is asked for: it
 * brings gpu.js and, through it, the native `gl` build and Dawn (`webgpu`), well over 100 MB that a
 * user of the wasm backend never runs. Without it installed, those modes say what to install.
 */

/** The gpu.js modes of @deprune/gpu, in its `auto` order (a test keeps this equal to its GPU_MODES). */
export const GPU_BACKEND_MODES = Object.freeze(['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const);
export type GpuBackendMode = (typeof GPU_BACKEND_MODES)[number];

export type BackendMode = 'wasm' | GpuBackendMode;

/** Every mode: wasm first (the CPU path), then the gpu.js modes in their own order. */
export const BACKEND_MODES: readonly BackendMode[] = Object.freeze(['wasm', ...GPU_BACKEND_MODES]);

export function isBackendMode(value: unknown): value is BackendMode {
  return value === 'wasm' || isGpuBackendMode(value);
}

export function isGpuBackendMode(value: unknown): value is GpuBackendMode {
  return typeof value === 'string' && (GPU_BACKEND_MODES as readonly string[]).includes(value);
}

/**
 * What the runtime calls of @deprune/gpu. Declared here rather than taken from its types, so that
 * the runtime's own declarations compile for a user who has not installed it.
 */
export interface GpuPackage {
  resolveMode(requested: GpuBackendMode | 'auto'): Promise<{ mode: GpuBackendMode; reason: string }>;
  gpuKernelBackend(mode: GpuBackendMode): KernelBackend;
}
let gpuPackage: Promise<GpuPackage> | undefined;

/** The code of a module that is not installed, as Node and bundlers report it. */
function isMissingModule(error: unknown, name: string): boolean {
  const code = (error as { code?: string } | null)?.code;
  const message = (error as Error | null)?.message ?? '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to resolve module specifier/.test(message)) && message.includes(name);
}

/**
 * @deprune/gpu, imported once; a missing package is an UNSUPPORTED error naming the mode and the
 * install command. `load` is for tests (a stand-in for the import).
 */
export function loadGpuPackage(mode: string, load: () => Promise<GpuPackage> = () => import('@deprune/gpu')): Promise<GpuPackage> {
  gpuPackage ??= load().catch((error: unknown) => {
    gpuPackage = undefined;
    if (!isMissingModule(error, '@deprune/gpu')) throw error;
    throw new UnsupportedError(`mode ${mode} runs on gpu.js through @deprune/gpu, which is not installed`, {
      hint: "npm install @deprune/gpu, which brings gpu.js and its GL and WebGPU builds; or use mode 'wasm'",
      cause: error,
    });
  });
  return gpuPackage;
}

export interface BackendOptions {
  /** wasm: 'auto' (default) runs relaxed SIMD (FMA) where the engine validates it. */
  simd?: SimdLevel;
  /** wasm: threads the kernels split over (default: the available cores). gpu.js modes ignore it. */
  threads?: number;
}

/** The cores this process may use: Node's availableParallelism, a browser's hardwareConcurrency. */
export async function availableCores(): Promise<number> {
  if (isNode()) {
    const os = await import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
}

export interface ResolvedBackendMode {
  mode: BackendMode;
  /** One line saying why this mode (for `auto`: what it found). */
  reason: string;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
}

/**
 * A WebGPU adapter backed by real graphics hardware, or undefined. A fallback adapter and
 * SwiftShader (Chromium's CPU implementation of the GPU APIs) are not: on them the gpu.js modes
 * emulate a GPU on the CPU, slower than the wasm kernels.
 */
async function hardwareGpuAdapter(): Promise<string | undefined> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (gpu === undefined) return undefined;
  try {
    const adapter = (await gpu.requestAdapter()) as { isFallbackAdapter?: boolean; info?: AdapterInfoLike; requestAdapterInfo?: () => Promise<AdapterInfoLike> } | null;
    if (adapter === null || adapter === undefined || adapter.isFallbackAdapter === true) return undefined;
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
    if (text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('lavapipe')) return undefined;
    return text.trim() || 'an adapter';
  } catch {
    return undefined;
  }
}

/**
 * `auto`: in Node, wasm (the gpu.js modes there are emulations or need a native GL build); in a
 * browser, the best gpu.js mode when WebGPU finds real hardware, else wasm. An explicit mode is
 * checked: UNSUPPORTED naming the mode and what to use instead when it cannot run here.
 */
export async function resolveBackendMode(requested: BackendMode | 'auto' = 'auto'): Promise<ResolvedBackendMode> {
  if (requested !== 'auto' && !isBackendMode(requested)) {
    throw new UsageError(`unknown mode '${String(requested)}' (choose one of auto, ${BACKEND_MODES.join(', ')})`);
  }
  const simd = wasmSupport().simd;
  if (requested === 'wasm') {
    if (!simd) throw new UnsupportedError('mode wasm needs WebAssembly SIMD, which this JavaScript engine lacks', { hint: "use mode 'webasm' or 'cpu' (gpu.js), or a newer Node / browser" });
    return { mode: 'wasm', reason: 'wasm: asked for explicitly and available' };
  }
  if (requested !== 'auto') return (await loadGpuPackage(requested)).resolveMode(requested);
  let skipped = '';
  if (!isNode()) {
    const adapter = await hardwareGpuAdapter();
    if (adapter !== undefined) {
      try {
        const gpu = await (await loadGpuPackage('auto')).resolveMode('auto');
        return { mode: gpu.mode, reason: `auto: WebGPU found real hardware (${adapter}); ${gpu.reason}` };
      } catch (error) {
        if (!simd || !(error instanceof DeprunError)) throw error;
        skipped = `; WebGPU found real hardware (${adapter}) but ${error.message}`;
      }
    }
  }
  if (simd) return { mode: 'wasm', reason: `auto: wasm (WebAssembly SIMD on the CPU${isNode() ? '' : skipped || '; no hardware GPU adapter found'})` };
  const gpu = await (await loadGpuPackage('auto')).resolveMode('auto');
  return { mode: gpu.mode, reason: `auto: this engine has no WebAssembly SIMD for mode wasm; ${gpu.reason}` };
}

/** A backend that may hold memory of its own (the wasm backend): dispose() frees it. */
export interface SessionBackend extends KernelBackend {
  dispose?(): void;
}

/** The kernel backend of `mode` (checked available with resolveBackendMode first). */
export async function createKernelBackend(mode: BackendMode, options: BackendOptions = {}): Promise<SessionBackend> {
  if (mode === 'wasm') return createWasmBackend({ simd: options.simd ?? 'auto', threads: options.threads ?? 1 });
  if (!isGpuBackendMode(mode)) throw new UsageError(`unknown mode '${String(mode)}' (choose one of ${BACKEND_MODES.join(', ')})`);
  return (await loadGpuPackage(mode)).gpuKernelBackend(mode);
}

/** How reports name a mode's backend: 'deprune wasm' or 'gpu.js webasm'. */
export function backendLabel(mode: string): string {
  return mode === 'wasm' ? 'deprune wasm' : `gpu.js ${mode}`;
}
