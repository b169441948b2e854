import type { Granularity, LayerKind, LayerPlan } from '@deprune/masks';

/** What a latency model needs to know about a layer: its shape and how its plan balances work. */
export interface LayerShape {
  name: string;
  kind: LayerKind;
  channels?: number;
  kernel?: [number, number];
  outChannels?: number;
  inChannels?: number;
  granularity: Granularity;
  /** DW: channels per balanced group (1 for channel granularity). */
  groupSize?: number;
  /** PW: output rows per tile. */
  tileRows?: number;
  /** Output spatial size Ho * Wo, when known. */
  outputPixels?: number;
}

/** Where a model's number for a layer comes from. */
export interface LatencySource {
  /** True when the number was measured on the backend (a profiler table), false when modelled. */
  measured: boolean;
  description: string;
}

/**
 * Predicted latency of a layer as a function of the kept count per balanced unit (DW: taps per
 * channel or per group; PW: columns per tile). Implemented by `analyticStaircase`,
 * `tableLatencyModel` and, later, by the GPU backend's profiler; HSR only sees this interface.
 */
export interface LatencyModel {
  name: string;
  /** Microseconds for the whole layer when every full unit keeps `kept`. */
  latency(layer: LayerShape, kept: number): number;
  /** The chunk size t of the layer's staircase, when the model knows it. */
  step?(layer: LayerShape): number | undefined;
  /** Whether the layer's numbers are measured or modelled. Models without it count as modelled. */
  source?(layer: LayerShape): LatencySource;
}

/** One layer of a profiler latency table: latency measured at some kept counts per unit. */
export interface LatencyTableEntry {
  kept: number[];
  latencyUs: number[];
  step?: number;
  /**
   * The balanced unit `kept` counts (the profiler writes it): taps per 'channel', taps per 'group'
   * of `unitSize` channels, columns per 'tile' of `unitSize` output rows. `tableLatencyModel`
   * refuses to price a layer whose plan balances another unit. Tables without it are not checked.
   */
  unit?: HsrUnit;
  /** Channels per group (unit 'group') or rows per tile (unit 'tile'), clamped to the layer as BWT clamps them; 1 for 'channel'. */
  unitSize?: number;
}

/** The GPU profiler's output: `{ backend, mode, layers: { [layerName]: entry } }`. */
export interface LatencyTable {
  backend: string;
  mode: string;
  layers: Record<string, LatencyTableEntry>;
}

export type HsrMode = 'recover' | 'latency';

export interface RecalibrateOptions {
  /** 'recover' (default): weights come back at no latency cost. 'latency': meet `budgetUs`. */
  mode?: HsrMode;
  /** Latency budget in microseconds for the sum over the balanced layers; required in 'latency' mode. */
  budgetUs?: number;
  /** Chunk size t to report for layers whose model gives none (else inferred from the staircase). */
  step?: number;
  /** 'latency' mode: never step a layer below ceil(fraction * full) kept per unit. Default 0. */
  minKeptFraction?: number;
}

export type HsrUnit = 'channel' | 'group' | 'tile';

/** What HSR did to one balanced layer. */
export interface HsrMove {
  layer: string;
  unit: HsrUnit;
  /** Kept count per full unit from BWT, and after HSR. */
  keptBefore: number;
  keptAfter: number;
  /** Capacity of a full unit (K, G*K or Cin). */
  full: number;
  /** Chunk size t (step edge size) of the layer's staircase. */
  step: number;
  latencyBeforeUs: number;
  latencyAfterUs: number;
  /** Whether the latencies were measured (latency table) or modelled (analytic fallback). */
  measured: boolean;
  latencySource: string;
}

export interface RecalibrateResult {
  /** Same order as the input; plans HSR does not apply to are the input objects. */
  plans: LayerPlan[];
  /** One move per balanced layer, in input order. */
  moves: HsrMove[];
  /** Sum of the model's latency over the balanced layers. */
  predictedLatencyUs: { before: number; after: number };
  /** Latency mode (or a budget given in recover mode): whether the budget holds; null without a budget. */
  budgetMet: boolean | null;
  /** Balanced layers whose latency was modelled, not measured (e.g. missing from the latency table). */
  unmeasured: string[];
}
