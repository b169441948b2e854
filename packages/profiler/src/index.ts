// Public API of @deprune/profiler: the latency profiler above the kernel backends. It times any
// backend's sparse kernels through the kernel contract (@deprune/kernels) and writes the latency
// table HSR (@deprune/hsr) reads; the staircase statistics it uses live in @deprune/hsr.
export { profileLayers, measuredLatencyModel, defaultKeptGrid, PROFILE_DEFAULT_STEP, STAIR_TIE_BREAK_US } from './profiler';
export type {
  ProfileLayer,
  DwProfileLayer,
  PwProfileLayer,
  ProfileOptions,
  ProfileProgress,
  ProfiledKernel,
  ProfiledLatencyTable,
  ProfiledLatencyEntry,
  ProfileMetadata,
  SkippedLayer,
} from './profiler';
export { machineInfo, machineLine } from './machine';
export type { MachineInfo } from './machine';
export { layerMatcher, modelDsconvBlocks, modelProfileLayers } from './layers';
export type { ModelLayerOptions, ProfileLayerOptions, ShapedBlock } from './layers';
export { measureInterleaved, measureMedian, median, medianStandardError } from './timing';
export type { InterleavedOptions, Measurement, MeasureOptions } from './timing';
