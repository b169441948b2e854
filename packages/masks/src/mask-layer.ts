import { UsageError } from '@deprune/errors';
import { validatePlan } from './plan';
import { getScorer, getStrategy } from './registry';
import type { LayerPlan, LayerStatistics, PrunableLayer, StrategyOptions } from './types';
import { validateLayer, validateRatio, validateScores } from './validate';

export interface MaskLayerConfig {
  /** Fraction of the layer's weights to remove, in [0, 1). */
  ratio: number;
  /** Registered strategy name. Default: 'dcp' for DW layers, 'pcp' for PW layers (plain DEPrune). */
  strategy?: string;
  /** Registered scorer name (default 'magnitude'), ignored when `scores` is given. */
  scorer?: string;
  /** Precomputed scores, one per weight (higher = keep). */
  scores?: Float64Array;
  /** Calibration statistics handed to the scorer. */
  stats?: LayerStatistics;
  /** Strategy options, e.g. `{ tileRows: 32, balanced: true }` for pcp. */
  options?: StrategyOptions;
}

/**
 * One call, Torch-Pruning style: look the strategy and scorer up in the registries, score the
 * layer, mask it, and check the plan the strategy returned (contributed strategies included).
 */
export function maskLayer(layer: PrunableLayer, config: MaskLayerConfig): LayerPlan {
  validateLayer(layer);
  if (config === null || typeof config !== 'object') throw new UsageError('maskLayer needs a config object { ratio, strategy?, ... }', { node: layer.name });
  const strategyName = config.strategy ?? (layer.kind === 'dw' ? 'dcp' : 'pcp');
  const strategy = getStrategy(strategyName);
  if (!strategy.appliesTo.includes(layer.kind)) {
    throw new UsageError(`strategy '${strategy.name}' applies to ${strategy.appliesTo.join(', ')} layers, not '${layer.kind}'`, {
      node: layer.name,
    });
  }
  // Every built-in ratio, nm's 1 - n/m included, lies in [0, 1); contributed strategies get the same guarantee.
  validateRatio(config.ratio, layer.name);
  const scores = config.scores ?? getScorer(config.scorer ?? 'magnitude').score(layer, config.stats);
  validateScores(layer, scores);
  const plan = strategy.mask(layer, config.ratio, scores, config.options);
  validatePlan(plan, layer);
  return plan;
}
