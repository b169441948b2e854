import type { ModelSuiteReport } from './models';
import { machineLine } from './machine';
import { fixed, percent, suiteReportPaths, table, writeReportFiles, type WrittenReport } from './report';

/** `mobilenetv2-224-r0.5` from `zoo:mobilenetv2`, input 224x224 and r = 0.5. */
export function modelReportStem(report: ModelSuiteReport): string {
  const name = report.model.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '').replace(/^zoo:/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const size = report.input.shape.slice(2).join('x');
  return `${name}${size ? `-${size}` : ''}-r${report.settings.ratio}`;
}

function rowLabel(row: ModelSuiteReport['rows'][number]): string {
  return row.backend === 'onnxruntime-node' ? `onnxruntime-node dense (${row.threads} thread${row.threads === 1 ? '' : 's'})` : row.variant;
}

/** The Markdown page of a models suite report (the chart is referenced as `chartFile`). */
export function modelReportMarkdown(report: ModelSuiteReport, chartFile?: string): string {
  const { settings, summary } = report;
  const lines: string[] = [];
  lines.push(`# End-to-end latency: ${report.model} ${report.input.shape.join('x')}, gpu.js ${report.mode}, r = ${settings.ratio}`, '');
  lines.push(`- Command: \`${report.command || '(library call)'}\``);
  lines.push(`- Machine: ${machineLine(report.machine)}`);
  lines.push(`- Date: ${report.date}; run time ${report.seconds} s`);
  lines.push(
    `- Settings: every variant pruned by \`prune()\` at nominal sparsity r = ${settings.ratio} and run whole by @deprune/runtime (DEPrune layers on the sparse kernels with their plan); ` +
      `onnxruntime-node ${settings.onnxruntime ? 'runs the dense model on the same input' : 'not run'}; ${settings.warmup} warm-up + ${settings.repeats} timed runs of each, interleaved round by round; median reported; input seed ${settings.seed}.`,
  );
  lines.push('');
  lines.push(
    table(
      ['run', 'backend', 'threads', 'DSConv weights kept', 'layers on sparse kernels', 'median ms', 'spread ms', 'speedup vs our dense', 'cosine vs dense', 'top-1 = dense'],
      report.rows.map((row) => [
        rowLabel(row),
        row.backend,
        String(row.threads),
        row.weights === 0 ? '-' : `${row.keptWeights.toLocaleString('en-US')} (${percent(1 - row.sparsity)})`,
        row.planLayers === 0 ? '-' : `${row.sparseLayers} / ${row.planLayers}`,
        fixed(row.medianMs, 1),
        fixed(row.spreadMs, 1),
        `${fixed(row.speedupVsDense)}x`,
        fixed(row.cosineVsDense, 4),
        row.top1AgreesWithDense === undefined ? '-' : row.top1AgreesWithDense ? 'yes' : 'no',
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  lines.push('');
  lines.push(`Best pruned variant: **${summary.best.variant}, ${fixed(summary.best.speedup)}x** faster than dense on gpu.js ${report.mode}.`);
  for (const [threads, ratio] of Object.entries(summary.onnxruntimeVsDense)) {
    lines.push(`onnxruntime-node (${threads}) runs the dense model in ${fixed(ratio, 3)}x our dense time (${ratio < 1 ? `onnxruntime is ${fixed(1 / ratio, 1)}x faster` : `ours is ${fixed(ratio, 1)}x faster`}).`);
  }
  lines.push('');
  lines.push(
    '"speedup vs our dense" is our dense median over the row\'s median (onnxruntime rows: our dense over onnxruntime\'s). ' +
      'The models have seeded, untrained weights (zoo) or are pruned without retraining, so cosine and top-1 say how far pruning moved the output, not task accuracy.',
  );
  if (chartFile) lines.push('', `![median latency per run](${chartFile})`);
  return `${lines.join('\n')}\n`;
}

/** Median latency per run, bars with the spread as a rule. */
export function modelChartSpec(report: ModelSuiteReport): Record<string, unknown> {
  const values = report.rows.map((row) => ({ run: rowLabel(row), median: row.medianMs, low: row.medianMs - row.spreadMs / 2, high: row.medianMs + row.spreadMs / 2, ours: row.backend !== 'onnxruntime-node' }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${report.model} ${report.input.shape.join('x')}: end-to-end latency (gpu.js ${report.mode}, r = ${report.settings.ratio})`,
    width: 520,
    height: 24 * values.length,
    data: { values },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'run', type: 'nominal', sort: null, title: null },
          x: { field: 'median', type: 'quantitative', title: 'median latency (ms)' },
          color: { field: 'ours', type: 'nominal', legend: null },
        },
      },
      { mark: 'rule', encoding: { y: { field: 'run', type: 'nominal', sort: null }, x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } } },
    ],
  };
}

/** Writes `<outDir>/models/<mode>/<model>-<HxW>-r<ratio>.{json,md,svg}`, each file atomically. */
export async function writeModelReport(report: ModelSuiteReport, outDir: string): Promise<WrittenReport> {
  const paths = suiteReportPaths(outDir, 'models', report.mode, modelReportStem(report));
  return writeReportFiles(paths, report, modelChartSpec(report), (chart) => modelReportMarkdown(report, chart));
}
