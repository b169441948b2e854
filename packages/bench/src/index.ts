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
  StandardKernelVariant,
  PerVariant,
  KernelLayerDetail,
  KernelChecks,
  KeptStats,
  StaircaseCurve,
  DwIdealCheck,
} from './kernels';
export { writeKernelReport, kernelReportMarkdown, kernelChartSpec, renderVegaLiteSvg, kernelReportPaths, reportStem, PAPER_DSCONV_SPEEDUP } from './report';
export type { WrittenReport } from './report';
export { machineLine } from '@deprune/profiler';
export { machineInfo } from './suite-common';
export { runKernelSuiteInBrowser } from './browser-suite';
export { runSuiteInBrowser, pageFolderPath, PAGE_FOLDER, ISOLATION_HEADERS } from './browser-runner';
export type { BrowserRunOptions } from './browser-runner';
export type { PageRunRequest, PageProgress, PageSuite, PageModelSource, SuiteReport } from './browser/page-api';
export type { BrowserSuiteOptions } from './browser-suite';
export type { MachineInfo } from '@deprune/profiler';
// A model's timed layers live in @deprune/profiler (`deprune profile` needs them without the bench).
export { layerMatcher, modelDsconvBlocks, modelProfileLayers } from '@deprune/profiler';
export type { ModelLayerOptions, ProfileLayerOptions, ShapedBlock } from '@deprune/profiler';
export { runModelSuite, yardstickLabel, MODEL_VARIANTS, DEFAULT_MODEL_RATIO } from './models';
export type { ModelSuiteOptions, ModelSuiteReport, ModelSuiteProgress, ModelRow, ModelVariant } from './models';
export { writeModelReport, modelReportMarkdown, modelChartSpec, modelReportStem, modelTable } from './models-report';
export { onnxruntimeNodeYardstick } from './yardstick-node';
export type { NodeYardstickOptions } from './yardstick-node';
export { ortRun, isUnavailable } from './yardsticks';
export type { Yardstick, YardstickRun, YardstickUnavailable, OrtModule } from './yardsticks';
export { suiteReportPaths, writeReportFiles, versionsLine } from './report';
export type { ReportTable } from './report';
export { runPruneSuite, PRUNE_SUITE_VARIANTS, DEFAULT_PRUNE_RATIO } from './prune-suite';
export type { PruneSuiteOptions, PruneSuiteReport, PruneSuiteRow, PruneSuiteProgress, PruneSuiteVariant, PruneMemory, PruneMemoryProbe } from './prune-suite';
export { nodePruneMemoryProbe, nodeGarbageCollector, pruneMemoryChildPath, NODE_PRUNE_MEMORY_METHOD } from './prune-memory-node';
export { pruneReportMarkdown, pruneChartSpec, pruneTable } from './prune-report';
export { runHsrSuite, DEFAULT_HSR_RATIO } from './hsr-suite';
export type { HsrSuiteOptions, HsrSuiteReport, HsrLayerResult, HsrLayerMove, HsrSuiteProgress } from './hsr-suite';
export { hsrReportMarkdown, hsrChartSpec, hsrTable, hsrSummaryLines } from './hsr-report';
export { SUITE_VIEWS, suiteView, suiteReportFiles, writeSuiteReport, modeFolder } from './suite-views';
export type { SuiteView, AnySuiteReport } from './suite-views';
export { compareRuns, timedRows, ratioRows, repeatabilityMarkdown } from './repeatability';
export type { Repeatability, RepeatabilityRow, TimedRow } from './repeatability';
export { exposedGarbageCollector } from './suite-common';
export type { SuiteReportHeader, CollectGarbage } from './suite-common';
export { runAccuracySuite, measureDsconv, measureDsconvInterleaved, dsconvLayerNames, defaultEvalSets, ACCURACY_MODELS } from './accuracy';
export type { AccuracyModel, AccuracyConfig, AccuracySuiteOptions, AccuracySuiteReport, AccuracyRow, AccuracySetResult, SpeedRow, Importance } from './accuracy';
export { writeAccuracyReport, accuracyReportMarkdown, accuracyChartSpec } from './accuracy-report';
