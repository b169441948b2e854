// Public API of @deprune/oneshot: calibratedPrune(model, samples, config) -> pruned, reconstructed model + plan + reports.
export { calibratedPrune, WEIGHTS_FALLBACK_WARNING } from './calibrated-prune';
export type { CalibratedPruneOptions, CalibratedPruneResult, OneShotProgress, OneShotReport, OneShotStage, ShapesSource } from './calibrated-prune';
export { ONE_SHOT_DEFAULTS } from './defaults';
