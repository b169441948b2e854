import { UsageError } from '@deprune/errors';
import { WasmEngine } from './engine';

/**
 * Float64 sums of products on the wasm module: the input moments calibration accumulates over
 * every input vector of every sample (`X X^T`, `X_p X_d^T`, row sums; @deprune/calibrate). In
 * plain JavaScript those loops, and the depth-wise patch gathering before them, were most of the
 * time of a calibrated prune (58 of 79 CPU seconds for PP-OCRv4 rec on 32 samples); here they run
 * two float64 lanes at a time on a 4 x 2 register tile.
 *
 * The sums stay float64: the inputs are float32, so every product is exact in float64 and a
 * result differs from a scalar float64 loop only by the order of the additions. Calls are
 * synchronous, on the calling thread (the accumulators run between forward passes).
 */

const DOUBLE = 8;
const FLOAT = 4;

/** Where a depth-wise layer's sampled patches come from (see `addDepthwiseMoments`). */
export interface DepthwisePatchGeometry {
  /** Input plane size. */
  height: number;
  width: number;
  kernel: readonly [number, number];
  strides: readonly [number, number];
  /** Top and left padding (bottom and right only bound the output size). */
  padTop: number;
  padLeft: number;
  dilations: readonly [number, number];
  /** Output width: pixel index p is output row floor(p / outWidth). */
  outWidth: number;
  /** The sampled output pixels: `phase`, `phase + step`, ... (`count` of them). */
  step: number;
  phase: number;
  count: number;
}

/** The sums `addDepthwiseMoments` adds into: per channel block of K (taps) values. */
export interface DepthwiseMomentTargets {
  /** channels x K x K: sum P P^T of the first input's patches. */
  gram: Float64Array;
  /** channels x K: row sums of those patches. */
  sum: Float64Array;
  /** With a second input: channels x K x K, sum P D^T. */
  cross?: Float64Array;
  /** With a second input: channels x K x K, sum D D^T (left out when not needed). */
  secondGram?: Float64Array;
  /** With a second input: channels x K, row sums of D. */
  secondSum?: Float64Array;
}

/** A block of this engine's memory holding float64 rows `stride` apart. */
interface Staged {
  at: number;
  bytes: number;
  rows: number;
}

export class WasmProducts {
  private readonly engine: WasmEngine;

  private constructor(engine: WasmEngine) {
    this.engine = engine;
  }

  /** Plain SIMD is enough here (float64 multiply then add, the same on every engine). */
  static create(): WasmProducts {
    return new WasmProducts(WasmEngine.create('simd'));
  }

  /**
   * For each of `blocks` blocks: `target[targetOffset + (block * aRows + i) * bRows + j] +=
   * sum_p a[block][i][p] * b[block][j][p]`, with `a` holding blocks x aRows rows and `b` blocks x
   * bRows rows of `length` values each, packed.
   */
  addCrossProducts(a: Float32Array, aRows: number, b: Float32Array, bRows: number, length: number, target: Float64Array, targetOffset = 0, blocks = 1): void {
    checkMatrix('a', a, blocks * aRows, length);
    checkMatrix('b', b, blocks * bRows, length);
    checkTarget(target, targetOffset, blocks * aRows * bRows);
    if (length === 0 || aRows === 0 || bRows === 0) return;
    const stride = evenLength(length);
    const stagedA = this.stageRows(a, blocks * aRows, length, stride);
    const stagedB = this.stageRows(b, blocks * bRows, length, stride);
    try {
      this.addProducts(stagedA, stagedB, aRows, bRows, stride, blocks, target, targetOffset);
    } finally {
      this.free(stagedB);
      this.free(stagedA);
    }
  }

  /** For each block: `X X^T` (rows x rows, symmetric) added into `target` from `targetOffset + block * rows * rows`. */
  addGram(x: Float32Array, rows: number, length: number, target: Float64Array, targetOffset = 0, blocks = 1): void {
    checkMatrix('x', x, blocks * rows, length);
    checkTarget(target, targetOffset, blocks * rows * rows);
    if (length === 0 || rows === 0) return;
    const stride = evenLength(length);
    const staged = this.stageRows(x, blocks * rows, length, stride);
    try {
      this.addProducts(staged, null, rows, rows, stride, blocks, target, targetOffset);
    } finally {
      this.free(staged);
    }
  }

  /**
   * The moments of a depth-wise layer's sampled patches for one sample: `first` holds its
   * `channels` input planes (height x width each); each channel's K x count patch matrix P (see
   * `geometry`) adds P P^T and its row sums into `targets`. With `second` (another network's input
   * to the same layer, planes picked by `channelMap`, identity by default), its patches D add P D^T,
   * and D D^T and D's row sums where those targets are given. The patches never leave wasm memory.
   */
  addDepthwiseMoments(first: Float32Array, channels: number, geometry: DepthwisePatchGeometry, targets: DepthwiseMomentTargets, second?: { planes: Float32Array; channelMap?: Int32Array }): void {
    checkGeometry(geometry);
    const [kh, kw] = geometry.kernel;
    const taps = kh * kw;
    const plane = geometry.height * geometry.width;
    checkMatrix('first', first, channels, plane);
    checkTarget(targets.gram, 0, channels * taps * taps);
    checkTarget(targets.sum, 0, channels * taps);
    if (second !== undefined && second.channelMap !== undefined) {
      const available = Math.floor(second.planes.length / Math.max(plane, 1));
      if (second.channelMap.length < channels || second.channelMap.some((channel) => !Number.isInteger(channel) || channel < 0 || channel >= available)) {
        throw new UsageError(`the channel map must name ${channels} planes of the ${available} in the second input`);
      }
    } else if (second !== undefined) {
      checkMatrix('second', second.planes, channels, plane);
    }
    if (second === undefined && (targets.cross || targets.secondGram || targets.secondSum)) throw new UsageError('cross and second-input targets need a second input');
    if (geometry.count === 0 || channels === 0) return;
    const stride = evenLength(geometry.count);
    const patchesP = this.patches(first, channels, geometry, stride, undefined);
    const patchesD = second === undefined ? undefined : this.patches(second.planes, channels, geometry, stride, second.channelMap);
    try {
      this.addProducts(patchesP, null, taps, taps, stride, channels, targets.gram, 0);
      this.addRowSums(patchesP, stride, targets.sum);
      if (patchesD !== undefined) {
        if (targets.cross) this.addProducts(patchesP, patchesD, taps, taps, stride, channels, targets.cross, 0);
        if (targets.secondGram) this.addProducts(patchesD, null, taps, taps, stride, channels, targets.secondGram, 0);
        if (targets.secondSum) this.addRowSums(patchesD, stride, targets.secondSum);
      }
    } finally {
      if (patchesD !== undefined) this.free(patchesD);
      this.free(patchesP);
    }
  }

  dispose(): void {
    this.engine.dispose();
  }

  /** float32 rows copied in as float64 rows of `stride` (zero-padded). */
  private stageRows(source: Float32Array, rows: number, length: number, stride: number): Staged {
    const bytes = rows * stride * DOUBLE;
    const at = this.engine.alloc(bytes);
    const view = new Float64Array(this.engine.memory.buffer, at, rows * stride);
    if (stride === length) {
      view.set(source.subarray(0, rows * length));
    } else {
      for (let row = 0; row < rows; row++) {
        view.set(source.subarray(row * length, (row + 1) * length), row * stride);
        view[row * stride + length] = 0;
      }
    }
    return { at, bytes, rows };
  }

  /** The sampled patches of `channels` planes of `planes` (picked by `channelMap`), as float64 rows. */
  private patches(planes: Float32Array, channels: number, g: DepthwisePatchGeometry, stride: number, channelMap: Int32Array | undefined): Staged {
    const { engine } = this;
    const planeFloats = g.height * g.width;
    const used = channelMap === undefined ? channels * planeFloats : planes.length - (planes.length % Math.max(planeFloats, 1));
    const inputBytes = used * FLOAT;
    const input = engine.alloc(inputBytes);
    const mapBytes = channelMap === undefined ? 0 : channels * FLOAT;
    const map = channelMap === undefined ? 0 : engine.alloc(mapBytes);
    const rows = channels * g.kernel[0] * g.kernel[1];
    const bytes = rows * stride * DOUBLE;
    const at = engine.alloc(bytes);
    try {
      engine.f32(input, used).set(planes.subarray(0, used));
      if (channelMap !== undefined) engine.i32(map, channels).set(channelMap.subarray(0, channels));
      const [kh, kw] = g.kernel;
      engine.exports.dwPatches64(input, map, channels, g.height, g.width, kh, kw, g.strides[0], g.strides[1], g.padTop, g.padLeft, g.dilations[0], g.dilations[1], g.outWidth, g.step, g.phase, g.count, stride, at);
    } finally {
      if (channelMap !== undefined) engine.release(map, mapBytes);
      engine.release(input, inputBytes);
    }
    return { at, bytes, rows };
  }

  /** Runs crossProducts64 (a Gram matrix when `b` is null) and adds the sums into `target`. */
  private addProducts(a: Staged, b: Staged | null, aRows: number, bRows: number, stride: number, blocks: number, target: Float64Array, targetOffset: number): void {
    const { engine } = this;
    const tBytes = blocks * aRows * bRows * DOUBLE;
    const t = engine.alloc(tBytes);
    try {
      engine.exports.crossProducts64(a.at, b === null ? a.at : b.at, t, aRows, bRows, stride, blocks, b === null ? 1 : 0);
      const sums = new Float64Array(engine.memory.buffer, t, blocks * aRows * bRows);
      if (b !== null) {
        for (let index = 0; index < sums.length; index++) target[targetOffset + index] += sums[index];
        return;
      }
      // A Gram matrix: only the lower triangle is computed; it is mirrored here.
      const rows = aRows;
      for (let block = 0; block < blocks; block++) {
        const base = block * rows * rows;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < i; j++) {
            const value = sums[base + i * rows + j];
            target[targetOffset + base + i * rows + j] += value;
            target[targetOffset + base + j * rows + i] += value;
          }
          target[targetOffset + base + i * rows + i] += sums[base + i * rows + i];
        }
      }
    } finally {
      engine.release(t, tBytes);
    }
  }

  private addRowSums(staged: Staged, stride: number, target: Float64Array): void {
    const { engine } = this;
    const bytes = staged.rows * DOUBLE;
    const out = engine.alloc(bytes);
    try {
      engine.exports.rowSums64(staged.at, staged.rows, stride, out);
      const sums = new Float64Array(engine.memory.buffer, out, staged.rows);
      for (let row = 0; row < staged.rows; row++) target[row] += sums[row];
    } finally {
      engine.release(out, bytes);
    }
  }

  private free(staged: Staged): void {
    this.engine.release(staged.at, staged.bytes);
  }
}

/** Rows padded to an even number of float64 values: whole 16-byte vectors, no tail loop. */
function evenLength(length: number): number {
  return length + (length & 1);
}

function checkMatrix(name: string, values: Float32Array, rows: number, length: number): void {
  if (!(values instanceof Float32Array)) throw new UsageError(`${name} must be a Float32Array`);
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(length) || length < 0) throw new UsageError(`${name}: rows and length must be whole numbers >= 0, got ${rows} and ${length}`);
  if (values.length < rows * length) throw new UsageError(`${name} holds ${values.length} values, fewer than ${rows} rows of ${length}`);
}

function checkGeometry(g: DepthwisePatchGeometry): void {
  const whole = (value: unknown, min: number) => Number.isInteger(value) && (value as number) >= min;
  const ok =
    whole(g.height, 1) &&
    whole(g.width, 1) &&
    [...g.kernel, ...g.strides, ...g.dilations].every((value) => whole(value, 1)) &&
    g.kernel.length === 2 &&
    g.strides.length === 2 &&
    g.dilations.length === 2 &&
    whole(g.padTop, 0) &&
    whole(g.padLeft, 0) &&
    whole(g.outWidth, 1) &&
    whole(g.step, 1) &&
    whole(g.phase, 0) &&
    whole(g.count, 0);
  if (!ok) throw new UsageError(`bad depth-wise patch geometry ${JSON.stringify(g)}: sizes, kernel, strides, dilations, outWidth and step must be whole numbers >= 1, pads, phase and count >= 0`);
}

function checkTarget(target: Float64Array, offset: number, size: number): void {
  if (!(target instanceof Float64Array)) throw new UsageError('target must be a Float64Array');
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) throw new UsageError(`target holds ${target.length} values; ${size} from ${offset} do not fit`);
}
