import { tensor, type Tensor } from '@deprune/tensor';
import type { WasmEngine } from './engine';

/**
 * Kernel results that stay in wasm memory. With a shared memory a view never detaches when the
 * memory grows, so a kernel can return its result as a Float32Array view of its own output block;
 * when that view comes back as the next kernel's input it is used in place — no copy out, no copy
 * in. The block is freed when the runtime says it is done with the value (`release`), or at the
 * latest when the view is garbage-collected. Without a shared memory every result is copied out.
 */

interface Block {
  offset: number;
  bytes: number;
}

export interface KernelInput {
  offset: number;
  /** Frees the copy made for a host input; nothing for a resident one. */
  done(): void;
}

export class ResidentTensors {
  private readonly engine: WasmEngine;
  private blocks = new WeakMap<Float32Array, Block>();
  private readonly collected: FinalizationRegistry<Block> | undefined;

  constructor(engine: WasmEngine) {
    this.engine = engine;
    this.collected = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((block) => this.engine.release(block.offset, block.bytes)) : undefined;
  }

  /** True when `data` is a result of this backend, still in wasm memory. */
  owns(data: unknown): boolean {
    return data instanceof Float32Array && this.blocks.has(data);
  }

  /** `data` in wasm memory: in place when it is one of ours, else copied in (freed by `done`). */
  input(data: Float32Array): KernelInput {
    const block = this.blocks.get(data);
    if (block !== undefined) return { offset: block.offset, done: () => undefined };
    const offset = this.engine.put(data);
    return { offset, done: () => this.engine.release(offset, data.byteLength) };
  }

  /** The kernel result at `offset` (`alloc`ed for it): kept resident as a view, or copied out and freed. */
  output(offset: number, shape: readonly number[]): Tensor<Float32Array> {
    const count = shape.reduce((product, dim) => product * dim, 1);
    const bytes = count * 4;
    if (!this.engine.shared) {
      const copy = this.engine.f32(offset, count).slice();
      this.engine.release(offset, bytes);
      return tensor(copy, shape);
    }
    const view = this.engine.f32(offset, count);
    const block = { offset, bytes };
    this.blocks.set(view, block);
    this.collected?.register(view, block, view);
    return tensor(view, shape);
  }

  /** Frees the block behind `data` now; false when it is not ours (or already freed). */
  release(data: unknown): boolean {
    if (!(data instanceof Float32Array)) return false;
    const block = this.blocks.get(data);
    if (block === undefined) return false;
    this.blocks.delete(data);
    this.collected?.unregister(data);
    this.engine.release(block.offset, block.bytes);
    return true;
  }

  clear(): void {
    this.blocks = new WeakMap();
  }
}
