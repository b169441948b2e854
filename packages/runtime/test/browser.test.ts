/**
 * The runtime in headless Chromium: the wasm backend (1 and 2 threads; relative L2 error < 1e-4)
 * and the browser-only gpu.js modes webgl2 and webgpu on SwiftShader (< 1e-3): real models, dense
 * and pruned with their plans, against onnxruntime-node's outputs computed here in Node, the same
 * bars as the Node modes. Without
 * Chromium the suite is skipped with a note, unless GPU modes are required (CI=true).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissingReason, openBrowserPage, type BrowserPage } from '@deprune/gpu/chromium';
import { indexGraph, serializeModel, type OnnxModel } from '@deprune/onnx';
import { prune, serializePlan, type PruneVariant } from '@deprune/pipeline';
import { buildZooModel } from '@deprune/zoo';
import type { BackendMode } from '../src/index';
import type { BrowserModelCase, BrowserRuntimeReport } from './browser/entry';
import { MODEL_TOLERANCE, WASM_MODEL_TOLERANCE, ortRun, paddleModel, randomInput, withOutputs } from './helpers';

/** wasm twice: one thread, and two threads over shared memory (the page is cross-origin isolated). */
const RUNS: readonly { mode: BackendMode; threads: number }[] = [
  { mode: 'wasm', threads: 1 },
  { mode: 'wasm', threads: 2 },
  { mode: 'webgl2', threads: 1 },
  { mode: 'webgpu', threads: 1 },
];
const KERNEL_CLASS: Record<string, string> = { webgl2: 'WebGL2Kernel', webgpu: 'WebGPUKernel' };
const required = process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';

interface ModelSpec {
  name: string;
  model: () => OnnxModel;
  input: number[];
  variants: (PruneVariant | 'dense')[];
  /** Compared on these intermediates instead of the last Sigmoid (see models.test.ts). */
  logits?: { output: string; logits: string };
}

const SPECS: ModelSpec[] = [
  { name: 'zoo mobilenetv2 96x96', model: () => buildZooModel('mobilenetv2', { seed: 3, inputSize: 96 }), input: [1, 3, 96, 96], variants: ['dense', 'channel', 'deprune-bh'] },
  { name: 'zoo efficientnet-b0 96x96', model: () => buildZooModel('efficientnet-b0', { seed: 3, inputSize: 96 }), input: [1, 3, 96, 96], variants: ['deprune-bh'] },
  { name: 'ppocr cls', model: () => paddleModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), input: [1, 3, 48, 192], variants: ['dense', 'deprune-bh'] },
  { name: 'ppocr rec 48x160', model: () => paddleModel('ch_PP-OCRv4_rec_infer.onnx'), input: [1, 3, 48, 160], variants: ['deprune-bh'] },
  { name: 'ppocr det 96x128', model: () => paddleModel('ch_PP-OCRv4_det_infer.onnx'), input: [1, 3, 96, 128], variants: ['dense', 'deprune-bh'], logits: { output: 'sigmoid_0.tmp_0', logits: 'p2o.Add.281' } },
];

function floatBytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Every case's files (models, plans, inputs, references), served to the page, and the case list. */
async function prepare(): Promise<{ assets: Record<string, Uint8Array | string>; cases: BrowserModelCase[] }> {
  const assets: Record<string, Uint8Array | string> = {};
  const cases: BrowserModelCase[] = [];
  for (const [specIndex, spec] of SPECS.entries()) {
    const base = spec.model();
    const inputName = indexGraph(base).inputs[0];
    const input = randomInput(spec.input, 40 + specIndex);
    for (const variant of spec.variants) {
      const { model, plan } = variant === 'dense' ? { model: base, plan: null } : prune(base, { variant, ratio: 0.5, inputShapes: { [inputName]: spec.input } });
      const id = `${specIndex}-${variant}`;
      const fetch = spec.logits ? [spec.logits.logits] : [];
      const expected = await ortRun(withOutputs(model, fetch), { [inputName]: input });
      if (spec.logits) expected[spec.logits.output].data.set(expected[spec.logits.logits].data.map((v) => 1 / (1 + Math.exp(-v))));
      assets[`/${id}.onnx`] = serializeModel(model);
      if (plan !== null) assets[`/${id}.json`] = serializePlan(plan);
      assets[`/${id}.input`] = floatBytes(input.data);
      for (const [name, value] of Object.entries(expected)) assets[`/${id}.${encodeURIComponent(name)}.out`] = floatBytes(value.data);
      cases.push({
        name: `${spec.name} ${variant}`,
        model: `/${id}.onnx`,
        plan: plan === null ? null : `/${id}.json`,
        input: { name: inputName, path: `/${id}.input`, shape: spec.input },
        expected: Object.entries(expected).map(([name, value]) => ({ name, path: `/${id}.${encodeURIComponent(name)}.out`, shape: [...value.shape] })),
        fetch,
      });
    }
  }
  return { assets, cases };
}

async function bundleEntry(): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [new URL('./browser/entry.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Node built-ins that packages import behind an is-Node check (gpu's mode probes): never evaluated in a page.
    external: ['node:*', 'module', 'fs', 'path', 'url', 'os'],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

let page: BrowserPage | undefined;
let cases: BrowserModelCase[] = [];
let unavailable = chromiumMissingReason();
if (unavailable === undefined) {
  try {
    const prepared = await prepare();
    cases = prepared.cases;
    page = await openBrowserPage({
      script: await bundleEntry(),
      globalName: 'depruneRuntime',
      assets: prepared.assets,
      title: '@deprune/runtime in Chromium',
      // Cross-origin isolation: SharedArrayBuffer, so the wasm backend can run worker threads.
      headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
    });
  } catch (error) {
    unavailable = `headless Chromium did not start: ${(error as Error).message.split('\n')[0]}`;
  }
}

afterAll(async () => {
  await page?.close();
});

if (unavailable !== undefined) {
  if (required) it('headless Chromium runs here (required: CI=true or DEPRUNE_REQUIRE_GPU_MODES=1)', () => expect.fail(unavailable));
  else console.warn(`SKIPPED @deprune/runtime in Chromium: ${unavailable}`);
}

for (const { mode, threads } of RUNS) {
  describe.skipIf(page === undefined)(`${mode}${mode === 'wasm' ? ` (${threads} thread${threads === 1 ? '' : 's'})` : ''} in headless Chromium`, () => {
    let report: BrowserRuntimeReport;
    beforeAll(async () => {
      report = await page!.call<BrowserRuntimeReport>('runMode', { mode, cases, threads }, 600_000);
      console.log(`${mode} (${report.device}): ${report.results.map((result) => `${result.name} ${(result.ms / 1000).toFixed(1)} s`).join(', ')}`);
    }, 620_000);

    if (mode === 'wasm') {
      it(`really runs the wasm backend on ${threads} thread${threads === 1 ? '' : 's'}`, () => {
        expect(report.probe.available, report.probe.reason).toBe(true);
        expect(report.crossOriginIsolated).toBe(true);
        for (const result of report.results) if (result.failure === undefined) expect(result.threads, result.name).toBe(threads);
      });
    } else {
      it(`really runs in ${mode} (gpu.js ${KERNEL_CLASS[mode]} on SwiftShader)`, () => {
        if (!report.probe.available && !required) return;
        expect(report.probe.available, report.probe.reason).toBe(true);
        expect(report.kernelClass).toBe(KERNEL_CLASS[mode]);
        expect(report.device).toMatch(/swiftshader/i);
      });
    }

    it.each(cases.map((testCase) => [testCase.name]))('%s matches onnxruntime', (name) => {
      if (!report.probe.available && !required) return;
      const result = report.results.find((each) => each.name === name)!;
      expect(result.failure, page!.messages.slice(-5).join('\n')).toBeUndefined();
      for (const [output, error] of Object.entries(result.errors)) expect(error, `${name} ${output}`).toBeLessThan(mode === 'wasm' ? WASM_MODEL_TOLERANCE : MODEL_TOLERANCE);
      if (name.endsWith('deprune-bh')) expect(result.sparseLayers).toBe(result.planLayers);
      // MobileNetV2's 17 DW -> PW pairs run as dsconv steps, the DW result kept on the device.
      if (name.startsWith('zoo mobilenetv2')) expect(result.chainedSteps).toBe(17);
    });
  });
}
