import type { LayerStatistics } from '@deprune/masks';
import { WasmProducts, type DepthwisePatchGeometry } from '@deprune/wasm';
import { checkInput, dwPixelStep, isIdentityWindow, outputSize, planePatches, sampledPixelCount, type ConvGeometry, type InputView } from './geometry';

/**
 * Streaming accumulation of a layer's input statistics (`LayerStatistics` of `@deprune/masks`):
 * sums over every input vector the layer's GEMM sees, in float64, one sample batch at a time, so
 * the activations never need to be held together. DW: per channel, the K-tap im2col patch at each
 * output pixel. PW: the Cin values at each (strided) pixel.
 */

let products: WasmProducts | undefined;

/** The wasm kernels the sums run on, made on first use and kept for the process (a few MB at most). */
export function wasmProducts(): WasmProducts {
  products ??= WasmProducts.create();
  return products;
}

/**
 * Adds `rows x rows'` dot products of two row-major matrices (`n` columns each) into `target`
 * (rows x rows'), in float64; with `blocks`, as many such pairs one after the other (a and b
 * packed, the results `rows x rows'` apart from `targetOffset`).
 */
export function addCrossProducts(a: Float32Array, aRows: number, b: Float32Array, bRows: number, n: number, target: Float64Array, targetOffset = 0, blocks = 1): void {
  wasmProducts().addCrossProducts(a, aRows, b, bRows, n, target, targetOffset, blocks);
}

/** Adds `X X^T` (rows x rows, symmetric) into `target`, in float64; with `blocks`, as many Gram matrices of packed X's. */
export function addGram(x: Float32Array, rows: number, n: number, target: Float64Array, targetOffset = 0, blocks = 1): void {
  wasmProducts().addGram(x, rows, n, target, targetOffset, blocks);
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
    if (spec.kind === 'dw') {
      const step = dwPixelStep(pixels, taps, spec.dwVectorsPerTap ?? DEFAULT_DW_VECTORS_PER_TAP);
      const plane = height * width;
      for (let n = 0; n < batch; n++) {
        // A different phase per sample, so the subset covers every pixel position across samples.
        const phase = (this.samples + n) % step;
        const count = sampledPixelCount(pixels, step, phase);
        const planes = input.data.subarray(n * spec.channels * plane, (n + 1) * spec.channels * plane);
        wasmProducts().addDepthwiseMoments(planes, spec.channels, patchGeometry(spec.geometry, height, width, outWidth, step, phase, count), { gram: this.gram, sum: this.inputSum });
        this.count += count;
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

/** What the wasm kernels need to gather a DW layer's sampled patches (see sampledPlanePatches, the reference). */
export function patchGeometry(geometry: ConvGeometry, height: number, width: number, outWidth: number, step: number, phase: number, count: number): DepthwisePatchGeometry {
  return {
    height,
    width,
    kernel: geometry.kernel,
    strides: geometry.strides,
    padTop: geometry.pads[0],
    padLeft: geometry.pads[1],
    dilations: geometry.dilations,
    outWidth,
    step,
    phase,
    count,
  };
}
