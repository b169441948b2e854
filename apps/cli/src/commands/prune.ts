import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { DeprunError, UsageError } from '@deprune/errors';
import { getVariant } from '@deprune/masks';
import type { BwtConfig, BwtSettingKey, PruneConfig, PruneProgress, PruneReport, PruneResult } from '@deprune/pipeline';
import { helpHint, outputFlag, type ParsedArgs } from '../args';
import { modelNamesText, resolveModel } from '../models';
import { formatCount, formatShort, formatTable, type Output } from '../output';
import type { Command } from '../registry';
import { parseInputShapeFlags, resolveInputShapes } from '../shapes';
import { checkOutputPath, readInputFile, refuseOutputsOverInputs } from '../files';
import { calibratedPruneCommand, parseCalibrationFlags, printCalibration, type CalibrationSummary, type ReconstructionReport } from '../calibration';
import { ONE_SHOT_DEFAULTS } from '@deprune/oneshot/defaults';
import { publishFiles } from '../publish';
import { checkVariantName, DEFAULT_VARIANT, variantNames, variantsHelp } from '../variants';


/** How the report's first line states the ratios: the pattern when N:M fixes both kinds, else the two ratios. */
function ratiosText(config: PruneResult['plan']['config']): string {
  const variant = getVariant(config.variant);
  const patternOnly = variant.dw.strategy === 'nm' && variant.pw.strategy === 'nm';
  return patternOnly ? `${config.nm.n}:${config.nm.m}` : `dw ratio ${config.dwRatio}, pw ratio ${config.pwRatio}`;
}
/** Human output lists this many layers (most weights removed first) and skipped layers. */
const TOP_LAYERS = 10;
const SKIPPED_LIMIT = 12;

/**
 * Said on stderr, in the report and in --json whenever prune ran without calibration data: pruning
 * by magnitude alone can cost most of a model's accuracy (ppocr-cls fell from 100% to 58% on
 * rendered lines, chance being 50%) and nothing else would say so.
 */
export function uncheckedAccuracyWarning(output: string, planPath: string): string {
  return (
    'accuracy was not checked: no calibration data, so the weights were pruned by magnitude alone and not reconstructed; ' +
    `pass --calib <images/ | batch.npy> to calibrate, and measure the result with deprune eval ${output} --plan ${planPath} --task <task> --data <labelled images/>`
  );
}

/** `x.onnx` -> `x.deprune.json`; a name without `.onnx` gets `.deprune.json` appended. */
export function planPathFor(modelPath: string): string {
  return /\.onnx$/i.test(modelPath) ? modelPath.replace(/\.onnx$/i, '.deprune.json') : `${modelPath}.deprune.json`;
}

function parseRatio(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value < 0 || value >= 1) {
    throw new UsageError(`--${flag} must be a number in [0, 1) (the fraction of weights removed), got '${text}'`, { hint: helpHint('prune') });
  }
  return value;
}

/** Reads a JSON file given by `flag` (--config, --hsr-table): missing file, folder, bad JSON and bad keys are all exit 2 naming the file. */
function readJsonFile(path: string, what: string, flag: string): unknown {
  const text = readInputFile(path, what, `--${flag}`).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DeprunError('BAD_CONFIG', `not valid JSON: ${(cause as Error).message.split('\n')[0]}`, { file: path, hint: 'fix the JSON syntax', cause });
  }
}

const GRANULARITIES = ['group', 'channel'] as const;

/**
 * The --bwt-granularity, --group-size and --tile-rows flags as config values, and where each
 * explicit BWT setting comes from (a flag, else the --config file), for --hsr-table's messages.
 */
function bwtFlags(args: ParsedArgs, fileConfig: unknown, configPath: string | undefined): { values: BwtConfig; origins: Partial<Record<BwtSettingKey, string>> } {
  const granularity = args.string('bwt-granularity');
  if (granularity !== undefined && !(GRANULARITIES as readonly string[]).includes(granularity)) {
    throw new UsageError(`--bwt-granularity must be one of ${GRANULARITIES.join(', ')}, got '${granularity}'`, { hint: helpHint('prune') });
  }
  const values: BwtConfig = {};
  if (granularity !== undefined) values.granularity = granularity as BwtConfig['granularity'];
  const groupSize = args.integer('group-size', { min: 1 });
  if (groupSize !== undefined) values.groupSize = groupSize;
  const tileRows = args.integer('tile-rows', { min: 1 });
  if (tileRows !== undefined) values.tileRows = tileRows;
  const flagNames: Record<BwtSettingKey, string> = { granularity: 'bwt-granularity', groupSize: 'group-size', tileRows: 'tile-rows' };
  const fileBwt = (fileConfig as { bwt?: Record<string, unknown> } | null)?.bwt;
  const origins: Partial<Record<BwtSettingKey, string>> = {};
  for (const key of Object.keys(flagNames) as BwtSettingKey[]) {
    if (values[key] !== undefined) origins[key] = `--${flagNames[key]} ${values[key]}`;
    else if (fileBwt !== null && typeof fileBwt === 'object' && fileBwt[key] !== undefined) origins[key] = `bwt.${key} in ${configPath}`;
  }
  return { values, origins };
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(1)}%`;

function printReport(out: Output, report: PruneReport, context: { spec: string; model: string; plan: string; ratios: string }): void {
  const { totals } = report;
  out.print(`Pruned ${context.spec} with ${report.variant} (${context.ratios})`);
  out.print(`wrote ${context.model} and ${context.plan}`);
  out.print();
  const macs =
    totals.macsBefore === null || totals.macsAfter === null
      ? 'unknown (see warnings)'
      : `${formatShort(totals.macsBefore)} -> ${formatShort(totals.macsAfter)} (${percent(totals.macsAfter / totals.macsBefore)} of dense)`;
  const rows: [string, string][] = [
    ['layers pruned', `${totals.dwLayers} dw, ${totals.pwLayers} pw${report.skipped.length > 0 ? ` (${report.skipped.length} skipped)` : ''}`],
    ['parameters', `${formatCount(totals.paramsBefore)} -> ${formatCount(totals.paramsAfter)} stored`],
    ['non-zero', `${formatCount(totals.nonzeroBefore)} -> ${formatCount(totals.nonzeroAfter)}`],
    ['sparsity dw / pw / dsconv', `${percent(totals.dwSparsity)} / ${percent(totals.pwSparsity)} / ${percent(totals.dsconvSparsity)}`],
    ['MACs (effective)', macs],
  ];
  if (report.hsr) {
    const { hsr } = report;
    rows.push([
      `HSR (${hsr.mode})`,
      `predicted ${hsr.predictedLatencyUs.before.toFixed(1)} -> ${hsr.predictedLatencyUs.after.toFixed(1)} us, ${hsr.moves} layer(s) moved` +
        (hsr.budgetUs === null ? '' : `, budget ${hsr.budgetUs} us ${hsr.budgetMet ? 'met' : 'NOT met'}`),
    ]);
  }
  out.print('Totals');
  out.print(formatTable(['', ''], rows, { indent: 2 }).split('\n').slice(2).join('\n'));
  const top = [...report.layers].sort((a, b) => b.weights - b.keptWeights - (a.weights - a.keptWeights) || (a.name < b.name ? -1 : 1)).slice(0, TOP_LAYERS);
  if (top.length > 0) {
    out.print();
    out.print(`Layers (${report.layers.length}; the ${top.length} with most weights removed)`);
    out.print(
      formatTable(
        ['name', 'kind', 'strategy', 'granularity', 'weights', 'kept', 'sparsity', 'kept/unit', 'imbalance'],
        top.map((layer) => [
          layer.name,
          layer.kind,
          layer.strategy,
          layer.granularity,
          formatCount(layer.weights),
          formatCount(layer.keptWeights),
          percent(layer.sparsity),
          layer.kept.min === layer.kept.max ? String(layer.kept.min) : `${layer.kept.min}-${layer.kept.max}`,
          layer.imbalanceAfter === undefined ? '-' : layer.imbalanceAfter.toFixed(2),
        ]),
        { align: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'], indent: 2 },
      ),
    );
  }
  if (report.skipped.length > 0) {
    out.print();
    out.print(`Skipped (${report.skipped.length})`);
    const shown = report.skipped.slice(0, SKIPPED_LIMIT).map((layer) => [layer.name, layer.reason]);
    if (report.skipped.length > SKIPPED_LIMIT) shown.push([`... ${report.skipped.length - SKIPPED_LIMIT} more (--json lists all)`, '']);
    out.print(formatTable(['name', 'reason'], shown, { indent: 2 }));
  }
  if (report.warnings.length > 0) {
    out.print();
    out.print(`Warnings (${report.warnings.length})`);
    for (const warning of report.warnings) out.print(`  - ${warning}`);
  }
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'prune a model (DEPrune, -B, -BH, channel, unstructured, N:M): writes the pruned .onnx and its .deprune.json plan',
  usage: [
    'prune <model> -o <out.onnx> [--variant V] [--ratio R] [--dw R] [--pw R] [--config file.json] [--input-shape 1,3,H,W] [--force] [--json]',
    'prune <model> -o <out.onnx> --hsr-table table.json [--bwt-granularity channel|group] [--group-size G] [--tile-rows T] ...',
    'prune <model> -o <out.onnx> --calib <images/ | batch.npy> [--calib-samples N] [--preset P] [--importance magnitude|activation|obs|obs-greedy] [--allocation uniform|saliency|saliency-macs] [--no-reconstruct] [--damping D] [--engine E]',
  ],
  get description() {
    return `
Prunes the depth-wise (DW) and point-wise (PW) convs of a model and writes two files:
the pruned model (-o) and the plan the runtime executes, next to it with .onnx replaced
by .deprune.json (out.onnx -> out.deprune.json). Both are written atomically, the plan
first and the model last, and the plan records the model file's hash (run and eval refuse a
model and plan that were not written together). Existing files are refused without --force,
checked again at the moment of writing (of two prunes to one path, one fails with exit 2),
and the input model is never written over.
${variantsHelp(DEFAULT_VARIANT)}
--config reads a JSON prune config (the PruneConfig of @deprune/pipeline: layers, ignore,
pwScope, bwt, hsr, nm, strategy, ...); --variant, --ratio, --dw, --pw, --bwt-granularity,
--group-size, --tile-rows and --input-shape override its values (--ratio also replaces the
file's dwRatio and pwRatio).
--hsr-table gives DEPrune-BH a latency table measured by 'deprune profile' (it replaces the
config's hsr.table) and takes the BWT units the table was measured for: DW granularity
'channel', or 'group' with its G, and the PW tile rows T (and, unless hsr.step is set, the
kernels' step t for layers the table lacks). A BWT setting given by flag or in the config
file that contradicts the table is refused, naming the table file.
Progress goes to stderr; --json prints { output: { model, plan }, report }.

Accuracy without retraining: --calib names a folder of images (preprocessed with --preset,
default from the bundled model, else imagenet) or an .npy batch [N, C, H, W]; the first
--calib-samples (32) are used. With --importance activation, obs or obs-greedy (the default with
--calib), one dense pass collects each layer's input statistics for the scorer. --allocation saliency
(config allocation) spreads the weights the ratio removes over the layers by normalised OBS
saliency instead of pruning each at the ratio; saliency-macs (the default when calibrating)
spreads the MACs it removes (about the same speedup); uniform (the default without
calibration) prunes each layer at the ratio. For a target in weight sparsity choose saliency: it
loses less at the same sparsity (PP-OCRv4 rec at 50%: none against 1.2 points) but buys less
speed per ratio; at equal measured speed the two read the same (docs/benchmarks/accuracy). The
saliency ones need calibration. Then, unless --no-reconstruct, every pruned layer's kept weights
and bias are re-fitted (damped least squares, --damping 0.01) to reproduce the dense layer's
output, layer by layer; the zero pattern is the plan's.
--engine: onnxruntime (fast on a CPU; needs onnxruntime-node), deprune (our runtime on its wasm
kernels) or auto (onnxruntime when installed). --json adds calibration and reconstruction.
The bundled models (ppocr-cls, ppocr-rec, ppocr-det) calibrate by default on rendered images
of their task, as deprune demo does (--calib-samples of them; --no-calib prunes by magnitude
alone). Without calibration, prune warns that accuracy was not checked.`;
  },
  args: [{ name: 'model', description: `an .onnx file, or one of ${modelNamesText()} (zoo names may omit 'zoo:' and take ':folded')` }],
  flags: {
    output: outputFlag('out.onnx', 'where to write the pruned model (the plan goes next to it)'),
    variant: {
      type: 'string',
      value: 'name',
      get description() {
        return `${variantNames().join(' | ')} (default ${DEFAULT_VARIANT})`;
      },
    },
    ratio: { type: 'string', value: 'R', description: 'fraction of DW and PW weights to remove, in [0, 1) (default 0.5)' },
    dw: { type: 'string', value: 'R', description: 'ratio for DW layers (overrides --ratio)' },
    pw: { type: 'string', value: 'R', description: 'ratio for PW layers (overrides --ratio)' },
    config: { type: 'string', value: 'file.json', description: 'a JSON prune config; flags override its values' },
    'hsr-table': { type: 'string', value: 'table.json', description: "HSR's measured latency table (from deprune profile); sets the BWT units it was measured for" },
    'bwt-granularity': { type: 'string', value: 'unit', description: "BWT's DW unit: 'group' (default) or 'channel'" },
    'group-size': { type: 'string', value: 'G', description: 'channels per BWT DW group (default 32)' },
    'tile-rows': { type: 'string', value: 'T', description: 'PW output rows per tile (default 4: the wasm GEMM tile)' },
    'input-shape': {
      type: 'string',
      multiple: true,
      value: 'shape',
      description: 'input shape as 1,3,H,W (for MACs and latency models); with several inputs name=1,3,H,W',
    },
    force: { type: 'boolean', short: 'f', description: 'overwrite the output files if they exist' },
    calib: { type: 'string', value: 'path', description: 'calibration inputs: a folder of images or an .npy batch [N, C, H, W] (bundled models: rendered images by default)' },
    'no-calib': { type: 'boolean', description: 'bundled models: prune by weight magnitude alone, without the default calibration on rendered images' },
    'calib-samples': { type: 'string', value: 'N', description: 'how many calibration samples to use (default 32)' },
    preset: { type: 'string', value: 'name', description: 'image preprocessing for --calib folders: ppocr-rec | ppocr-cls | ppocr-det | imagenet' },
    importance: { type: 'string', value: 'name', description: 'importance scorer: magnitude | activation | obs | obs-greedy (all but magnitude need --calib; default obs-greedy with --calib, else magnitude)' },
    allocation: {
      type: 'string',
      value: 'name',
      // Says exactly what run() does when the flag is absent (allocationByDefault), which depends on calibration.
      description: `spread of the ratio over the layers: uniform | saliency | saliency-macs (the saliency ones need calibration). Default: ${ONE_SHOT_DEFAULTS.allocation} when calibrating (--calib, or a bundled model without --no-calib; its MACs need layer shapes: --input-shape, else the first calibration sample's shape, else it counts weights), else uniform; a --config allocation replaces the default`,
    },
    'no-reconstruct': { type: 'boolean', description: 'when calibrating: keep the masked weights as they are (no reconstruction)' },
    damping: { type: 'string', value: 'D', description: 'relative damping of the reconstruction (default 0.01)' },
    engine: { type: 'string', value: 'name', description: 'forward passes for --calib: auto (default) | onnxruntime | deprune' },
  },
  examples: [
    'deprune prune zoo:mobilenetv2 -o mnv2-bh.onnx',
    'deprune prune ppocr-det -o det-b.onnx --variant deprune-b --dw 0.6 --pw 0.4',
    'deprune prune model.onnx -o pruned.onnx --config prune.json --input-shape 1,3,224,224 --json > report.json',
    'deprune profile zoo:mobilenetv2 --mode webasm -o mnv2-webasm.json && deprune prune zoo:mobilenetv2 -o mnv2-bh.onnx --hsr-table mnv2-webasm.json',
    'deprune prune ppocr-rec -o rec-bh.onnx --ratio 0.5 --calib lines/ --importance obs',
  ],
  async run({ args, out }) {
    const spec = args.positional(0);
    if (spec === undefined) throw new UsageError('missing <model>', { hint: helpHint('prune') });
    const output = args.string('output');
    if (output === undefined) throw new UsageError('missing --output <out.onnx>', { hint: helpHint('prune') });
    const planPath = planPathFor(output);
    const outputs = [
      { path: output, role: 'pruned model' },
      { path: planPath, role: 'plan' },
    ];
    // Every file prune reads; with --force an output landing on one of them would replace it.
    refuseOutputsOverInputs(outputs, [
      existsSync(spec) ? { path: spec, role: 'input model' } : undefined,
      ...(['config', 'hsr-table', 'calib'] as const).map((flag) => {
        const path = args.string(flag);
        return path === undefined ? undefined : { path, role: flag === 'calib' ? '--calib input' : `--${flag} file` };
      }),
    ]);
    // Flags first: a typo should not wait for a large model to load.
    const variantFlag = args.string('variant');
    if (variantFlag !== undefined) checkVariantName(variantFlag);
    const ratio = parseRatio('ratio', args.string('ratio'));
    const dwRatio = parseRatio('dw', args.string('dw'));
    const pwRatio = parseRatio('pw', args.string('pw'));
    const inputShapeFlags = parseInputShapeFlags(args.strings('input-shape'));
    const configPath = args.string('config');
    const fileConfig = configPath === undefined ? {} : readJsonFile(configPath, 'config file', 'config');
    const bwt = bwtFlags(args, fileConfig, configPath);
    const tablePath = args.string('hsr-table');
    const table = tablePath === undefined ? undefined : readJsonFile(tablePath, 'latency table', 'hsr-table');
    const pipeline = await import('@deprune/pipeline');
    if (fileConfig === null || typeof fileConfig !== 'object' || Array.isArray(fileConfig)) {
      pipeline.loadPruneConfig(fileConfig, configPath); // throws, naming the file
    }
    // The file's values, then the flags on top; validated as one config so file errors name the file.
    const merged: Record<string, unknown> = { ...(fileConfig as Record<string, unknown>) };
    merged.variant = variantFlag ?? merged.variant ?? DEFAULT_VARIANT;
    if (ratio !== undefined) {
      merged.ratio = ratio;
      delete merged.dwRatio;
      delete merged.pwRatio;
    }
    if (dwRatio !== undefined) merged.dwRatio = dwRatio;
    if (pwRatio !== undefined) merged.pwRatio = pwRatio;
    const importance = args.string('importance');
    if (importance !== undefined) merged.importance = importance;
    const allocation = args.string('allocation');
    // The flag sets mode and budget; the file's bounds stay. A non-object value is the file's error to report.
    if (allocation !== undefined) {
      // Own keys only: '__proto__', 'constructor' and 'toString' are not allocations.
      const preset = Object.hasOwn(pipeline.ALLOCATION_PRESETS, allocation) ? (pipeline.ALLOCATION_PRESETS as Record<string, object>)[allocation] : undefined;
      if (preset === undefined) {
        throw new UsageError(`unknown --allocation '${allocation}'`, { hint: `choose one of ${Object.keys(pipeline.ALLOCATION_PRESETS).join(', ')}` });
      }
      const fromFile = merged.allocation;
      merged.allocation = fromFile !== null && typeof fromFile === 'object' && !Array.isArray(fromFile) ? { ...fromFile, ...preset } : { ...preset };
    }
    // A bwt value that is not an object is left for loadPruneConfig to refuse, naming the file.
    if (Object.keys(bwt.values).length > 0 && (merged.bwt === undefined || (merged.bwt !== null && typeof merged.bwt === 'object' && !Array.isArray(merged.bwt)))) {
      merged.bwt = { ...(merged.bwt as object | undefined), ...bwt.values };
    }
    // When calibrating, calibratedPrune fills an importance and an allocation the config leaves
    // out with the one-shot defaults: greedy OBS and saliency-macs make use of the statistics (the
    // rec model read 99% of lines with saliency-macs, 80% uniform).
    let config: PruneConfig = pipeline.loadPruneConfig(merged, configPath ?? 'command line');
    if (tablePath !== undefined) config = pipeline.withLatencyTable(config, table, { file: tablePath, origins: bwt.origins });
    const calibration = parseCalibrationFlags(args, spec, config);

    for (const { path } of outputs) checkOutputPath(path, args.boolean('force'));

    const resolved = await resolveModel(spec);
    const source = resolved.file ?? resolved.spec;
    if (resolved.file !== null) refuseOutputsOverInputs(outputs, [{ path: resolved.file, role: 'input model' }]);
    // Input shapes: --input-shape, else the config file's, else a bundled model's default; a model
    // whose shapes stay dynamic is still pruned (the report's MACs are null, with a warning).
    const flagged = inputShapeFlags.unnamed !== undefined || inputShapeFlags.named.size > 0;
    if (flagged || (config.inputShapes === undefined && resolved.defaultInputShapes.size > 0)) {
      const shapes = resolveInputShapes(resolved.model, inputShapeFlags, resolved.defaultInputShapes, source);
      config.inputShapes = Object.fromEntries(shapes.map((input) => [input.name, input.shape]));
    }

    let result: Pick<PruneResult, 'model' | 'plan' | 'report'>;
    let calibrated: { summary: CalibrationSummary; reconstruction: ReconstructionReport | undefined } | undefined;
    if (calibration) {
      // Its warnings are said when the prune stage ends, before reconstruction starts.
      const oneShot = await calibratedPruneCommand(out, spec, resolved.model, config, calibration);
      result = oneShot.result;
      calibrated = { summary: oneShot.summary, reconstruction: oneShot.result.reconstruction ?? undefined };
    } else {
      const progress = out.progress(`pruning ${spec} (${config.variant})`);
      result = pipeline.prune(resolved.model, config, {
        onProgress: (event: PruneProgress) => progress.update(event.done, `of ${event.total} ${event.stage}${event.layer ? ` ${event.layer}` : ''}`),
      });
      progress.done(`pruned ${spec} (${config.variant}): ${result.plan.layers.length} layers`);
      const unchecked = uncheckedAccuracyWarning(output, planPath);
      result.report.warnings.unshift(unchecked);
      // On stderr with --json too: a script that reads only the exit code must still see it.
      if (out.json) out.warn(unchecked, { always: true });
      for (const warning of result.report.warnings) out.warn(warning);
    }
    const reconstruction = calibrated?.reconstruction;

    // The plan records the hash of the exact bytes written as the model: run and eval refuse any other file.
    const { serializeModel } = await import('@deprune/onnx');
    const modelBytes = serializeModel(result.model);
    const plan = { ...result.plan, output: { hash: pipeline.fnv1a32(modelBytes), bytes: modelBytes.length, file: basename(output) } };
    // The plan first and the model last: an interruption between them leaves no model without its plan.
    await publishFiles(
      [
        { path: planPath, bytes: pipeline.serializePlan(plan) },
        { path: output, bytes: modelBytes },
      ],
      { force: args.boolean('force') },
    );

    out.result({
      output: { model: output, plan: planPath },
      report: result.report,
      ...(calibrated ? { calibration: calibrated.summary } : {}),
      ...(reconstruction ? { reconstruction } : {}),
    });
    if (!out.json) {
      printReport(out, result.report, { spec, model: output, plan: planPath, ratios: ratiosText(result.plan.config) });
      if (calibrated) printCalibration(out, calibrated.summary, reconstruction);
    }
    return 0;
  },
};
