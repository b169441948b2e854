/**
 * `deprune bench --suite accuracy`: task accuracy of a bundled PP-OCR model against DSConv
 * sparsity and measured DSConv speedup, per variant, importance and reconstruction (the
 * @deprune/bench accuracy suite). Kept in its own file; bench.ts only dispatches here.
 */
import { loadBench } from '../optional';
import { existsSync, readFileSync } from 'node:fs';
import { closestName, UsageError } from '@deprune/errors';
import type { AccuracyConfig, AccuracyModel, Importance } from '@deprune/bench';
import type { AllocationPreset, PruneVariant } from '@deprune/pipeline';
import type { ParsedArgs } from '../args';
import { bundledKeysPath, createEngine, parseCount, parseEngine } from '../calib';
import { resolveModel } from '../models';
import type { Output } from '../output';
import { variantNames } from '../variants';

const MODELS: readonly AccuracyModel[] = ['ppocr-rec', 'ppocr-cls', 'ppocr-det'];
/** The variants the grid runs by default; --variants and --runs take any registered one. */
const DEFAULT_VARIANTS: readonly PruneVariant[] = ['unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'];
const IMPORTANCES: readonly Importance[] = ['magnitude', 'activation', 'obs', 'obs-greedy'];
/** @deprune/pipeline's ALLOCATION_PRESETS names (written here so flag checks need not load it). */
const ALLOCATIONS: readonly AllocationPreset[] = ['uniform', 'saliency', 'saliency-macs'];
const DEFAULT_EVAL: Readonly<Record<AccuracyModel, number>> = { 'ppocr-rec': 100, 'ppocr-cls': 100, 'ppocr-det': 30 };

function list<T extends string>(flag: string, text: string | undefined, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (text === undefined) return [...fallback];
  const values = text.split(',').map((value) => value.trim());
  for (const value of values) if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag}: unknown '${value}'`, { hint: `choose from ${allowed.join(', ')}` });
  return values as T[];
}

/** `--runs variant@ratio[@allocation],...`: chosen (variant, ratio, allocation) triples instead of the grid. */
function parseRuns(text: string): { variant: PruneVariant; ratio: number; allocation: AllocationPreset }[] {
  return text.split(',').map((item) => {
    const [variant, ratioText, allocation = 'uniform', ...extra] = item.trim().split('@');
    const ratio = Number(ratioText);
    if (!variantNames().includes(variant) || ratioText === undefined || !(ratio > 0 && ratio < 1) || !(ALLOCATIONS as readonly string[]).includes(allocation) || extra.length > 0) {
      throw new UsageError(`--runs: '${item.trim()}' is not variant@ratio[@allocation]`, {
        hint: `e.g. deprune-bh@0.55@saliency-macs,channel@0.2; variants ${variantNames().join(', ')}; ratio in (0, 1); allocations ${ALLOCATIONS.join(', ')}`,
      });
    }
    return { variant: variant as PruneVariant, ratio, allocation: allocation as AllocationPreset };
  });
}

/**
 * `--eval-sets a,b`: @deprune/textdata source names, each an evaluation set (loaded only when the
 * flag is given, so the list is the package's own). Unknown names get a "did you mean".
 */
async function parseSources(flag: 'eval-sets' | 'calib-source', text: string | undefined): Promise<string[] | undefined> {
  if (text === undefined) return undefined;
  const { TEXT_SOURCE_NAMES } = await import('@deprune/textdata');
  const names = text.split(',').map((value) => value.trim());
  for (const name of names) {
    if (!(TEXT_SOURCE_NAMES as string[]).includes(name)) {
      const guess = closestName(name, TEXT_SOURCE_NAMES);
      throw new UsageError(`--${flag}: unknown ${flag === 'eval-sets' ? 'set' : 'source'} '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, { hint: `choose from ${TEXT_SOURCE_NAMES.join(', ')}` });
    }
  }
  if (flag === 'calib-source' && names.length !== 1) throw new UsageError(`--calib-source takes one source, got '${text}'`);
  if (new Set(names).size !== names.length) throw new UsageError(`--${flag} names a set twice: '${text}'`);
  return names;
}

function ratios(text: string | undefined): number[] {
  const values = (text ?? '0.5').split(',').map((value) => Number(value.trim()));
  if (values.some((value) => !Number.isFinite(value) || value <= 0 || value >= 1)) throw new UsageError(`--ratios must be numbers in (0, 1), got '${text}'`);
  return values;
}

export async function runAccuracyBench(args: ParsedArgs, out: Output): Promise<number> {
  const model = args.string('model') as AccuracyModel | undefined;
  if (model === undefined || !MODELS.includes(model)) throw new UsageError(`--suite accuracy needs --model ${MODELS.join(' | ')}`);
  const variants = list('variants', args.string('variants'), variantNames(), DEFAULT_VARIANTS);
  const importances = list('importance', args.string('importance'), IMPORTANCES, ['magnitude', 'obs']);
  const allocations = list('allocation', args.string('allocation'), ALLOCATIONS, ['uniform']);
  const ratioList = ratios(args.string('ratios'));
  const gridFlags = ['variants', 'ratios', 'allocation'].filter((flag) => args.has(flag));
  if (args.has('runs') && gridFlags.length > 0) {
    throw new UsageError(`--runs names the runs itself; it cannot be combined with --${gridFlags[0]}`, { hint: 'give either --runs or the grid flags --variants, --ratios, --allocation' });
  }
  const runsText = args.string('runs');
  const { allocationApplies } = await import('@deprune/pipeline');
  // A variant that ignores allocations (channel) runs once, uniform.
  const triples =
    runsText !== undefined
      ? parseRuns(runsText)
      : ratioList.flatMap((ratio) => variants.flatMap((variant) => (allocationApplies(variant) ? allocations : (['uniform'] as const)).map((allocation) => ({ variant, ratio, allocation }))));
  const evalCount = parseCount('eval-count', args.string('eval-count'), DEFAULT_EVAL[model]);
  const calibSamples = parseCount('calib-samples', args.string('calib-samples'), 32);
  const evalSets = await parseSources('eval-sets', args.string('eval-sets'));
  const calibSource = (await parseSources('calib-source', args.string('calib-source')))?.[0];
  const reconstructRows = !args.boolean('no-reconstruct');
  const outDir = args.string('out');
  if (outDir !== undefined && !existsSync(outDir)) throw new UsageError('the --out folder does not exist', { file: outDir });
  const engine = await createEngine(parseEngine(args.string('engine')));
  const bench = await loadBench('bench');
  const resolved = await resolveModel(model);
  const keys = model === 'ppocr-rec' ? readFileSync(await bundledKeysPath(), 'utf8') : undefined;
  const configs: AccuracyConfig[] = [];
  const seen = new Set<string>();
  for (const { variant, ratio, allocation } of triples) {
    for (const importance of importances) {
      const key = `${variant}@${ratio}@${allocation}@${importance}`;
      if (!seen.has(key)) configs.push({ variant, ratio, importance, allocation, reconstruct: reconstructRows });
      seen.add(key);
    }
  }
  const command = [
    'deprune bench --suite accuracy',
    `--model ${model}`,
    ...(runsText !== undefined
      ? [`--runs ${runsText}`, `--importance ${importances.join(',')}`]
      : [
          `--variants ${variants.join(',')}`,
          `--importance ${importances.join(',')}`,
          ...(args.has('allocation') ? [`--allocation ${allocations.join(',')}`] : []),
          `--ratios ${ratioList.join(',')}`,
        ]),
    `--eval-count ${evalCount}`,
    `--calib-samples ${calibSamples}`,
    ...(evalSets ? [`--eval-sets ${evalSets.join(',')}`] : []),
    ...(calibSource ? [`--calib-source ${calibSource}`] : []),
    ...(reconstructRows ? [] : ['--no-reconstruct']),
    ...(args.boolean('speed') ? ['--speed'] : []),
    `--engine ${args.string('engine') ?? 'auto'}`,
    ...(outDir ? [`--out ${outDir}`] : []),
  ].join(' ');
  const save = async (report: Parameters<typeof bench.writeAccuracyReport>[0]) => {
    if (outDir !== undefined) await bench.writeAccuracyReport({ ...report, ms: report.ms || 0 }, outDir, command);
  };
  try {
    const report = await bench.runAccuracySuite({
      model,
      dense: resolved.model,
      ...(keys ? { keys } : {}),
      configs,
      engine,
      evalCount,
      calibSamples,
      ...(evalSets ? { evalSets: evalSets as NonNullable<Parameters<typeof bench.runAccuracySuite>[0]['evalSets']> } : {}),
      ...(calibSource ? { calibSource: calibSource as NonNullable<Parameters<typeof bench.runAccuracySuite>[0]['calibSource']> } : {}),
      speed: args.boolean('speed'),
      onProgress: (message) => out.log(`accuracy ${model}: ${message}`),
      // Saved after every row: a long run that is stopped keeps what it measured.
      onRow: (partial) => void save(partial),
    });
    await save(report);
    out.result(report);
    for (const row of report.rows) {
      const perSet = row.sets.map((set) => `${set.set} ${(100 * set.metric).toFixed(1)}%${row.variant === 'dense' ? '' : ` (${set.drop > 0 ? '-' : '+'}${Math.abs(100 * set.drop).toFixed(1)})`}`).join(', ');
      out.print(
        `${row.variant} r=${row.ratio} ${row.importance ?? ''}${row.allocation ? ` ${row.allocation}-allocated` : ''}${row.reconstructed ? ' + recon' : ''}: sparsity ${row.dsconvSparsity.toFixed(3)}, ${report.settings.primary} ${report.settings.headline} mean ${(100 * row.metric).toFixed(1)}%; ${perSet}`,
      );
    }
  } finally {
    await engine.dispose();
  }
  return 0;
}
