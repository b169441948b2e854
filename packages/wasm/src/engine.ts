import { DeprunError, UnsupportedError, UsageError } from '@deprune/errors';
import { ThreadPool, type ThreadExport } from './threads';
import { RELAXED_SHARED_WASM_BASE64, RELAXED_WASM_BASE64, SIMD_SHARED_WASM_BASE64, SIMD_WASM_BASE64 } from './generated/binaries';

/**
 * One instance of the kernel module over one WebAssembly memory, plus the allocator that hands
 * out its bytes. Kernels address data by byte offset in this memory; the TypeScript side copies
 * inputs in, packs weights once (kept for as long as their weight tensor lives) and copies
 * results out.
 */

/** Which instruction set to run: plain SIMD, relaxed SIMD (FMA), or the best the engine validates. */
export type SimdLevel = 'auto' | 'relaxed' | 'simd';

/** The kernel module's exports (assembly/kernels.ts). Pointers are byte offsets. */
export interface KernelExports {
  usesRelaxedSimd(): number;
  gemmPanels(w: number, x: number, bias: number, y: number, K: number, M: number, P: number, xStride: number, yStride: number, code: number, alpha: number, beta: number): void;
  dwTaps(
    x: number,
    y: number,
    tapOffsets: number,
    tapWeights: number,
    tapStart: number,
    bias: number,
    scratch: number,
    N: number,
    C: number,
    H: number,
    W: number,
    Ho: number,
    Wo: number,
    strideH: number,
    strideW: number,
    padTop: number,
    padLeft: number,
    Hq: number,
    Wq: number,
    maxTaps: number,
    code: number,
    alpha: number,
    beta: number,
  ): void;
  binaryBroadcast(a: number, b: number, y: number, D0: number, D1: number, D2: number, D3: number, sa0: number, sa1: number, sa2: number, sa3: number, sb0: number, sb1: number, sb2: number, sb3: number, op: number, code: number, alpha: number, beta: number): void;
  unaryMap(x: number, y: number, n: number, op: number, code: number, alpha: number, beta: number): void;
  softmaxAxis(x: number, y: number, outer: number, length: number, inner: number, log: number): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  reduceRows(x: number, y: number, rows: number, length: number, kind: number, code: number, alpha: number, beta: number): void;
  pool2dWindows(
    x: number,
    y: number,
    planes: number,
    H: number,
    W: number,
    Ho: number,
    Wo: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number,
    padTop: number,
    padLeft: number,
    tables: number,
    isMax: number,
    countIncludePad: number,
    code: number,
    alpha: number,
    beta: number,
  ): void;
  gatherRows(x: number, rows: number, count: number, length: number, xStride: number, dst: number): void;
  gemmGather(w: number, offsets: number, rowStart: number, x: number, pack: number, bias: number, y: number, K: number, M: number, P: number, xStride: number, yStride: number, code: number, alpha: number, beta: number): void;
  dwScratchFloats(strideH: number, strideW: number, Hq: number, Wq: number, Ho: number, Wo: number, taps: number): number;
  im2col(x: number, cols: number, c0: number, Cg: number, H: number, W: number, kh: number, kw: number, oy0: number, oy1: number, Wo: number, strideH: number, strideW: number, padTop: number, padLeft: number, dilationH: number, dilationW: number): void;
  crossProducts64(a: number, b: number, t: number, aRows: number, bRows: number, stride: number, blocks: number, lower: number): void;
  dwPatches64(
    x: number,
    channelMap: number,
    channels: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    strideH: number,
    strideW: number,
    padTop: number,
    padLeft: number,
    dilationH: number,
    dilationW: number,
    outW: number,
    step: number,
    phase: number,
    count: number,
    stride: number,
    out: number,
  ): void;
  rowSums64(x: number, rows: number, stride: number, out: number): void;
}

const PAGE_BYTES = 65536;
/**
 * Multiply-adds below which a kernel call stays on one thread by default (see `parallel`). Back to
 * back on a quiet 2-vCPU VM, splitting a pwDense call over 2 threads broke even at 0.26M (14 vs
 * 15 us) and paid from about 1M (41 vs 26 us at 1.05M). On ppocr cls (48x192) at 2 threads,
 * splitting every call made the pruned model 2-5x slower than on one thread.
 */
export const DEFAULT_MIN_PARALLEL_WORK = 1 << 20;
/** The first page is left to the module's own (tiny) static data; the second holds the thread pool's slots. */
const THREAD_SLOTS_START = PAGE_BYTES;
const HEAP_START = 2 * PAGE_BYTES;
/** Allocations are 64-byte aligned: a cache line, and every v128 load stays inside one. */
const ALIGN = 64;
/**
 * Bytes the memory always extends past the last block: the DW kernel's in-place paths (dwTaps)
 * read past an input plane and mask those values off (the direct path up to 16 bytes, the flat
 * path up to FLAT_MAX_OVERREAD = 240 floats, in assembly/kernels.ts), so the plane at the top
 * must not end the memory. (Before the first block lies the thread pool's page, for the reads
 * before a plane.)
 */
const READ_SLACK = 1024;
/** wasm32's ceiling: 4 GiB of address space, 65536 pages (reserved, not committed). */
const MAX_PAGES = 65536;
/** 4 MiB to start; it grows as packed weights and activations need. */
const INITIAL_PAGES = 64;

function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated !== false;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') return Uint8Array.from(Buffer.from(text, 'base64'));
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

interface Binaries {
  simd: Uint8Array<ArrayBuffer>;
  relaxed: Uint8Array<ArrayBuffer>;
  simdShared: Uint8Array<ArrayBuffer>;
  relaxedShared: Uint8Array<ArrayBuffer>;
}

let binaries: Binaries | undefined;
function kernelBinaries(): Binaries {
  binaries ??= {
    simd: decodeBase64(SIMD_WASM_BASE64),
    relaxed: decodeBase64(RELAXED_WASM_BASE64),
    simdShared: decodeBase64(SIMD_SHARED_WASM_BASE64),
    relaxedShared: decodeBase64(RELAXED_SHARED_WASM_BASE64),
  };
  return binaries;
}

/** What this JavaScript engine can run: SIMD at all, and relaxed SIMD. */
export interface WasmSupport {
  simd: boolean;
  relaxedSimd: boolean;
}

let support: WasmSupport | undefined;
export function wasmSupport(): WasmSupport {
  if (support !== undefined) return support;
  const hasWasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const { simd, relaxed } = kernelBinaries();
  support = { simd: hasWasm && WebAssembly.validate(simd), relaxedSimd: hasWasm && WebAssembly.validate(relaxed) };
  return support;
}

/** The error for an engine without what the backend needs, naming what to use instead. */
function unsupported(what: string): UnsupportedError {
  return new UnsupportedError(`the wasm backend needs ${what}, which this JavaScript engine does not validate`, {
    hint: "use a gpu.js mode instead (mode 'webasm' or 'cpu'; in a browser 'webgl2' or 'webgpu'), or a newer Node / browser",
  });
}

interface Block {
  offset: number;
  bytes: number;
}

export class WasmEngine {
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** True when the kernels run fused multiply-adds (relaxed SIMD). */
  readonly relaxed: boolean;
  /**
   * True when the memory is shared (SharedArrayBuffer): growing it then never detaches a view, so
   * kernel results can stay in wasm memory as views for the next kernel (see ResidentTensors).
   */
  readonly shared: boolean;
  /** Free blocks, sorted by offset, coalesced. */
  private free: Block[] = [];
  private top = HEAP_START;
  private live = 0;
  private peak = 0;
  private disposed = false;

  /** The compiled module, for worker threads to instantiate on the same memory. */
  private readonly module: WebAssembly.Module;
  private pool: Promise<ThreadPool | undefined> | undefined;
  private requestedThreads = 1;
  /** A kernel call of fewer multiply-adds runs its parts on this thread (see `parallel`). */
  minParallelWork = DEFAULT_MIN_PARALLEL_WORK;

  private constructor(memory: WebAssembly.Memory, module: WebAssembly.Module, exports: KernelExports, relaxed: boolean, shared: boolean) {
    this.memory = memory;
    this.module = module;
    this.exports = exports;
    this.relaxed = relaxed;
    this.shared = shared;
  }

  /**
   * Threads kernels may split over (the caller's included). More than one needs a shared memory;
   * without one (a page that is not cross-origin isolated) it stays 1. The workers start on the
   * first kernel call that splits.
   */
  setThreads(threads: number): number {
    this.requestedThreads = this.shared ? Math.max(1, Math.floor(threads)) : 1;
    return this.requestedThreads;
  }

  get threads(): number {
    return this.requestedThreads;
  }

  private threadPool(): Promise<ThreadPool | undefined> {
    if (this.requestedThreads <= 1) return Promise.resolve(undefined);
    this.pool ??= ThreadPool.start(this.module, this.memory, THREAD_SLOTS_START, Math.min(this.requestedThreads, ThreadPool.maxThreads(PAGE_BYTES)));
    return this.pool;
  }

  /**
   * Runs `fn` once per part (each part its argument list), the parts at once on the pool's
   * threads; one part runs here directly. A call of fewer than `minParallelWork` multiply-adds
   * (`work`) runs its parts one after the other here: handing parts to a worker costs more than
   * they take. The parts are the same either way, so results do not depend on the thread count.
   */
  async parallel(fn: ThreadExport, parts: readonly (readonly number[])[], work = Number.POSITIVE_INFINITY): Promise<void> {
    const call = (args: readonly number[]) => (this.exports[fn] as (...values: number[]) => void)(...args);
    if (parts.length === 1 || work < this.minParallelWork) {
      for (const part of parts) call(part);
      return;
    }
    const pool = await this.threadPool();
    if (pool === undefined) {
      for (const part of parts) call(part);
      return;
    }
    await pool.run(fn, parts, call);
  }

  static create(level: SimdLevel = 'auto'): WasmEngine {
    if (level !== 'auto' && level !== 'relaxed' && level !== 'simd') throw new UsageError(`unknown simd level '${String(level)}' (choose auto, relaxed or simd)`);
    const found = wasmSupport();
    if (!found.simd) throw unsupported('WebAssembly SIMD (f32x4)');
    if (level === 'relaxed' && !found.relaxedSimd) throw unsupported('relaxed SIMD (in Node 20 run node with --experimental-wasm-relaxed-simd)');
    const relaxed = level === 'relaxed' || (level === 'auto' && found.relaxedSimd);
    // Shared where the page may use SharedArrayBuffer (always in Node; in a browser only when
    // cross-origin isolated); a plain memory otherwise, where results are copied out instead.
    const shared = canShareMemory();
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, ...(shared ? { shared: true } : {}) } as WebAssembly.MemoryDescriptor);
    const all = kernelBinaries();
    const module = new WebAssembly.Module(shared ? (relaxed ? all.relaxedShared : all.simdShared) : relaxed ? all.relaxed : all.simd);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const exports = instance.exports as unknown as KernelExports;
    if ((exports.usesRelaxedSimd() === 1) !== relaxed) throw new DeprunError('INTERNAL', 'the wasm kernel module does not match the simd level it was loaded for');
    return new WasmEngine(memory, module, exports, relaxed, shared);
  }

  /** Bytes in use now and at most so far (packed weights, scratch and live activations). */
  get usage(): { liveBytes: number; peakBytes: number; memoryBytes: number } {
    return { liveBytes: this.live, peakBytes: this.peak, memoryBytes: this.memory.buffer.byteLength };
  }

  /** The bytes a block of `bytes` takes (64-byte aligned). */
  static blockBytes(bytes: number): number {
    return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  }

  /** `bytes` bytes, 64-byte aligned; grows the memory when no free block fits. */
  alloc(bytes: number): number {
    if (this.disposed) throw new DeprunError('INTERNAL', 'the wasm backend was disposed; create a new session');
    const size = WasmEngine.blockBytes(bytes);
    for (let index = 0; index < this.free.length; index++) {
      const block = this.free[index];
      if (block.bytes < size) continue;
      const offset = block.offset;
      if (block.bytes === size) this.free.splice(index, 1);
      else this.free[index] = { offset: offset + size, bytes: block.bytes - size };
      this.track(size);
      return offset;
    }
    const offset = this.top;
    const end = offset + size;
    const have = this.memory.buffer.byteLength;
    if (end + READ_SLACK > have) {
      const pages = Math.ceil((end + READ_SLACK - have) / PAGE_BYTES);
      // Grow by at least an eighth, so a growing model does not pay a grow per allocation, while
      // what is reserved stays close to what is used.
      const grow = Math.min(MAX_PAGES - have / PAGE_BYTES, Math.max(pages, Math.ceil(have / PAGE_BYTES / 8)));
      if (grow < pages) throw new UnsupportedError(`the wasm backend needs ${end} bytes, over wasm32's 4 GiB`, { hint: 'run a smaller input, or a gpu.js mode' });
      try {
        this.memory.grow(grow);
      } catch (error) {
        throw new UnsupportedError(`the wasm backend could not grow its memory to ${have + grow * PAGE_BYTES} bytes: ${error instanceof Error ? error.message : String(error)}`, {
          hint: 'close other sessions (session.dispose()) or run a smaller input',
          cause: error,
        });
      }
    }
    this.top = end;
    this.track(size);
    return offset;
  }

  private track(size: number): void {
    this.live += size;
    this.peak = Math.max(this.peak, this.live);
  }

  /** Returns a block from `alloc` (with the size it was asked for). */
  release(offset: number, bytes: number): void {
    if (this.disposed) return;
    const size = WasmEngine.blockBytes(bytes);
    this.live -= size;
    let index = 0;
    while (index < this.free.length && this.free[index].offset < offset) index++;
    this.free.splice(index, 0, { offset, bytes: size });
    // Coalesce with the neighbours, and give the tail back to `top`.
    if (index + 1 < this.free.length && this.free[index].offset + this.free[index].bytes === this.free[index + 1].offset) {
      this.free[index].bytes += this.free[index + 1].bytes;
      this.free.splice(index + 1, 1);
    }
    if (index > 0 && this.free[index - 1].offset + this.free[index - 1].bytes === this.free[index].offset) {
      this.free[index - 1].bytes += this.free[index].bytes;
      this.free.splice(index, 1);
      index--;
    }
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last.offset + last.bytes === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }

  /** A Float32Array view of `length` floats at `offset` (valid until the memory grows). */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  /** Allocates and fills a block with `values`. */
  put(values: Float32Array | Int32Array): number {
    const offset = this.alloc(values.byteLength);
    new Uint8Array(this.memory.buffer, offset, values.byteLength).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return offset;
  }

  dispose(): void {
    this.disposed = true;
    this.free = [];
    void this.pool?.then((pool) => pool?.stop());
  }
}
