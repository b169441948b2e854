import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KERNEL_VARIANTS, variantsOf, type KernelSuiteReport, type KernelVariant } from './kernels';
import { machineLine } from '@deprune/profiler';

/** The paper's headline: up to 3.74x DSConv speedup on GPUs (DEPrune, NeurIPS 2024). */
export const PAPER_DSCONV_SPEEDUP = 3.74;

export const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
export const percent = (fraction: number) => `${(100 * fraction).toFixed(1)}%`;
const verdict = (pass: boolean) => (pass ? 'yes' : '**no**');

/** A short label for a block in tables and the chart: its position and DW channels/kernel/size. */
function blockLabels(report: KernelSuiteReport): Map<string, string> {
  return new Map(
    report.layers.map((detail, index) => [
      detail.layer,
      `${index + 1}: ${detail.dw.kernel.join('x')} C${detail.dw.channels} ${detail.dw.outputShape[2]}x${detail.dw.outputShape[3]}${detail.dw.strides[0] > 1 || detail.dw.strides[1] > 1 ? ` s${detail.dw.strides.join(',')}` : ''} -> ${detail.pw.outChannels}`,
    ]),
  );
}

function variantsIn(report: KernelSuiteReport): KernelVariant[] {
  return variantsOf(report.rows);
}

/** A table of a report as plain strings: the Markdown pages and the browser page render the same ones. */
export interface ReportTable {
  title?: string;
  headers: string[];
  rows: string[][];
  align?: ('l' | 'r')[];
}

/** `gpu.js 2.24.1, onnxruntime-node 1.30.0`. */
export function versionsLine(versions: Readonly<Record<string, string>>): string {
  return Object.entries(versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
}

/** A Markdown table; `align` 'r' right-aligns a column. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const rule = headers.map((_, index) => ((align?.[index] ?? 'l') === 'r' ? '---:' : '---'));
  return [headers, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Where the timed calls found their inputs. */
function inputsLine(resident: boolean | undefined): string {
  return resident === true
    ? "inputs resident in the backend's memory (put there once, untimed), as a model's layers find them"
    : 'inputs handed over as host tensors, so every timed call includes copying its input in';
}

/** How the DSConv pair ran: one chained `dsconv` step (and what that saved), or two calls. */
function chainingLine(report: KernelSuiteReport): string {
  const ratios = report.summary.unchainedOverChained;
  if (report.settings.chain !== true || ratios === null || ratios === undefined) {
    return 'DSConv (DW then PW) ran as two kernel calls, the DW result read back and uploaded again for the PW: as the runtime runs the pair in this mode.';
  }
  const parts = Object.entries(ratios).map(([variant, ratio]) => `${fixed(ratio, 3)}x as long for ${variant}`);
  return (
    'DSConv (DW then PW) ran as one `dsconv` step with the DW result kept on the device, as the runtime runs the pair in this mode. ' +
    `The same pair as two calls (the DW result read back, then uploaded for the PW), timed in the same rounds, took ${parts.join(' and ')} (summed medians).`
  );
}

/** The Markdown page of a kernel suite report (the chart is referenced as `chartFile`). */
export function kernelReportMarkdown(report: KernelSuiteReport, chartFile?: string): string {
  const { summary, settings } = report;
  const variants = variantsIn(report);
  const labels = blockLabels(report);
  const lines: string[] = [];
  lines.push(`# Kernel benchmark: ${report.model}, mode ${report.mode}, r = ${settings.ratio}`, '');
  lines.push(`- Command: \`${report.command || '(library call)'}\``);
  lines.push(`- Machine: ${machineLine(report.machine)}`);
  lines.push(`- Date: ${report.date}; run time ${report.seconds} s`);
  lines.push(
    `- Settings: nominal sparsity r = ${settings.ratio} on every DW and PW; kernel step t = ${settings.step}; PW row tile T = ${settings.tileRows}; DR group G = ${settings.groupSize}; ` +
      `${settings.warmup} warm-up + ${settings.repeats} timed calls per kernel, all variants of a block interleaved round by round; median reported; ` +
      `DEPrune-BH's latency model: ${settings.hsrModel === 'measured' ? "the profiler's table measured for each layer" : 'the analytic ceil(n / t) staircase'}` +
      `${settings.quick ? '; **--quick** (few timed calls: rough numbers)' : ''}${settings.layers ? `; layers matching \`${settings.layers}\`` : ''}` +
      `${settings.drSkipped ? `; DR form not timed: ${settings.drSkipped}` : ''}; ${inputsLine(settings.residentInputs)}`,
  );
  lines.push('');
  lines.push('## Summary', '');
  lines.push(
    table(
      ['variant', 'DSConv speedup', 'DW speedup', 'PW speedup', 'DSConv weights kept', 'DSConv speedup from fastest calls'],
      variants.map((variant) => [
        variant,
        `${fixed(summary.dsconvSpeedup[variant] ?? Number.NaN)}x`,
        `${fixed(summary.dwSpeedup[variant] ?? Number.NaN)}x`,
        summary.pwSpeedup[variant] === undefined ? '-' : `${fixed(summary.pwSpeedup[variant]!)}x`,
        percent(summary.keptFraction[variant] ?? Number.NaN),
        `${fixed(summary.dsconvSpeedupFromMin[variant] ?? Number.NaN)}x`,
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  lines.push('');
  lines.push(
    `Speedups are summed dense time over summed variant time (medians; the last column uses each kernel's fastest call), over the ${report.layers.length} block(s). Best DSConv speedup: ` +
      `**${fixed(summary.best.dsconvSpeedup)}x (${summary.best.variant})** at nominal sparsity ${settings.ratio} ` +
      `(DSConv weights ${percent(summary.best.dsconvSparsity)} zero), against the paper's ${PAPER_DSCONV_SPEEDUP}x on GPUs.`,
  );
  lines.push('', chainingLine(report));
  lines.push('');
  const { checks } = summary;
  lines.push('## Checks', '');
  lines.push(
    `- DEPrune-B faster than DEPrune: ${verdict(checks.bFasterThanDeprune.pass)} (DSConv ${fixed(checks.bFasterThanDeprune.speedupB)}x vs ${fixed(checks.bFasterThanDeprune.speedupDeprune)}x; ` +
      `B faster on ${checks.bFasterThanDeprune.layersWhereBFaster} of ${checks.bFasterThanDeprune.layers} blocks).`,
  );
  const bh = checks.bhNoSlowerThanB;
  lines.push(
    `- DEPrune-BH no slower than DEPrune-B, with at least as many weights and no stair crossed: ${verdict(bh.pass)} ` +
      `(paired rounds: BH - B = ${fixed(bh.pairedDiffMs, 3)} ms +- ${fixed(bh.pairedStandardErrorMs, 3)} (standard error), ratio ${fixed(bh.pairedRatio, 3)}, ` +
      `${bh.significantlySlower ? `**slower by more than ${bh.significance} standard errors**` : `not slower by more than ${bh.significance} standard errors`}; ` +
      `summed medians ${fixed(bh.timeRatio, 3)}, fastest calls ${fixed(bh.timeRatioFromMin, 3)}; kept weights ${bh.keptBH} vs ${bh.keptB}; ` +
      `${bh.sameStairs ? 'every BH kernel runs the same slots as B' : `**HSR crossed a stair edge**: ${bh.stairCrossings.map((crossing) => `${labels.get(crossing.layer) ?? crossing.layer} ${crossing.op} ${crossing.keptB} -> ${crossing.keptBH} (slots ${crossing.slotsB} -> ${crossing.slotsBH})`).join('; ')}`}).`,
  );
  const ideal = checks.dwIdeal.layers;
  lines.push(
    `- Sparse DW kernel reaches ${percent(checks.dwIdeal.threshold)} of the ideal K/m speedup on the large layers (>= ${settings.largeLayerMinOutputs.toLocaleString('en-US')} output elements): ` +
      `${ideal.length === 0 ? 'no large layer in this run' : `${verdict(checks.dwIdeal.pass)} from the medians, ${verdict(checks.dwIdeal.passFromMin)} from the fastest calls`} (judged on DEPrune-BH, whose m is a step edge).`,
  );
  const { staircase } = checks;
  lines.push(
    `- Measured staircase step (kernel built with t = ${staircase.kernelStep}): DW curves (dwSparse, m = 0..K) show t on ${staircase.dwMatching} of ${staircase.dwLayers} layers ` +
      `(steps found: ${staircase.dwSteps.join(', ')}); PW curves (pwSparse, step read off q = 0..16, timed ${report.layers[0]?.staircase.pw?.windowRepeats ?? '?'} times each) on ${staircase.pwMatching} of ${staircase.pwLayers} (${staircase.pwSteps.join(', ')}).`,
  );
  if (ideal.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['block', 'variant', 'K', 'kept m', 'slots', 'ideal K/m', 'achieved', 'fraction of ideal', '>= 70%', 'fraction from fastest calls'],
        ideal.map((check) => [
          labels.get(check.layer) ?? check.layer,
          check.variant,
          String(check.kernelTaps),
          String(check.kept),
          String(check.slots),
          `${fixed(check.ideal)}x`,
          `${fixed(check.achieved)}x`,
          percent(check.fraction),
          verdict(check.pass),
          percent(check.fractionFromMin),
        ]),
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
      ),
    );
  }
  if (chartFile) lines.push('', `![DSConv speedup per block and measured DW staircases](${chartFile})`);
  lines.push('', '## Per block: DSConv (DW then PW) speedup vs dense', '');
  const ofOp = (op: 'dw' | 'pw' | 'dsconv') => (layer: string, variant: KernelVariant) => report.rows.find((row) => row.layer === layer && row.op === op && row.variant === variant);
  const dsconv = ofOp('dsconv');
  lines.push(
    table(
      ['block', 'DW node', 'dense ms', ...variants.filter((variant) => variant !== 'dense')],
      report.layers.map((detail) => [
        labels.get(detail.layer)!,
        `\`${detail.layer}\``,
        fixed(dsconv(detail.layer, 'dense')?.medianMs ?? Number.NaN, 3),
        ...variants.filter((variant) => variant !== 'dense').map((variant) => {
          const row = dsconv(detail.layer, variant);
          return row ? `${fixed(row.speedupVsDense)}x` : '-';
        }),
      ]),
      ['l', 'l', 'r', ...variants.filter((variant) => variant !== 'dense').map((): 'r' => 'r')],
    ),
  );
  for (const op of ['dw', 'pw'] as const) {
    const find = ofOp(op);
    const shown = variants.filter((variant) => variant !== 'dense' && report.rows.some((row) => row.op === op && row.variant === variant));
    lines.push('', `## Per block: ${op.toUpperCase()} speedup vs dense (kept ${op === 'dw' ? 'taps per channel (DR: per group)' : 'columns per tile'}: min-max / slots)`, '');
    lines.push(
      table(
        ['block', 'dense ms', ...shown],
        report.layers.map((detail) => [
          labels.get(detail.layer)!,
          fixed(find(detail.layer, 'dense')?.medianMs ?? Number.NaN, 3),
          ...shown.map((variant) => {
            const row = find(detail.layer, variant);
            const plan = detail.plans[variant]?.[op];
            const kept = plan ? ` (${plan.min === plan.max ? plan.min : `${plan.min}-${plan.max}`}${plan.slots === null ? '' : ` / ${plan.slots}`})` : '';
            return row ? `${fixed(row.speedupVsDense)}x${kept}` : '-';
          }),
        ]),
        ['l', 'r', ...shown.map((): 'r' => 'r')],
      ),
    );
  }
  lines.push('', '## Measured staircases and HSR moves (DEPrune-B -> DEPrune-BH)', '');
  lines.push(
    `Step found per layer on the fastest calls of its window of small counts (1 = not resolved), and the jump at the stair edges of the kernel's t = ${settings.step} (fitted beside a ramp) against the smallest jump the timing resolves (3 standard errors; -1: window too short).`,
    '',
  );
  const rise = (curve: KernelSuiteReport['layers'][number]['staircase']['dw']) =>
    curve ? `${fixed(curve.perStairMs, 3)} / ${fixed(curve.resolvableMs, 3)}` : '-';
  lines.push(
    table(
      ['block', 'DW step', 'DW rise / resolvable ms', 'DW m', 'PW step', 'PW rise / resolvable ms', 'PW q', 'latency model'],
      report.layers.map((detail) => [
        labels.get(detail.layer)!,
        String(detail.staircase.dw?.foundStep ?? '-'),
        rise(detail.staircase.dw),
        detail.hsr.dw ? `${detail.hsr.dw.keptBefore} -> ${detail.hsr.dw.keptAfter}` : '-',
        String(detail.staircase.pw?.foundStep ?? '-'),
        rise(detail.staircase.pw),
        detail.hsr.pw ? `${detail.hsr.pw.keptBefore} -> ${detail.hsr.pw.keptAfter}` : '-',
        detail.hsr.model,
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  lines.push('', '## Variants', '');
  for (const variant of variants) lines.push(`- \`${variant}\`: ${report.variants[variant]}`);
  lines.push('', `Rows with every median, spread and kept-weight count: the JSON file next to this page.`, '');
  return `${lines.join('\n')}\n`;
}

/** The chart as a Vega-Lite spec: DSConv speedup per block and variant, and the measured DW staircases. */
export function kernelChartSpec(report: KernelSuiteReport): Record<string, unknown> {
  const labels = blockLabels(report);
  const bars = report.rows
    .filter((row) => row.op === 'dsconv' && row.variant !== 'dense')
    .map((row) => ({ block: labels.get(row.layer) ?? row.layer, variant: row.variant, speedup: row.speedupVsDense }));
  const stairs = report.layers.flatMap((detail) => {
    const curve = detail.staircase.dw;
    if (!curve) return [];
    const full = curve.medianMs[curve.medianMs.length - 1];
    return curve.kept.map((kept, index) => ({ block: labels.get(detail.layer) ?? detail.layer, kept, relative: full > 0 ? curve.medianMs[index] / full : 0 }));
  });
  const order = [...labels.values()];
  const variantOrder = [...KERNEL_VARIANTS, ...(report.settings.extraVariants ?? [])].filter((variant) => variant !== 'dense');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Kernel benchmark: ${report.model}, ${report.mode}, r = ${report.settings.ratio}`,
      subtitle: `${machineLine(report.machine)}; ${report.date.slice(0, 10)}`,
    },
    background: 'white',
    // Variants (top) and blocks (bottom) are different things: separate colour scales and legends.
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    vconcat: [
      {
        title: 'DSConv (DW + PW) speedup vs dense, per block',
        width: Math.max(480, 34 * order.length * Math.max(1, variantOrder.length / 3)),
        height: 260,
        data: { values: bars },
        layer: [
          {
            mark: 'bar',
            encoding: {
              // Labels are never cut (labelLimit 0): without a canvas vega estimates 0.8 em per
              // character, so '4: 3x3 C144 28x28 s2,2 -> 32' passed a 220 px limit.
              x: { field: 'block', type: 'nominal', sort: order, title: 'block (kernel, channels, output size, PW out)', axis: { labelAngle: -40, labelLimit: 0 } },
              xOffset: { field: 'variant', type: 'nominal', sort: variantOrder },
              y: { field: 'speedup', type: 'quantitative', title: 'speedup vs dense (x)' },
              color: { field: 'variant', type: 'nominal', sort: variantOrder, scale: { scheme: 'tableau10' } },
            },
          },
          { mark: { type: 'rule', color: 'black', strokeDash: [4, 3] }, encoding: { y: { datum: 1 } } },
        ],
      },
      {
        title: `Measured DW latency vs kept taps per channel (dwSparse, kernel step t = ${report.settings.step}), relative to all taps kept`,
        width: 480,
        height: 220,
        data: { values: stairs },
        mark: { type: 'line', point: true, interpolate: 'step-after' },
        encoding: {
          x: { field: 'kept', type: 'quantitative', title: 'kept taps per channel m', axis: { tickMinStep: 1 } },
          y: { field: 'relative', type: 'quantitative', title: 'latency / latency at m = K' },
          color: { field: 'block', type: 'nominal', sort: order, legend: { labelLimit: 0 } },
        },
      },
    ],
  };
}

/** Renders a Vega-Lite spec to SVG in Node with vega's headless View (no browser, no canvas). */
export async function renderVegaLiteSvg(spec: Record<string, unknown>): Promise<string> {
  const vegaLite = await import('vega-lite');
  const vega = await import('vega');
  // Warnings would go to the console (stderr of a CLI); the spec is ours, so only errors matter.
  const quiet = vega.logger(vega.Error);
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0], { logger: quiet }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface WrittenReport {
  folder: string;
  json: string;
  markdown: string;
  chart: string;
}

/** `mobilenetv2-r0.56` from `zoo:mobilenetv2` and r = 0.56. */
export function reportStem(report: KernelSuiteReport): string {
  const name = report.model.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '').replace(/^zoo:/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  return `${name}-r${report.settings.ratio}${report.settings.quick ? '-quick' : ''}`;
}

/** `<outDir>/<suite>/<mode>/<stem>.{json,md,svg}`: where a suite's report goes. */
export function suiteReportPaths(outDir: string, suite: string, mode: string, stem: string): WrittenReport {
  const folder = join(outDir, suite, mode);
  return { folder, json: join(folder, `${stem}.json`), markdown: join(folder, `${stem}.md`), chart: join(folder, `${stem}.svg`) };
}

/** The files `writeKernelReport` writes, without writing them. */
export function kernelReportPaths(report: KernelSuiteReport, outDir: string): WrittenReport {
  return suiteReportPaths(outDir, 'kernels', report.mode, reportStem(report));
}

function writeAtomic(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** Writes a report's three files, each atomically: the JSON, the chart (a Vega-Lite spec rendered to SVG) and the Markdown page. */
export async function writeReportFiles(paths: WrittenReport, report: unknown, chartSpec: Record<string, unknown>, markdown: (chartFile: string) => string): Promise<WrittenReport> {
  mkdirSync(paths.folder, { recursive: true });
  writeAtomic(paths.chart, await renderVegaLiteSvg(chartSpec));
  writeAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomic(paths.markdown, markdown(paths.chart.replace(/^.*[\\/]/, '')));
  return paths;
}

/**
 * Writes the report as `<outDir>/kernels/<mode>/<model>-r<ratio>.{json,md,svg}`: the JSON report,
 * a Markdown page (command, machine line, versions, date, summary, checks, per-block tables) and
 * the chart (Vega-Lite, rendered to SVG in Node). Each file is written atomically.
 */
export async function writeKernelReport(report: KernelSuiteReport, outDir: string): Promise<WrittenReport> {
  return writeReportFiles(kernelReportPaths(report, outDir), report, kernelChartSpec(report), (chart) => kernelReportMarkdown(report, chart));
}
