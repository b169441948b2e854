import { yardstickLabel, type ModelSuiteReport } from './models';
import type { YardstickUnavailable } from './yardsticks';
import { machineLine } from '@deprune/profiler';
import { gcNote } from './suite-common';
import { fixed, percent, suiteReportPaths, table, versionsLine, writeReportFiles, type ReportTable, type WrittenReport } from './report';
import { backendLabel } from '@deprune/runtime';

/** What a report file name is made of: the model, its input and the sparsity. */
export interface StemParts {
  model: string;
  input: { shape: readonly number[] };
  settings: { ratio: number };
}

/** `mobilenetv2-224x224-r0.5` from `zoo:mobilenetv2`, input 224x224 and r = 0.5 (the models, prune and hsr suites). */
export function modelReportStem(report: StemParts): string {
  const name = report.model.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '').replace(/^zoo:/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const size = report.input.shape.slice(2).join('x');
  return `${name}${size ? `-${size}` : ''}-r${report.settings.ratio}`;
}

function rowLabel(row: ModelSuiteReport['rows'][number]): string {
  return row.yardstick ? `${yardstickLabel(row)} dense` : row.variant;
}

/** The report's main table (the Markdown page and the browser page both show it). */
export function modelTable(report: ModelSuiteReport): ReportTable {
  return {
    title: 'End-to-end latency per run',
    headers: ['run', 'backend', 'threads', 'DSConv weights kept', 'layers on sparse kernels', 'median ms', 'spread ms', 'fastest ms', 'speedup vs our dense', 'from fastest calls', 'cosine vs dense', 'top-1 = dense'],
    rows: [
      ...report.rows.map((row) => [
        rowLabel(row),
        row.detail === undefined ? row.backend : `${row.backend} (${row.detail})`,
        String(row.threads),
        row.weights === 0 ? '-' : `${row.keptWeights.toLocaleString('en-US')} (${percent(1 - row.sparsity)})`,
        row.planLayers === 0 ? '-' : `${row.sparseLayers} / ${row.planLayers}`,
        fixed(row.medianMs, 1),
        fixed(row.spreadMs, 1),
        fixed(row.minMs, 1),
        `${fixed(row.speedupVsDense)}x`,
        `${fixed(row.speedupVsDenseFromMin)}x`,
        fixed(row.cosineVsDense, 4),
        row.top1AgreesWithDense === undefined ? '-' : row.top1AgreesWithDense ? 'yes' : 'no',
      ]),
      ...report.unavailable.map((entry) => [`${entry.variant ?? `${entry.backend} dense`}`, entry.backend, entry.threads === null ? '-' : String(entry.threads), '-', '-', `unavailable: ${unavailableText(entry)}`, '-', '-', '-', '-', '-', '-']),
    ],
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}

/** A row that could not run: the reason, and what to do about it when there is a hint. */
export function unavailableText(entry: YardstickUnavailable): string {
  return entry.hint === undefined ? entry.reason : `${entry.reason} (${entry.hint})`;
}

/**
 * The summary's best pruned variant. `best` is 'dense' only when no pruned variant ran (failed
 * ones are never best): that is said as such rather than as "dense, 1.00x faster than dense".
 */
export function bestVariantSentence(report: ModelSuiteReport): string {
  const { best } = report.summary;
  if (best.variant === 'dense') return 'No pruned variant ran here (see the unavailable rows).';
  return `Best pruned variant: **${best.variant}, ${fixed(best.speedup)}x** faster than dense on ${backendLabel(report.mode)}.`;
}

/** One sentence per yardstick row: how its time compares with our dense run. */
export function yardstickSentences(report: ModelSuiteReport): string[] {
  return Object.entries(report.summary.yardstickVsDense).map(
    ([label, ratio]) => `${label} runs the dense model in ${fixed(ratio, 3)}x our dense time (${ratio < 1 ? `${fixed(1 / ratio, 1)}x faster than ours` : `ours is ${fixed(ratio, 1)}x faster`}).`,
  );
}

/** The Markdown page of a models suite report (the chart is referenced as `chartFile`). */
export function modelReportMarkdown(report: ModelSuiteReport, chartFile?: string): string {
  const { settings, summary } = report;
  const lines: string[] = [];
  lines.push(`# End-to-end latency: ${report.model} ${report.input.shape.join('x')}, ${backendLabel(report.mode)}, r = ${settings.ratio}`, '');
  lines.push(`- Command: \`${report.command || '(library call)'}\``);
  lines.push(`- Machine: ${machineLine(report.machine)}`);
  lines.push(`- Versions: ${versionsLine(report.versions)}`);
  lines.push(`- Date: ${report.date}; run time ${report.seconds} s`);
  lines.push(
    `- Settings: every variant pruned by \`prune()\` at nominal sparsity r = ${settings.ratio} and run whole by @deprune/runtime (DEPrune layers on the sparse kernels with their plan; DEPrune-BH's HSR against the analytic ceil(n / t) staircase); ` +
      `${settings.yardsticks.length === 0 ? 'no yardstick' : `${settings.yardsticks.join(', ')} run${settings.yardsticks.length === 1 ? 's' : ''} the dense model on the same input`}; ${settings.warmup} warm-up + ${settings.repeats} timed runs of each, interleaved round by round${gcNote(settings.gcBeforeCall)}; median reported; input seed ${settings.seed}.`,
  );
  lines.push('');
  const main = modelTable(report);
  lines.push(table(main.headers, main.rows, main.align));
  lines.push('');
  lines.push(bestVariantSentence(report));
  lines.push(...yardstickSentences(report));
  for (const entry of report.unavailable) lines.push(`${entry.backend}${entry.variant ? ` ${entry.variant}` : ''}: not run here: ${unavailableText(entry)}.`);
  if (!summary.reference.startsWith(`${backendLabel(report.mode)} dense`)) lines.push(`Our dense run could not run in this mode, so every speedup and output comparison is against **${summary.reference}**.`);
  lines.push('');
  lines.push(
    '"speedup vs our dense" is our dense median over the row\'s median (yardstick rows: our dense over the yardstick\'s); "from fastest calls" the same from each run\'s fastest call (other work on a shared machine only adds time). ' +
      'The models have seeded, untrained weights (zoo) or are pruned without retraining, so cosine and top-1 say how far pruning moved the output, not task accuracy.',
  );
  if (chartFile) lines.push('', `![median latency per run](${chartFile})`);
  return `${lines.join('\n')}\n`;
}

/**
 * The chart: median latency per run (log scale: onnxruntime is tens of times faster than gpu.js on
 * a CPU) with the fastest and slowest call as a rule, and each pruned variant's speedup over our
 * dense run.
 */
export function modelChartSpec(report: ModelSuiteReport): Record<string, unknown> {
  const values = report.rows.map((row) => ({ run: rowLabel(row), median: row.medianMs, low: Math.min(...row.samplesMs), high: Math.max(...row.samplesMs), runtime: row.yardstick ? 'yardstick (dense)' : 'deprune runtime' }));
  const speedups = report.rows
    .filter((row) => !row.yardstick && row.variant !== 'dense')
    .flatMap((row) => [
      { variant: row.variant, from: 'medians', speedup: row.speedupVsDense },
      { variant: row.variant, from: 'fastest calls', speedup: row.speedupVsDenseFromMin },
    ]);
  const order = values.map((value) => value.run);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${report.model} ${report.input.shape.join('x')}: end-to-end latency (${backendLabel(report.mode)}, r = ${report.settings.ratio})`,
      subtitle: `${machineLine(report.machine)}; ${report.date.slice(0, 10)}`,
    },
    background: 'white',
    // The runtimes (top) and the two speedups (bottom) are different things: separate colour legends.
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    vconcat: [
      {
        title: 'median latency per run (point) and fastest to slowest call (rule), log scale',
        width: 520,
        height: Math.max(48, 24 * values.length),
        data: { values },
        // Points and rules, not bars: a bar starts at 0, which a log scale cannot show.
        layer: [
          {
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              y: { field: 'run', type: 'nominal', sort: order, title: 'run', axis: { labelLimit: 320 } },
              x: { field: 'low', type: 'quantitative', title: 'median latency (ms, log scale)', scale: { type: 'log' } },
              x2: { field: 'high' },
              color: { field: 'runtime', type: 'nominal', title: 'runtime', legend: { labelLimit: 0 } },
            },
          },
          {
            mark: { type: 'point', filled: true, size: 80 },
            encoding: {
              y: { field: 'run', type: 'nominal', sort: order, title: 'run', axis: { labelLimit: 320 } },
              x: { field: 'median', type: 'quantitative', title: 'median latency (ms, log scale)', scale: { type: 'log' } },
              color: { field: 'runtime', type: 'nominal', title: 'runtime', legend: { labelLimit: 0 } },
            },
          },
        ],
      },
      {
        title: `speedup over our dense run at nominal sparsity ${report.settings.ratio}, from the medians and from the fastest calls`,
        width: 520,
        // At least 48 px: the y axis title, written along the axis, must fit its height.
        height: Math.max(48, 16 * speedups.length),
        data: { values: speedups },
        layer: [
          {
            mark: 'bar',
            encoding: {
              y: { field: 'variant', type: 'nominal', sort: null, title: 'variant' },
              yOffset: { field: 'from', type: 'nominal' },
              x: { field: 'speedup', type: 'quantitative', title: 'speedup vs dense (x)' },
              color: { field: 'from', type: 'nominal', title: 'speedup from', scale: { range: ['#4c78a8', '#9ecae9'] }, legend: { labelLimit: 0 } },
            },
          },
          { mark: { type: 'rule', color: 'black', strokeDash: [4, 3] }, encoding: { x: { datum: 1 } } },
        ],
      },
    ],
  };
}

/** Writes `<outDir>/models/<mode>/<model>-<HxW>-r<ratio>.{json,md,svg}`, each file atomically. */
export async function writeModelReport(report: ModelSuiteReport, outDir: string): Promise<WrittenReport> {
  const paths = suiteReportPaths(outDir, 'models', report.mode, modelReportStem(report));
  return writeReportFiles(paths, report, modelChartSpec(report), (chart) => modelReportMarkdown(report, chart));
}
