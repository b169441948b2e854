import { machineLine } from '@deprune/profiler';
import { gcNote } from './suite-common';
import type { PruneSuiteReport } from './prune-suite';
import { fixed, percent, table, versionsLine, type ReportTable } from './report';

export function pruneTable(report: PruneSuiteReport): ReportTable {
  const mib = (value: number | undefined) => (value === undefined ? '-' : fixed(value, 1));
  return {
    title: 'prune() time and memory per variant',
    headers: ['variant', 'layers', 'weights kept', 'median ms', 'spread ms', 'fastest ms', 'slowest / this', 'peak extra MiB', 'RSS before MiB', 'heap after MiB'],
    rows: report.rows.map((row) => [
      row.variant,
      String(row.layers),
      `${row.keptWeights.toLocaleString('en-US')} (${percent(1 - row.sparsity)})`,
      fixed(row.medianMs, 1),
      fixed(row.spreadMs, 1),
      fixed(row.minMs, 1),
      `${fixed(row.relativeToSlowest)}x`,
      mib(row.memory?.peakExtraMiB),
      mib(row.memory?.baselineRssMiB),
      mib(row.memory?.heapAfterMiB),
    ]),
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}

export function pruneReportMarkdown(report: PruneSuiteReport, chartFile?: string): string {
  const { settings } = report;
  const lines: string[] = [];
  lines.push(`# prune() time and memory: ${report.model} ${report.input.shape.join('x')}, r = ${settings.ratio}, ${report.environment}`, '');
  lines.push(`- Command: \`${report.command || '(library call)'}\``);
  lines.push(`- Machine: ${machineLine(report.machine)}`);
  if (Object.keys(report.versions).length > 0) lines.push(`- Versions: ${versionsLine(report.versions)}`);
  lines.push(`- Date: ${report.date}; run time ${report.seconds} s`);
  lines.push(
    `- Settings: \`prune(model, { variant, ratio: ${settings.ratio} })\` from @deprune/pipeline on the parsed model (DEPrune-BH: HSR against the analytic ceil(n / t) staircase), ` +
      `${settings.warmup} warm-up + ${settings.repeats} timed calls of each variant, interleaved round by round${gcNote(settings.gcBeforeCall)}; median reported. No gpu.js mode is involved: prune() is JavaScript on the CPU.`,
  );
  lines.push(`- Memory: ${report.memory.measured ? report.memory.method : `not measured: ${report.memory.reason}`}.`);
  lines.push('');
  const main = pruneTable(report);
  lines.push(table(main.headers, main.rows, main.align));
  lines.push('');
  const fastest = report.rows.find((row) => row.variant === report.summary.fastest)!;
  const slowest = report.rows.find((row) => row.variant === report.summary.slowest)!;
  lines.push(
    `Fastest: **${fastest.variant}, ${fixed(fastest.medianMs, 1)} ms**; slowest: **${slowest.variant}, ${fixed(slowest.medianMs, 1)} ms**. ` +
      `"slowest / this" is the slowest variant's median over the row's.`,
  );
  if (chartFile) lines.push('', `![prune() time per variant](${chartFile})`);
  return `${lines.join('\n')}\n`;
}

/** Median time per variant (rule: fastest to slowest call) and, where measured, the peak extra memory. */
export function pruneChartSpec(report: PruneSuiteReport): Record<string, unknown> {
  const values = report.rows.map((row) => ({ variant: row.variant, median: row.medianMs, low: row.minMs, high: Math.max(...row.samplesMs), peakExtraMiB: row.memory?.peakExtraMiB ?? null }));
  const order = values.map((value) => value.variant);
  // At least 48 px high (below): the y axis title, written along the axis, must fit.
  const variantAxis = { field: 'variant', type: 'nominal', sort: order, title: 'variant' };
  // Each mark names itself in the legend (a constant colour per mark): the bar is the median, the rule the calls' range.
  const timeColor = (name: string) => ({ datum: name, type: 'nominal', title: 'prune() time', scale: { domain: ['median', 'fastest to slowest call'], range: ['#4c78a8', '#222222'] }, legend: { labelLimit: 0 } });
  const time = {
    title: 'prune() median time (rule: fastest to slowest call)',
    width: 420,
    height: Math.max(48, 24 * values.length),
    data: { values },
    layer: [
      { mark: 'bar', encoding: { y: variantAxis, x: { field: 'median', type: 'quantitative', title: 'prune() time (ms)' }, color: timeColor('median') } },
      { mark: 'rule', encoding: { y: variantAxis, x: { field: 'low', type: 'quantitative', title: 'prune() time (ms)' }, x2: { field: 'high' }, color: timeColor('fastest to slowest call') } },
    ],
  };
  const memory = {
    title: 'peak extra memory during prune() (RSS)',
    width: 420,
    height: Math.max(48, 24 * values.length),
    data: { values },
    mark: 'bar',
    encoding: {
      y: variantAxis,
      x: { field: 'peakExtraMiB', type: 'quantitative', title: 'peak extra RSS (MiB)' },
      color: { datum: 'peak extra RSS during prune()', type: 'nominal', title: 'memory', scale: { range: ['#e45756'] }, legend: { labelLimit: 0 } },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `prune() on ${report.model} ${report.input.shape.join('x')}, r = ${report.settings.ratio} (${report.environment})`, subtitle: `${machineLine(report.machine)}; ${report.date.slice(0, 10)}` },
    background: 'white',
    // Time and memory are different things: a colour legend each.
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    vconcat: report.memory.measured ? [time, memory] : [time],
  };
}
