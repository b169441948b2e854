import type { LayerStatistics } from '@deprune/masks';
import { checkInput, dwPixelStep, isIdentityWindow, outputSize, planePatches, sampledPixelCount, sampledPlanePatches, type ConvGeometry, type InputView } from './geometry';

/**
 * Streaming accumulation of a layer's input statistics (`LayerStatistics` of `@deprune/masks`):
 * sums over every input vector the layer's GEMM sees, in float64, one sample batch at a time, so
 * the activations never need to be held together. DW: per channel, the K-tap im2col patch at each
 * output pixel. PW: the Cin values at each (strided) pixel.
 */

/** Adds `rows x rows'` dot products of two row-major matrices (`n` columns each) into `target` (rows x rows'). */
export function addCrossProducts(a: Float32Array, aRows: number, b: Float32Array, bRows: number, n: number, target: Float64Array, targetOffset = 0): void {
  for (let i = 0; i < aRows; i++) {
    const rowA = i * n;
    const out = targetOffset + i * bRows;
    let j = 0;
    // Four rows of b per pass: row i of a is read once for four dot products.
    for (; j + 3 < bRows; j += 4) {
      const b0 = j * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < n; p++) {
        const value = a[rowA + p];
        s0 += value * b[b0 + p];
        s1 += value * b[b1 + p];
        s2 += value * b[b2 + p];
        s3 += value * b[b3 + p];
      }
      target[out + j] += s0;
      target[out + j + 1] += s1;
      target[out + j + 2] += s2;
      target[out + j + 3] += s3;
    }
    for (; j < bRows; j++) {
      const rowB = j * n;
      let sum = 0;
      for (let p = 0; p < n; p++) sum += a[rowA + p] * b[rowB + p];
      target[out + j] += sum;
    }
  }
}

/** Adds `X X^T` (rows x rows, symmetric: the lower triangle is computed and mirrored) into `target`. */
export function addGram(x: Float32Array, rows: number, n: number, target: Float64Array, targetOffset = 0): void {
  for (let i = 0; i < rows; i++) {
    const rowI = i * n;
    let j = 0;
    // Four rows j per pass over row i (the hot loop of calibration): row i is loaded once for four sums.
    for (; j + 3 <= i; j += 4) {
      const j0 = j * n;
      const j1 = j0 + n;
      const j2 = j1 + n;
      const j3 = j2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < n; p++) {
        const value = x[rowI + p];
        s0 += value * x[j0 + p];
        s1 += value * x[j1 + p];
        s2 += value * x[j2 + p];
        s3 += value * x[j3 + p];
      }
      const sums = [s0, s1, s2, s3];
      for (let k = 0; k < 4; k++) {
        target[targetOffset + i * rows + j + k] += sums[k];
        if (j + k !== i) target[targetOffset + (j + k) * rows + i] += sums[k];
      }
    }
    for (; j <= i; j++) {
      const rowJ = j * n;
      let sum = 0;
      for (let p = 0; p < n; p++) sum += x[rowI + p] * x[rowJ + p];
      target[targetOffset + i * rows + j] += sum;
      if (j !== i) target[targetOffset + j * rows + i] += sum;
    }
  }
}

/** Adds each row's sum of a row-major `rows x n` matrix into `target` (from `targetOffset`). */
export function addRowSums(x: Float32Array, rows: number, n: number, target: Float64Array, targetOffset = 0): void {
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let p = 0; p < n; p++) sum += x[i * n + p];
    target[targetOffset + i] += sum;
  }
}

export type AccumulatorKind = 'dw' | 'pw';

/** What an accumulator is for: a DW layer (C channels, K taps) or a PW layer (Cin columns). */
export interface AccumulatorSpec {
  kind: AccumulatorKind;
  name: string;
  /** DW: C; PW: Cin. */
  channels: number;
  geometry: ConvGeometry;
  /**
   * DW only: patches kept per tap per sample (see `dwPixelStep`); default
   * `DEFAULT_DW_VECTORS_PER_TAP`, `Infinity` for every output pixel (exact sums).
   */
  dwVectorsPerTap?: number;
}

/** DW patches per tap and sample that statistics keep by default (see `dwPixelStep`). */
export const DEFAULT_DW_VECTORS_PER_TAP = 16;

/** Sums of one layer's input vectors, filled sample by sample (`add`), read as `LayerStatistics`. */
export class StatisticsAccumulator {
  readonly spec: AccumulatorSpec;
  readonly taps: number;
  readonly gram: Float64Array;
  readonly inputSum: Float64Array;
  count = 0;
  /** Samples added so far (the phase of the DW pixel subset). */
  private samples = 0;

  constructor(spec: AccumulatorSpec) {
    this.spec = spec;
    this.taps = spec.geometry.kernel[0] * spec.geometry.kernel[1];
    const vector = spec.kind === 'dw' ? this.taps : spec.channels;
    const blocks = spec.kind === 'dw' ? spec.channels : 1;
    this.gram = new Float64Array(blocks * vector * vector);
    this.inputSum = new Float64Array(blocks * vector);
  }

  /** Adds every input vector of a batch `[N, C, H, W]` of the layer's input. */
  add(input: InputView): void {
    const { spec, taps } = this;
    const [batch, height, width] = checkInput(input, spec.channels, spec.name);
    const [outHeight, outWidth] = outputSize(spec.geometry, height, width);
    const pixels = outHeight * outWidth;
    const plane = height * width;
    if (spec.kind === 'dw') {
      const step = dwPixelStep(pixels, taps, spec.dwVectorsPerTap ?? DEFAULT_DW_VECTORS_PER_TAP);
      const patches = new Float32Array(taps * pixels);
      for (let n = 0; n < batch; n++) {
        // A different phase per sample, so the subset covers every pixel position across samples.
        const phase = (this.samples + n) % step;
        for (let c = 0; c < spec.channels; c++) {
          const offset = (n * spec.channels + c) * plane;
          const count = sampledPlanePatches(input.data.subarray(offset, offset + plane), height, width, spec.geometry, step, phase, patches);
          addGram(patches, taps, count, this.gram, c * taps * taps);
          addRowSums(patches, taps, count, this.inputSum, c * taps);
        }
        this.count += sampledPixelCount(pixels, step, phase);
      }
      this.samples += batch;
      return;
    } else {
      for (let n = 0; n < batch; n++) {
        const columns = pwColumns(input, n, spec.channels, height, width, spec.geometry);
        addGram(columns, spec.channels, pixels, this.gram);
        addRowSums(columns, spec.channels, pixels, this.inputSum);
      }
    }
    this.count += batch * pixels;
  }

  /** The sums as `@deprune/masks` statistics (`inputNormSquared` is the Gram diagonal). */
  statistics(): LayerStatistics {
    const vector = this.spec.kind === 'dw' ? this.taps : this.spec.channels;
    const inputNormSquared = Float64Array.from({ length: this.inputSum.length }, (_, index) => this.gram[Math.floor(index / vector) * vector * vector + (index % vector) * (vector + 1)]);
    return { gram: this.gram, inputSum: this.inputSum, inputNormSquared, count: this.count };
  }
}

/** The Cin x (Ho*Wo) matrix a PW layer multiplies for sample n (a view when the window is the identity). */
export function pwColumns(input: InputView, n: number, channels: number, height: number, width: number, geometry: ConvGeometry): Float32Array {
  const plane = height * width;
  const start = n * channels * plane;
  if (isIdentityWindow(geometry)) return input.data.subarray(start, start + channels * plane);
  const [outHeight, outWidth] = outputSize(geometry, height, width);
  const pixels = outHeight * outWidth;
  const columns = new Float32Array(channels * pixels);
  for (let c = 0; c < channels; c++) {
    planePatches(input.data.subarray(start + c * plane, start + (c + 1) * plane), height, width, geometry, columns.subarray(c * pixels, (c + 1) * pixels));
  }
  return columns;
}
