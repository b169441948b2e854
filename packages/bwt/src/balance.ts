import { UsageError } from '@deprune/errors';
import {
  DEFAULT_TILE_ROWS,
  balancedColumnsPerTile,
  buildDwPlan,
  buildPwPlan,
  clamp,
  kernelSize,
  prunedCount,
  roundCount,
  selectColumnsPerTile,
  validateLayer,
  validateRatio,
  validateScores,
  type DwLayer,
  type LayerPlan,
  type PrunableLayer,
  type PwLayer,
} from '@deprune/masks';
import { topKIndices } from '@deprune/tensor';

/** DR group size G when none is given: 32 channels, i.e. a 32 x 32K sub-GEMM per group. */
export const DEFAULT_GROUP_SIZE = 32;

export interface BalanceDwOptions {
  /** 'group' (default): every group of G channels keeps n taps; 'channel': every channel keeps m taps (G = 1). */
  granularity?: 'group' | 'channel';
  /** Channels per group G for 'group' granularity. Default 32, clamped to C. Ignored for 'channel'. */
  groupSize?: number;
}

export interface BalancePwOptions {
  /** Output rows per tile T. Default 32, clamped to Cout. */
  tileRows?: number;
}

function checkInputs(layer: PrunableLayer, ratio: number, scores: Float64Array, kind: 'dw' | 'pw', what: string): void {
  validateLayer(layer);
  if (layer.kind !== kind) {
    throw new UsageError(`${what} balances ${kind.toUpperCase()} layers, got a ${layer.kind.toUpperCase()} layer`, { node: layer.name });
  }
  validateRatio(ratio, layer.name);
  validateScores(layer, scores);
}

function positiveInteger(what: string, value: unknown, layerName: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`${what} must be an integer >= 1, got ${String(value)}`, { node: layerName });
  }
  return value;
}

/** DCP's budget, which BWT keeps: B = C*K - round(r*C*K) weights. */
export function dwBudget(layer: DwLayer, ratio: number): number {
  const total = layer.weights.length;
  return total - prunedCount(ratio, total);
}

/** Taps every full group of G channels keeps: n = round(B * G / C), clamped to [0, G*K]. */
export function keptPerGroup(budget: number, channels: number, groupSize: number, taps: number): number {
  return clamp(roundCount((budget * groupSize) / channels), 0, groupSize * taps);
}

/** Taps a group of `size` channels keeps when full groups keep n: n if full, else round(n * size / G). */
export function keptInGroup(keptPerFullGroup: number, size: number, groupSize: number, taps: number): number {
  return size === groupSize ? keptPerFullGroup : clamp(roundCount((keptPerFullGroup * size) / groupSize), 0, size * taps);
}

/**
 * BWT for a DW layer (method section 4). Same budget as DCP, B = C*K - round(r*C*K), spread so
 * that work is equal:
 * - 'group': each full group of G channels keeps its top n = round(B*G/C) scores over its G*K taps
 *   (a channel may keep anywhere from 0 to K of them); a last partial group of s < G channels keeps
 *   round(n*s/G). Total kept differs from B by at most (C/G + 1) / 2 (rounding of n).
 * - 'channel': each channel keeps its top m = round(B/C) taps. Total C*m, within C/2 of B.
 * Ties inside a unit keep the lower index.
 */
export function balanceDw(layer: DwLayer, ratio: number, scores: Float64Array, options: BalanceDwOptions = {}): LayerPlan {
  checkInputs(layer, ratio, scores, 'dw', 'balanceDw');
  const granularity = options.granularity ?? 'group';
  if (granularity !== 'group' && granularity !== 'channel') {
    throw new UsageError(`BWT granularity must be 'group' or 'channel', got '${String(granularity)}'`, { node: layer.name });
  }
  const taps = kernelSize(layer);
  const channels = layer.channels;
  const budget = dwBudget(layer, ratio);
  const groupSize = granularity === 'channel' ? 1 : Math.min(channels, positiveInteger('groupSize', options.groupSize ?? DEFAULT_GROUP_SIZE, layer.name));
  const perFullGroup = keptPerGroup(budget, channels, groupSize, taps);
  const keptTaps: number[][] = Array.from({ length: channels }, () => []);
  for (let first = 0; first < channels; first += groupSize) {
    const size = Math.min(groupSize, channels - first);
    const groupScores = scores.subarray(first * taps, (first + size) * taps);
    for (const offset of topKIndices(groupScores, keptInGroup(perFullGroup, size, groupSize, taps))) {
      keptTaps[first + Math.floor(offset / taps)].push(offset % taps);
    }
  }
  return buildDwPlan(layer, keptTaps, { strategy: 'dcp', granularity, groupSize });
}

/**
 * BWT for a PW layer: every row tile of T rows keeps the same q = Cin - round(r*Cin) input columns,
 * its best by segment L2 norm (ties: lower column). Identical to masks' `pcp` with `balanced: true`.
 */
export function balancePw(layer: PwLayer, ratio: number, scores: Float64Array, options: BalancePwOptions = {}): LayerPlan {
  checkInputs(layer, ratio, scores, 'pw', 'balancePw');
  const tileRows = Math.min(layer.outChannels, positiveInteger('tileRows', options.tileRows ?? DEFAULT_TILE_ROWS, layer.name));
  const kept = selectColumnsPerTile(layer, scores, tileRows, balancedColumnsPerTile(layer.inChannels, ratio));
  return buildPwPlan(layer, kept, { strategy: 'pcp', granularity: 'tile', tileRows });
}

/** `balanceDw` or `balancePw` by layer kind: DEPrune-B for one layer. */
export function balanceLayer(
  layer: PrunableLayer,
  ratio: number,
  scores: Float64Array,
  options: BalanceDwOptions & BalancePwOptions = {},
): LayerPlan {
  return layer.kind === 'dw' ? balanceDw(layer, ratio, scores, options) : balancePw(layer, ratio, scores, options);
}
