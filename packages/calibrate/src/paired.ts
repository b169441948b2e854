import { ShapeError } from '@deprune/errors';
import type { LayerStatistics } from '@deprune/masks';
import { checkInput, dwPixelStep, outputSize, sampledPixelCount, sampledPlanePatches, type ConvGeometry, type InputView } from './geometry';
import { addCrossProducts, addGram, addRowSums, DEFAULT_DW_VECTORS_PER_TAP, patchGeometry, pwColumns, wasmProducts } from './statistics';

/**
 * The statistics reconstruction needs for one layer: its input in the PRUNED network (x_p, what the
 * layer will actually see once its predecessors are pruned and reconstructed) next to its input in
 * the DENSE network (x_d, what the dense layer's target output is computed from), summed in float64
 * over every input vector of the calibration set:
 * `pp = sum x_p x_p^T`, `pd = sum x_p x_d^T`, `dd = sum x_d x_d^T`, `sumP`, `sumD`, `count`.
 *
 * DW: one K x K block per PRUNED channel c' (paired with dense channel `channelMap[c']`); PW: one
 * block, P x P, P x D and D x D (P < D when a `channel` plan removed input columns).
 */
export interface PairedStatistics {
  kind: 'dw' | 'pw';
  /** DW: pruned channels; PW: 1. */
  blocks: number;
  /** Length of a pruned input vector (DW: K; PW: P). */
  prunedLength: number;
  /** Length of a dense input vector (DW: K; PW: D). */
  denseLength: number;
  pp: Float64Array;
  pd: Float64Array;
  dd: Float64Array;
  sumP: Float64Array;
  sumD: Float64Array;
  count: number;
}

export interface PairedSpec {
  kind: 'dw' | 'pw';
  name: string;
  /** Input channels of the layer in the pruned model (DW: its channels; PW: P). */
  prunedChannels: number;
  /** Input channels of the layer in the dense model. */
  denseChannels: number;
  /** DW: dense channel of each pruned channel (identity unless channels were removed). */
  channelMap?: Int32Array;
  geometry: ConvGeometry;
  /** DW patches per tap and sample (default `DEFAULT_DW_VECTORS_PER_TAP`; `Infinity`: all). */
  dwVectorsPerTap?: number;
  /**
   * The dense input's own statistics (`dd`, `sumD`, `count`) when they are known already (the
   * calibration pass of the same samples): the pass then skips them. DW blocks are picked by
   * `channelMap`.
   */
  dense?: LayerStatistics;
}

export class PairedAccumulator {
  readonly spec: PairedSpec;
  readonly stats: PairedStatistics;
  private readonly taps: number;
  private readonly channelMap: Int32Array;
  private readonly denseKnown: boolean;
  private samples = 0;
  /** DW with output weights (`addWeighted`): each block's sum of weights (the sums are rescaled to `count` in result()). */
  private weightTotals: Float64Array | null = null;
  private rescaled = false;

  constructor(spec: PairedSpec) {
    this.spec = spec;
    this.taps = spec.geometry.kernel[0] * spec.geometry.kernel[1];
    if (spec.kind === 'dw') {
      this.channelMap = spec.channelMap ?? Int32Array.from({ length: spec.prunedChannels }, (_, c) => c);
      if (this.channelMap.length !== spec.prunedChannels || this.channelMap.some((c) => c < 0 || c >= spec.denseChannels)) {
        throw new ShapeError(`layer '${spec.name}': channel map does not fit ${spec.prunedChannels} pruned and ${spec.denseChannels} dense channels`, { node: spec.name });
      }
    } else {
      this.channelMap = new Int32Array(0);
    }
    const blocks = spec.kind === 'dw' ? spec.prunedChannels : 1;
    const prunedLength = spec.kind === 'dw' ? this.taps : spec.prunedChannels;
    const denseLength = spec.kind === 'dw' ? this.taps : spec.denseChannels;
    this.stats = {
      kind: spec.kind,
      blocks,
      prunedLength,
      denseLength,
      pp: new Float64Array(blocks * prunedLength * prunedLength),
      pd: new Float64Array(blocks * prunedLength * denseLength),
      dd: new Float64Array(blocks * denseLength * denseLength),
      sumP: new Float64Array(blocks * prunedLength),
      sumD: new Float64Array(blocks * denseLength),
      count: 0,
    };
    this.denseKnown = spec.dense !== undefined;
  }

  /**
   * The statistics, with the dense input's moments rescaled from `spec.dense` when given: `dd`
   * and `sumD` are sums over that pass's `count` vectors, brought to this pass's count (both are
   * estimates of the same moments over the same samples).
   */
  result(): PairedStatistics {
    const { spec, stats } = this;
    if (this.weightTotals !== null) return this.weightedResult();
    const known = spec.dense;
    if (known === undefined) return stats;
    if (known.gram === undefined || known.inputSum === undefined || !(known.count! > 0)) {
      throw new ShapeError(`layer '${spec.name}': the dense statistics lack gram, inputSum or count`, { node: spec.name });
    }
    const scale = stats.count / known.count!;
    const length = stats.denseLength;
    const blockSize = length * length;
    for (let block = 0; block < stats.blocks; block++) {
      const source = spec.kind === 'dw' ? this.channelMap[block] : 0;
      for (let i = 0; i < blockSize; i++) stats.dd[block * blockSize + i] = known.gram[source * blockSize + i] * scale;
      for (let i = 0; i < length; i++) stats.sumD[block * length + i] = known.inputSum[source * length + i] * scale;
    }
    return stats;
  }

  /**
   * Weighted sums rescaled per block so that `sum / count` is the weighted mean: the solver's
   * moments become those of the weighted calibration distribution (a block whose weights are all
   * 0 keeps zero sums; the solver then only corrects its bias).
   */
  private weightedResult(): PairedStatistics {
    const { stats } = this;
    if (this.rescaled) return stats;
    const totals = this.weightTotals!;
    const { prunedLength: n, denseLength: d } = stats;
    for (let block = 0; block < stats.blocks; block++) {
      const factor = totals[block] > 0 ? stats.count / totals[block] : 0;
      const scale = (values: Float64Array, size: number) => {
        for (let i = block * size; i < (block + 1) * size; i++) values[i] *= factor;
      };
      scale(stats.pp, n * n);
      scale(stats.pd, n * d);
      scale(stats.dd, d * d);
      scale(stats.sumP, n);
      scale(stats.sumD, d);
    }
    this.rescaled = true;
    return stats;
  }

  /**
   * Adds one batch with a weight per output value, `weights` laid out as the DENSE layer's output
   * (N x C_dense x Ho x Wo). DW: each sampled patch pair of channel c counts with the weight of
   * its output pixel in dense channel channelMap[c]. PW (one Gram for all rows): each pixel counts
   * with the mean of its output column's weights. Needs no `spec.dense` (the dense moments must be
   * weighted too).
   */
  addWeighted(pruned: InputView, dense: InputView, weights: Float32Array): void {
    const { spec, stats, taps } = this;
    if (this.denseKnown) throw new ShapeError(`layer '${spec.name}': weighted statistics cannot use known dense statistics`, { node: spec.name });
    if ((this.stats.count > 0 && this.weightTotals === null) || this.rescaled) throw new ShapeError(`layer '${spec.name}': weighted and unweighted batches mixed, or a batch after result()`, { node: spec.name });
    const { batch, height, width, pixels } = this.checkPair(pruned, dense);
    const outChannels = Math.round(weights.length / Math.max(1, batch * pixels));
    if (weights.length !== batch * outChannels * pixels || (spec.kind === 'dw' && outChannels !== spec.denseChannels)) {
      throw new ShapeError(`layer '${spec.name}': ${weights.length} output weights do not fit ${batch} x C x ${pixels} outputs`, { node: spec.name });
    }
    if (spec.kind === 'pw') {
      this.weightTotals ??= new Float64Array(1);
      const { prunedChannels: p, denseChannels: d } = spec;
      for (let n = 0; n < batch; n++) {
        const pixelWeights = new Float64Array(pixels);
        for (let c = 0; c < outChannels; c++) for (let i = 0; i < pixels; i++) pixelWeights[i] += weights[(n * outChannels + c) * pixels + i];
        const columnsP = Float32Array.from(pwColumns(pruned, n, p, height, width, spec.geometry));
        const columnsD = Float32Array.from(pwColumns(dense, n, d, height, width, spec.geometry));
        for (let i = 0; i < pixels; i++) {
          pixelWeights[i] /= outChannels;
          this.weightTotals[0] += pixelWeights[i];
        }
        // Sums weighted by m, products by sqrt(m) on both sides.
        const weightedSums = (columns: Float32Array, rows: number, target: Float64Array) => {
          for (let row = 0; row < rows; row++) {
            let sum = 0;
            for (let i = 0; i < pixels; i++) sum += pixelWeights[i] * columns[row * pixels + i];
            target[row] += sum;
          }
        };
        weightedSums(columnsP, p, stats.sumP);
        weightedSums(columnsD, d, stats.sumD);
        const roots = Float32Array.from(pixelWeights, Math.sqrt);
        for (let row = 0; row < p; row++) for (let i = 0; i < pixels; i++) columnsP[row * pixels + i] *= roots[i];
        for (let row = 0; row < d; row++) for (let i = 0; i < pixels; i++) columnsD[row * pixels + i] *= roots[i];
        addGram(columnsP, p, pixels, stats.pp);
        addCrossProducts(columnsP, p, columnsD, d, pixels, stats.pd);
        addGram(columnsD, d, pixels, stats.dd);
      }
      stats.count += batch * pixels;
      this.samples += batch;
      return;
    }
    this.weightTotals ??= new Float64Array(stats.blocks);
    const totals = this.weightTotals;
    const step = dwPixelStep(pixels, taps, spec.dwVectorsPerTap ?? DEFAULT_DW_VECTORS_PER_TAP);
    const plane = height * width;
    const channels = spec.prunedChannels;
    const k = taps;
    for (let n = 0; n < batch; n++) {
      const phase = (this.samples + n) % step;
      const count = sampledPixelCount(pixels, step, phase);
      // Every channel's K x count patch matrix, packed, each column times sqrt(m): the products run
      // on the wasm kernels, one block per channel; the sums (weighted by m itself) in JavaScript.
      const packedP = new Float32Array(channels * k * count);
      const packedD = new Float32Array(channels * k * count);
      const roots = new Float32Array(count);
      for (let c = 0; c < channels; c++) {
        const source = this.channelMap[c];
        const blockP = packedP.subarray(c * k * count, (c + 1) * k * count);
        const blockD = packedD.subarray(c * k * count, (c + 1) * k * count);
        sampledPlanePatches(pruned.data.subarray((n * channels + c) * plane, (n * channels + c + 1) * plane), height, width, spec.geometry, step, phase, blockP);
        sampledPlanePatches(dense.data.subarray((n * spec.denseChannels + source) * plane, (n * spec.denseChannels + source + 1) * plane), height, width, spec.geometry, step, phase, blockD);
        const weightBase = (n * spec.denseChannels + source) * pixels;
        let total = 0;
        for (let column = 0; column < count; column++) {
          const m = weights[weightBase + phase + column * step];
          total += m;
          roots[column] = Math.sqrt(m);
        }
        totals[c] += total;
        for (let i = 0; i < k; i++) {
          let sumP = 0;
          let sumD = 0;
          for (let column = 0; column < count; column++) {
            const at = i * count + column;
            const m = weights[weightBase + phase + column * step];
            sumP += m * blockP[at];
            sumD += m * blockD[at];
            blockP[at] *= roots[column];
            blockD[at] *= roots[column];
          }
          stats.sumP[c * k + i] += sumP;
          stats.sumD[c * k + i] += sumD;
        }
      }
      addGram(packedP, k, count, stats.pp, 0, channels);
      addCrossProducts(packedP, k, packedD, k, count, stats.pd, 0, channels);
      addGram(packedD, k, count, stats.dd, 0, channels);
      stats.count += count;
    }
    this.samples += batch;
  }

  /** Checks a batch's pruned and dense inputs against the layer and each other; their size and the output's pixels. */
  private checkPair(pruned: InputView, dense: InputView): { batch: number; height: number; width: number; outWidth: number; pixels: number } {
    const { spec } = this;
    const [batch, height, width] = checkInput(pruned, spec.prunedChannels, spec.name);
    const [denseBatch, denseHeight, denseWidth] = checkInput(dense, spec.denseChannels, spec.name);
    if (batch !== denseBatch || height !== denseHeight || width !== denseWidth) {
      throw new ShapeError(`layer '${spec.name}': pruned input [${pruned.shape.join(', ')}] and dense input [${dense.shape.join(', ')}] differ in batch or size`, { node: spec.name });
    }
    const [outHeight, outWidth] = outputSize(spec.geometry, height, width);
    return { batch, height, width, outWidth, pixels: outHeight * outWidth };
  }

  /** Adds one batch: the layer's input in the pruned and in the dense network (same samples, same order). */
  add(pruned: InputView, dense: InputView): void {
    const { spec, stats, taps } = this;
    const { batch, height, width, outWidth, pixels } = this.checkPair(pruned, dense);
    if (spec.kind === 'dw') {
      const step = dwPixelStep(pixels, taps, spec.dwVectorsPerTap ?? DEFAULT_DW_VECTORS_PER_TAP);
      const channels = spec.prunedChannels;
      const plane = height * width;
      for (let n = 0; n < batch; n++) {
        const phase = (this.samples + n) % step;
        const count = sampledPixelCount(pixels, step, phase);
        // All channels at once: pruned channel c next to its dense channel channelMap[c].
        wasmProducts().addDepthwiseMoments(
          pruned.data.subarray(n * channels * plane, (n + 1) * channels * plane),
          channels,
          patchGeometry(spec.geometry, height, width, outWidth, step, phase, count),
          { gram: stats.pp, sum: stats.sumP, cross: stats.pd, ...(this.denseKnown ? {} : { secondGram: stats.dd, secondSum: stats.sumD }) },
          { planes: dense.data.subarray(n * spec.denseChannels * plane, (n + 1) * spec.denseChannels * plane), channelMap: this.channelMap },
        );
        stats.count += count;
      }
      this.samples += batch;
      return;
    } else {
      for (let n = 0; n < batch; n++) {
        const columnsP = pwColumns(pruned, n, spec.prunedChannels, height, width, spec.geometry);
        const columnsD = pwColumns(dense, n, spec.denseChannels, height, width, spec.geometry);
        addGram(columnsP, spec.prunedChannels, pixels, stats.pp);
        addCrossProducts(columnsP, spec.prunedChannels, columnsD, spec.denseChannels, pixels, stats.pd);
        addRowSums(columnsP, spec.prunedChannels, pixels, stats.sumP, 0);
        if (this.denseKnown) continue;
        addGram(columnsD, spec.denseChannels, pixels, stats.dd);
        addRowSums(columnsD, spec.denseChannels, pixels, stats.sumD, 0);
      }
    }
    stats.count += batch * pixels;
  }
}
