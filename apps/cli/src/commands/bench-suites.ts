/**
 * `deprune bench --suite models | prune | hsr`: the end-to-end, pruning-cost and HSR suites of
 * @deprune/bench, in Node or (webgl2, webgpu, --browser chromium) in headless Chromium through
 * the benchmark page, which runs the same suite code. Reports go to
 * `<out>/<suite>/<mode or node|chromium>/<model>-<HxW>-r<ratio>.{json,md,svg}`.
 */
import { loadBench } from '../optional';
import { UsageError } from '@deprune/errors';
import type { AnySuiteReport, HsrSuiteReport, ModelSuiteReport, ModelVariant, PageRunRequest, PruneSuiteReport, PruneSuiteVariant } from '@deprune/bench';
import type { BackendMode } from '@deprune/runtime';
import { helpHint, type ParsedArgs } from '../args';
import { variantNames } from '../variants';
import type { Output } from '../output';
import { benchCommandLine, benchInputs, benchModel, benchPlace, pageProgress, parseRatio, parseVariants, printSuiteReport, readEarlierReport, refuseExistingReport, type BenchSuite } from './bench-common';

const ORT_WEB_BACKENDS = ['wasm', 'webgpu'] as const;

function ortWebBackends(text: string | undefined): ('wasm' | 'webgpu')[] {
  if (text === undefined) return [...ORT_WEB_BACKENDS];
  const backends = text.split(',').map((each) => each.trim());
  for (const backend of backends) if (!(ORT_WEB_BACKENDS as readonly string[]).includes(backend)) throw new UsageError(`unknown onnxruntime-web backend '${backend}' in --ort-backends`, { hint: `choose from ${ORT_WEB_BACKENDS.join(', ')}` });
  return backends as ('wasm' | 'webgpu')[];
}

/** --threads 1,2: whole numbers >= 1, each once. */
function parseThreadCounts(text: string | undefined): number[] {
  if (text === undefined) return [1];
  const counts = text.split(',').map((each) => each.trim());
  if (counts.some((each) => !/^[1-9][0-9]*$/.test(each))) throw new UsageError(`--threads takes whole numbers >= 1 separated by commas, got '${text}'`, { hint: helpHint('bench') });
  return [...new Set(counts.map(Number))];
}

export async function runSuiteBench(args: ParsedArgs, out: Output, suite: Exclude<BenchSuite, 'kernels' | 'accuracy'>): Promise<number> {
  const bench = await loadBench('bench');
  const ratio = parseRatio(args.string('ratio')) ?? { models: bench.DEFAULT_MODEL_RATIO, prune: bench.DEFAULT_PRUNE_RATIO, hsr: bench.DEFAULT_HSR_RATIO }[suite];
  const quick = args.boolean('quick');
  const repeats = args.integer('repeats', { min: 1 }) ?? (quick ? 3 : 7);
  // hsr times thousands of small kernel calls (one warm-up each is enough); prune times prune()
  // calls, which V8 settles over two; models times whole forward passes, whose JavaScript (and a
  // GL mode's shaders) V8 settles over about ten.
  const warmup = args.integer('warmup', { min: 0 }) ?? (suite === 'hsr' ? 1 : suite === 'models' ? (quick ? 4 : 10) : quick ? 1 : 2);
  // Any registered variant (registerVariant of @deprune/masks), and dense for the models suite.
  const variants = suite === 'models' ? parseVariants(args.string('variants'), ['dense', ...variantNames()]) : suite === 'prune' ? parseVariants(args.string('variants'), variantNames()) : undefined;
  const step = args.integer('step', { min: 1 });
  const tileRows = args.integer('tile-rows', { min: 1 });
  const ortThreads = args.integer('ort-threads', { min: 1 }) ?? 1;
  const threads = parseThreadCounts(args.string('threads'));
  const backends = ortWebBackends(args.string('ort-backends'));
  const place = await benchPlace(args, suite !== 'prune', suite === 'models' || suite === 'hsr');
  if (!place.inBrowser && (args.has('ort-backends') || args.has('ort-threads'))) {
    throw new UsageError('--ort-backends and --ort-threads set onnxruntime-web, the yardstick in the browser; in Node the yardstick is onnxruntime-node (1 thread and every core)', { hint: helpHint('bench') });
  }
  const earlier = readEarlierReport(args, suite);
  const { spec, resolved, inputShape } = await benchModel(args, suite);
  const command = benchCommandLine(args, suite, spec);
  const where = suite === 'prune' ? (place.inBrowser ? 'chromium' : 'node') : bench.modeFolder(place.mode!, place.inBrowser);
  const outDir = args.string('out');
  if (outDir !== undefined) {
    const stem = bench.modelReportStem({ model: resolved.spec, input: { shape: inputShape }, settings: { ratio } });
    refuseExistingReport(bench.suiteReportPaths(outDir, suite, where, stem), args.boolean('force'), benchInputs(args, spec));
  }
  const mode: BackendMode = place.mode ?? 'cpu';
  const label = `bench ${suite} ${spec} (${suite === 'prune' ? where : `${mode}${place.inBrowser ? ', headless Chromium' : ''}`})`;
  const progress = pageProgress(out, label);
  let report: AnySuiteReport;
  if (place.inBrowser) {
    const { serializeModel } = await import('@deprune/onnx');
    const request: Omit<PageRunRequest, 'machine'> = {
      suite,
      model: { url: '/model.onnx' },
      modelName: resolved.spec,
      inputShape,
      mode,
      ratio,
      quick,
      repeats,
      warmup,
      command,
      ...(variants === undefined ? {} : { variants }),
      ...(args.has('layers') ? { layers: args.string('layers')! } : {}),
      ortWeb: { backends: args.boolean('no-onnxruntime') ? [] : backends, threads: ortThreads },
      ...(threads.length === 1 && threads[0] === 1 ? {} : { threads }),
      suiteOptions: { ...(step === undefined ? {} : { kernelStep: step }), ...(tileRows === undefined ? {} : { tileRows }) },
    };
    report = await bench.runSuiteInBrowser(request, { modelBytes: serializeModel(resolved.model), onProgress: progress.update });
  } else {
    const common = { model: resolved.model, modelName: resolved.spec, inputShape, ratio, repeats, warmup, command };
    const forward = (fraction: number | null, message: string) => progress.update({ suite, fraction, message });
    try {
      if (suite === 'models') {
        report = await bench.runModelSuite({
          ...common,
          mode,
          collectGarbage: bench.nodeGarbageCollector(),
          ...(variants === undefined ? {} : { variants: variants as ModelVariant[] }),
          yardsticks: args.boolean('no-onnxruntime') ? [] : [bench.onnxruntimeNodeYardstick()],
          threads,
          onProgress: (event) => forward(event.total === 0 ? null : event.done / event.total, `${event.stage}${event.detail ? ` ${event.detail}` : ''} ${event.done}/${event.total}`),
        });
      } else if (suite === 'prune') {
        report = await bench.runPruneSuite({
          ...common,
          ...(variants === undefined ? {} : { variants: variants as PruneSuiteVariant[] }),
          environment: 'node',
          collectGarbage: bench.nodeGarbageCollector(),
          ...(args.boolean('no-memory') ? { memoryUnavailable: 'not asked for (--no-memory)' } : { memory: bench.nodePruneMemoryProbe() }),
          onProgress: (event) => forward(event.total === 0 ? null : event.done / event.total, `${event.stage}${event.detail ? ` ${event.detail}` : ''} ${event.done}/${event.total}`),
        });
      } else {
        report = await bench.runHsrSuite({
          ...common,
          // benchPlace resolved a mode this suite takes.
          mode: mode as Parameters<typeof bench.runHsrSuite>[0]['mode'],
          quick,
          ...(args.has('layers') ? { layers: args.string('layers')! } : {}),
          ...(step === undefined ? {} : { kernelStep: step }),
          ...(tileRows === undefined ? {} : { tileRows }),
          onProgress: (event) => forward(event.total === 0 ? null : event.done / event.total, `${event.stage} ${event.layer ?? ''} ${event.detail ?? ''}`.trim()),
        });
      }
    } finally {
      const gpu = await import('@deprune/gpu');
      await gpu.disposeBackend();
    }
  }
  if (earlier !== null) report = { ...report, repeatability: bench.compareRuns(earlier, report) };
  progress.done(`benchmarked ${spec}: suite ${suite} (${suite === 'prune' ? where : mode}${place.inBrowser && suite !== 'prune' ? ', headless Chromium' : ''}), ${report.seconds} s`);
  const files = outDir === undefined ? null : await bench.writeSuiteReport(report, outDir);
  out.result({ ...report, files });
  if (!out.json) printSuiteReport(out, report, bench.suiteView(report), files);
  return 0;
}

export type { HsrSuiteReport, ModelSuiteReport, PruneSuiteReport };
