import { DeprunError, ShapeError, UsageError } from '@deprune/errors';
import type { LayerPlanEntry } from '@deprune/masks';
import { indexGraph, type OnnxModel } from '@deprune/onnx';
import { validatePlanForModel, type PrunePlan } from '@deprune/plan';
import { shapeSize } from '@deprune/tensor';
import { availableCores, createKernelBackend, resolveBackendMode, type BackendMode, type SessionBackend } from './backends';
import type { SimdLevel } from '@deprune/wasm';
import { DEVICE_RESIDENT_MODES } from './chains';
import { compileGraph, type CompiledGraph } from './compile';
import type { CompileReport, HostTensor, RunOptions, RunResult, StepTiming } from './types';

export interface SessionOptions {
  /**
   * The backend: 'wasm' (WebAssembly SIMD kernels on the CPU), a gpu.js mode, or 'auto' (default):
   * wasm in Node and in a browser without a hardware GPU, else the best gpu.js mode.
   */
  mode?: BackendMode | 'auto';
  /** wasm mode: 'auto' (default) uses relaxed SIMD (FMA) where the engine validates it; 'simd' never. */
  simd?: SimdLevel;
  /**
   * wasm mode: threads the kernels split over, this one included (default: the available cores).
   * More than one needs SharedArrayBuffer (in a page: cross-origin isolation); without it the
   * session runs one thread and `backendInfo.threads` says so. Results are the same at any count.
   */
  threads?: number;
  /**
   * The plan `deprune prune` wrote next to the model (`*.deprune.json`). Its DCP / PCP layers run
   * on the sparse kernels; a `channel` plan's model is simply smaller and runs dense. The plan is
   * checked against the model first: names, kinds, shapes, and that every pruned weight is 0.
   */
  plan?: PrunePlan | null;
  /** Run the plan's layers on the sparse kernels (default true); false runs the same weights dense. */
  sparse?: boolean;
  /** Fold BN / affine / activation nodes into the kernels before them (default true). */
  fuse?: boolean;
  /**
   * Run each DW conv and the PW conv that alone reads it as one `dsconv` step, the intermediate
   * kept on the device (default: in the modes with memory of their own, `DEVICE_RESIDENT_MODES`,
   * wasm included; in webasm and cpu the data is on the host anyway, and separate steps keep
   * per-layer profiles).
   */
  chain?: boolean;
  /**
   * Refuse (a UsageError naming the model, before anything is allocated) input shapes whose
   * largest set of live activations needs more bytes than this: a tiny model with a huge pad or
   * Resize scale, or a wrong input shape, would otherwise take gigabytes. Default 1 GiB
   * (`DEFAULT_MAX_ACTIVATION_BYTES`; PP-OCRv4 det at 1280x1280 needs 125 MiB).
   */
  maxActivationBytes?: number;
}

/** The activations a session accepts by default (see `SessionOptions.maxActivationBytes`). */
export const DEFAULT_MAX_ACTIVATION_BYTES = 2 ** 30;

/**
 * A model ready to run on a kernel backend (@deprune/wasm, or a gpu.js mode of @deprune/gpu).
 * Input shapes may differ from run to run (dynamic H and W, say): each new set of shapes compiles
 * once and is cached, like a prepared statement.
 */
export class Session {
  readonly model: OnnxModel;
  readonly mode: BackendMode;
  /** Why this mode (for 'auto': what it skipped). */
  readonly modeReason: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly planEntries: ReadonlyMap<string, LayerPlanEntry>;
  private readonly sparse: boolean;
  private readonly fuse: boolean;
  private readonly chain: boolean;
  private readonly maxActivationBytes: number;
  private readonly compiled = new Map<string, CompiledGraph>();
  private readonly backend: SessionBackend;
  private disposed = false;

  private constructor(model: OnnxModel, mode: BackendMode, modeReason: string, planEntries: ReadonlyMap<string, LayerPlanEntry>, options: SessionOptions, backend: SessionBackend) {
    this.model = model;
    this.mode = mode;
    this.modeReason = modeReason;
    const index = indexGraph(model);
    this.inputNames = index.inputs;
    this.outputNames = index.outputs;
    this.planEntries = planEntries;
    this.sparse = options.sparse ?? true;
    this.fuse = options.fuse ?? true;
    this.chain = options.chain ?? DEVICE_RESIDENT_MODES.includes(mode);
    this.maxActivationBytes = options.maxActivationBytes ?? DEFAULT_MAX_ACTIVATION_BYTES;
    this.backend = backend;
  }

  /** The backend's name and, for wasm, its instruction set and memory (what a run report shows). */
  get backendInfo(): { name: string; simd?: string; threads: number; memory?: Record<string, number> } {
    const backend = this.backend as SessionBackend & { simd?: string; threads?: number; memoryUsage?: () => Record<string, number> };
    return {
      name: backend.name,
      ...(backend.simd !== undefined ? { simd: backend.simd } : {}),
      threads: backend.threads ?? 1,
      ...(backend.memoryUsage ? { memory: backend.memoryUsage() } : {}),
    };
  }

  /**
   * Frees what the session holds: its compiled graphs and, on the wasm backend, its memory
   * (packed weights, activations). The gpu.js modes share one backend per mode across sessions;
   * `disposeBackend` of @deprune/gpu frees those. Runs after dispose() are refused.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.compiled.clear();
    this.backend.dispose?.();
  }

  static async create(model: OnnxModel, options: SessionOptions = {}): Promise<Session> {
    const { mode, reason } = await resolveBackendMode(options.mode ?? 'auto');
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new UsageError(`threads must be a whole number >= 1, got ${String(options.threads)}`, { file: model.source });
    }
    const limit = options.maxActivationBytes;
    if (limit !== undefined && !(typeof limit === 'number' && limit > 0 && Number.isFinite(limit))) {
      throw new UsageError(`maxActivationBytes must be a positive number of bytes, got ${String(limit)}`, { file: model.source });
    }
    const threads = options.threads ?? (await availableCores());
    let entries = new Map<string, LayerPlanEntry>();
    if (options.plan !== undefined && options.plan !== null) {
      validatePlanForModel(options.plan, model, { checkWeights: true });
      // A channel plan's layers were removed physically: the model itself is the smaller network.
      if (options.plan.physical === null) entries = new Map(options.plan.layers.map((entry) => [entry.name, entry]));
    }
    return new Session(model, mode, reason, entries, options, await createKernelBackend(mode, { simd: options.simd, threads }));
  }

  /** Compiles for these input shapes (by input name; '*' for a single-input model) and returns what will run. */
  compile(inputShapes: Record<string, readonly number[]>, fetch: readonly string[] = []): CompileReport {
    return this.compiledFor(inputShapes, fetch).report;
  }

  private compiledFor(inputShapes: Record<string, readonly number[]>, fetch: readonly string[]): CompiledGraph {
    const keep = [...new Set(fetch)].sort();
    const key = JSON.stringify([Object.entries(inputShapes).sort(), keep]);
    let graph = this.compiled.get(key);
    if (graph === undefined) {
      if (this.disposed) throw new UsageError('this session was disposed', { file: this.model.source, hint: 'create a new session' });
      graph = compileGraph(this.model, { mode: this.mode, backend: this.backend, inputShapes, planEntries: this.planEntries, sparse: this.sparse, fuse: this.fuse, chain: this.chain, keep: new Set(keep) });
      // Checked on the compiled plan, before any activation exists (and not cached when refused).
      const needed = graph.report.activationBytes;
      if (needed > this.maxActivationBytes) {
        const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0);
        throw new UsageError(`at these input shapes (${Object.entries(inputShapes).map(([name, shape]) => `${name} [${shape.join(', ')}]`).join(', ')}) the model's activations need ${mib(needed)} MiB, over the ${mib(this.maxActivationBytes)} MiB limit`, {
          file: this.model.source,
          hint: 'check the input shape and the model (pads, Resize scales), or raise the limit (maxActivationBytes; deprune run --max-memory)',
        });
      }
      this.compiled.set(key, graph);
    }
    return graph;
  }

  /** Checks the feeds: every graph input, float32 data that fills its shape, nothing else. */
  private checkFeeds(feeds: Record<string, HostTensor>): Record<string, readonly number[]> {
    if (feeds === null || typeof feeds !== 'object') throw new UsageError(`run needs an object of inputs by name (${this.inputNames.join(', ')})`);
    const file = this.model.source;
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) throw new UsageError(`'${name}' is not an input of the model`, { file, hint: `its inputs are: ${this.inputNames.join(', ')}` });
    }
    const shapes: Record<string, readonly number[]> = {};
    for (const name of this.inputNames) {
      const feed = feeds[name];
      if (feed === undefined) throw new UsageError(`input '${name}' is missing`, { file, hint: `pass every input: ${this.inputNames.join(', ')}` });
      if (!(feed.data instanceof Float32Array)) {
        throw new DeprunError('BAD_DTYPE', `input '${name}' must be float32 (a Float32Array), got ${Object.prototype.toString.call(feed.data).slice(8, -1)}`, { file, hint: 'convert it with Float32Array.from' });
      }
      if (!Array.isArray(feed.shape) || shapeSize(feed.shape) !== feed.data.length) {
        throw new ShapeError(`input '${name}' has ${feed.data.length} values but shape [${String(feed.shape)}]`, { file });
      }
      shapes[name] = feed.shape;
    }
    return shapes;
  }

  /**
   * Runs the model. Returns the graph outputs (and `fetch`ed intermediates) as float32 tensors; a
   * wrong input name, dtype or shape is a DeprunError naming the input (shapes are checked against
   * the model's declared dims by shape inference).
   */
  async run(feeds: Record<string, HostTensor>, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    if (this.disposed) throw new UsageError('this session was disposed', { file: this.model.source, hint: 'create a new session' });
    const graph = this.compiledFor(this.checkFeeds(feeds), options.fetch ?? []);
    const values = new Map<string, HostTensor>(Object.entries(feeds));
    const live = new LiveData(this.backend);
    try {
      const profile = await this.execute(graph, values, live, options.profile === true);
      const outputs: Record<string, HostTensor> = {};
      for (const name of [...graph.outputs, ...(options.fetch ?? [])]) {
        const value = values.get(name) ?? graph.constants.get(name)!;
        // What the caller gets is theirs: a copy of data the backend still owns.
        outputs[name] = this.backend.owns?.(value) ? { data: value.data.slice(), shape: value.shape } : value;
      }
      return { outputs, ...(profile ? { profile } : {}), ms: performance.now() - started };
    } finally {
      for (const value of values.values()) live.drop(value);
    }
  }

  /** Runs the steps in order, dropping each value after its last reader; the profile when asked. */
  private async execute(graph: CompiledGraph, values: Map<string, HostTensor>, live: LiveData, timed: boolean): Promise<StepTiming[] | undefined> {
    const profile: StepTiming[] | undefined = timed ? [] : undefined;
    for (let position = 0; position < graph.steps.length; position++) {
      const step = graph.steps[position];
      const inputs = step.inputs.map((name) => values.get(name)!);
      const stepStart = profile ? performance.now() : 0;
      let outputs: HostTensor[];
      try {
        outputs = await step.run(inputs);
      } catch (error) {
        if (error instanceof DeprunError && error.node !== undefined) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new DeprunError(error instanceof DeprunError ? error.code : 'INTERNAL', `${step.opType} failed on ${step.kernel}: ${message}`, { file: this.model.source, node: step.node, cause: error });
      }
      if (profile) profile.push({ node: step.node, kernel: step.kernel, placement: step.placement, ms: performance.now() - stepStart });
      step.outputs.forEach((name, index) => {
        values.set(name, outputs[index]);
        live.hold(outputs[index]);
      });
      for (const name of graph.releases[position]) {
        live.drop(values.get(name));
        values.delete(name);
      }
    }
    return profile;
  }

}

/**
 * The step results alive in one run, counted per data array: a reshape shares its input's data,
 * so a backend's block (wasm memory) goes back to it only when the last value reading it is
 * dropped. Data the run did not produce (feeds, constants) is never handed back.
 */
class LiveData {
  private readonly readers = new Map<unknown, number>();
  constructor(private readonly backend: SessionBackend) {}

  hold(value: HostTensor): void {
    this.readers.set(value.data, (this.readers.get(value.data) ?? 0) + 1);
  }

  drop(value: HostTensor | undefined): void {
    if (value === undefined) return;
    const count = this.readers.get(value.data);
    if (count === undefined) return;
    if (count > 1) this.readers.set(value.data, count - 1);
    else {
      this.readers.delete(value.data);
      this.backend.release?.(value);
    }
  }
}

/** `Session.create`: a model (and optional plan) ready to run on a kernel backend. */
export function createSession(model: OnnxModel, options: SessionOptions = {}): Promise<Session> {
  return Session.create(model, options);
}
