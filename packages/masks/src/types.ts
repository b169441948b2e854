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
 * Calibration statistics of a layer's INPUT, accumulated over a calibration set (sums, not means,
 * so sets merge by adding; `count` turns them into means). Produced by `@deprune/calibrate`;
 * scorers and reconstruction read them. Every field is optional: a scorer checks for what it needs.
 *
 * The input vectors are the GEMM columns the layer's weights multiply:
 * - DW: for channel c, the K = kh*kw values of its im2col patch at one output pixel (padding gives
 *   zeros). Per-channel fields are laid out like the weights, `[c * K + k]`; `gram` holds C blocks
 *   of K x K, `gram[c * K * K + a * K + b]`.
 * - PW: the Cin values at one pixel; per-column fields have length Cin, `gram` is Cin x Cin.
 */
export interface LayerStatistics {
  /** Squared L2 norm of each input row over all vectors (DW: length C*K, PW: Cin); the diagonal of `gram`. */
  inputNormSquared?: Float64Array;
  /** Sum of x x^T over all input vectors (float64): DW C blocks of K x K, PW Cin x Cin. */
  gram?: Float64Array;
  /** Sum of x over all input vectors (DW: C*K, PW: Cin): the mean input, for bias correction. */
  inputSum?: Float64Array;
  /** How many input vectors were summed (samples x output pixels). */
  count?: number;
}

/** How the strategy that will use the scores groups a layer's weights (scorers that score groups read it). */
export interface ScoreContext {
  /** Rows of a PW row tile that share one set of kept input columns (PCP / BWT `tileRows`). */
  tileRows?: number;
}

/** Scores every weight of a layer. Higher = more important = keep. Scores should be non-negative. */
export interface ImportanceScorer {
  name: string;
  description: string;
  /**
   * True when `score` reads calibration statistics (`activation`, `obs`, `obs-greedy`): a caller
   * collects them first (`@deprune/calibrate`), and the CLI refuses the scorer without calibration
   * data. Absent: scores from the weights alone.
   */
  needsStatistics?: boolean;
  /** Returns one score per weight, same length and layout as `layer.weights`. */
  score(layer: PrunableLayer, stats?: LayerStatistics, context?: ScoreContext): Float64Array;
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
