// Public API of @deprune/plan: the plan file contract between the pruner and every reader of plans.
export { PLAN_FORMAT, PLAN_VERSION, fnv1a32, serializePlan } from './plan';
export type { PrunePlan, PlanRemoval } from './plan';
export { parsePlan, PlanFileError } from './parse';
export type { PlanFileErrorDetails } from './parse';
export { PLAN_JSON_SCHEMA } from './schema';
export { validatePlanForModel, layerInfoShape } from './validate';
export type { ValidatePlanOptions } from './validate';
