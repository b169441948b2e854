export { recalibrate, inferStep } from './recalibrate';
export { analyticStaircase } from './analytic';
export type { AnalyticStaircaseOptions } from './analytic';
export { describeUnit, latencyTableUnits, LatencyTableMismatchError, planUnitOf, tableLatencyModel, validateLatencyTable } from './table';
export type { SizedUnit, TableLatencyModelOptions } from './table';
export { layerShapeOf, unitsOf } from './shape';
export { findStep, findStepDetail, fitStaircase, stairRise, STEP_SIGNIFICANCE } from './staircase';
export type { FindStepOptions, StaircaseFit, StepEstimate } from './staircase';
export type {
  HsrMode,
  HsrMove,
  HsrUnit,
  LatencyModel,
  LatencySource,
  LatencyTable,
  LatencyTableEntry,
  LayerShape,
  RecalibrateOptions,
  RecalibrateResult,
} from './types';
