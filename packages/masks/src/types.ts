/**
 * The contract between the pruning core and everything around it. `@deprune/pipeline` turns ONNX
 * layers into `PrunableLayer`s, calls a strategy per layer and writes the `LayerPlanEntry`s (the
 * plan minus its masks) to a JSON plan file; the GPU runtime executes that plan. Everything here is
 * plain data: typed arrays in, JSON-serialisable plan entries out.
 */

/**
 * A depth-wise conv layer (ONNX `Conv`, `group == C`, weight `[C, 1, kh, kw]`).
 * `weights` are the EFFECTIVE weights (BN folded), row-major: `weights[c * K + k]`, `K = kh * kw`,
 * tap `k = i * kw + j`.
 */
export interface DwLayer {
  kind: 'dw';
  name: string;
  channels: number;
  kernel: readonly [number, number];
  weights: Float64Array;
  /** Output spatial size `Ho * Wo` when the caller knows it; latency models use it. */
  outputPixels?: number;
}

/**
 * A point-wise conv layer (ONNX 1x1 `Conv`, `group == 1`): the GEMM `W[Cout x Cin] * X[Cin x HW]`.
 * `weights[o * Cin + i]`: a row is an output channel, a column an input channel.
 */
export interface PwLayer {
  kind: 'pw';
  name: string;
  outChannels: number;
  inChannels: number;
  weights: Float64Array;
  /** Output spatial size `Ho * Wo` when the caller knows it; latency models use it. */
  outputPixels?: number;
}

export type PrunableLayer = DwLayer | PwLayer;
export type LayerKind = PrunableLayer['kind'];

/**
 * Calibration statistics a scorer may use. Filled later by calibration; absent today.
 * `inputNormSquared`: for a DW layer, length `C * K` in the weight layout (the squared L2 norm, over
 * the calibration set, of the im2col row that tap `k` of channel `c` multiplies); for a PW layer,
 * length `Cin` (the squared norm of input channel `i`).
 */
export interface LayerStatistics {
  inputNormSquared?: Float64Array;
}

/** Scores every weight of a layer. Higher = more important = keep. Scores should be non-negative. */
export interface ImportanceScorer {
  name: string;
  description: string;
  /** Returns one score per weight, same length and layout as `layer.weights`. */
  score(layer: PrunableLayer, stats?: LayerStatistics): Float64Array;
}

/** How the kept work of a plan is balanced or structured. */
export type Granularity = 'none' | 'channel' | 'group' | 'tile' | 'nm' | 'structured';

/** The granularities HSR and BWT call "balanced": every unit keeps the same count. */
export type BalancedGranularity = 'channel' | 'group' | 'tile';

export interface LayerPlanShape {
  channels?: number;
  kernel?: [number, number];
  outChannels?: number;
  inChannels?: number;
}

/**
 * The JSON-serialisable per-layer plan entry: what the plan file stores and the runtime executes.
 * It fully determines the mask (see `maskFromPlanEntry`).
 *
 * Layout rules:
 * - `kind: 'dw'`: `kept[c]` / `keptIndices[c]` are the kept taps (0..K-1, ascending) of channel c;
 *   `tileRows` is null.
 * - `kind: 'pw'`: rows are cut into tiles of `tileRows` output rows (the last tile may be shorter);
 *   `kept[t]` / `keptIndices[t]` are the kept input columns (ascending) of tile t, shared by every
 *   row of the tile. Unstructured and N:M PW plans use `tileRows: 1` (a column set per row).
 */
export interface LayerPlanEntry {
  name: string;
  kind: LayerKind;
  /** 'dcp' | 'pcp' | 'channel' | 'unstructured' | 'nm' | a contributed strategy's name. */
  strategy: string;
  granularity: Granularity;
  /** DW: channels per balanced group (1 for channel granularity); null otherwise. */
  groupSize: number | null;
  /** PW: output rows per tile; null for DW. */
  tileRows: number | null;
  /** HSR chunk size (step edge) used; null before HSR. */
  step: number | null;
  shape: LayerPlanShape;
  /** DW: kept taps per channel (length C). PW: kept columns per tile (length ceil(Cout / tileRows)). */
  kept: number[];
  /** The kept indices behind `kept`, ascending. */
  keptIndices: number[][];
  /** Fraction of this layer's weights that are zero. */
  sparsity: number;
  /** 'channel' strategy: DW channels removed whole, or PW input columns removed whole. */
  removedChannels?: number[];
}

/** A plan entry together with its per-weight mask (1 = kept), same layout as the layer's weights. */
export interface LayerPlan extends LayerPlanEntry {
  /** Not serialised into the plan file: `maskFromPlanEntry` rebuilds it. */
  mask: Uint8Array;
}

/** Options bag of a strategy. */
export type StrategyOptions = Record<string, unknown>;

/**
 * A mask strategy: a name, the layer kinds it applies to and a pure `mask()` function
 * (tfjs-kernel style). Register it with `registerStrategy` to make it available by name.
 */
export interface MaskStrategy<Options = StrategyOptions> {
  name: string;
  description: string;
  appliesTo: readonly LayerKind[];
  /**
   * `ratio` is the fraction of weights to remove, in [0, 1); `scores` has one score per weight
   * (higher = keep). Must be pure: no mutation of `layer` or `scores`.
   */
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array, options?: Options): LayerPlan;
}
