/**
 * What the `deprune bench` suites share: which flags each suite takes (the rest are refused, not
 * ignored), where a suite runs (Node, or headless Chromium through the benchmark page), the
 * model and its input shape, the command line recorded in the report, existing report files,
 * and printing a report with the suite's own tables.
 */
import { existsSync, readFileSync } from 'node:fs';
import { closestName, UsageError } from '@deprune/errors';
import type { AnySuiteReport, PageProgress } from '@deprune/bench';
import type { GpuMode } from '@deprune/gpu';
import type { BackendMode } from '@deprune/runtime';
import { helpHint, type ParsedArgs } from '../args';
import { refuseOutputsOverInputs, type RolePath } from '../files';
import { formatTable, type Output } from '../output';
import { GPU_MODE_NAMES, loadModelWithShapes, MODE_NAMES, resolveBackendFlag, resolveGpuMode } from './kernel-common';

export const SUITES = ['kernels', 'models', 'prune', 'hsr', 'accuracy'] as const;
export type BenchSuite = (typeof SUITES)[number];

/** The model when --model is not given: the paper's MobileNetV2 at 224x224. */
export const DEFAULT_BENCH_MODEL = 'zoo:mobilenetv2';

/** gpu.js modes that exist only in a browser: they run in headless Chromium without asking. */
export const BROWSER_ONLY_MODES: readonly GpuMode[] = ['webgl2', 'webgpu'];
export const BROWSERS = ['chromium'] as const;

/** Every flag of `deprune bench` but the common ones, in the order the recorded command line lists them. */
const FLAG_ORDER = [
  'suite', 'model', 'mode', 'browser', 'input-shape', 'ratio', 'variants', 'layers', 'quick', 'repeats', 'warmup',
  'step', 'tile-rows', 'group-size', 'skip-dr', 'hsr-model', 'chain', 'threads', 'no-onnxruntime', 'ort-backends', 'ort-threads', 'no-memory',
  'runs', 'importance', 'allocation', 'ratios', 'eval-count', 'eval-sets', 'calib-source', 'calib-samples', 'no-reconstruct', 'speed', 'engine', 'compare', 'out', 'force',
] as const;
const COMMON = ['suite', 'model', 'browser', 'input-shape', 'ratio', 'quick', 'repeats', 'warmup', 'compare', 'out', 'force'];
/** The accuracy suite runs in Node only, on PP-OCR models at its own ratios, with its own timing: of the common flags it takes these. */
const ACCURACY_COMMON = ['suite', 'model', 'out'];
const OWN: Readonly<Record<BenchSuite, readonly string[]>> = {
  kernels: ['mode', 'layers', 'step', 'tile-rows', 'group-size', 'skip-dr', 'hsr-model', 'chain'],
  models: ['mode', 'variants', 'threads', 'no-onnxruntime', 'ort-backends', 'ort-threads'],
  prune: ['variants', 'no-memory'],
  hsr: ['mode', 'layers', 'step', 'tile-rows'],
  accuracy: ['variants', 'runs', 'importance', 'allocation', 'ratios', 'eval-count', 'eval-sets', 'calib-source', 'calib-samples', 'no-reconstruct', 'speed', 'engine'],
};

/** Flags each suite takes, in the order the recorded command line lists them. */
export const SUITE_FLAGS: Readonly<Record<BenchSuite, readonly string[]>> = Object.fromEntries(
  SUITES.map((suite) => [suite, FLAG_ORDER.filter((flag) => (suite === 'accuracy' ? ACCURACY_COMMON : COMMON).includes(flag) || OWN[suite].includes(flag))]),
) as unknown as Record<BenchSuite, readonly string[]>;

/** Refuses a flag the suite does not take, naming the suites that do. */
export function refuseForeignFlags(args: ParsedArgs, suite: BenchSuite, flags: readonly string[]): void {
  for (const flag of flags) {
    if (!args.has(flag) || SUITE_FLAGS[suite].includes(flag)) continue;
    const owners = SUITES.filter((other) => SUITE_FLAGS[other].includes(flag));
    throw new UsageError(`--${flag} is not an option of --suite ${suite}${owners.length > 0 ? ` (it is for --suite ${owners.join(', ')})` : ''}`, { hint: helpHint('bench') });
  }
}

/** --ratio, a fraction in [0, 1). */
export function parseRatio(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\s*(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value < 0 || value >= 1) {
    throw new UsageError(`--ratio must be a number in [0, 1) (the fraction of weights removed), got '${text}'`, { hint: helpHint('bench') });
  }
  return value;
}

/** --variants a,b checked against the suite's list; undefined: all. */
export function parseVariants<T extends string>(text: string | undefined, known: readonly T[]): T[] | undefined {
  if (text === undefined) return undefined;
  const variants = text.split(',').map((each) => each.trim()).filter((each) => each !== '');
  if (variants.length === 0) throw new UsageError('--variants is empty', { hint: `choose from ${known.join(', ')}` });
  for (const variant of variants) {
    if ((known as readonly string[]).includes(variant)) continue;
    const guess = closestName(variant, known);
    throw new UsageError(`unknown variant '${variant}' in --variants${guess ? `; did you mean '${guess}'?` : ''}`, { hint: `choose from ${known.join(', ')}` });
  }
  return variants as T[];
}

/** The command line as given (the flags the suite takes, in a fixed order), for the report. */
export function benchCommandLine(args: ParsedArgs, suite: BenchSuite, model: string): string {
  const quote = (value: string) => (/^[\w.,:/=+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  const parts = ['deprune bench', `--suite ${suite}`, `--model ${quote(model)}`];
  for (const flag of SUITE_FLAGS[suite]) {
    if (flag === 'suite' || flag === 'model' || !args.has(flag)) continue;
    if (flag === 'input-shape') parts.push(...args.strings(flag).map((shape) => `--input-shape ${quote(shape)}`));
    else if (args.boolean(flag)) parts.push(`--${flag}`);
    else parts.push(`--${flag} ${quote(args.string(flag)!)}`);
  }
  return parts.join(' ');
}

export interface BenchPlace {
  /** The backend: wasm or a gpu.js mode (null for the prune suite, which uses none). */
  mode: BackendMode | null;
  /** Run in headless Chromium through the benchmark page. */
  inBrowser: boolean;
}

/**
 * Where a suite runs. webgl2 and webgpu exist only in a browser, so they run in headless
 * Chromium; --browser chromium runs any mode there (the mode must then be named: the page probes
 * it). In Node the mode is resolved here (auto picks the best that works).
 */
export async function benchPlace(args: ParsedArgs, usesMode: boolean, takesWasm = false): Promise<BenchPlace> {
  const browser = args.string('browser');
  if (browser !== undefined && !(BROWSERS as readonly string[]).includes(browser)) throw new UsageError(`--browser must be one of ${BROWSERS.join(', ')}, got '${browser}'`);
  const requested = args.string('mode');
  if (!usesMode) return { mode: null, inBrowser: browser !== undefined };
  const inBrowser = browser !== undefined || (BROWSER_ONLY_MODES as readonly (string | undefined)[]).includes(requested);
  // A suite that runs whole models takes the wasm backend too (auto picks it in Node).
  if (!inBrowser) return { mode: (await (takesWasm ? resolveBackendFlag(requested, 'bench') : resolveGpuMode(requested, 'bench'))).mode, inBrowser };
  const names = takesWasm ? MODE_NAMES : GPU_MODE_NAMES;
  if (requested === undefined || requested === 'auto' || !(names as readonly string[]).includes(requested)) {
    throw new UsageError(`in a browser, give the mode explicitly: --mode ${names.filter((name) => name !== 'auto' && name !== 'headlessgl').join(' | ')}`, { hint: helpHint('bench') });
  }
  return { mode: requested as BackendMode, inBrowser };
}

/** The model (default MobileNetV2) and its single input's shape. */
export async function benchModel(args: ParsedArgs, suite: BenchSuite): Promise<{ spec: string; resolved: Awaited<ReturnType<typeof loadModelWithShapes>>['resolved']; inputShape: number[] }> {
  const spec = args.string('model') ?? DEFAULT_BENCH_MODEL;
  const { resolved, inputShapes } = await loadModelWithShapes(spec, args.strings('input-shape'));
  const shapes = Object.values(inputShapes);
  if (shapes.length !== 1) throw new UsageError(`--suite ${suite} takes single-input models; ${spec} has ${shapes.length} inputs`, { file: resolved.file ?? spec });
  return { spec, resolved, inputShape: shapes[0] };
}

/** The files a suite reads (the model file, --compare), for refuseExistingReport. */
export function benchInputs(args: ParsedArgs, spec: string): (RolePath | undefined)[] {
  const compare = args.string('compare');
  return [existsSync(spec) ? { path: spec, role: 'input model' } : undefined, compare === undefined ? undefined : { path: compare, role: '--compare report' }];
}

/** Refuses report files that are one of the inputs, or exist (unless --force); before any work. */
export function refuseExistingReport(files: { json: string; markdown: string; chart: string }, force: boolean, inputs: readonly (RolePath | undefined)[] = []): void {
  refuseOutputsOverInputs([files.json, files.markdown, files.chart].map((path) => ({ path, role: 'report file' })), inputs);
  if (force) return;
  for (const file of [files.json, files.markdown, files.chart]) {
    if (existsSync(file)) throw new UsageError('already exists; not overwriting it', { file, hint: 'pass --force to replace the report, or choose another --out' });
  }
}

/** --compare earlier.json: an earlier report of the same suite, read and checked before the run. */
export function readEarlierReport(args: ParsedArgs, suite: BenchSuite): AnySuiteReport | null {
  const file = args.string('compare');
  if (file === undefined) return null;
  let report: { suite?: unknown; date?: unknown };
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as typeof report;
  } catch (cause) {
    throw new UsageError(`cannot read it as a JSON report: ${(cause as Error).message.split('\n')[0]}`, { file, hint: 'give a .json file that deprune bench --out wrote', cause });
  }
  if (report === null || typeof report !== 'object' || report.suite !== suite || typeof report.date !== 'string') {
    throw new UsageError(`is not a --suite ${suite} report`, { file, hint: `give a .json file that deprune bench --suite ${suite} --out wrote` });
  }
  return report as AnySuiteReport;
}

/** A progress line on stderr from the benchmark page's (or a Node suite's) events. */
export function pageProgress(out: Output, label: string): { update(event: PageProgress): void; done(message: string): void } {
  const progress = out.progress(label, 100);
  return {
    update: (event) => progress.update(event.fraction === null ? 0 : Math.round(100 * event.fraction), event.message),
    done: (message) => progress.done(message),
  };
}

/** The human output: the suite's summary sentences and tables, then where the files went. */
export function printSuiteReport(out: Output, report: AnySuiteReport, view: { summary(report: AnySuiteReport): string[]; tables(report: AnySuiteReport): { title?: string; headers: string[]; rows: string[][]; align?: ('l' | 'r')[] }[] }, files: { json: string; markdown: string; chart: string } | null): void {
  for (const table of view.tables(report)) {
    if (table.title) out.print(table.title);
    out.print(formatTable(table.headers, table.rows.map((row) => row.map((cell) => cell.replace(/\*\*/g, ''))), { align: table.align?.map((side) => (side === 'r' ? 'right' : 'left')) }));
    out.print();
  }
  for (const line of view.summary(report)) out.print(line.replace(/\*\*/g, ''));
  if (files) out.print(`\nwrote ${files.markdown}, ${files.json} and ${files.chart}`);
}
