export type {
  BalancedGranularity,
  DwLayer,
  Granularity,
  ImportanceScorer,
  ScoreContext,
  LayerKind,
  LayerPlan,
  LayerPlanEntry,
  LayerPlanShape,
  LayerStatistics,
  MaskStrategy,
  PrunableLayer,
  PwLayer,
  StrategyOptions,
} from './types';
export {
  registerStrategy,
  getStrategy,
  listStrategies,
  unregisterStrategy,
  registerScorer,
  getScorer,
  listScorers,
  unregisterScorer,
  BUILTIN_STRATEGIES,
  BUILTIN_SCORERS,
} from './registry';
export type { RegisterOptions } from './registry';
export { maskLayer } from './mask-layer';
export type { MaskLayerConfig } from './mask-layer';
export {
  buildDwPlan,
  buildPwPlan,
  planFromMask,
  planEntryToJson,
  maskFromPlanEntry,
  planFromJson,
  GRANULARITIES,
  validatePlan,
  keptWeightCount,
  applyMask,
  layerPlanShape,
} from './plan';
export type { PlanMeta, PwPlanMeta } from './plan';
export { imbalance } from './imbalance';
export { segmentNorms, channelNorms, columnNorms } from './segments';
export { magnitudeScorer } from './scorers';
export { activationScorer, obsScorer, DEFAULT_OBS_DAMPING } from './calibrated-scorers';
export { obsGreedyScorer, greedyObsRemoval } from './greedy-obs';
export type { GreedyRemoval } from './greedy-obs';
export { dcpStrategy } from './strategies/dcp';
export { pcpStrategy, selectColumnsPerTile, balancedColumnsPerTile, DEFAULT_TILE_ROWS } from './strategies/pcp';
export type { PcpOptions } from './strategies/pcp';
export { unstructuredStrategy } from './strategies/unstructured';
export { nmStrategy, nmKeptInBlock } from './strategies/nm';
export type { NmOptions } from './strategies/nm';
export { channelStrategy } from './strategies/channel';
export {
  roundCount,
  prunedCount,
  clamp,
  validateRatio,
  validateLayer,
  validateScores,
  kernelSize,
  tileCount,
} from './validate';
export {
  registerVariant,
  getVariant,
  hasVariant,
  listVariants,
  unregisterVariant,
  recipeFixedRatio,
  variantTakesRatio,
  variantUsesBwt,
  BUILTIN_VARIANTS,
  DENSE_RECIPE,
} from './variants';
export type { VariantDefinition, VariantLayerRecipe, VariantDefaults, VariantBwtDefaults, BuiltinVariant } from './variants';
