import { ShapeError } from '@deprune/errors';
import { shapeSize, tensor, type Tensor } from '@deprune/tensor';
import { Input, type IGPUKernelSettings, type IKernelFunctionThis, type IKernelRunShortcut, type KernelFunction } from 'gpu.js';
import { FUSED_ACTIVATION_SOURCE, inlineFusedActivation } from '../activation';
import type { KernelCreateConfig } from '../registry';
import { biasVector as contractBiasVector, float32Data } from '@deprune/kernels';

export { float32Data } from '@deprune/kernels';

/**
 * What every kernel shares: turning tensors into gpu.js arguments, compiling a gpu.js kernel for a
 * (sizes, constants) signature through the backend's cache, running it and reading the result
 * back into a flat float32 tensor.
 *
 * Layout. gpu.js outputs are at most 3-D, indexed [z][y][x] with x fastest, so an NCHW activation
 * maps onto gpu.js dims [W, H, N*C]: thread (x, y, z) is output pixel (x, y) of plane z = n*C + c,
 * and the flat memory order is exactly NCHW. Activations go in the same way (`Input` with dims
 * [W, H, N*C]) and are read as x[plane][row][column]; weights and plan tables go in as flat 1-D
 * arrays indexed by hand. Because a kernel's output is laid out like its input, a later runtime can
 * chain kernels with `pipeline: true` (GL textures, webgpu buffers) and skip the readback.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kernel bodies take gpu.js-typed arrays
export type KernelBody = (this: IKernelFunctionThis<any>, ...args: any[]) => number;

/** A gpu.js argument: a flat array, an activation with its dims, a number, or a previous step's raw output. */
export type KernelArg = Float32Array | Input | number | StepOutput;

/** The raw result of a step (nested typed arrays, a GL texture or a webgpu handle), fed to the next step as is. */
export interface StepOutput {
  readonly raw: unknown;
  /** gpu.js output dims [x, y, z] of the step that produced it. */
  readonly dims: readonly number[];
  /**
   * The result's arrays are views of one buffer made for this call alone (webasm: a fresh slice of
   * its wasm memory), so `readback` may hand that buffer out instead of copying it.
   */
  readonly fresh?: boolean;
}

export interface StepSpec {
  /** Distinguishes the kernels of one registration in the compile cache, e.g. 'gather' and 'gemm'. */
  label: string;
  body: KernelBody;
  /** gpu.js output dims [x] | [x, y] | [x, y, z]; every entry >= 1. */
  output: readonly number[];
  /** Baked into the compiled code: loop bounds, strides, pads, activation. Part of the signature. */
  constants: Record<string, number>;
  args: readonly KernelArg[];
  /** Keep the result on the device (GL texture / webgpu buffer) to feed another step. */
  pipeline?: boolean;
  /**
   * Source text of helper functions the body calls besides `fusedActivation` (always there). Pass
   * `helper.toString()` of functions in the body's own module: a bundler renames a helper and its
   * call sites alike, so the texts stay consistent.
   */
  functions?: readonly string[];
}


/** An NCHW tensor as a gpu.js argument with dims [W, H, N*C] (read as x[n*C + c][h][w]). */
export function activationInput(x: Tensor): Input {
  const [batch, channels, height, width] = x.shape;
  return new Input(float32Data(x) as unknown as number[], [width, height, batch * channels]);
}

/**
 * An NCHW tensor as a 2-D gpu.js argument with dims [H*W, N*C], read as x[n*C + c][h*W + w]: the
 * same memory, no copy. Kernels whose threads each read one pixel of many planes, or whose taps
 * are offsets within a plane, index it with one float pixel offset (exact below 2^24 pixels per
 * plane) and leave the plane to gpu.js's integer indexing.
 */
export function planeInput(x: Tensor): Input {
  const [batch, channels, height, width] = x.shape;
  return new Input(float32Data(x) as unknown as number[], [height * width, batch * channels]);
}

/**
 * An NCHW tensor as gpu.js planes with dims [H*W, 1, N*C], read as x[n*C + c][0][h*W + w]: the
 * dims `planeOutput` gives a step's result, so a kernel that reads planes takes a host tensor
 * (this view, no copy) and a previous step's device-resident output alike (`dsconv` feeds its DW
 * half's output to its PW half without a readback).
 */
export function planesInput(x: Tensor): Input {
  const [batch, channels, height, width] = x.shape;
  return new Input(float32Data(x) as unknown as number[], [height * width, 1, batch * channels]);
}

/**
 * gpu.js output dims `[H*W, 1, planes]` for NCHW planes of H x W pixels: the same flat NCHW memory
 * as `[W, H, planes]`, but each plane is one row. webasm runs 4 consecutive threads of a row per
 * SIMD step and a row's tail (length mod 4) one thread at a time, with a call from JavaScript per
 * row, and gpu.js returns one array view per row: 14 x 14 planes as rows of 14 meant 8,064 rows
 * (a quarter of the threads scalar) on a 576-channel layer; as rows of 196, 576 rows and no tail.
 * The middle dim of 1 keeps the output 3-D: gpu.js packs 3-D outputs into a texture of any shape in
 * the GL modes, where a 2-D output's rows are texture rows (at most 8,192 wide in SwiftShader).
 * A kernel reads its pixel as `this.thread.x` and its plane as `this.thread.z`.
 */
export function planeOutput(height: number, width: number, planes: number): [number, number, number] {
  return [height * width, 1, planes];
}

/** gpu.js cannot take empty arrays; a kernel whose table is empty never reads it, so one zero stands in. */
export function nonEmpty(values: Float32Array): Float32Array {
  return values.length > 0 ? values : new Float32Array(1);
}


function argKey(arg: KernelArg): string {
  if (arg instanceof Float32Array) return `a${arg.length}`;
  if (arg instanceof Input) return `i${Array.from(arg.size).join('x')}`;
  if (typeof arg === 'number') return 'n';
  return `s${arg.dims.join('x')}`;
}

function argValue(arg: KernelArg): unknown {
  if (arg instanceof Float32Array || arg instanceof Input || typeof arg === 'number') return arg;
  return arg.raw;
}

/** The compile-cache key: everything that is baked into a compiled gpu.js kernel. */
export function signatureOf(spec: StepSpec): string {
  const constants = Object.entries(spec.constants)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return `${spec.label}|out=${spec.output.join('x')}|${constants}|args=${spec.args.map(argKey).join(',')}${spec.pipeline ? '|pipeline' : ''}`;
}

function loopLimit(constants: Record<string, number>): number {
  let largest = 1000;
  for (const value of Object.values(constants)) if (Number.isInteger(value) && value > largest) largest = value;
  return largest + 1;
}

/**
 * Compiles (or reuses) and runs one gpu.js kernel; returns its raw output.
 *
 * The fused epilogue: kernel bodies end with `return fusedActivation(value, code, alpha, beta)`
 * (declared, never imported: gpu.js transpiles a body from its source text, and a bundler or test
 * transform rewrites imported names). Here that call is written out in the body's source
 * (`inlineFusedActivation`); a call it cannot write out runs the helper FUSED_ACTIVATION_SOURCE,
 * which gpu.js gets as source text under that name.
 */
export async function runStep(config: KernelCreateConfig, spec: StepSpec): Promise<StepOutput> {
  for (const dim of spec.output) {
    if (!Number.isInteger(dim) || dim < 1) throw new ShapeError(`gpu.js output dims must be integers >= 1, got [${spec.output.join(', ')}]`);
  }
  const signature = signatureOf(spec);
  const kernel: IKernelRunShortcut = config.compile(signature, (gpu) =>
    gpu
      // The body's source with its fused epilogue written out (see inlineFusedActivation).
      .createKernel(inlineFusedActivation(spec.body.toString()) as unknown as KernelFunction, {
      output: [...spec.output],
      constants: spec.constants,
      // gpu.js takes helper functions as source text too (typed as functions only).
      functions: [FUSED_ACTIVATION_SOURCE, ...(spec.functions ?? [])] as unknown as IGPUKernelSettings['functions'],
      // Full float32 textures and highp in the GL modes; the other modes ignore or accept these.
      precision: 'single',
      tactic: 'precision',
      // A pipelined result (GL texture) is recycled by the next call of the same kernel, which
      // suits an intermediate consumed right away; a runtime that holds results must clone them.
      pipeline: spec.pipeline === true,
    })
      // GL modes cap every loop at loopMaxIterations (default 1000); our bounds are constants, often larger.
      .setLoopMaxIterations(loopLimit(spec.constants)),
  );
  const raw: unknown = await kernel(...(spec.args.map(argValue) as Parameters<IKernelRunShortcut>));
  config.assertRanInMode(signature, kernel);
  // webasm returns views of `f32.slice(...)` of its memory: a new buffer per call, never reused.
  return { raw, dims: spec.output, fresh: config.mode === 'webasm' };
}

/** Copies nested gpu.js results ([z][y][x] arrays of Float32Array) into one flat array. */
function flattenInto(value: unknown, out: Float32Array, offset: number): number {
  if (value instanceof Float32Array) {
    out.set(value, offset);
    return offset + value.length;
  }
  if (Array.isArray(value)) {
    let at = offset;
    for (const item of value) at = flattenInto(item, out, at);
    return at;
  }
  if (typeof value === 'number') {
    out[offset] = value;
    return offset + 1;
  }
  throw new ShapeError(`unexpected gpu.js result of type ${Object.prototype.toString.call(value)}`);
}

/**
 * The one buffer behind a nested gpu.js result made for this call (`StepOutput.fresh`: webasm's
 * rows are consecutive views of one new slice of its memory), when its first row starts the
 * buffer, its last row ends it, and the buffer holds exactly `size` floats; undefined otherwise.
 * Only the two ends are looked at: walking every row (C * H of them) cost about as much as the
 * copy it saves on layers with small planes.
 */
function contiguousBuffer(value: unknown, size: number): Float32Array | undefined {
  const end = (item: unknown, last: boolean): Float32Array | undefined => {
    let at = item;
    while (Array.isArray(at) && at.length > 0) at = at[last ? at.length - 1 : 0];
    return at instanceof Float32Array ? at : undefined;
  };
  const first = end(value, false);
  const last = end(value, true);
  if (first === undefined || last === undefined || first.buffer !== last.buffer || first.byteOffset !== 0) return undefined;
  if (last.byteOffset + last.byteLength !== size * 4 || first.buffer.byteLength !== size * 4) return undefined;
  return new Float32Array(first.buffer, 0, size);
}

/** Reads a step's result back to the host as a float32 tensor of `shape` (NCHW order). */
export async function readback(output: StepOutput, shape: readonly number[]): Promise<Tensor<Float32Array>> {
  let value = output.raw;
  const withToArray = value as { toArray?: () => unknown } | null;
  if (withToArray !== null && typeof withToArray === 'object' && typeof withToArray.toArray === 'function') {
    value = await withToArray.toArray();
  }
  const size = shapeSize(shape);
  // A result made for this call alone is already the flat NCHW data: no copy (about 1 ms on a
  // 1.2M-element layer, paid alike by every kernel).
  const shared = output.fresh === true ? contiguousBuffer(value, size) : undefined;
  if (shared !== undefined) return tensor(shared, shape);
  const data = new Float32Array(size);
  const written = flattenInto(value, data, 0);
  if (written !== size) throw new ShapeError(`gpu.js returned ${written} values for an output of shape [${shape.join(', ')}] (${size} values)`);
  return tensor(data, shape);
}

/** Zeros of `shape`, for outputs with no elements (gpu.js cannot launch an empty kernel). */
export function emptyResult(shape: readonly number[]): Tensor<Float32Array> {
  return tensor(new Float32Array(shapeSize(shape)), shape);
}

/** A float32 vector of `length` values: the bias, or zeros when there is none; never empty (gpu.js cannot take an empty array). */
export function biasVector(bias: Tensor | null | undefined, length: number, op: string): Float32Array {
  return nonEmpty(contractBiasVector(bias, length, op));
}
