/**
 * How each suite's report is shown and filed, in one place: its main table, summary sentences,
 * chart (a Vega-Lite spec), Markdown page and where its files go. The Node writer
 * (`writeSuiteReport`) and the browser page (tables, chart, downloads) both read it, so a report
 * looks the same wherever it was made.
 */
import { hsrChartSpec, hsrReportMarkdown, hsrSummaryLines, hsrTable } from './hsr-report';
import type { HsrSuiteReport } from './hsr-suite';
import type { KernelSuiteReport, KernelVariant } from './kernels';
import type { ModelSuiteReport } from './models';
import { bestVariantSentence, modelChartSpec, modelReportMarkdown, modelReportStem, modelTable, yardstickSentences } from './models-report';
import { pruneChartSpec, pruneReportMarkdown, pruneTable } from './prune-report';
import type { PruneSuiteReport } from './prune-suite';
import { repeatabilityMarkdown, type Repeatability } from './repeatability';
import { fixed, kernelChartSpec, kernelReportMarkdown, percent, PAPER_DSCONV_SPEEDUP, reportStem, suiteReportPaths, writeReportFiles, type ReportTable, type WrittenReport } from './report';

/** Any suite's report; `repeatability` is there when the run was compared with an earlier one (`compareRuns`). */
export type AnySuiteReport = (ModelSuiteReport | KernelSuiteReport | PruneSuiteReport | HsrSuiteReport) & { repeatability?: Repeatability };

export interface SuiteView<R> {
  /** The report's tables, most important first. */
  tables(report: R): ReportTable[];
  /** Headline sentences (Markdown emphasis allowed). */
  summary(report: R): string[];
  chartSpec(report: R): Record<string, unknown>;
  markdown(report: R, chartFile?: string): string;
  /** `<suite>/<mode or environment>` and the file stem. */
  folder(report: R): [string, string];
  stem(report: R): string;
}

function kernelSummaryTable(report: KernelSuiteReport): ReportTable {
  const { summary } = report;
  const variants = Object.keys(summary.dsconvSpeedup) as KernelVariant[];
  return {
    title: 'DSConv kernels: speedup vs dense, summed over blocks',
    headers: ['variant', 'DSConv speedup', 'DW speedup', 'PW speedup', 'DSConv weights kept'],
    rows: variants.map((variant) => [
      variant,
      `${fixed(summary.dsconvSpeedup[variant] ?? Number.NaN)}x`,
      `${fixed(summary.dwSpeedup[variant] ?? Number.NaN)}x`,
      summary.pwSpeedup[variant] === undefined ? '-' : `${fixed(summary.pwSpeedup[variant]!)}x`,
      percent(summary.keptFraction[variant] ?? Number.NaN),
    ]),
    align: ['l', 'r', 'r', 'r', 'r'],
  };
}

export const SUITE_VIEWS: {
  models: SuiteView<ModelSuiteReport>;
  kernels: SuiteView<KernelSuiteReport>;
  prune: SuiteView<PruneSuiteReport>;
  hsr: SuiteView<HsrSuiteReport>;
} = {
  models: {
    tables: (report) => [modelTable(report)],
    summary: (report) => [bestVariantSentence(report), ...yardstickSentences(report)],
    chartSpec: modelChartSpec,
    markdown: modelReportMarkdown,
    folder: (report) => ['models', modeFolder(report.mode, report.machine.browser !== undefined)],
    stem: modelReportStem,
  },
  kernels: {
    tables: (report) => [kernelSummaryTable(report)],
    summary: (report) => [
      `Best DSConv speedup: **${fixed(report.summary.best.dsconvSpeedup)}x (${report.summary.best.variant})** at nominal sparsity ${report.settings.ratio}, against the paper's ${PAPER_DSCONV_SPEEDUP}x on GPUs.`,
    ],
    chartSpec: kernelChartSpec,
    markdown: kernelReportMarkdown,
    folder: (report) => ['kernels', modeFolder(report.mode, report.machine.browser !== undefined)],
    stem: reportStem,
  },
  prune: {
    tables: (report) => [pruneTable(report)],
    summary: (report) => [
      `Fastest: **${report.summary.fastest}**; slowest: **${report.summary.slowest}**. Memory: ${report.memory.measured ? report.memory.method : `not measured (${report.memory.reason})`}.`,
    ],
    chartSpec: pruneChartSpec,
    markdown: pruneReportMarkdown,
    folder: (report) => ['prune', report.environment],
    stem: modelReportStem,
  },
  hsr: {
    tables: (report) => [hsrTable(report)],
    summary: hsrSummaryLines,
    chartSpec: hsrChartSpec,
    markdown: hsrReportMarkdown,
    folder: (report) => ['hsr', modeFolder(report.mode, report.machine.browser !== undefined)],
    stem: modelReportStem,
  },
};

/** The view of any report, by its `suite` field; a comparison with an earlier run is added to its summary and page. */
export function suiteView(report: AnySuiteReport): SuiteView<AnySuiteReport> {
  const view = SUITE_VIEWS[report.suite] as SuiteView<AnySuiteReport>;
  return {
    ...view,
    summary: (shown) => [
      ...view.summary(shown),
      ...(shown.repeatability
        ? [
            `Repeatability: ${shown.repeatability.within} of ${shown.repeatability.rows} medians within the earlier run's spread (${shown.repeatability.previous.date})` +
              (shown.repeatability.ratios ? `; ratios to dense: ${shown.repeatability.ratios.within} of ${shown.repeatability.ratios.rows}.` : '.'),
          ]
        : []),
    ],
    markdown: (shown, chartFile) => view.markdown(shown, chartFile) + repeatabilityMarkdown(shown.repeatability),
  };
}

/** Where `writeSuiteReport` puts a report: `<outDir>/<suite>/<mode or environment>/<stem>.{json,md,svg}`. */
/** Modes that run in Node and in the page: their page runs go to `<mode>-chromium`, apart from the Node runs. */
const NODE_AND_PAGE_MODES = ['wasm', 'webasm', 'cpu'];

/** The report folder of a mode: `wasm`, or `wasm-chromium` for a run in the page (webgl2 and webgpu run only there). */
export function modeFolder(mode: string, inBrowser: boolean): string {
  return inBrowser && NODE_AND_PAGE_MODES.includes(mode) ? `${mode}-chromium` : mode;
}

export function suiteReportFiles(report: AnySuiteReport, outDir: string): WrittenReport {
  const view = suiteView(report);
  const [suite, where] = view.folder(report);
  return suiteReportPaths(outDir, suite, where, view.stem(report));
}

/** Writes any suite's JSON, Markdown page and chart (SVG), each atomically. */
export async function writeSuiteReport(report: AnySuiteReport, outDir: string): Promise<WrittenReport> {
  const view = suiteView(report);
  return writeReportFiles(suiteReportFiles(report, outDir), report, view.chartSpec(report), (chart) => view.markdown(report, chart));
}
