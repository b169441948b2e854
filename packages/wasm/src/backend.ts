import { UnsupportedError, UsageError } from '@deprune/errors';
import type { KernelBackend, KernelName, KernelSignatures } from '@deprune/kernels';
import type { Tensor } from '@deprune/tensor';
import { DEFAULT_MIN_PARALLEL_WORK, WasmEngine, type SimdLevel } from './engine';
import * as host from './host';
import { float32Data } from './host/common';
import { convKernels } from './kernels/conv';
import { elementwiseKernels } from './kernels/elementwise';
import { gemmKernels } from './kernels/gemm';
import { reduceKernels } from './kernels/reduce';
import { ResidentConstants } from './resident';
import { ResidentTensors } from './resident-tensors';

/**
 * The wasm kernel backend: one kernel module instance over one WebAssembly memory, and the
 * kernels of the contract (@deprune/kernels) by name. The conv family (dense and DEPrune-sparse
 * DW and PW, the DW -> PW chain, general conv), MatMul / Gemm, the element-wise operators,
 * softmax, global pools and innermost-axis reductions run in WebAssembly SIMD; windowed pools,
 * resize, other reductions and ConvTranspose (and the operators the module lacks) run as
 * TypeScript loops on the host (src/host).
 */

export interface WasmBackendOptions {
  /** 'auto' (default): relaxed SIMD (FMA) where the engine validates it, else plain SIMD. */
  simd?: SimdLevel;
  /**
   * Threads the conv and GEMM kernels split over, the caller's included (default 1). Needs a
   * shared memory: in a page that is not cross-origin isolated it stays 1 (`threads` says so).
   */
  threads?: number;
  /**
   * Multiply-adds below which a kernel call runs on one thread even when `threads` > 1 (default
   * DEFAULT_MIN_PARALLEL_WORK, 2^20): handing a small call to a worker costs more than it saves.
   * The call is split the same way either way, so results do not change. 0 splits every call.
   */
  minParallelWork?: number;
}

type Kernels = { [Name in KernelName]?: KernelSignatures[Name] };

export class WasmBackend implements KernelBackend {
  readonly name = 'wasm';
  readonly engine: WasmEngine;
  private readonly constants: ResidentConstants;
  private readonly tensors: ResidentTensors;
  private readonly kernels: Kernels;
  private disposed = false;

  constructor(options: WasmBackendOptions = {}) {
    if (options === null || typeof options !== 'object') throw new UsageError('createWasmBackend takes an options object');
    this.engine = WasmEngine.create(options.simd ?? 'auto');
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new UsageError(`threads must be an integer from 1 to 256, got ${String(threads)}`);
    this.engine.setThreads(threads);
    const minParallelWork = options.minParallelWork ?? DEFAULT_MIN_PARALLEL_WORK;
    if (!(minParallelWork >= 0)) throw new UsageError(`minParallelWork must be a number >= 0, got ${String(minParallelWork)}`);
    this.engine.minParallelWork = minParallelWork;
    this.constants = new ResidentConstants(this.engine);
    this.tensors = new ResidentTensors(this.engine);
    const context = { engine: this.engine, constants: this.constants, tensors: this.tensors };
    this.kernels = {
      ...convKernels(context),
      ...gemmKernels(context),
      ...elementwiseKernels(context),
      ...reduceKernels(context),
      resize2d: host.resize2d,
      convTranspose2d: host.convTranspose2d,
    };
  }

  /** Threads the kernels run on (1 without a shared memory, whatever was asked). */
  get threads(): number {
    return this.engine.threads;
  }

  /** 'relaxed' when the kernels run fused multiply-adds, else 'simd'. */
  get simd(): 'relaxed' | 'simd' {
    return this.engine.relaxed ? 'relaxed' : 'simd';
  }

  has(name: string): boolean {
    return Object.hasOwn(this.kernels, name);
  }

  kernel<Name extends KernelName>(name: Name): KernelSignatures[Name] {
    if (this.disposed) throw new UsageError('this wasm backend was disposed', { hint: 'create a new session' });
    const fn = Object.hasOwn(this.kernels, name) ? this.kernels[name] : undefined;
    if (fn === undefined) {
      throw new UnsupportedError(`the wasm backend has no '${String(name)}' kernel (it has: ${Object.keys(this.kernels).sort().join(', ')})`, { hint: "run this model in a gpu.js mode (e.g. mode 'webasm')" });
    }
    return fn as KernelSignatures[Name];
  }

  /**
   * True when `t`'s data is a kernel result still in this backend's memory (a view that the next
   * kernel reads in place). Whoever hands it to a user copies it first (`data.slice()`).
   */
  owns(t: { data: unknown }): boolean {
    return this.tensors.owns(t?.data);
  }

  /** The runtime is done with `t`: its block of wasm memory is free for the next result. */
  release(t: { data: unknown }): void {
    this.tensors.release(t?.data);
  }

  /**
   * `t` copied into wasm memory and held there like a kernel result (a view; `release` it when
   * done). Without a shared memory a view could detach, so the copy is copied out again: kernels
   * then copy it in per call, as they do any host tensor.
   */
  upload(t: Tensor): Tensor<Float32Array> {
    if (this.disposed) throw new UsageError('this wasm backend was disposed', { hint: 'create a new session' });
    return this.tensors.output(this.engine.put(float32Data(t)), t.shape);
  }

  /** Bytes of wasm memory: resident constants (packed weights, tap lists), in use, at peak, reserved. */
  memoryUsage(): { constantBytes: number; liveBytes: number; peakBytes: number; memoryBytes: number } {
    return { constantBytes: this.constants.bytes, ...this.engine.usage };
  }

  /** Drops the resident constants and the module; the memory goes with the last reference. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.constants.clear();
    this.tensors.clear();
    this.engine.dispose();
  }
}

export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  return new WasmBackend(options);
}
