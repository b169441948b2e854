import { DeprunError } from '@deprune/errors';

/**
 * A pool of worker threads over the engine's shared memory. Every worker instantiates the same
 * kernel module on the same memory, so a kernel call splits into equal parts (pixel blocks, panels
 * of rows, channels) that the main thread and the workers run at once, each writing its own part
 * of the output. Each output is computed by exactly the arithmetic a one-thread call does, so
 * results are equal bit for bit at any thread count.
 *
 * The hand-off is a few words of shared memory per worker, not messages: the main thread writes a
 * task (the export's index and its arguments) and bumps the worker's generation; the worker spins
 * briefly, then sleeps on that word (Atomics.wait), claims the task, runs it, and publishes the
 * generation it finished. Kernel calls come back to back during a run, so the short spin keeps a
 * worker awake between them instead of paying a futex wake-up per layer.
 *
 * A task goes to whichever thread claims it first (a compare-and-swap of the slot's claim word):
 * the main thread, done with its own part, takes every part whose worker has not started it yet,
 * instead of waiting for a worker that is still waking up, or that another process keeps off its
 * core. A part computes the same whichever thread runs it.
 */

/** The exports a worker can run, by index (the task word names one). */
export const THREAD_EXPORTS = ['gemmPanels', 'dwTaps', 'gemmGather'] as const;
export type ThreadExport = (typeof THREAD_EXPORTS)[number];

/** Words per worker slot: generation, done, export index, argument count, claim, spare, then the arguments (as float64 pairs). */
const SLOT_INTS = 64;
const ARGS_OFFSET_INTS = 8;
/** Up to 28 arguments (float64, 2 ints each). */
const MAX_ARGS = (SLOT_INTS - ARGS_OFFSET_INTS) / 2;
/** Main-thread spin iterations before sleeping on a worker's done word. */
const MAIN_SPIN = 1 << 15;

/**
 * The worker's code, plain JavaScript with no imports: run with `eval` by Node's worker_threads
 * and from a Blob URL in a browser. It blocks in its loop for its whole life (a dedicated worker).
 */
const WORKER_SOURCE = `
const EXPORTS = ${JSON.stringify(THREAD_EXPORTS)};
function serve(module, memory, slotByte, spin) {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const run = EXPORTS.map((name) => instance.exports[name]);
  const ctrl = new Int32Array(memory.buffer, slotByte, ${SLOT_INTS});
  const args = new Float64Array(memory.buffer, slotByte + ${ARGS_OFFSET_INTS * 4}, ${MAX_ARGS});
  let seen = 0;
  for (;;) {
    let spins = 0;
    while (Atomics.load(ctrl, 0) === seen && spins < spin) spins++;
    if (Atomics.load(ctrl, 0) === seen) {
      Atomics.wait(ctrl, 0, seen);
      continue;
    }
    seen = Atomics.load(ctrl, 0);
    if (seen < 0) return;
    // The main thread may have taken this task already (it then publishes it done itself).
    const claim = Atomics.load(ctrl, 4);
    if (claim === seen || Atomics.compareExchange(ctrl, 4, claim, seen) !== claim) continue;
    run[ctrl[2]](...args.subarray(0, ctrl[3]));
    Atomics.store(ctrl, 1, seen);
    Atomics.notify(ctrl, 1);
  }
}
if (typeof require === 'function' && typeof process === 'object') {
  const { workerData } = require('node:worker_threads');
  serve(workerData.module, workerData.memory, workerData.slotByte, workerData.spin);
} else {
  self.onmessage = (event) => serve(event.data.module, event.data.memory, event.data.slotByte, event.data.spin);
}
`;

interface WorkerHandle {
  terminate(): unknown;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Can this thread block in Atomics.wait (Node, or a worker; never a page's main thread)? */
function canBlock(): boolean {
  return isNode() || typeof (globalThis as { document?: unknown }).document === 'undefined';
}

async function startWorker(module: WebAssembly.Module, memory: WebAssembly.Memory, slotByte: number, spin: number): Promise<WorkerHandle> {
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, slotByte, spin } });
    // A pool must not keep a finished CLI alive.
    worker.unref();
    return worker;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  worker.postMessage({ module, memory, slotByte, spin });
  return worker;
}

export class ThreadPool {
  /** Threads including the caller's: 1 + workers. */
  readonly threads: number;
  private readonly memory: WebAssembly.Memory;
  private readonly slotByte: number;
  private readonly workers: WorkerHandle[];
  private generation = 0;
  private stopped = false;

  private constructor(memory: WebAssembly.Memory, slotByte: number, workers: WorkerHandle[]) {
    this.memory = memory;
    this.slotByte = slotByte;
    this.workers = workers;
    this.threads = workers.length + 1;
  }

  /** Bytes of shared memory the pool's slots take for `workers` workers. */
  static slotBytes(workers: number): number {
    return workers * SLOT_INTS * 4;
  }

  /** The most threads whose slots fit in `bytes`. */
  static maxThreads(bytes: number): number {
    return Math.floor(bytes / (SLOT_INTS * 4)) + 1;
  }

  /** Starts `threads - 1` workers on `module` and the shared `memory`, slots at `slotByte`. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, slotByte: number, threads: number, spin = 1 << 15): Promise<ThreadPool> {
    const workers: WorkerHandle[] = [];
    new Int32Array(memory.buffer, slotByte, ThreadPool.slotBytes(threads - 1) / 4).fill(0);
    for (let index = 0; index < threads - 1; index++) workers.push(await startWorker(module, memory, slotByte + index * SLOT_INTS * 4, spin));
    return new ThreadPool(memory, slotByte, workers);
  }

  private slot(worker: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.slotByte + worker * SLOT_INTS * 4, SLOT_INTS);
  }

  /**
   * Runs `parts[0]` here and `parts[i]` on worker i - 1 (at most `threads` parts), each the
   * argument list of `fn`, and returns when all are done.
   */
  async run(fn: ThreadExport, parts: readonly (readonly number[])[], local: (args: readonly number[]) => void): Promise<void> {
    if (this.stopped) throw new DeprunError('INTERNAL', 'the wasm thread pool was stopped');
    if (parts.length > this.threads) throw new DeprunError('INTERNAL', `${parts.length} parts for ${this.threads} threads`);
    const generation = ++this.generation;
    const index = THREAD_EXPORTS.indexOf(fn);
    for (let worker = 0; worker < parts.length - 1; worker++) {
      const args = parts[worker + 1];
      if (args.length > MAX_ARGS) throw new DeprunError('INTERNAL', `${fn} takes ${args.length} arguments; a thread slot holds ${MAX_ARGS}`);
      const slot = this.slot(worker);
      new Float64Array(this.memory.buffer, this.slotByte + worker * SLOT_INTS * 4 + ARGS_OFFSET_INTS * 4, MAX_ARGS).set(args);
      slot[2] = index;
      slot[3] = args.length;
      Atomics.store(slot, 0, generation);
      Atomics.notify(slot, 0);
    }
    local(parts[0]);
    // Parts no worker has claimed yet run here; the others are waited for.
    const claimed: number[] = [];
    for (let worker = 0; worker < parts.length - 1; worker++) {
      const slot = this.slot(worker);
      const claim = Atomics.load(slot, 4);
      if (claim !== generation && Atomics.compareExchange(slot, 4, claim, generation) === claim) {
        local(parts[worker + 1]);
        Atomics.store(slot, 1, generation);
      } else claimed.push(worker);
    }
    for (const worker of claimed) await this.waitFor(worker, generation);
  }

  private async waitFor(worker: number, generation: number): Promise<void> {
    const slot = this.slot(worker);
    let spins = 0;
    while (Atomics.load(slot, 1) !== generation && spins < MAIN_SPIN) spins++;
    while (Atomics.load(slot, 1) !== generation) {
      const seen = Atomics.load(slot, 1);
      if (canBlock()) Atomics.wait(slot, 1, seen, 1000);
      else {
        const waitAsync = (Atomics as unknown as { waitAsync?: (array: Int32Array, index: number, value: number, timeout?: number) => { value: Promise<string> | string } }).waitAsync;
        if (waitAsync !== undefined) await waitAsync(slot, 1, seen, 1000).value;
        else await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (let worker = 0; worker < this.workers.length; worker++) {
      const slot = this.slot(worker);
      Atomics.store(slot, 0, -1);
      Atomics.notify(slot, 0);
    }
    for (const worker of this.workers) void worker.terminate();
  }
}
