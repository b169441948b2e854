/**
 * The report `prune()` hands back: per layer what was kept and how balanced it is, HSR's moves,
 * and totals over the model (parameters, non-zeros, sparsity, effective MACs). Plain JSON.
 */
import type { Granularity, LayerKind } from '@deprune/masks';
import type { HsrMode } from '@deprune/hsr';
import type { PruneVariant } from './config';

export interface LayerReport {
  name: string;
  kind: LayerKind;
  /** Strategy of the plan entry ('dense' for a layer kept whole because its ratio is 0). */
  strategy: string;
  granularity: Granularity;
  /** Weight elements of the layer in the input model. */
  weights: number;
  /** Weights kept: non-pruned (masking variants) or still present (channel). */
  keptWeights: number;
  sparsity: number;
  /** Kept count per unit of the plan entry (DW: taps per channel; PW: columns per tile). */
  kept: { min: number; max: number; mean: number };
  /**
   * max / mean of kept work per balanced unit (DW groups of bwt.groupSize channels, or channels for
   * granularity 'channel'; PW tiles of bwt.tileRows rows), full units only. Before = the DCP/PCP plan
   * BWT started from (deprune-b, deprune-bh only).
   */
  imbalanceBefore?: number;
  imbalanceAfter?: number;
  /** deprune-bh: HSR's move for this layer (kept per full unit). */
  hsr?: { keptBefore: number; keptAfter: number; step: number; latencyBeforeUs: number; latencyAfterUs: number };
  /** Dense MACs and effective MACs (kept weights x output pixels) at batch 1; null without shapes. */
  macsBefore: number | null;
  macsAfter: number | null;
}

export interface PruneTotals {
  /** Elements of every Conv/Gemm weight and bias tensor as stored (each tensor once), input and output. */
  paramsBefore: number;
  paramsAfter: number;
  /** Non-zero elements among those. */
  nonzeroBefore: number;
  nonzeroAfter: number;
  /** Layers in the plan, by kind. */
  dwLayers: number;
  pwLayers: number;
  /** Pruned fraction of the DW / PW / DW+PW weights of the layers in the plan. */
  dwSparsity: number;
  pwSparsity: number;
  dsconvSparsity: number;
  /** Conv + Gemm MACs at batch 1: dense before; effective after (pruned weights cost nothing; channel: the smaller model). */
  macsBefore: number | null;
  macsAfter: number | null;
}

export interface HsrSummary {
  mode: HsrMode;
  latencyModel: string;
  budgetUs: number | null;
  budgetMet: boolean | null;
  /** Modelled latency summed over the balanced layers, after BWT and after HSR. */
  predictedLatencyUs: { before: number; after: number };
  /** Layers whose kept count HSR changed. */
  moves: number;
  /** With a latency table: balanced layers it lacks, priced by the analytic fallback. Empty without a table (all modelled). */
  unmeasured: string[];
}

/** Non-uniform allocation (config.allocation, not 'uniform'): the ratio each layer was pruned at. */
export interface AllocationSummary {
  mode: 'saliency';
  /** What the allocation matches: the weights or the MACs the configured ratios remove from the allocated layers. */
  budget: 'weights' | 'macs';
  budgetAmount: number;
  minRatio: number;
  maxRatio: number;
  /** The shared threshold on normalised saliency per weight (budget 'weights') or per MAC ('macs'). */
  threshold: number;
  /** Ratio per pruned layer before the strategy's structure (balance, HSR) rounds it. */
  ratios: Record<string, number>;
}

export interface PruneReport {
  variant: PruneVariant;
  layers: LayerReport[];
  totals: PruneTotals;
  hsr?: HsrSummary;
  allocation?: AllocationSummary;
  skipped: { name: string; reason: string }[];
  warnings: string[];
}

/** min / max / mean of a list (zeros for an empty one). */
export function keptStats(kept: readonly number[]): { min: number; max: number; mean: number } {
  if (kept.length === 0) return { min: 0, max: 0, mean: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const value of kept) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  return { min, max, mean: sum / kept.length };
}

