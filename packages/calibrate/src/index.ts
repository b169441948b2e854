// Public API of @deprune/calibrate: calibration statistics and one-shot reconstruction of pruned layers.
export { collectStatistics, declaredChannels, layerInfos, geometryOf } from './collect';
export type { CollectOptions, CollectResult, CalibrationProgress } from './collect';
export { reconstruct, DEFAULT_RECONSTRUCTION_DAMPING } from './reconstruct';
export type { ReconstructOptions, ReconstructResult, ReconstructionReport, LayerReconstruction } from './reconstruct';
export { solveLayer, MIN_VECTORS_PER_WEIGHT } from './solve';
export type { LayerProblem, LayerSolution } from './solve';
export { StatisticsAccumulator, addGram, addCrossProducts, DEFAULT_DW_VECTORS_PER_TAP } from './statistics';
export type { AccumulatorSpec, AccumulatorKind } from './statistics';
export { PairedAccumulator } from './paired';
export type { PairedStatistics, PairedSpec } from './paired';
export { planePatches, sampledPlanePatches, dwPixelStep, outputSize } from './geometry';
export type { ConvGeometry, InputView } from './geometry';
export { truncateModel, writeConvUpdates, upstreamNodes } from './graph';
export type { ConvUpdate } from './graph';
export { runtimeEngine, singleInputName } from './engine';
export type { ForwardEngine, RuntimeEngineOptions } from './engine';
export { checkSamples, DEFAULT_CALIBRATION_SAMPLES } from './samples';
export type { CalibrationSample } from './samples';
