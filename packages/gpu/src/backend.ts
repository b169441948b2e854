import { DeprunError, UnsupportedError } from '@deprune/errors';
import { GPU, type IKernelRunShortcut } from 'gpu.js';
import { releasePaddedBuffers } from './kernels/dw-taps';
import { assertModeAvailable, type GpuMode } from './modes';
import { degradation, firstLine } from './util';

/**
 * One gpu.js `GPU` instance per mode, created on first use, plus the cache of compiled kernels.
 * gpu.js compiles a kernel for fixed output and argument sizes and bakes `constants` into the
 * code, so a compiled kernel is reusable exactly when (kernel, mode, sizes, constants) repeat:
 * that tuple, as a string, is the cache key (`signature`).
 */
export class GpuBackend {
  readonly mode: GpuMode;
  readonly gpu: GPU;
  private readonly compiled = new Map<string, IKernelRunShortcut>();
  private readonly checked = new Set<string>();
  private disposed = false;

  constructor(mode: GpuMode) {
    this.mode = mode;
    try {
      this.gpu = new GPU({ mode });
    } catch (error) {
      throw new UnsupportedError(`gpu mode ${mode} could not start: ${firstLine(error)}`, { cause: error });
    }
  }

  /** The compiled kernel for `signature`, built by `build` the first time. */
  compile(signature: string, build: (gpu: GPU) => IKernelRunShortcut): IKernelRunShortcut {
    if (this.disposed) throw new DeprunError('INTERNAL', `gpu backend ${this.mode} was disposed; get the kernel again`);
    let kernel = this.compiled.get(signature);
    if (kernel === undefined) {
      try {
        kernel = build(this.gpu);
      } catch (error) {
        throw new DeprunError('INTERNAL', `gpu.js could not create kernel ${signature} in mode ${this.mode}: ${firstLine(error)}`, { cause: error });
      }
      this.compiled.set(signature, kernel);
    }
    return kernel;
  }

  /**
   * gpu.js builds a kernel on its first call and may quietly degrade it to its cpu backend (the
   * webasm backend does for features it lacks). Results would still be right, timings would not:
   * after the first call, check that the kernel runs in the mode we asked for.
   */
  assertRanInMode(signature: string, kernel: IKernelRunShortcut): void {
    if (this.checked.has(signature)) return;
    const degraded = degradation(kernel, this.mode, this.gpu.Kernel);
    if (degraded !== undefined) {
      throw new UnsupportedError(`gpu.js ran kernel ${signature} on '${degraded.ran}' instead of '${this.mode}': ${degraded.reason}`);
    }
    this.checked.add(signature);
  }

  /** Number of compiled kernels held (for tests and diagnostics). */
  get compiledCount(): number {
    return this.compiled.size;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.compiled.clear();
    this.checked.clear();
    await this.gpu.destroy();
  }
}

const backends = new Map<GpuMode, Promise<GpuBackend>>();

/** The shared backend of `mode`, created on first use; UNSUPPORTED if the mode does not work here. */
export function getBackend(mode: GpuMode): Promise<GpuBackend> {
  let backend = backends.get(mode);
  if (backend === undefined) {
    backend = (async () => {
      await assertModeAvailable(mode);
      return new GpuBackend(mode);
    })();
    backends.set(mode, backend);
    // A failed start is not cached: the next call tries again (and fails with the same reason).
    backend.catch(() => {
      if (backends.get(mode) === backend) backends.delete(mode);
    });
  }
  return backend;
}

/**
 * Destroys the GPU instance of `mode` (every mode when omitted) and drops its compiled kernels;
 * the next kernel call in that mode starts a fresh one. Without a mode it also drops the DW
 * kernels' pooled padded buffers.
 */
export async function disposeBackend(mode?: GpuMode): Promise<void> {
  if (mode === undefined) releasePaddedBuffers();
  const modes = mode === undefined ? [...backends.keys()] : [mode];
  for (const each of modes) {
    const backend = backends.get(each);
    backends.delete(each);
    if (backend === undefined) continue;
    try {
      await (await backend).dispose();
    } catch {
      // it never started, so there is nothing to release
    }
  }
}
