/**
 * The one-shot settings the accuracy benchmark found best (docs/benchmarks/accuracy/): greedy OBS
 * importance (`obs-greedy`, inputs removed one at a time per DW channel / PW row tile, the rest
 * re-fitted after each) from the calibration statistics, the ratio's MACs spread over the layers by
 * normalised OBS saliency (`@deprune/pipeline`'s ALLOCATION_PRESETS name), then reconstruction,
 * on 32 samples with 1% damping. `calibratedPrune` applies them where the config and options
 * leave a value out; `deprune prune --calib`, `deprune demo` and the accuracy bench call it.
 * This module imports nothing, so a command's --help can quote the defaults without loading the
 * pruner (`@deprune/oneshot/defaults`).
 */
export const ONE_SHOT_DEFAULTS = { importance: 'obs-greedy', allocation: 'saliency-macs', reconstruct: true, calibSamples: 32, damping: 0.01 } as const;
