/**
 * `deprune bench --suite models`: end-to-end latency of a whole model, dense and pruned by each
 * variant, on @deprune/runtime, with onnxruntime-node on the same input in the same run.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '@deprune/errors';
import type { ModelSuiteReport, ModelVariant } from '@deprune/bench';
import { helpHint, type ParsedArgs } from '../args';
import { formatTable, type Output } from '../output';
import { loadModelWithShapes, resolveGpuMode } from './kernel-common';

/** Flags of the other suites that mean nothing here: refused rather than ignored. */
const OTHER_SUITES_FLAGS = ['layers', 'step', 'tile-rows', 'group-size', 'skip-dr', 'hsr-model', 'browser', 'importance', 'ratios', 'eval-count', 'calib-samples', 'no-reconstruct', 'speed', 'engine'] as const;

function printModelReport(out: Output, report: ModelSuiteReport, files: { json: string; markdown: string; chart: string } | null): void {
  out.print(`End-to-end benchmark: ${report.model} ${report.input.shape.join('x')}, gpu.js ${report.mode}, r = ${report.settings.ratio}, ${report.seconds} s`);
  out.print();
  out.print(
    formatTable(
      ['run', 'threads', 'kept', 'sparse layers', 'median ms', 'spread ms', 'vs our dense', 'cosine'],
      report.rows.map((row) => [
        row.backend === 'onnxruntime-node' ? 'onnxruntime-node dense' : row.variant,
        String(row.threads),
        row.weights === 0 ? '-' : `${(100 * (1 - row.sparsity)).toFixed(1)}%`,
        row.planLayers === 0 ? '-' : `${row.sparseLayers}/${row.planLayers}`,
        row.medianMs.toFixed(1),
        row.spreadMs.toFixed(1),
        `${row.speedupVsDense.toFixed(2)}x`,
        row.cosineVsDense.toFixed(4),
      ]),
      { align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] },
    ),
  );
  out.print();
  out.print(`best pruned variant: ${report.summary.best.variant}, ${report.summary.best.speedup.toFixed(2)}x faster than dense (gpu.js ${report.mode})`);
  if (files) out.print(`wrote ${files.markdown}, ${files.json} and ${files.chart}`);
}

export async function runModelsBench(args: ParsedArgs, out: Output): Promise<number> {
  for (const flag of OTHER_SUITES_FLAGS) if (args.has(flag)) throw new UsageError(`--${flag} is not a --suite models option`, { hint: helpHint('bench') });
  const bench = await import('@deprune/bench');
  const spec = args.string('model');
  if (spec === undefined) throw new UsageError('missing --model <model>', { hint: helpHint('bench') });
  const ratioText = args.string('ratio');
  const ratio = ratioText === undefined ? bench.DEFAULT_MODEL_RATIO : Number(ratioText);
  if (!(ratio >= 0 && ratio < 1)) throw new UsageError(`--ratio must be a number in [0, 1), got '${ratioText}'`, { hint: helpHint('bench') });
  const variantsText = args.string('variants');
  const variants = variantsText === undefined ? [...bench.MODEL_VARIANTS] : variantsText.split(',').map((each) => each.trim());
  for (const variant of variants) {
    if (!(bench.MODEL_VARIANTS as readonly string[]).includes(variant)) throw new UsageError(`unknown variant '${variant}' in --variants`, { hint: `choose from ${bench.MODEL_VARIANTS.join(', ')}` });
  }
  const quick = args.boolean('quick');
  const repeats = args.integer('repeats', { min: 1 }) ?? (quick ? 3 : 7);
  const warmup = args.integer('warmup', { min: 0 }) ?? 1;
  const { mode, reason } = await resolveGpuMode(args.string('mode'), 'bench');
  out.debug(`mode ${mode}: ${reason}`);
  const { resolved, inputShapes } = await loadModelWithShapes(spec, args.strings('input-shape'));
  const shapes = Object.values(inputShapes);
  if (shapes.length !== 1) throw new UsageError(`--suite models takes single-input models; ${spec} has ${shapes.length} inputs`);
  const outDir = args.string('out');
  const command = [
    'deprune bench --suite models',
    `--model ${spec}`,
    `--mode ${args.string('mode') ?? 'auto'}`,
    ...(ratioText === undefined ? [] : [`--ratio ${ratioText}`]),
    ...(variantsText === undefined ? [] : [`--variants ${variantsText}`]),
    ...(quick ? ['--quick'] : []),
    ...(args.has('repeats') ? [`--repeats ${repeats}`] : []),
    ...(args.has('warmup') ? [`--warmup ${warmup}`] : []),
    ...args.strings('input-shape').map((shape) => `--input-shape ${shape}`),
    ...(args.boolean('no-onnxruntime') ? ['--no-onnxruntime'] : []),
    ...(outDir === undefined ? [] : [`--out ${outDir}`]),
  ].join(' ');
  if (outDir !== undefined && !args.boolean('force')) {
    const stem = bench.modelReportStem({ model: resolved.spec, input: { name: '', shape: shapes[0] }, settings: { ratio } } as unknown as ModelSuiteReport);
    const paths = bench.suiteReportPaths(outDir, 'models', mode, stem);
    for (const file of [paths.json, paths.markdown, paths.chart]) {
      if (existsSync(file)) throw new UsageError('already exists; not overwriting it', { file, hint: 'pass --force to replace the report, or choose another --out' });
    }
  }
  const progress = out.progress(`bench models ${spec} (${mode})`);
  let report: ModelSuiteReport;
  try {
    report = await bench.runModelSuite({
      model: resolved.model,
      modelName: resolved.spec,
      mode,
      inputShape: shapes[0],
      ratio,
      variants: variants as ModelVariant[],
      repeats,
      warmup,
      onnxruntime: !args.boolean('no-onnxruntime'),
      command,
      onProgress: (event) => progress.update(event.done, `of ${event.total} (${event.stage}${event.detail ? ` ${event.detail}` : ''})`),
    });
  } finally {
    const gpu = await import('@deprune/gpu');
    await gpu.disposeBackend();
  }
  progress.done(`benchmarked ${spec} end to end in ${mode} (${report.seconds} s)`);
  const files = outDir === undefined ? null : await bench.writeModelReport(report, outDir);
  out.result({ ...report, files });
  if (!out.json) printModelReport(out, report, files);
  return 0;
}
