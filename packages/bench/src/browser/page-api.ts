/**
 * The benchmark page's engine: every suite (kernels, models, prune, hsr) run in the page by the
 * very functions Node runs, with what only a page has (onnxruntime-web as the models suite's
 * yardstick, a machine record from the browser). The page's UI (page/main.ts) calls it, and so
 * does the Node runner (`runSuiteInBrowser`, through `globalThis.depruneBench`): one code path
 * for a user at their own GPU and for CI in headless Chromium.
 */
import { describeModeDevice, disposeBackend, GPU_JS_VERSION, isGpuMode, probeModes } from '@deprune/gpu';
import type { BackendMode } from '@deprune/runtime';
import { wasmSupport } from '@deprune/wasm';
import { parseModel, type OnnxModel } from '@deprune/onnx';
import { buildZooModel, type ZooModelName } from '@deprune/zoo';
import { runHsrSuite, type HsrSuiteReport } from '../hsr-suite';
import { runKernelSuite, type KernelSuiteReport } from '../kernels';
import type { MachineInfo } from '@deprune/profiler';
import { isWebasmMemoryFailure, runModelSuite, WEBASM_MEMORY_HINT, type ModelSuiteReport, type ModelVariant } from '../models';
import { runPruneSuite, type PruneSuiteReport, type PruneSuiteVariant } from '../prune-suite';
import type { OrtModule } from '../yardsticks';
import { exposedGarbageCollector } from '../suite-common';
import { onnxruntimeWebYardstick, type OrtWebBackend } from './ort-web';

export const PAGE_SUITES = ['models', 'kernels', 'prune', 'hsr'] as const;
export type PageSuite = (typeof PAGE_SUITES)[number];
export type SuiteReport = ModelSuiteReport | KernelSuiteReport | PruneSuiteReport | HsrSuiteReport;

/** Where the model comes from: a URL the page can fetch (the Node runner's asset, a bundled file, a picked file's object URL) or the zoo, built in the page. */
export type PageModelSource = { url: string } | { zoo: ZooModelName; inputSize: number; seed?: number };

export interface PageRunRequest {
  suite: PageSuite;
  model: PageModelSource;
  /** How the report names the model. */
  modelName: string;
  /** The model's input shape, e.g. [1, 3, 224, 224]; null: the model's own (kernels suite only). */
  inputShape: number[] | null;
  /** The backend: wasm (models suite) or a gpu.js mode (not used by the prune suite). */
  mode: BackendMode;
  ratio?: number;
  quick?: boolean;
  warmup?: number;
  repeats?: number;
  /** models and prune suites. */
  variants?: string[];
  /** kernels and hsr suites: layer globs. */
  layers?: string;
  /** kernels suite. */
  includeDr?: boolean;
  hsrModel?: 'measured' | 'analytic';
  /** models suite: onnxruntime-web backends and threads. Default wasm and webgpu, 1 thread. */
  ortWeb?: { backends: OrtWebBackend[]; threads: number };
  /** models suite, wasm mode: thread counts of our runs. Default [1]. */
  threads?: number[];
  /** The machine record (the Node runner sends the host's plus the browser); default: what the page can tell. */
  machine?: MachineInfo;
  command?: string;
  /** More of the suite's own options (plain JSON, e.g. the kernel suite's `step`, `tileRows`, `seed`), applied last. */
  suiteOptions?: Record<string, unknown>;
}

export interface PageProgress {
  suite: PageSuite;
  /** 0..1 where the suite can tell, else null. */
  fraction: number | null;
  message: string;
  /** The suite's own progress event, as it gave it. */
  event?: unknown;
}

/** What the page needs besides the suites: onnxruntime-web and where its wasm binary and JavaScript glue are served. */
export interface PageEnvironment {
  ort: Parameters<typeof onnxruntimeWebYardstick>[0]['ort'];
  ortWasmUrl: string;
  ortMjsUrl: string;
}

/** Every mode as this page sees it: wasm (the engine validates its SIMD module) and each gpu.js mode (a real compile and run of a small kernel). */
export async function probe(): Promise<{ mode: BackendMode; available: boolean; reason: string }[]> {
  const simd = wasmSupport().simd;
  const wasm = { mode: 'wasm' as const, available: simd, reason: simd ? 'the engine validates the WebAssembly SIMD kernels' : 'this engine has no WebAssembly SIMD' };
  return [wasm, ...[...(await probeModes()).values()].map(({ mode, available, reason }) => ({ mode, available, reason }))];
}

/** The page's own machine record: browsers do not tell the CPU model or the load. */
export async function pageMachine(mode: BackendMode): Promise<MachineInfo> {
  const nav = navigator as Navigator & { deviceMemory?: number; userAgentData?: { platform?: string; brands?: { brand: string; version: string }[] } };
  // Brands hold a made-up "Not A Brand" entry (GREASE); prefer a product over plain Chromium.
  const brands = (nav.userAgentData?.brands ?? []).filter((each) => !/not.?a.?brand/i.test(each.brand));
  const brand = brands.find((each) => each.brand !== 'Chromium') ?? brands[0];
  return {
    cpu: 'CPU not disclosed by the browser',
    cores: nav.hardwareConcurrency ?? 0,
    memoryGiB: nav.deviceMemory ?? 0,
    os: nav.userAgentData?.platform ?? nav.platform ?? 'unknown OS',
    node: '',
    gpuJs: GPU_JS_VERSION,
    loadAverage: [],
    browser: `${brand ? `${brand.brand} ${brand.version}` : nav.userAgent} (${await describeDevice(mode)})`,
  };
}

/** What runs a mode in this page: the GPU behind a gpu.js mode, or the wasm backend's instruction set and threads. */
async function describeDevice(mode: BackendMode): Promise<string> {
  if (isGpuMode(mode)) return describeModeDevice(mode);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return `wasm on the CPU: ${wasmSupport().relaxedSimd ? 'relaxed SIMD (FMA)' : 'SIMD'}, ${isolated ? 'cross-origin isolated (shared memory)' : 'not cross-origin isolated (no shared memory)'}`;
}

async function loadModel(source: PageModelSource, name: string): Promise<OnnxModel> {
  if ('zoo' in source) return buildZooModel(source.zoo, { seed: source.seed ?? 0, inputSize: source.inputSize });
  const response = await fetch(source.url);
  if (!response.ok) throw new Error(`the page could not fetch the model ${name} (${response.status})`);
  return parseModel(new Uint8Array(await response.arrayBuffer()), { source: name });
}

/** Runs one suite in this page and returns its report (plain JSON, the same as a Node run's). */
export async function runInPage(request: PageRunRequest, environment: PageEnvironment, onProgress: (event: PageProgress) => void = () => undefined): Promise<SuiteReport> {
  const { suite, mode } = request;
  const extra = request.suiteOptions ?? {};
  const shape = (): number[] => {
    if (request.inputShape === null) throw new Error(`the ${suite} suite needs the model's input shape`);
    return request.inputShape;
  };
  const say = (fraction: number | null, message: string, event?: unknown) => onProgress({ suite, fraction, message, ...(event === undefined ? {} : { event }) });
  say(null, `loading ${request.modelName}`);
  const model = await loadModel(request.model, request.modelName);
  const machine = request.machine ?? (await pageMachine(mode));
  const common = { model, modelName: request.modelName, machine, command: request.command ?? `(benchmark page) ${suite} ${request.modelName} ${mode}` };
  // The runner starts Chromium with --js-flags=--expose-gc; a user's own browser has no gc, and the report says so.
  const collectGarbage = exposedGarbageCollector();
  const garbage = collectGarbage === undefined ? {} : { collectGarbage };
  const timing = {
    ...(request.ratio === undefined ? {} : { ratio: request.ratio }),
    ...(request.warmup === undefined ? {} : { warmup: request.warmup }),
    ...(request.repeats === undefined ? {} : { repeats: request.repeats }),
  };
  try {
    if (suite === 'models') {
      const ortWeb = request.ortWeb ?? { backends: ['wasm', 'webgpu'], threads: 1 };
      return await runModelSuite({
        ...common,
        ...timing,
        ...(request.variants === undefined ? {} : { variants: request.variants as ModelVariant[] }),
        ...(request.quick && request.repeats === undefined ? { repeats: 3 } : {}),
        mode,
        inputShape: shape(),
        ...garbage,
        ...(request.threads === undefined ? {} : { threads: request.threads }),
        yardsticks: ortWeb.backends.length === 0 ? [] : [onnxruntimeWebYardstick({ ort: environment.ort, wasmUrl: environment.ortWasmUrl, mjsUrl: environment.ortMjsUrl, backends: ortWeb.backends, threads: ortWeb.threads })],
        onProgress: (event) => say(event.total === 0 ? null : event.done / event.total, `${event.stage}${event.detail ? ` ${event.detail}` : ''} ${event.done}/${event.total}`, event),
        ...extra,
      });
    }
    if (suite === 'prune') {
      return await runPruneSuite({
        ...common,
        ...timing,
        ...(request.variants === undefined ? {} : { variants: request.variants as PruneSuiteVariant[] }),
        ...(request.quick && request.repeats === undefined ? { repeats: 3 } : {}),
        inputShape: shape(),
        environment: 'chromium',
        ...garbage,
        memoryUnavailable:
          'a page cannot observe the peak of a synchronous call (performance.measureUserAgentSpecificMemory reports current use after a garbage collection, not a peak); run the prune suite in Node for memory',
        onProgress: (event) => say(event.total === 0 ? null : event.done / event.total, `${event.stage} ${event.done}/${event.total}`, event),
        ...extra,
      });
    }
    if (!isGpuMode(mode)) throw new Error(`the ${suite} suite runs gpu.js modes; mode ${mode} runs the models suite`);
    if (suite === 'hsr') {
      return await runHsrSuite({
        ...common,
        ...timing,
        mode,
        inputShape: shape(),
        quick: request.quick ?? false,
        ...(request.layers ? { layers: request.layers } : {}),
        onProgress: (event) => say(event.total === 0 ? null : event.done / event.total, `${event.stage} ${event.layer ?? ''} ${event.detail ?? ''}`.trim(), event),
        ...extra,
      });
    }
    return await runKernelSuite({
      ...common,
      ...timing,
      mode,
      ...(request.inputShape === null ? {} : { inputShapes: { '*': request.inputShape } }),
      quick: request.quick ?? false,
      ...(request.layers ? { layers: request.layers } : {}),
      ...(request.includeDr === undefined ? {} : { includeDr: request.includeDr }),
      ...(request.hsrModel === undefined ? {} : { hsrModel: request.hsrModel }),
      onProgress: (event) => say((event.index + (event.stage === 'done' ? 1 : 0)) / event.total, `block ${event.index + 1}/${event.total} ${event.layer} (${event.stage} ${event.round}/${event.rounds})`, event),
      ...extra,
    });
  } catch (error) {
    // gpu.js's webasm backend gives every compiled kernel its own WebAssembly memory; a page's
    // V8 caps the address space those reserve (Node does not), and several whole models at once
    // (the models suite keeps every variant's session alive to interleave them) pass that cap.
    // The backends cannot be disposed between variants (they are timed interleaved), so say the way out.
    if (mode === 'webasm' && error instanceof Error && isWebasmMemoryFailure(error.message)) {
      throw new Error(`${error.message.split('\n')[0]} (${WEBASM_MEMORY_HINT}; or a smaller model, webgl2/webgpu here, or webasm in Node with deprune bench)`);
    }
    throw error;
  } finally {
    if (suite !== 'prune' && isGpuMode(mode)) await disposeBackend(mode);
  }
}

/** What `globalThis.depruneBench` offers the Node runner (JSON in, JSON out; progress through `depruneBenchProgress`). */
export interface DepruneBenchPageApi {
  probe: typeof probe;
  device: (mode: BackendMode) => Promise<string>;
  run: (request: PageRunRequest) => Promise<SuiteReport>;
}

/** Publishes the API on `globalThis.depruneBench` for the Node runner. */
export function publishPageApi(environment: PageEnvironment): DepruneBenchPageApi {
  const api: DepruneBenchPageApi = {
    probe,
    device: describeDevice,
    run: (request) => runInPage(request, environment, (event) => (globalThis as { depruneBenchProgress?: (event: PageProgress) => void }).depruneBenchProgress?.(event)),
  };
  (globalThis as unknown as { depruneBench: DepruneBenchPageApi }).depruneBench = api;
  return api;
}

export type { OrtModule };
