import { ShapeError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import { Input, type IKernelFunctionThis } from 'gpu.js';
import { encodeActivation, type Activation } from '../activation';
import type { GpuMode } from '../modes';
import type { KernelCreateConfig } from '../registry';
import type { ConvGeometry } from './conv-params';
import { float32Data, nonEmpty, planeInput, planeOutput, readback, runStep, type StepOutput } from './launch';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;

/**
 * The direct depth-wise conv both `dwDense` and `dwSparse` run: one thread per output element,
 * an inner product over its channel's tap slots, each slot an (offset, weight) pair. Dense passes
 * every tap of the kernel (slots = kh * kw), sparse the plan's kept taps padded to the table's
 * slots (a multiple of the staircase step t), so the two differ only in their trip count and in
 * which pixels the slots point at: the comparison the benchmark makes is like with like.
 *
 * Why this shape (measured in webasm on a 96-channel 112x112 3x3 layer, see the package README):
 * - **Padding is materialised on the host** (`paddedPlanes`): every read is then in range and the
 *   slot loop has no bounds test. In webasm a per-tap test on the column is lane-varying, and its
 *   mask bookkeeping (compare, and, any_true, blend) cost more than the tap itself. The copy costs
 *   about 1.5 ms per call on that layer, and nothing for layers without padding. In the modes whose
 *   kernel call reads its arguments before it returns (webasm, cpu) the padded buffer is reused
 *   from call to call (`PADDED_POOL_MODES`): a fresh buffer paid its page faults on every call,
 *   0.5 of a 1.2 ms copy on a 144-channel stride-2 56x56 layer.
 * - **A slot is one (offset, weight) pair**: the offset is the tap's position relative to the
 *   output's top-left input pixel, `dy * dilationH * paddedWidth + dx * dilationW`, so a tap is one
 *   table read, one add and one gather. The offsets depend on the padded width, so they are made
 *   per call from the plan's (dy, dx) table (C * slots numbers: negligible).
 * - **Slots go four at a time** (`quads`), written out, then a remainder loop (`rest` = slots mod 4,
 *   0 whenever t is a multiple of 4). gpu.js cannot unroll a loop, and in webasm the four
 *   independent gathers of a written-out quad overlap, where a one-slot loop serialises them: about
 *   1.6x faster per slot. Dense gets the same treatment, so it is not handicapped.
 * - **The input is read through a 2-D view** [paddedHeight * paddedWidth, N * C]: the pixel offset
 *   within a plane is float arithmetic (gpu.js indexes in float), exact below 2^24 pixels per
 *   plane, and gpu.js adds the plane in integer arithmetic, so large batches and channel counts
 *   stay exact.
 * - **Tables and bias are per plane** (n * C + c), repeated for each image of a batch: a thread
 *   indexes them by its plane, with no division to find its channel (a per-output cost that, like
 *   the epilogue, no pruning removes).
 * - **One output row per plane** (`planeOutput`, dims [Ho*Wo, 1, N*C]): the same flat NCHW memory,
 *   far fewer and longer rows for webasm's 4-wide SIMD steps and gpu.js's result views. The
 *   thread finds its output row and column by a division (a few vector operations per 4 outputs).
 */
interface DirectTapsConstants {
  slots: number;
  quads: number;
  rest: number;
  outWidth: number;
  strideH: number;
  strideW: number;
  paddedWidth: number;
  activation: number;
  alpha: number;
  beta: number;
}

function directTapsBody(this: IKernelFunctionThis<DirectTapsConstants>, x: number[][], pairs: number[], bias: number[]): number {
  const plane = this.thread.z;
  // The thread's output pixel, row-major in its plane (one output row per plane: see planeOutput).
  // The + 0.5 keeps the floor exact where float division is not correctly rounded (GLSL allows
  // 2.5 ulp): pixel + 0.5 is at least 0.5 / Wo away from a multiple of Wo.
  const pixel = this.thread.x;
  const outRow = Math.floor((pixel + 0.5) / this.constants.outWidth);
  const outColumn = pixel - outRow * this.constants.outWidth;
  const origin = outRow * this.constants.strideH * this.constants.paddedWidth + outColumn * this.constants.strideW;
  const first = plane * this.constants.slots * 2;
  let sum = 0;
  for (let quad = 0; quad < this.constants.quads; quad++) {
    const at = first + quad * 8;
    sum +=
      pairs[at + 1] * x[plane][origin + pairs[at]] +
      pairs[at + 3] * x[plane][origin + pairs[at + 2]] +
      pairs[at + 5] * x[plane][origin + pairs[at + 4]] +
      pairs[at + 7] * x[plane][origin + pairs[at + 6]];
  }
  for (let rest = 0; rest < this.constants.rest; rest++) {
    const at = first + (this.constants.quads * 4 + rest) * 2;
    sum += pairs[at + 1] * x[plane][origin + pairs[at]];
  }
  return fusedActivation(sum + bias[plane], this.constants.activation, this.constants.alpha, this.constants.beta);
}

/** Rows up to this many pixels are copied element by element (measured: faster below about 32). */
const SHORT_ROW = 32;

/**
 * Pixels per padded input plane below which float32 offsets are exact integers, and per output
 * plane below which the kernel's row division stays exact with GLSL's 2.5-ulp division.
 */
export const MAX_PLANE_PIXELS = 2 ** 24;
export const MAX_OUTPUT_PLANE_PIXELS = 2 ** 21;

/** An activation with its zero padding written in, as the 2-D gpu.js view the direct kernel reads. */
export interface PaddedPlanes {
  /** dims [paddedHeight * paddedWidth, N * C]: x[plane][pixel]. */
  input: Input;
  paddedHeight: number;
  /** Row stride of a plane: the offsets' unit for one row. */
  paddedWidth: number;
  /** False when x needed no padding and is passed as is. */
  copied: boolean;
}

function checkPlane(pixels: number, op: string): void {
  if (pixels > MAX_PLANE_PIXELS) {
    throw new ShapeError(`${op}: a padded input plane of ${pixels} pixels is more than ${MAX_PLANE_PIXELS} (float32 pixel offsets would be inexact); split the image into tiles`);
  }
}

function checkOutputPlane(g: ConvGeometry, op: string): void {
  const pixels = g.outHeight * g.outWidth;
  if (pixels > MAX_OUTPUT_PLANE_PIXELS) {
    throw new ShapeError(`${op}: an output plane of ${pixels} pixels is more than ${MAX_OUTPUT_PLANE_PIXELS} (the kernel's row arithmetic would be inexact); split the image into tiles`);
  }
}

/**
 * Modes whose kernel call has read (copied) its arguments by the time it returns: webasm copies
 * them into its memory and cpu computes the result, both synchronously. There a padded buffer
 * may be refilled by the next call. The GL and WebGPU modes are left out: an asynchronous
 * upload could read a buffer the next call is already refilling.
 */
export const PADDED_POOL_MODES: readonly GpuMode[] = Object.freeze(['webasm', 'cpu']);

/** Padded buffers kept for reuse: at most this many float32 values in all (256 MiB). */
const POOL_BUDGET = 64 * 2 ** 20;
const pool = new Map<string, Float32Array>();
let pooledValues = 0;

/**
 * The pooled buffer of one padding geometry, least recently used last. Every call with a key
 * writes the same interior (the key holds the planes, padded size, pads and x's size), so the
 * zero border written when the buffer was made stays zero. Over budget, the least recently used
 * buffers are dropped.
 */
function pooledBuffer(key: string, size: number): Float32Array {
  let buffer = pool.get(key);
  if (buffer !== undefined) {
    pool.delete(key);
    pool.set(key, buffer);
    return buffer;
  }
  buffer = new Float32Array(size);
  if (size > POOL_BUDGET) return buffer;
  for (const [oldKey, old] of pool) {
    if (pooledValues + size <= POOL_BUDGET) break;
    pool.delete(oldKey);
    pooledValues -= old.length;
  }
  pool.set(key, buffer);
  pooledValues += size;
  return buffer;
}

/** Drops the pooled padded buffers (`disposeBackend` calls it); for tests and long-lived processes. */
export function releasePaddedBuffers(): void {
  pool.clear();
  pooledValues = 0;
}

/**
 * x with its padding materialised: planes of exactly the rows and columns the conv reads
 * (`(out - 1) * stride + (k - 1) * dilation + 1`), zeros where ONNX pads, x elsewhere. Layers
 * without top/left padding that read no further than x reach use x itself (no copy). With
 * `reuse` the copy goes into a pooled buffer that the next call of the same geometry refills:
 * only for a caller that is done with it when its kernel call returns (`PADDED_POOL_MODES`).
 */
export function paddedPlanes(x: Tensor, g: ConvGeometry, op: string, reuse = false): PaddedPlanes {
  const paddedHeight = (g.outHeight - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1;
  const paddedWidth = (g.outWidth - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1;
  if (g.padTop === 0 && g.padLeft === 0 && paddedHeight <= g.height && paddedWidth <= g.width) {
    checkPlane(g.height * g.width, op);
    return { input: planeInput(x), paddedHeight: g.height, paddedWidth: g.width, copied: false };
  }
  checkPlane(paddedHeight * paddedWidth, op);
  const planes = g.batch * g.inChannels;
  const data = float32Data(x);
  // Only the rows and columns of x that some output reads are copied.
  const rows = Math.min(g.height, paddedHeight - g.padTop);
  const columns = Math.min(g.width, paddedWidth - g.padLeft);
  const size = planes * paddedHeight * paddedWidth;
  const padded = reuse ? pooledBuffer(`${planes}:${paddedHeight}x${paddedWidth}:${g.padTop},${g.padLeft}:${g.height}x${g.width}`, size) : new Float32Array(size);
  if (rows > 0 && columns > 0) {
    for (let plane = 0; plane < planes; plane++) {
      for (let row = 0; row < rows; row++) {
        const from = (plane * g.height + row) * g.width;
        const to = (plane * paddedHeight + row + g.padTop) * paddedWidth + g.padLeft;
        // A short row is cheaper to copy element by element than through a subarray view (an
        // allocation per row: 8,000 of them on a 576-channel 14x14 layer); a long one via set().
        if (columns <= SHORT_ROW) for (let column = 0; column < columns; column++) padded[to + column] = data[from + column];
        else padded.set(data.subarray(from, from + columns), to);
      }
    }
  }
  return { input: new Input(padded as unknown as number[], [paddedHeight * paddedWidth, planes]), paddedHeight, paddedWidth, copied: true };
}

/** A tap's slot offset: its position relative to the output's first input pixel, in a plane of row stride `paddedWidth`. */
function tapOffset(dy: number, dx: number, g: ConvGeometry, paddedWidth: number): number {
  return dy * g.dilationH * paddedWidth + dx * g.dilationW;
}

/** Dense DW weights [C, 1, kh, kw] as per-channel slots: every tap, in row-major order. */
export function denseTapPairs(weight: Float32Array, g: ConvGeometry, paddedWidth: number): Float32Array {
  const taps = g.kernelH * g.kernelW;
  const pairs = new Float32Array(g.outChannels * taps * 2);
  for (let channel = 0; channel < g.outChannels; channel++) {
    for (let tap = 0; tap < taps; tap++) {
      const at = (channel * taps + tap) * 2;
      pairs[at] = tapOffset(Math.floor(tap / g.kernelW), tap % g.kernelW, g, paddedWidth);
      pairs[at + 1] = weight[channel * taps + tap];
    }
  }
  return pairs;
}

/** A tap table's (dy, dx, weight) slots as (offset, weight) pairs; padding slots stay (0, 0). */
export function tableTapPairs(taps: Float32Array, slotCount: number, g: ConvGeometry, paddedWidth: number): Float32Array {
  const pairs = new Float32Array(slotCount * 2);
  for (let slot = 0; slot < slotCount; slot++) {
    pairs[slot * 2] = tapOffset(taps[slot * 3], taps[slot * 3 + 1], g, paddedWidth);
    pairs[slot * 2 + 1] = taps[slot * 3 + 2];
  }
  return pairs;
}

export interface DirectTapsSpec {
  x: Tensor;
  geometry: ConvGeometry;
  /** Makes the slot pairs once the padded row stride is known. */
  pairs: (paddedWidth: number) => Float32Array;
  /** Slots per channel: the trip count. */
  slots: number;
  bias: Float32Array;
  activation?: Activation;
  op: string;
}

/** `values` (one entry per channel, `width` numbers each) repeated for each of `batch` images. */
export function perPlane(values: Float32Array, batch: number): Float32Array {
  if (batch === 1) return values;
  const repeated = new Float32Array(values.length * batch);
  for (let image = 0; image < batch; image++) repeated.set(values, image * values.length);
  return repeated;
}

/**
 * Pads x, builds the slot pairs and runs the direct kernel; its raw output, dims
 * [Ho*Wo, 1, N*C] (`planeOutput`). With `pipeline` the result stays on the device (GL texture,
 * WebGPU buffer) for a next step that reads planes (`dsconv`'s PW half).
 */
export function directTapsStep(config: KernelCreateConfig, spec: DirectTapsSpec, pipeline = false): Promise<StepOutput> {
  const g = spec.geometry;
  checkOutputPlane(g, spec.op);
  const { input, paddedWidth } = paddedPlanes(spec.x, g, spec.op, PADDED_POOL_MODES.includes(config.mode));
  const act = encodeActivation(spec.activation);
  return runStep(config, {
    label: 'taps',
    body: directTapsBody,
    output: planeOutput(g.outHeight, g.outWidth, g.batch * g.outChannels),
    constants: {
      slots: spec.slots,
      quads: Math.floor(spec.slots / 4),
      rest: spec.slots % 4,
      outWidth: g.outWidth,
      strideH: g.strideH,
      strideW: g.strideW,
      paddedWidth,
      activation: act.code,
      alpha: act.alpha,
      beta: act.beta,
    },
    args: [input, nonEmpty(perPlane(spec.pairs(paddedWidth), g.batch)), perPlane(spec.bias, g.batch)],
    pipeline,
  });
}

/** Pads x, builds the slot pairs and runs the direct kernel; the NCHW result. */
export async function runDirectTaps(config: KernelCreateConfig, spec: DirectTapsSpec): Promise<Tensor<Float32Array>> {
  return readback(await directTapsStep(config, spec), spec.geometry.outputShape);
}
