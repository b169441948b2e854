// Public API of @deprune/bench: benchmark suites (the kernel suite today) and their reports.
export { runKernelSuite, kernelSummary, pairedDifference, KERNEL_VARIANTS, VARIANT_DESCRIPTIONS, DEFAULT_KERNEL_RATIO, LARGE_LAYER_MIN_OUTPUTS, BH_SIGNIFICANCE, DW_IDEAL_THRESHOLD } from './kernels';
export type {
  KernelSuiteOptions,
  KernelSuiteReport,
  KernelSuiteSettings,
  KernelSuiteProgress,
  KernelRow,
  KernelOp,
  KernelVariant,
  KernelLayerDetail,
  KernelChecks,
  KeptStats,
  StaircaseCurve,
  DwIdealCheck,
} from './kernels';
export { writeKernelReport, kernelReportMarkdown, kernelChartSpec, renderVegaLiteSvg, kernelReportPaths, reportStem, PAPER_DSCONV_SPEEDUP } from './report';
export type { WrittenReport } from './report';
export { machineInfo, machineLine } from './machine';
export { runKernelSuiteInBrowser, pageBundlePath, PAGE_BUNDLE } from './browser-suite';
export type { BrowserSuiteOptions } from './browser-suite';
export type { MachineInfo } from './machine';
export { layerMatcher, modelDsconvBlocks, modelProfileLayers } from './layers';
export type { ModelLayerOptions, ProfileLayerOptions, ShapedBlock } from './layers';
export { runModelSuite, MODEL_VARIANTS, DEFAULT_MODEL_RATIO } from './models';
export type { ModelSuiteOptions, ModelSuiteReport, ModelSuiteProgress, ModelRow, ModelVariant } from './models';
export { writeModelReport, modelReportMarkdown, modelChartSpec, modelReportStem } from './models-report';
export { suiteReportPaths, writeReportFiles } from './report';
export { runAccuracySuite, measureDsconv, measureDsconvInterleaved, dsconvLayerNames, ACCURACY_MODELS } from './accuracy';
export type { AccuracyModel, AccuracyConfig, AccuracySuiteOptions, AccuracySuiteReport, AccuracyRow, SpeedRow, Importance } from './accuracy';
export { writeAccuracyReport, accuracyReportMarkdown, accuracyChartSpec } from './accuracy-report';
