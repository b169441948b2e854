import { WasmEngine } from './engine';

/**
 * Constants that live in wasm memory for as long as the JavaScript object they were made from:
 * packed weights, tap lists, padded biases. Each is made once per (owner object, tag) — the
 * runtime passes the same weight tensor or table on every call, so a layer packs its weights on
 * its first call and never again — and released when the owner is garbage-collected or the
 * backend is disposed.
 */

interface Block {
  offset: number;
  bytes: number;
}

export class ResidentConstants {
  private readonly engine: WasmEngine;
  private byOwner = new WeakMap<object, Map<string, Block>>();
  /** Every block, so dispose() can account for all of them (the WeakMap cannot be walked). */
  private readonly all = new Set<Block>();
  private readonly collected: FinalizationRegistry<Map<string, Block>> | undefined;

  constructor(engine: WasmEngine) {
    this.engine = engine;
    this.collected =
      typeof FinalizationRegistry === 'function'
        ? new FinalizationRegistry((blocks) => {
            for (const block of blocks.values()) this.drop(block);
          })
        : undefined;
  }

  /** The offset of `make()`'s values in wasm memory, made on the first call for (owner, tag). */
  get(owner: object, tag: string, make: () => Float32Array | Int32Array): number {
    let blocks = this.byOwner.get(owner);
    if (blocks === undefined) {
      blocks = new Map();
      this.byOwner.set(owner, blocks);
      this.collected?.register(owner, blocks);
    }
    const found = blocks.get(tag);
    if (found !== undefined) return found.offset;
    const values = make();
    const block = { offset: this.engine.put(values), bytes: values.byteLength };
    blocks.set(tag, block);
    this.all.add(block);
    return block.offset;
  }

  private drop(block: Block): void {
    if (!this.all.delete(block)) return;
    this.engine.release(block.offset, block.bytes);
  }

  /** Bytes held by resident constants (as allocated: whole 64-byte blocks). */
  get bytes(): number {
    let total = 0;
    for (const block of this.all) total += WasmEngine.blockBytes(block.bytes);
    return total;
  }

  clear(): void {
    for (const block of [...this.all]) this.drop(block);
    this.byOwner = new WeakMap();
  }
}
