import type { BackendMode } from './backends';
import type { Tensor } from '@deprune/tensor';

/**
 * Every value the runtime passes between steps is a float32 C-order tensor on the host. In the
 * `cpu` and `webasm` modes that is where gpu.js keeps data anyway; in the GL and WebGPU modes each
 * kernel uploads its inputs and reads its result back (see the package README: device-resident
 * chaining is not built yet). Integer-typed ONNX values (indices, shape vectors) are carried as
 * float32 too: shape arithmetic is folded at compile time, so only small index tensors remain.
 */
export type HostTensor = Tensor<Float32Array>;

/** Where a step runs: a gpu.js kernel of @deprune/gpu, or plain TypeScript on the host (data movement). */
export type Placement = 'device' | 'host';

/** One executable step: a node, or a conv with the BN / affine / activation nodes fused into it. */
export interface CompiledStep {
  /** The ONNX node the step computes (the first node of a fused chain). */
  readonly node: string;
  readonly opType: string;
  /** Every ONNX node this step computes, in graph order (more than one when nodes were fused). */
  readonly nodes: readonly string[];
  readonly placement: Placement;
  /** What runs: a @deprune/gpu kernel name ('dwSparse', 'binary:add', ...) or 'host:<op>'. */
  readonly kernel: string;
  /** A short note: the sparse table's slots, why a planned layer runs dense, what was fused. */
  readonly detail?: string;
  /** The runtime values it reads, by name (constants are baked into the step). */
  readonly inputs: readonly string[];
  /** The values it writes, by name. */
  readonly outputs: readonly string[];
  run(inputs: readonly HostTensor[]): Promise<HostTensor[]>;
}

/** What the session did with one plan layer (the report a user reads to see the sparse kernels ran). */
export interface PlanLayerUse {
  layer: string;
  kind: 'dw' | 'pw';
  strategy: string;
  kernel: string;
  /** Why the layer runs a dense kernel although the plan names it, if it does. */
  reason?: string;
}

export interface CompileReport {
  mode: BackendMode;
  inputShapes: Record<string, number[]>;
  steps: { node: string; opType: string; nodes: readonly string[]; placement: Placement; kernel: string; detail?: string }[];
  /** Node names whose outputs were computed at compile time (shape arithmetic, constants). */
  folded: string[];
  /** Steps per kernel name. */
  kernels: Record<string, number>;
  planLayers: PlanLayerUse[];
  /** The largest set of values alive at once during a run (float32 bytes): the activations' floor. */
  activationBytes: number;
}

export interface RunOptions {
  /**
   * Intermediate values to return besides the graph outputs (layer inputs for calibration, say).
   * Nodes are not fused across a fetched value, so it exists as the model defines it.
   */
  fetch?: readonly string[];
  /** Time every step (wall clock around each step, awaited). Default false. */
  profile?: boolean;
}

export interface StepTiming {
  node: string;
  kernel: string;
  placement: Placement;
  ms: number;
}

export interface RunResult {
  /** The graph outputs, then the fetched values, by name. */
  outputs: Record<string, HostTensor>;
  /** Per step, in execution order, when `profile` was set. */
  profile?: StepTiming[];
  /** Wall-clock time of the whole run, including input checks. */
  ms: number;
}
