/**
 * The plan file is a contract of its own (`@deprune/plan`): the runtime and calibration read plans
 * without depending on the pruner. The pipeline writes plans, so its `PrunePlan` is the contract's
 * with the pipeline's own config and variant types filled in; the rest is re-exported so that
 * `@deprune/pipeline`'s public API stays as it was.
 */
import type { PrunePlan as PlanContract } from '@deprune/plan';
import type { PruneVariant, ResolvedPruneConfig } from './config';

export { PLAN_FORMAT, PLAN_VERSION, fnv1a32, layerInfoShape, parsePlan, serializePlan, validatePlanForModel, PlanFileError, PLAN_JSON_SCHEMA } from '@deprune/plan';
export type { PlanRemoval, ValidatePlanOptions } from '@deprune/plan';

/** A plan as `prune()` writes it: the contract with the pipeline's resolved config and variant. */
export type PrunePlan = PlanContract<ResolvedPruneConfig, PruneVariant>;
