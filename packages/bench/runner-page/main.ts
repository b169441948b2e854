/**
 * The runner page: the page `runSuiteInBrowser` (and so `deprune bench --browser chromium`, the
 * webgl2 and webgpu modes) opens in headless Chromium. It only publishes the page API
 * (`globalThis.depruneBench`, src/browser/page-api.ts) with onnxruntime-web served next to it.
 * It ships in this package's dist/page because the runner runs from the published package,
 * which cannot reach into an app; the benchmark page with a form (apps/bench) publishes the
 * same API from the same code.
 */
import * as ort from 'onnxruntime-web';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import { publishPageApi, type PageEnvironment } from '../src/browser/page-api';

publishPageApi({ ort: ort as unknown as PageEnvironment['ort'], ortWasmUrl, ortMjsUrl });
document.body.dataset.ready = 'true';
