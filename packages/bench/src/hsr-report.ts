import { backendLabel } from '@deprune/runtime';
import type { HsrSuiteReport } from './hsr-suite';
import { machineLine } from '@deprune/profiler';
import { fixed, table, versionsLine, type ReportTable } from './report';

const UNIT_LABEL = { channel: 'taps per channel', group: 'taps per group', tile: 'columns per tile' } as const;

/** One row per layer: its staircase in brief and HSR's move. */
export function hsrTable(report: HsrSuiteReport): ReportTable {
  return {
    title: 'Measured staircases and HSR moves per layer',
    headers: ['layer', 'kind', 'counts', 'step found (t)', 'fit R2', 'L(0) us', 'L(full) us', 'B kept', 'BH kept (measured)', 'BH kept (analytic)', 'L(B) -> L(BH) us', 'weights B -> BH'],
    rows: report.layers.map((layer) => {
      const move = layer.move;
      return [
        layer.layer,
        `${layer.kind} ${layer.kernel}`,
        `${layer.kept.length} of 0..${layer.full} ${UNIT_LABEL[layer.unit]}`,
        `${layer.foundStep} (${report.settings.kernelStep})`,
        fixed(layer.fitR2, 3),
        fixed(layer.latencyUs[0], 1),
        fixed(layer.latencyUs[layer.latencyUs.length - 1], 1),
        move === null ? '-' : String(move.keptB),
        move === null ? '-' : move.keptBH === move.keptB ? String(move.keptBH) : `**${move.keptBH}**`,
        move === null ? '-' : String(move.keptAnalytic),
        move === null ? '-' : `${fixed(move.latencyBUs, 1)} -> ${fixed(move.latencyBHUs, 1)}`,
        move === null ? '-' : `${move.weightsB.toLocaleString('en-US')} -> ${move.weightsBH.toLocaleString('en-US')}`,
      ];
    }),
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}

/** The summary as sentences (the Markdown page and the browser page). */
export function hsrSummaryLines(report: HsrSuiteReport): string[] {
  const { summary, settings } = report;
  const gained = summary.weights.b === 0 ? 0 : summary.weights.bh / summary.weights.b - 1;
  return [
    `HSR (recover, against the table measured in this run) moved **${summary.moved} of ${summary.layers}** layers (the analytic ceil(n / ${settings.kernelStep}) staircase would move ${summary.movedAnalytic}).`,
    `Kept weights of the reported layers: ${summary.weights.b.toLocaleString('en-US')} (DEPrune-B) -> ${summary.weights.bh.toLocaleString('en-US')} (DEPrune-BH), ${gained >= 0 ? '+' : ''}${fixed(100 * gained, 1)}%; ` +
      `summed table latency at those counts ${fixed(summary.predictedUs.b / 1000, 2)} ms -> ${fixed(summary.predictedUs.bh / 1000, 2)} ms.`,
    report.mode === 'wasm'
      ? `The staircase fit found the step t = ${settings.kernelStep} the tables are built with on ${summary.dwStepFound} of ${summary.dwLayers} DW and ${summary.pwStepFound} of ${summary.pwLayers} PW layers: the wasm kernels loop over exactly the kept taps and columns (no padding to t), so their latency is a ramp and step 1 is what they should show; HSR then leaves the counts.`
      : `The staircase fit found the kernels' step t = ${settings.kernelStep} on ${summary.dwStepFound} of ${summary.dwLayers} DW and ${summary.pwStepFound} of ${summary.pwLayers} PW layers (elsewhere the stairs were below the timing's resolution; the table then uses stairs of 1 and HSR leaves the count).`,
    ...(report.skipped ?? []).map((layer) => `Not profiled: ${layer.layer} (${layer.reason}).`),
    `Profiling took ${fixed(summary.profileSeconds, 1)} s.`,
  ];
}

export function hsrReportMarkdown(report: HsrSuiteReport, chartFile?: string): string {
  const { settings } = report;
  const lines: string[] = [];
  lines.push(`# HSR staircases: ${report.model} ${report.input.shape.join('x')}, ${backendLabel(report.mode)}, r = ${settings.ratio}`, '');
  lines.push(`- Command: \`${report.command || '(library call)'}\``);
  lines.push(`- Machine: ${machineLine(report.machine)}`);
  lines.push(`- Versions: ${versionsLine(report.versions)}`);
  lines.push(`- Date: ${report.date}; run time ${report.seconds} s`);
  lines.push(
    `- Settings: \`profileLayers\` of @deprune/profiler on ${backendLabel(report.mode)}, every DW (dwSparse, every channel keeping m = 0..K taps) and PW layer (pwSparse, every tile of ${settings.tileRows} rows keeping q columns: q = 0..${settings.stepWindow}, then the top of every stair) ` +
      `with seeded random inputs; ${settings.warmup} warm-up + ${settings.repeats} timed calls per count (the window of small counts twice as often), interleaved; kernels built with t = ${settings.kernelStep}` +
      `${settings.quick ? '; **--quick**' : ''}${settings.layers ? `; layers matching \`${settings.layers}\`` : ''}. ` +
      `Then \`prune()\` with DEPrune-B (BWT per channel / per tile) and DEPrune-BH (HSR recover) against that table and against the analytic staircase, at r = ${settings.ratio}.`,
  );
  lines.push('');
  lines.push(...hsrSummaryLines(report).map((line) => `- ${line}`));
  if (chartFile) lines.push('', `![measured staircases with DEPrune-B's and DEPrune-BH's counts](${chartFile})`);
  lines.push('');
  const main = hsrTable(report);
  lines.push(`## ${main.title}`, '');
  lines.push(
    "Counts are per balanced unit (DW: taps per channel; PW: input columns per tile). L(n) is the table's latency of the whole layer at n kept (median of the stair's calls). " +
      'Bold: HSR moved the count. The JSON file next to this page has every timed count with its median and spread.',
    '',
  );
  lines.push(table(main.headers, main.rows, main.align));
  return `${lines.join('\n')}\n`;
}

/** The chart's legend: the measured staircase, and where each variant's kept count sits on it. */
const SERIES = ['measured latency (profiler table)', 'DEPrune-B: kept count', 'DEPrune-BH: kept count after HSR'] as const;

/** Small multiples: each layer's measured staircase (latency vs kept count), DEPrune-B's count (grey) and DEPrune-BH's (red). */
export function hsrChartSpec(report: HsrSuiteReport): Record<string, unknown> {
  const order = report.layers.map((layer) => layer.layer);
  const curve = report.layers.flatMap((layer) => layer.kept.map((kept, index) => ({ layer: layer.layer, kept, latency: layer.latencyUs[index], raw: layer.rawLatencyUs[index] })));
  const marks = report.layers.flatMap((layer) =>
    layer.move === null
      ? []
      : [
          { layer: layer.layer, kept: layer.move.keptB, which: SERIES[1] },
          { layer: layer.layer, kept: layer.move.keptBH, which: SERIES[2] },
        ],
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Measured latency staircases and HSR moves: ${report.model}, ${backendLabel(report.mode)}, r = ${report.settings.ratio}`, subtitle: `${machineLine(report.machine)}; ${report.date.slice(0, 10)}` },
    background: 'white',
    data: { values: [...curve.map((row) => ({ ...row, series: 'table' })), ...marks.map((row) => ({ ...row, series: row.which }))] },
    facet: { field: 'layer', type: 'nominal', sort: order, title: null, header: { labelLimit: 180, labelFontSize: 9 } },
    columns: 6,
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 150,
      height: 90,
      layer: [
        {
          transform: [{ filter: "datum.series === 'table'" }],
          mark: { type: 'line', interpolate: 'step-after', point: { size: 12 } },
          encoding: {
            x: { field: 'kept', type: 'quantitative', title: 'kept per unit' },
            y: { field: 'latency', type: 'quantitative', title: 'latency (us)', scale: { zero: false } },
            // One legend for the whole chart: the measured staircase and where each variant's kept count sits on it.
            color: { datum: SERIES[0], type: 'nominal' },
          },
        },
        {
          transform: [{ filter: "datum.series !== 'table'" }],
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: {
            x: { field: 'kept', type: 'quantitative' },
            color: { field: 'which', type: 'nominal', title: null, scale: { domain: [...SERIES], range: ['#4c78a8', '#888888', '#e45756'] }, legend: { title: null, labelLimit: 320 } },
            strokeDash: { field: 'which', type: 'nominal', legend: null, scale: { domain: [...SERIES].slice(1), range: [[4, 3], [1, 0]] } },
          },
        },
      ],
    },
  };
}
