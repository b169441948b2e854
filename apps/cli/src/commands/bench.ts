import { loadBench } from '../optional';
import { UsageError } from '@deprune/errors';
import type { KernelSuiteReport, KernelVariant } from '@deprune/bench';
import type { GpuMode } from '@deprune/gpu';
import type { BackendMode } from '@deprune/runtime';
import { helpHint, repeatsFlag } from '../args';
import { modelNamesText } from '../models';
import { formatTable, type Output } from '../output';
import type { Command } from '../registry';
import { checkOutputFolder } from '../files';
import { benchInputs, BROWSER_ONLY_MODES, BROWSERS, DEFAULT_BENCH_MODEL, parseRatio, readEarlierReport, refuseExistingReport, refuseForeignFlags, SUITE_FLAGS, SUITES, type BenchSuite } from './bench-common';
import { runSuiteBench } from './bench-suites';
import { GPU_MODE_NAMES, loadModelWithShapes, MODE_NAMES, resolveBackendFlag } from './kernel-common';

const HSR_MODELS = ['measured', 'analytic'] as const;

const fixed = (value: number | undefined, digits = 2) => (value === undefined ? '-' : value.toFixed(digits));

function printReport(out: Output, report: KernelSuiteReport, files: { json: string; markdown: string; chart: string } | null): void {
  const { summary } = report;
  out.print(`Kernel benchmark: ${report.model}, mode ${report.mode}, r = ${report.settings.ratio}, ${report.layers.length} DSConv block(s), ${report.seconds} s`);
  out.print(`machine: ${report.machine.cpu}, ${report.machine.cores} cores, ${report.machine.memoryGiB} GiB, ${report.machine.os}, Node ${report.machine.node}${report.machine.browser ? `, in ${report.machine.browser}` : ''}${report.machine.gpuJs === undefined ? '' : `, gpu.js ${report.machine.gpuJs}`}`);
  out.print();
  const variants = Object.keys(summary.dsconvSpeedup) as KernelVariant[];
  out.print(
    formatTable(
      ['variant', 'DSConv', 'DW', 'PW', 'kept'],
      variants.map((variant) => [
        variant,
        `${fixed(summary.dsconvSpeedup[variant])}x`,
        `${fixed(summary.dwSpeedup[variant])}x`,
        summary.pwSpeedup[variant] === undefined ? '-' : `${fixed(summary.pwSpeedup[variant])}x`,
        `${fixed(100 * (summary.keptFraction[variant] ?? 0), 1)}%`,
      ]),
      { align: ['left', 'right', 'right', 'right', 'right'] },
    ),
  );
  const { checks } = summary;
  out.print();
  out.print(`best DSConv speedup: ${fixed(summary.best.dsconvSpeedup)}x (${summary.best.variant}) at r = ${summary.best.ratio}; the paper reports up to 3.74x on GPUs`);
  out.print(`DEPrune-B faster than DEPrune: ${checks.bFasterThanDeprune.pass ? 'yes' : 'no'} (${fixed(checks.bFasterThanDeprune.speedupB)}x vs ${fixed(checks.bFasterThanDeprune.speedupDeprune)}x)`);
  out.print(
    `DEPrune-BH no slower than DEPrune-B: ${checks.bhNoSlowerThanB.pass ? 'yes' : 'no'} (paired rounds BH - B ${fixed(checks.bhNoSlowerThanB.pairedDiffMs, 3)} ms +- ${fixed(checks.bhNoSlowerThanB.pairedStandardErrorMs, 3)}, ` +
      `time ratio ${fixed(checks.bhNoSlowerThanB.timeRatio, 3)}, kept ${checks.bhNoSlowerThanB.keptBH} vs ${checks.bhNoSlowerThanB.keptB}${checks.bhNoSlowerThanB.sameStairs ? '' : ', HSR crossed a stair edge'})`,
  );
  const ideal = checks.dwIdeal.layers.filter((check) => check.variant === 'deprune-bh');
  out.print(
    `sparse DW >= 70% of ideal K/m on large layers: ${ideal.length === 0 ? 'no large layer' : checks.dwIdeal.pass ? 'yes' : 'no'}` +
      (ideal.length === 0 ? '' : ` (${ideal.map((check) => `${Math.round(100 * check.fraction)}%`).join(', ')})`),
  );
  out.print(
    `staircase step (kernel t = ${checks.staircase.kernelStep}): DW ${checks.staircase.dwMatching}/${checks.staircase.dwLayers} layers, PW ${checks.staircase.pwMatching}/${checks.staircase.pwLayers}`,
  );
  if (report.settings.drSkipped) out.print(`DR form not timed: ${report.settings.drSkipped}`);
  const unchained = summary.unchainedOverChained;
  if (unchained !== null && unchained !== undefined) {
    out.print(`DW + PW as one dsconv step (intermediate on the device); as two calls: ${Object.entries(unchained).map(([variant, ratio]) => `${fixed(ratio, 3)}x as long (${variant})`).join(', ')}`);
  }
  if (files) out.print(`\nwrote ${files.markdown}, ${files.json} and ${files.chart}`);
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'benchmark suites: kernels (DSConv kernels per variant), models (end to end vs onnxruntime), prune (pruning cost), hsr (staircases and HSR moves)',
  usage: [
    'bench --suite kernels [--model <model>] [--mode M] [--browser chromium] [--quick] [--ratio R] [--layers pattern] [--chain on|off] [--out dir] [--force] [--json]',
    'bench --suite models [--model <model>] [--mode M] [--browser chromium] [--ratio R] [--variants a,b] [--quick] [--no-onnxruntime] [--ort-backends wasm,webgpu] [--ort-threads N] [--out dir] [--force] [--json]',
    'bench --suite prune [--model <model>] [--browser chromium] [--ratio R] [--variants a,b] [--quick] [--no-memory] [--out dir] [--force] [--json]',
    'bench --suite hsr [--model <model>] [--mode M] [--browser chromium] [--ratio R] [--layers pattern] [--quick] [--out dir] [--force] [--json]',
    'bench --suite accuracy --model ppocr-rec|ppocr-cls|ppocr-det [--variants a,b] [--importance a,b] [--allocation uniform,saliency,saliency-macs] [--ratios r1,r2] | [--runs variant@ratio[@allocation],...] [--eval-count N] [--eval-sets a,b] [--calib-source s] [--calib-samples N] [--no-reconstruct] [--speed] [--engine E] [--out dir] [--json]',
  ],
  description: `
--suite kernels: for every DSConv block (DW conv -> PW conv) of the model, times the DW, the
PW and DW then PW on the backend's kernels (--mode wasm: @deprune/wasm, the default in Node;
a gpu.js mode: @deprune/gpu), for dense, unstructured (executed dense),
channel (physically smaller layers), DEPrune (DCP + PCP), DEPrune-B (+ BWT), DEPrune-BH
(+ HSR against the latency measured for the layer) and the DR form (not on wasm, which has
no dwDiagonal kernel: the report says so), all at the same
nominal sparsity --ratio (default 0.56: 3x3 layers keep 4 of 9 taps, a step edge of the
kernels' t = 4). Variants of a block are timed interleaved; medians are reported with
speedups against dense, and summed DSConv speedups per variant. --out writes
<dir>/kernels/<mode>/<model>-r<ratio>.{json,md,svg} (JSON report, Markdown page with the
command and machine, Vega-Lite chart); existing files are refused without --force.
--mode webgl2 and webgpu (browser-only gpu.js modes) run the same suite in headless
Chromium (/usr/bin/chromium or DEPRUNE_CHROMIUM, SwiftShader for WebGL2 and WebGPU: CPU
implementations, so ratios mean something and absolute times are not GPU times);
--browser chromium runs any mode there.
--suite models: end-to-end latency of the whole model on @deprune/runtime, dense and pruned by
each variant (--variants; default all of dense, unstructured, channel, deprune, deprune-b,
deprune-bh) at --ratio (default 0.5), DEPrune layers on the sparse kernels, and
onnxruntime-node running the dense model on the same input with 1 thread and with every
core, all interleaved round by round (--warmup 2, --repeats 7; --quick 1 and 3), with a full
garbage collection before every timed call (untimed). In headless
Chromium (webgl2, webgpu, --browser chromium) the benchmark page runs the same suite with
onnxruntime-web's wasm and webgpu backends as the yardstick (--ort-backends, --ort-threads;
a backend that cannot run there is listed with the reason). --out writes
<dir>/models/<mode>/<model>-<HxW>-r<ratio>.{json,md,svg}.
--suite prune: how long prune() takes per variant (interleaved, a full GC before each timed
call; --warmup 2, --repeats 7) and, in Node,
its peak memory (each variant once more in a fresh Node process, RSS sampled during the
call; --no-memory skips it). prune() uses no gpu.js mode: --mode is refused; --browser
chromium runs it in the page. --out writes <dir>/prune/<node|chromium>/...
--suite hsr: the measured latency staircase (kept count vs latency) of every DW and PW layer
on the sparse kernels in the mode, and where HSR moved each layer's kept count against it
(DEPrune-B vs DEPrune-BH, and the analytic staircase's move). --out writes
<dir>/hsr/<mode>/...
--suite accuracy: task accuracy of a bundled PP-OCR model (rec line and character accuracy,
cls accuracy, det precision/recall) on rendered labelled data, against DSConv sparsity and
(--speed) the measured DSConv speedup, per variant, importance scorer (--importance
magnitude,activation,obs,obs-greedy; default magnitude,obs), ratio allocation over the layers
(--allocation uniform,saliency,saliency-macs; default uniform; saliency spreads the same
weights, saliency-macs the same MACs, over the layers by normalised OBS saliency; channel and
nm run uniform) and with or without reconstruction, at --ratios (default 0.5). --runs
deprune-bh@0.55@saliency-macs,channel@0.2 names the runs instead of that grid (to time chosen
pairs side by side). --engine runs the forward passes (auto: onnxruntime-node).
Calibration images come from the mixed-varied text source (Skia, ten font families from npm in
varied sizes, layouts and colours); every model is scored on each --eval-sets set (default all:
liberation-skia and freefont-outline, held out from calibration by fonts and, for
freefont-outline, rasterizer; then dejavu-skia, dejavu-varied and mixed-varied, which share
calibration fonts, reported apart as same-source). The
headline metric is the held-out sets' mean; each set's score and its change against dense are
reported. --calib-source draws the calibration images from another source instead (sets sharing
its fonts become same-source).
--out writes <dir>/accuracy/<model>.{json,md,svg}.
--model defaults to ${DEFAULT_BENCH_MODEL}. Flags a suite does not take are refused.
Progress goes to stderr; --json prints the report.`,
  flags: {
    suite: { type: 'string', value: 'name', description: `benchmark suite: ${SUITES.join(' | ')}` },
    model: { type: 'string', value: 'model', description: `an .onnx file, or one of ${modelNamesText()} (zoo names may omit 'zoo:')` },
    mode: { type: 'string', value: 'M', description: `backend: ${MODE_NAMES.join(' | ')} (default auto: wasm in Node; webgl2 and webgpu run in headless Chromium)` },
    browser: { type: 'string', value: 'name', description: `run the suite in a headless browser: ${BROWSERS.join(' | ')} (webgl2 and webgpu always do)` },
    quick: { type: 'boolean', description: 'fewer timed calls (1 warm-up, 3 timed): rough numbers, fast' },
    ratio: { type: 'string', value: 'R', description: 'nominal sparsity of every DW and PW layer, in [0, 1) (default 0.56 kernels, 0.5 the others)' },
    layers: { type: 'string', value: 'pattern', description: 'only blocks whose DW or PW node name matches these globs (comma separated)' },
    'input-shape': { type: 'string', multiple: true, value: 'shape', description: 'input shape as 1,3,H,W; with several inputs name=1,3,H,W' },
    // A folder, not a file: bench keeps its --out spelling, and takes the other commands' -o/--output too.
    out: { type: 'string', short: 'o', value: 'dir', aliases: ['output'], description: 'write JSON, Markdown and SVG chart under <dir>/<suite>/<mode>/' },
    force: { type: 'boolean', short: 'f', description: 'overwrite report files that exist' },
    repeats: repeatsFlag('timed calls per kernel, model or prune() variant (default 7; --quick 3)'),
    warmup: { type: 'string', value: 'N', description: 'untimed calls of each first (default 2; hsr and --quick 1)' },
    step: { type: 'string', value: 't', description: 'chunk size t the sparse kernels are built with (default 4)' },
    'tile-rows': { type: 'string', value: 'T', description: 'PW row tile of PCP/BWT (default 4)' },
    'group-size': { type: 'string', value: 'G', description: 'DW group of the DR variant (default 32)' },
    'skip-dr': { type: 'boolean', description: 'leave out the DR form (dwDiagonal is slow in the CPU modes)' },
    'hsr-model': { type: 'string', value: 'name', description: "DEPrune-BH's latency model: measured (default) | analytic" },
    chain: {
      type: 'string',
      value: 'on|off',
      description: 'kernels suite: time DW + PW as one dsconv step, the intermediate kept on the device (default: as the runtime runs the mode, on in headlessgl, webgl2, webgpu)',
    },
    variants: { type: 'string', value: 'a,b', description: 'models, prune, accuracy suites: variants to run (default all)' },
    'no-onnxruntime': { type: 'boolean', description: 'models suite: leave out the onnxruntime yardstick' },
    'ort-backends': { type: 'string', value: 'a,b', description: 'models suite in a browser: onnxruntime-web backends (default wasm,webgpu)' },
    'ort-threads': { type: 'string', value: 'N', description: 'models suite in a browser: onnxruntime-web threads (default 1)' },
    threads: { type: 'string', value: 'N[,N]', description: 'models suite, --mode wasm: thread counts our runs are timed at, e.g. 1,2 (default 1)' },
    'no-memory': { type: 'boolean', description: 'prune suite: skip the peak-memory runs' },
    importance: { type: 'string', value: 'list', description: 'accuracy suite: importance scorers (default magnitude,obs)' },
    runs: { type: 'string', value: 'list', description: 'accuracy suite: variant@ratio[@allocation] runs instead of the variants x ratios x allocations grid' },
    allocation: { type: 'string', value: 'list', description: 'accuracy suite: ratio allocations, uniform | saliency | saliency-macs (default uniform)' },
    ratios: { type: 'string', value: 'list', description: 'accuracy suite: ratios (default 0.5)' },
    'eval-count': { type: 'string', value: 'N', description: 'accuracy suite: rendered evaluation images (rec/cls 100, det 30)' },
    'calib-samples': { type: 'string', value: 'N', description: 'accuracy suite: rendered calibration images (default 32)' },
    'eval-sets': { type: 'string', value: 'a,b', description: 'accuracy suite: evaluation sets, liberation-skia | freefont-outline | dejavu-skia | dejavu-varied | mixed-varied (default all)' },
    'calib-source': { type: 'string', value: 'source', description: 'accuracy suite: text source of the calibration images (default mixed-varied)' },
    'no-reconstruct': { type: 'boolean', description: 'accuracy suite: skip the reconstructed rows' },
    speed: { type: 'boolean', description: 'accuracy suite: also time the DSConv layers on the runtime (webasm)' },
    engine: { type: 'string', value: 'name', description: 'accuracy suite: auto | onnxruntime | deprune' },
    compare: { type: 'string', value: 'earlier.json', description: "an earlier report of the same suite: each median checked against its spread (recorded as 'repeatability')" },
  },
  examples: [
    'deprune bench --suite kernels --model zoo:mobilenetv2 --mode wasm --out docs/benchmarks',
    'deprune bench --suite kernels --model zoo:mobilenetv2 --mode webasm --out docs/benchmarks',
    'deprune bench --suite kernels --model efficientnet-b0 --mode cpu --ratio 0.75 --json > effnet-cpu.json',
    'deprune bench --suite kernels --model zoo:mobilenetv3-small --layers "features.1.*" --quick',
    'deprune bench --suite kernels --model zoo:mobilenetv2 --mode webgl2 --quick --skip-dr --out docs/benchmarks',
    'deprune bench --suite models --model zoo:mobilenetv2 --mode webasm --out docs/benchmarks',
    'deprune bench --suite models --model zoo:efficientnet-b0 --mode webgpu --quick --out docs/benchmarks',
    'deprune bench --suite prune --model zoo:mobilenetv2 --out docs/benchmarks',
    'deprune bench --suite hsr --model zoo:mobilenetv2 --mode webgl2 --quick --out docs/benchmarks',
    'deprune bench --suite accuracy --model ppocr-rec --variants channel,deprune-bh --ratios 0.3,0.5 --speed --out docs/benchmarks',
  ],
  async run({ args, out }) {
    const suite = args.string('suite');
    if (suite === undefined) throw new UsageError('missing --suite', { hint: `choose one of ${SUITES.join(', ')} (${helpHint('bench')})` });
    if (!(SUITES as readonly string[]).includes(suite)) throw new UsageError(`unknown --suite '${suite}'`, { hint: `choose one of ${SUITES.join(', ')}` });
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positional(0)}': give the model with --model`, { hint: helpHint('bench') });
    refuseForeignFlags(args, suite as BenchSuite, [...new Set(Object.values(SUITE_FLAGS).flat())]);
    checkOutputFolder(args.string('out'), '--out');
    if (suite === 'accuracy') return (await import('./bench-accuracy')).runAccuracyBench(args, out);
    if (suite !== 'kernels') return runSuiteBench(args, out, suite as Exclude<BenchSuite, 'kernels' | 'accuracy'>);
    const spec = args.string('model') ?? DEFAULT_BENCH_MODEL;
    const earlier = readEarlierReport(args, 'kernels');
    const ratio = parseRatio(args.string('ratio'));
    const quick = args.boolean('quick');
    const repeats = args.integer('repeats', { min: 1 });
    const warmup = args.integer('warmup', { min: 0 });
    const step = args.integer('step', { min: 1 });
    const tileRows = args.integer('tile-rows', { min: 1 });
    const groupSize = args.integer('group-size', { min: 1 });
    const hsrModel = args.string('hsr-model') ?? 'measured';
    if (!(HSR_MODELS as readonly string[]).includes(hsrModel)) throw new UsageError(`--hsr-model must be one of ${HSR_MODELS.join(', ')}, got '${hsrModel}'`);
    const chainFlag = args.string('chain');
    if (chainFlag !== undefined && chainFlag !== 'on' && chainFlag !== 'off') throw new UsageError(`--chain must be on or off, got '${chainFlag}'`, { hint: helpHint('bench') });
    const browser = args.string('browser');
    if (browser !== undefined && !(BROWSERS as readonly string[]).includes(browser)) throw new UsageError(`--browser must be one of ${BROWSERS.join(', ')}, got '${browser}'`);
    const requestedMode = args.string('mode');
    const inBrowser = browser !== undefined || (BROWSER_ONLY_MODES as readonly (string | undefined)[]).includes(requestedMode);
    let mode: BackendMode;
    if (inBrowser) {
      // The page probes the mode itself (runKernelSuiteInBrowser); here only the name is checked.
      // The page runs the kernels suite on the gpu.js modes.
      if (requestedMode === undefined || requestedMode === 'auto' || !(GPU_MODE_NAMES as readonly string[]).includes(requestedMode)) {
        throw new UsageError(`in a browser, give the gpu.js mode explicitly: --mode ${GPU_MODE_NAMES.filter((name) => name !== 'auto' && name !== 'headlessgl').join(' | ')}`, { hint: helpHint('bench') });
      }
      mode = requestedMode as GpuMode;
      out.debug(`mode ${mode}: in headless Chromium`);
    } else {
      // In Node: the wasm backend or a gpu.js mode (auto: wasm).
      const resolvedMode = await resolveBackendFlag(requestedMode, 'bench');
      mode = resolvedMode.mode;
      out.debug(`mode ${mode}: ${resolvedMode.reason}`);
    }
    const bench = await loadBench('bench');
    const outDir = args.string('out');
    // The command line as given, for the report.
    const command = [
      'deprune bench --suite kernels',
      `--model ${spec}`,
      `--mode ${args.string('mode') ?? 'auto'}`,
      ...(browser === undefined ? [] : [`--browser ${browser}`]),
      ...(quick ? ['--quick'] : []),
      ...(ratio === undefined ? [] : [`--ratio ${args.string('ratio')}`]),
      ...(args.has('layers') ? [`--layers '${args.string('layers')}'`] : []),
      ...args.strings('input-shape').map((shape) => `--input-shape ${shape}`),
      ...(repeats === undefined ? [] : [`--repeats ${repeats}`]),
      ...(warmup === undefined ? [] : [`--warmup ${warmup}`]),
      ...(step === undefined ? [] : [`--step ${step}`]),
      ...(tileRows === undefined ? [] : [`--tile-rows ${tileRows}`]),
      ...(groupSize === undefined ? [] : [`--group-size ${groupSize}`]),
      ...(args.boolean('skip-dr') ? ['--skip-dr'] : []),
      ...(args.has('hsr-model') ? [`--hsr-model ${hsrModel}`] : []),
      ...(chainFlag === undefined ? [] : [`--chain ${chainFlag}`]),
      ...(outDir === undefined ? [] : [`--out ${outDir}`]),
    ].join(' ');
    const { resolved, inputShapes } = await loadModelWithShapes(spec, args.strings('input-shape'));
    const options = {
      model: resolved.model,
      modelName: resolved.spec,
      mode,
      inputShapes,
      quick,
      command,
      hsrModel: hsrModel as (typeof HSR_MODELS)[number],
      includeDr: !args.boolean('skip-dr'),
      ...(chainFlag === undefined ? {} : { chain: chainFlag === 'on' }),
      ...(ratio === undefined ? {} : { ratio }),
      ...(args.has('layers') ? { layers: args.string('layers')! } : {}),
      ...(repeats === undefined ? {} : { repeats }),
      ...(warmup === undefined ? {} : { warmup }),
      ...(step === undefined ? {} : { step }),
      ...(tileRows === undefined ? {} : { tileRows }),
      ...(groupSize === undefined ? {} : { groupSize }),
    };
    if (outDir !== undefined) {
      // Checked before the run, with the names the report will get (they depend on model, mode, ratio, quick).
      const settings = { ratio: ratio ?? bench.DEFAULT_KERNEL_RATIO, quick };
      const paths = bench.kernelReportPaths({ model: resolved.spec, mode, settings } as unknown as KernelSuiteReport, outDir);
      refuseExistingReport(paths, args.boolean('force'), benchInputs(args, spec));
    }
    const progress = out.progress(`bench kernels ${spec} (${mode}${inBrowser ? ', headless Chromium' : ''})`);
    const onProgress = (event: { index: number; total: number; layer: string; stage: string; round: number; rounds: number }) =>
      progress.update(event.index + (event.stage === 'done' ? 1 : 0), `of ${event.total} blocks: ${event.layer} (${event.stage} ${event.round}/${event.rounds})`);
    let report: KernelSuiteReport;
    if (inBrowser) {
      report = await bench.runKernelSuiteInBrowser({ ...options, mode: mode as GpuMode, onProgress });
    } else {
      try {
        report = await bench.runKernelSuite({ ...options, onProgress });
      } finally {
        // runKernelSuite frees its backend; this catches gpu.js kernels left by a failed run.
        if (mode !== 'wasm') await (await import('@deprune/gpu')).disposeBackend();
      }
    }
    progress.done(`benchmarked ${report.layers.length} DSConv block(s) of ${spec} in ${mode}${inBrowser ? ' (headless Chromium)' : ''} (${report.seconds} s)`);
    if (earlier !== null) report = { ...report, repeatability: bench.compareRuns(earlier, report) } as KernelSuiteReport;
    const files = outDir === undefined ? null : await bench.writeSuiteReport(report, outDir);
    out.result({ ...report, files });
    if (!out.json) printReport(out, report, files);
    const repeatability = (report as { repeatability?: { within: number; rows: number; previous: { date: string } } }).repeatability;
    if (!out.json && repeatability) out.print(`repeatability: ${repeatability.within} of ${repeatability.rows} medians within the earlier run's spread (${repeatability.previous.date})`);
    return 0;
  },
};
