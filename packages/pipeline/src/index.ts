// Public API of @deprune/pipeline: prune(model, config) -> { model, plan, report }.
export { prune } from './prune';
export type { PruneOptions, PruneProgress, PruneResult, PruneStage } from './prune';
export { planVariantLayers } from './layer-plans';
export type { PlanVariantOptions, VariantLayerPlans } from './layer-plans';
export {
  loadPruneConfig,
  resolvePruneConfig,
  ConfigError,
  PRUNE_VARIANTS,
  MAX_CONFIG_DEPTH,
  DEFAULT_RATIO,
  DEFAULT_GROUP_SIZE,
  DEFAULT_TILE_ROWS,
  DEFAULT_HSR_STEP,
  DEFAULT_MIN_KEPT_FRACTION,
  DEFAULT_ALLOCATION_MAX_RATIO,
  ALLOCATION_PRESETS,
  allocationApplies,
} from './config';
export type {
  PruneConfig,
  ResolvedPruneConfig,
  PruneVariant,
  LayerOverride,
  BwtConfig,
  HsrConfig,
  NmConfig,
  AllocationConfig,
  AllocationMode,
  AllocationBudget,
  AllocationPreset,
  StrategyOverride,
} from './config';
// The glob matcher lives with the node names it matches (@deprune/onnx); re-exported for compatibility.
export { matchesGlob, matchesPattern } from '@deprune/onnx';
export { allocateRatios, normalizedSaliency } from './allocation';
export type { Allocation, AllocationBounds, AllocationLayer } from './allocation';
export { withLatencyTable } from './latency-table';
export type { BwtSettingKey, LatencyTableConfigOptions } from './latency-table';
export { validatePlanForModel, serializePlan, parsePlan, fnv1a32, PLAN_FORMAT, PLAN_VERSION, PLAN_JSON_SCHEMA, PlanFileError } from './plan';
export type { PrunePlan, PlanRemoval, ValidatePlanOptions } from './plan';
export type { PruneReport, LayerReport, PruneTotals, HsrSummary, AllocationSummary } from './report';
export { selectLayers } from './select';
export type { PruneTarget, SkippedLayer, Selection } from './select';
export { removeChannels, maskChannels, channelRemovalEligibility } from './channel-removal';
export type { ChannelRemoval, ChannelRemovalEligibility, ChannelRemovalResult } from './channel-removal';
