import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@deprune/onnx/node';
import type { AccuracyRow, AccuracySuiteReport, SpeedRow } from './accuracy';
import { machineLine } from '@deprune/profiler';
import { renderVegaLiteSvg, type WrittenReport } from './report';

const percent = (value: number) => `${(100 * value).toFixed(1)}`;
/** A drop in points, signed as a change: -2.5 is 2.5 points lost. */
const change = (drop: number) => `${drop > 0 ? '-' : drop < 0 ? '+' : '±'}${Math.abs(100 * drop).toFixed(1)}`;

/** A set's name with how it stands to the calibration source, for table heads and legends. */
function setLabel(set: { name: string; relation: string }): string {
  return `${set.name} (${set.relation})`;
}

/** Rows and speed rows of one pruned model share this key (the dense model is ratio 0). */
function speedKey(row: Pick<AccuracyRow | SpeedRow, 'variant' | 'ratio' | 'allocation'>): string {
  return `${row.variant}@${row.ratio}@${row.allocation ?? 'uniform'}`;
}

function label(row: AccuracyRow): string {
  if (row.variant === 'dense') return 'dense';
  return `${row.variant} ${row.importance}${row.allocation ? ` ${row.allocation}-allocated` : ''}${row.reconstructed ? ' + recon' : ''}`;
}

/** The Markdown page: settings, the command, then one table row per measured model. */
export function accuracyReportMarkdown(report: AccuracySuiteReport, command: string, chartFile?: string): string {
  const { settings } = report;
  const speed = new Map(report.speed.map((row) => [speedKey(row), row]));
  const lines = [
    `# Accuracy without retraining: ${report.model}`,
    '',
    `Machine: ${machineLine(report.machine)}. Started ${report.started}; ${report.ms > 0 ? `the whole run took ${(report.ms / 60000).toFixed(1)} min` : 'the run was stopped before its end (the rows it finished are below)'}.`,
    '',
    '```sh',
    command,
    '```',
    '',
    `Evaluation: ${settings.evalCount} rendered images per set (seed ${settings.evalSeed}), ${settings.evalSets.length} sets; calibration: ${settings.calibSamples} other rendered images from \`${settings.calibSource}\` (seed ${settings.calibSeed}), unlabelled; accuracy engine ${settings.engine}; metric: **${settings.primary}**, the headline is the mean over the **${settings.headline}** sets` +
      (settings.speedMode
        ? `; DSConv and whole-model latency on the deprune runtime (${settings.speedMode}), sparse kernels per plan${report.onnxruntimeMs ? `, beside onnxruntime-node on the dense model (1 thread, same input and rounds): ${report.onnxruntimeMs.toFixed(1)} ms` : ''}.`
        : '.'),
  ];
  lines.push('', '| evaluation set | relation to calibration | what it is |', '| --- | --- | --- |');
  for (const set of settings.evalSets) lines.push(`| ${set.name} | ${set.relation} | ${set.description} |`);
  if (report.calibration) {
    lines.push('', `Calibration pass (statistics of every DW/PW layer): ${report.calibration.samples} samples in ${(report.calibration.ms / 1000).toFixed(1)} s, process RSS ${report.calibration.rssMiB} MiB (${report.calibration.engine}).`);
  }
  lines.push(
    '',
    `Each cell: ${settings.primary} (%) and, in brackets, the change against dense on the same set in points.`,
    '',
    `| model | DSConv sparsity | ${settings.evalSets.map((set) => `${setLabel(set)} (%)`).join(' | ')} | ${settings.headline} mean (%) | DSConv speedup | model ms | onnxruntime-node dense / ours | rel. layer error before -> after | prune s | reconstruct s |`,
    `| --- | ---: | ${settings.evalSets.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | --- | ---: | ---: |`,
  );
  const cell = (metric: number, drop: number, dense: boolean) => (dense ? `**${percent(metric)}**` : `${percent(metric)} (${change(drop)})`);
  for (const row of report.rows) {
    const timing = speed.get(speedKey(row));
    const recon = row.reconstruction;
    const dense = row.variant === 'dense';
    lines.push(
      `| ${label(row)}${dense ? '' : ` (r=${row.ratio})`} | ${row.dsconvSparsity.toFixed(3)} | ${row.sets.map((set) => cell(set.metric, set.drop, dense)).join(' | ')} | ${cell(row.metric, row.drop, dense)} | ${timing ? `${timing.speedup.toFixed(2)}x` : '-'} | ${timing?.modelMs !== undefined ? timing.modelMs.toFixed(1) : '-'} | ${typeof timing?.vsOnnxruntime === 'number' ? `${timing.vsOnnxruntime.toFixed(2)}x` : '-'} | ${recon ? `${recon.meanErrorBefore.toFixed(3)} -> ${recon.meanErrorAfter.toFixed(3)}` : '-'} | ${row.pruneMs === undefined ? '-' : (row.pruneMs / 1000).toFixed(1)} | ${recon ? (recon.ms / 1000).toFixed(0) : '-'} |`,
    );
  }
  if (chartFile) lines.push('', `![${settings.primary} against DSConv sparsity and speedup](${chartFile})`);
  lines.push('');
  return lines.join('\n');
}

/** An axis title for a metric key of @deprune/evaluate ('lineAccuracy' -> 'line accuracy', 'f1' -> 'F1'). */
function metricTitle(key: string): string {
  if (key === 'f1') return 'F1';
  return key.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`);
}

export function accuracyChartSpec(report: AccuracySuiteReport): Record<string, unknown> {
  const speed = new Map(report.speed.map((row) => [speedKey(row), row.speedup]));
  const relation = new Map(report.settings.evalSets.map((set) => [set.name, setLabel(set)]));
  // One point per (model, evaluation set): colour is the set, dash and shape the model.
  const values = report.rows.flatMap((row) =>
    row.sets.map((set) => ({
      model: label(row),
      set: relation.get(set.set) ?? set.set,
      sparsity: row.dsconvSparsity,
      speedup: speed.get(speedKey(row)) ?? (row.variant === 'dense' ? 1 : null),
      metric: 100 * set.metric,
    })),
  );
  const panel = (x: string, title: string) => ({
    width: 360,
    height: 260,
    data: { values: x === 'speedup' ? values.filter((value) => value.speedup !== null) : values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: x, type: 'quantitative', title },
      y: { field: 'metric', type: 'quantitative', title: `${metricTitle(report.settings.primary)} (%)`, scale: { domain: [0, 100] } },
      // Labels are never cut (labelLimit 0: 'deprune-bh obs saliency-macs-allocated + recon' is long).
      color: { field: 'set', type: 'nominal', title: 'evaluation set', scale: { scheme: 'tableau10' }, legend: { labelLimit: 0 } },
      // One legend per field: the line's dash and the point's shape both say the model, and the
      // shape legend names it (a second legend with the same title would only repeat it).
      strokeDash: { field: 'model', type: 'nominal', title: 'model', legend: null },
      shape: { field: 'model', type: 'nominal', title: 'model', legend: { labelLimit: 0 } },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Accuracy without retraining: ${report.model}`, subtitle: `${machineLine(report.machine)}; ${report.started.slice(0, 10)}` },
    background: 'white',
    hconcat: [panel('sparsity', 'DSConv weight sparsity'), panel('speedup', 'measured DSConv speedup (x)')],
  };
}

/** Writes `<dir>/accuracy/<model>.{json,md,svg}` atomically. */
export async function writeAccuracyReport(report: AccuracySuiteReport, outDir: string, command: string): Promise<WrittenReport> {
  const folder = join(outDir, 'accuracy');
  mkdirSync(folder, { recursive: true });
  const stem = report.model;
  const paths = { folder, json: join(folder, `${stem}.json`), markdown: join(folder, `${stem}.md`), chart: join(folder, `${stem}.svg`) };
  writeFileAtomic(paths.json, `${JSON.stringify({ ...report, command }, null, 2)}\n`);
  writeFileAtomic(paths.chart, await renderVegaLiteSvg(accuracyChartSpec(report)));
  writeFileAtomic(paths.markdown, accuracyReportMarkdown(report, command, `${stem}.svg`));
  return paths;
}
