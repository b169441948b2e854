import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, listFiles, runCli, runCliAsync, runJson, runJsonAsync, tempDir } from './helpers';

/** Two small layers of MobileNetV3-Small: these tests check shapes and files, never timings. */
const LAYERS = 'features.1.block.0.0,features.1.block.2.0';
const BLOCKS = 'features.1.*';

function expectUsageError(result: ReturnType<typeof runCli>, pattern: RegExp): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines.at(-1)).toMatch(/^deprune: /);
  expect(lines.at(-1)).toMatch(pattern);
}

interface ProfileDocument {
  output: string;
  backend: string;
  mode: string;
  meta: { machine: string; backendDetail: string; repeats: number; kernelStep: number; skipped: { layer: string; kernel: string; reason: string }[] };
  layers: { name: string; kind: string; kernel: string; unit: string; full: number; counts: number; step: number }[];
  skipped: { layer: string; kernel: string; reason: string }[];
}

describe('deprune profile', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('writes an hsr latency table for the matching layers, with progress on stderr', () => {
    const { document, result } = runJson<ProfileDocument>(['profile', 'zoo:mobilenetv3-small', '--mode', 'webasm', '-o', 'table.json', '--layers', LAYERS, '--quick'], { cwd: folder });
    expect(document).toMatchObject({ output: 'table.json', backend: 'gpu.js-webasm', mode: 'webasm', meta: { backendDetail: 'gpu.js 2.24.1', repeats: 3, kernelStep: 4, skipped: [] } });
    expect(document.meta.machine).toMatch(/cores/);
    expect(document.layers.map((layer) => [layer.name, layer.kind, layer.kernel, layer.unit, layer.full])).toEqual([
      ['features.1.block.0.0', 'dw', 'dwSparse', 'channel', 9],
      ['features.1.block.2.0', 'pw', 'pwSparse', 'tile', 16],
    ]);
    expect(result.stderr).toMatch(/profil/);
    expect(listFiles(folder)).toEqual(['table.json']);
    const table = JSON.parse(readFileSync(join(folder, 'table.json'), 'utf8')) as {
      backend: string;
      mode: string;
      layers: Record<string, { kept: number[]; latencyUs: number[]; step: number }>;
    };
    expect(table.backend).toBe('gpu.js-webasm');
    const dw = table.layers['features.1.block.0.0'];
    expect(dw.kept).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(dw.latencyUs.every((value) => value > 0)).toBe(true);
    expect(Number.isInteger(dw.step)).toBe(true);
  });

  it('--mode wasm profiles the wasm backend; its DR layers (no dwDiagonal there) are skipped, said, not an error', () => {
    const { document } = runJson<ProfileDocument>(['profile', 'zoo:mobilenetv3-small', '--mode', 'wasm', '-o', 'wasm.json', '--layers', LAYERS, '--quick'], { cwd: folder });
    expect(document).toMatchObject({ output: 'wasm.json', backend: 'wasm', mode: 'wasm', meta: { backendDetail: expect.stringMatching(/^WebAssembly .*SIMD/), repeats: 3 }, skipped: [] });
    expect(document.layers.map((layer) => [layer.name, layer.kernel, layer.unit])).toEqual([
      ['features.1.block.0.0', 'dwSparse', 'channel'],
      ['features.1.block.2.0', 'pwSparse', 'tile'],
    ]);
    for (const layer of document.layers) expect(Number.isInteger(layer.step) && 4 % layer.step === 0).toBe(true);
    const group = runCli(['profile', 'mobilenetv3-small', '-o', 'group.json', '--layers', LAYERS, '--quick', '--dw-unit', 'group'], { cwd: folder });
    expect(group.status, group.stderr).toBe(0);
    expect(group.stderr).toMatch(/warning: skipped 1 layer\(s\) \(features\.1\.block\.0\.0\): the wasm backend has no dwDiagonal kernel/);
    expect(group.stdout).toMatch(/latency table of 1 layer\(s\), wasm/);
    const table = JSON.parse(readFileSync(join(folder, 'group.json'), 'utf8')) as { layers: Record<string, unknown>; meta: { skipped: { layer: string }[] } };
    expect(Object.keys(table.layers)).toEqual(['features.1.block.2.0']);
    expect(table.meta.skipped.map((layer) => layer.layer)).toEqual(['features.1.block.0.0']);
  });

  it('refuses to overwrite without --force, and replaces with it', () => {
    const path = join(folder, 'keep.json');
    writeFileSync(path, 'mine');
    expectUsageError(runCli(['profile', 'zoo:mobilenetv3-small', '--mode', 'cpu', '-o', path, '--layers', LAYERS, '--quick']), /already exists; not overwriting it \(pass --force/);
    expect(readFileSync(path, 'utf8')).toBe('mine');
    const human = runCli(['profile', 'mobilenetv3-small', '--mode', 'cpu', '-o', path, '--layers', 'features.1.block.0.0', '--quick', '--force']);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^wrote .*keep\.json: latency table of 1 layer\(s\), gpu\.js-cpu/);
    expect(human.stdout).toMatch(/features\.1\.block\.0\.0\s+dw\s+dwSparse\s+channel \(0\.\.9\)\s+10/);
    expect(JSON.parse(readFileSync(path, 'utf8')).layers['features.1.block.0.0'].kept).toHaveLength(10);
  });

  it('rejects bad flags before any work', () => {
    expectUsageError(runCli(['profile', 'zoo:mobilenetv3-small', '--mode', 'webasm']), /missing --output/);
    expectUsageError(runCli(['profile', 'zoo:mobilenetv3-small', '--mode', 'gpu', '-o', join(folder, 'x.json')]), /unknown --mode 'gpu'/);
    expectUsageError(runCli(['profile', 'zoo:mobilenetv3-small', '-o', join(folder, 'x.json'), '--dw-unit', 'tile']), /--dw-unit must be one of channel, group/);
    expectUsageError(runCli(['profile', 'zoo:mobilenetv3-small', '--mode', 'cpu', '-o', join(folder, 'x.json'), '--layers', 'nothing.*']), /no DW or PW layer matches/);
    expectUsageError(runCli(['profile', 'zoo:mobilenetv3-small', '-o', join(folder, 'no', 'x.json')]), /folder does not exist/);
    expect(existsSync(join(folder, 'x.json'))).toBe(false);
  });
});

interface BenchDocument {
  suite: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string; gpuJs: string };
  mode: string;
  model: string;
  command: string;
  settings: { warmup: number; repeats: number; ratio: number; groupSize: number; tileRows: number; step: number; quick: boolean };
  rows: { layer: string; op: string; variant: string; sparsity: number; keptWeights: number; medianMs: number; spreadMs: number; speedupVsDense: number }[];
  summary: { dsconvSpeedup: Record<string, number>; checks: Record<string, unknown>; best: { variant: string } };
  files: { json: string; markdown: string; chart: string } | null;
}

describe('deprune bench --suite kernels', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('prints the report as JSON: every variant and op of the block, positive numbers', () => {
    const { document } = runJson<BenchDocument>(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--mode', 'webasm', '--quick', '--layers', BLOCKS]);
    expect(document).toMatchObject({ suite: 'kernels', mode: 'webasm', model: 'zoo:mobilenetv3-small', files: null });
    expect(document.command).toBe(`deprune bench --suite kernels --model zoo:mobilenetv3-small --mode webasm --quick --layers '${BLOCKS}'`);
    expect(Object.keys(document.machine).sort()).toEqual(['cores', 'cpu', 'gpuJs', 'loadAverage', 'memoryGiB', 'node', 'os']); // no browser: a Node run
    expect(document.settings).toMatchObject({ warmup: 1, repeats: 3, ratio: 0.56, groupSize: 32, tileRows: 4, step: 4, quick: true });
    const variants = ['dense', 'unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh', 'dr'];
    expect(Object.keys(document.summary.dsconvSpeedup)).toEqual(variants);
    expect(document.rows.map((row) => `${row.op}:${row.variant}`).sort()).toEqual(
      variants.flatMap((variant) => (variant === 'dr' ? ['dw', 'dsconv'] : ['dw', 'pw', 'dsconv']).map((op) => `${op}:${variant}`)).sort(),
    );
    for (const row of document.rows) {
      expect(row.layer).toBe('features.1.block.0.0');
      expect(row.medianMs > 0 && row.speedupVsDense > 0 && row.keptWeights > 0).toBe(true);
    }
    expect(Object.keys(document.summary.checks).sort()).toEqual(['bFasterThanDeprune', 'bhNoSlowerThanB', 'dwIdeal', 'staircase']);
  });

  it('--mode wasm times the wasm kernels, chained by default; the DR rows are left out with the reason', () => {
    interface WasmBench extends BenchDocument {
      settings: BenchDocument['settings'] & { includeDr: boolean; drSkipped?: string; chain?: boolean };
    }
    const { document } = runJson<WasmBench>(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--mode', 'wasm', '--quick', '--layers', BLOCKS]);
    expect(document).toMatchObject({ suite: 'kernels', mode: 'wasm', settings: { includeDr: false, chain: true, drSkipped: expect.stringMatching(/wasm backend has no dwDiagonal kernel/) } });
    const variants = ['dense', 'unstructured', 'channel', 'deprune', 'deprune-b', 'deprune-bh'];
    expect(Object.keys(document.summary.dsconvSpeedup)).toEqual(variants);
    expect(document.rows).toHaveLength(6 * 3 + 2);
    for (const row of document.rows) expect(row.medianMs > 0 && row.speedupVsDense > 0).toBe(true);
    const human = runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--quick', '--layers', BLOCKS]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Kernel benchmark: zoo:mobilenetv3-small, mode wasm/);
    expect(human.stdout).toMatch(/DR form not timed: the wasm backend has no dwDiagonal kernel/);
  });

  it('--out writes JSON, Markdown and SVG under kernels/<mode>/, and refuses to overwrite them', () => {
    const args = ['bench', '--suite', 'kernels', '--model', 'mobilenetv3-small', '--mode', 'cpu', '--quick', '--layers', BLOCKS, '--ratio', '0.75', '--skip-dr', '--chain', 'on', '--out', 'reports'];
    const human = runCli(args, { cwd: folder });
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Kernel benchmark: zoo:mobilenetv3-small, mode cpu, r = 0\.75, 1 DSConv block/);
    expect(human.stdout).toMatch(/best DSConv speedup: .*the paper reports up to 3\.74x/);
    const stem = join(folder, 'reports', 'kernels', 'cpu', 'mobilenetv3-small-r0.75-quick');
    for (const extension of ['json', 'md', 'svg']) expect(existsSync(`${stem}.${extension}`), extension).toBe(true);
    expect(readFileSync(`${stem}.svg`, 'utf8')).toMatch(/^<svg/);
    expect(human.stdout).toMatch(/DW \+ PW as one dsconv step \(intermediate on the device\); as two calls: [\d.]+x as long \(dense\), [\d.]+x as long \(deprune-bh\)/);
    expect(readFileSync(`${stem}.md`, 'utf8')).toContain('deprune bench --suite kernels --model mobilenetv3-small --mode cpu --quick');
    expect(readFileSync(`${stem}.md`, 'utf8')).toContain('--skip-dr --chain on --out reports');
    const report = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as BenchDocument;
    expect(report.rows.some((row) => row.variant === 'dr')).toBe(false);
    // --chain on: the pair as one dsconv step, and as two calls for dense and DEPrune-BH.
    expect(report.rows.filter((row) => row.op === 'dsconv-unchained').map((row) => row.variant)).toEqual(['dense', 'deprune-bh']);
    expectUsageError(runCli(args, { cwd: folder }), /already exists; not overwriting it \(pass --force/);
  });

  const chromium = process.env.DEPRUNE_CHROMIUM || '/usr/bin/chromium';
  const haveChromium = existsSync(chromium) || process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
  if (!haveChromium) console.log(`SKIPPED deprune bench --mode webgl2: no Chromium at ${chromium}`);

  it.skipIf(!haveChromium)('--mode webgl2 runs the suite in headless Chromium and says so', () => {
    const { document, result } = runJson<BenchDocument & { machine: { browser?: string } }>(
      ['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--mode', 'webgl2', '--quick', '--skip-dr', '--layers', BLOCKS],
      { cwd: folder },
    );
    expect(document).toMatchObject({ suite: 'kernels', mode: 'webgl2', files: null });
    expect(document.machine.browser).toMatch(/headless Chromium .*SwiftShader/i);
    expect(result.stderr).toMatch(/headless Chromium/);
    // webgl2 chains the pair by default (as the runtime does): two unchained rows besides.
    expect(document.rows.length).toBe(6 * 3 + 2);
  }, 180_000);

  it('rejects bad usage', () => {
    expectUsageError(runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--browser', 'chromium']), /in a browser, give the gpu\.js mode explicitly: --mode webgpu \| webgl2 \| webasm \| cpu/);
    expectUsageError(runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--browser', 'firefox', '--mode', 'webgl2']), /--browser must be one of chromium, got 'firefox'/);
    expectUsageError(runCli(['bench', '--model', 'zoo:mobilenetv3-small']), /missing --suite/);
    expectUsageError(runCli(['bench', '--suite', 'e2e', '--model', 'zoo:mobilenetv3-small']), /unknown --suite 'e2e'/);
    expectUsageError(runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--ratio', '1']), /--ratio must be a number in \[0, 1\)/);
    expectUsageError(runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--chain', 'maybe']), /--chain must be on or off, got 'maybe'/);
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--chain', 'on']), /--chain is not an option of --suite models \(it is for --suite kernels\)/);
    expectUsageError(runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--mode', 'cpu', '--layers', 'nope']), /no DSConv block matches/);
  });
});

describe('deprune bench --suite models', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('times dense and DEPrune-BH end to end beside onnxruntime-node, and writes the report under models/<mode>/', () => {
    interface ModelsDocument {
      suite: string;
      rows: { variant: string; backend: string; threads: number; medianMs: number; sparseLayers: number; planLayers: number }[];
      files: { json: string; markdown: string; chart: string };
    }
    const { document, result } = runJson<ModelsDocument>(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--mode', 'webasm', '--variants', 'deprune-bh', '--repeats', '1', '--warmup', '0', '--out', folder]);
    expect(document.suite).toBe('models');
    expect(document.rows.map((row) => `${row.backend}:${row.variant}`)).toEqual(expect.arrayContaining(['gpu.js webasm:dense', 'gpu.js webasm:deprune-bh', 'onnxruntime-node:dense']));
    const bh = document.rows.find((row) => row.variant === 'deprune-bh')!;
    expect(bh.sparseLayers).toBe(bh.planLayers);
    for (const row of document.rows) expect(row.medianMs).toBeGreaterThan(0);
    expect(document.files.markdown).toBe(join(folder, 'models', 'webasm', 'mobilenetv3-small-224x224-r0.5.md'));
    expect(readFileSync(document.files.markdown, 'utf8')).toMatch(/deprune bench --suite models --model zoo:mobilenetv3-small/);
    expect(result.stderr).toMatch(/benchmarked zoo:mobilenetv3-small: suite models \(webasm\)/);
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--mode', 'webasm', '--variants', 'deprune-bh', '--out', folder]), /already exists; not overwriting it/);
  }, 120_000);

  it('rejects options of the other suite and unknown variants', () => {
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--layers', 'x']), /--layers is not an option of --suite models \(it is for --suite kernels, hsr\)/);
    expectUsageError(runCli(['bench', '--suite', 'kernels', '--model', 'zoo:mobilenetv3-small', '--variants', 'dense']), /--variants is not an option of --suite kernels \(it is for --suite models, prune, accuracy\)/);
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--variants', 'dense,magic']), /unknown variant 'magic' in --variants/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--runs', 'deprune-bh@0.5@global']), /--runs: 'deprune-bh@0\.5@global' is not variant@ratio\[@allocation\]/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--runs', 'channel@1']), /--runs: 'channel@1' is not variant@ratio/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--runs', 'channel@0.2', '--ratios', '0.5']), /--runs names the runs itself; it cannot be combined with --ratios/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--eval-sets', 'liberation-skia,freefont-outlin']), /--eval-sets: unknown set 'freefont-outlin'; did you mean 'freefont-outline'\?/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--eval-sets', 'dejavu-skia,dejavu-skia']), /--eval-sets names a set twice/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--calib-source', 'liberation']), /--calib-source: unknown source 'liberation'/);
    expectUsageError(runCli(['bench', '--suite', 'accuracy', '--model', 'ppocr-rec', '--calib-source', 'liberation-skia,dejavu-skia']), /--calib-source takes one source/);
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--eval-sets', 'dejavu-skia']), /--eval-sets is not an option of --suite models \(it is for --suite accuracy\)/);
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--mode', 'webasm', '--ort-threads', '2']), /--ort-backends and --ort-threads set onnxruntime-web, the yardstick in the browser/);
    expectUsageError(runCli(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--mode', 'webgpu', '--ort-backends', 'wasm,webgl']), /unknown onnxruntime-web backend 'webgl' in --ort-backends/);
  });

  const chromium = process.env.DEPRUNE_CHROMIUM || '/usr/bin/chromium';
  const haveChromium = existsSync(chromium) || process.env.CI === 'true' || process.env.DEPRUNE_REQUIRE_GPU_MODES === '1';
  if (!haveChromium) console.log(`SKIPPED deprune bench --suite models --mode webgpu: no Chromium at ${chromium}`);

  it.skipIf(!haveChromium)('--mode webgpu runs the suite in the benchmark page with onnxruntime-web as the yardstick', async () => {
    interface ModelsDocument {
      mode: string;
      machine: { browser?: string };
      rows: { variant: string; backend: string; yardstick: boolean; medianMs: number }[];
      unavailable: { backend: string; reason: string }[];
      versions: Record<string, string>;
      command: string;
    }
    const { document, result } = await runJsonAsync<ModelsDocument>(['bench', '--suite', 'models', '--model', 'zoo:mobilenetv3-small', '--mode', 'webgpu', '--variants', 'deprune-bh', '--repeats', '1', '--warmup', '0', '--ort-backends', 'wasm']);
    expect(document.mode).toBe('webgpu');
    expect(document.machine.browser).toMatch(/headless Chromium .*swiftshader/i);
    expect(document.rows.map((row) => `${row.backend}:${row.variant}`)).toEqual(['gpu.js webgpu:dense', 'gpu.js webgpu:deprune-bh', 'onnxruntime-web wasm:dense']);
    expect(document.versions).toMatchObject({ 'gpu.js': '2.24.1', 'onnxruntime-web': '1.30.0' });
    expect(document.command).toBe('deprune bench --suite models --model zoo:mobilenetv3-small --mode webgpu --variants deprune-bh --repeats 1 --warmup 0 --ort-backends wasm');
    expect(result.stderr).toMatch(/headless Chromium/);
  }, 240_000);
});

describe('deprune bench --suite prune and --suite hsr', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('times prune() per variant with its peak memory (a fresh Node process each), MobileNetV2 when no --model is given', async () => {
    interface PruneDocument {
      suite: string;
      model: string;
      environment: string;
      memory: { measured: boolean; method?: string };
      rows: { variant: string; medianMs: number; samplesMs: number[]; memory: { peakRssMiB: number; peakExtraMiB: number; baselineRssMiB: number; samples: number } | null }[];
      files: { json: string; markdown: string; chart: string };
    }
    const { document, result } = await runJsonAsync<PruneDocument>(['bench', '--suite', 'prune', '--variants', 'channel,deprune-bh', '--repeats', '1', '--warmup', '0', '--out', folder]);
    expect(document).toMatchObject({ suite: 'prune', model: 'zoo:mobilenetv2', environment: 'node', memory: { measured: true } });
    expect(document.rows.map((row) => row.variant)).toEqual(['channel', 'deprune-bh']);
    for (const row of document.rows) {
      expect(row.medianMs).toBeGreaterThan(0);
      expect(row.memory!.peakRssMiB).toBeGreaterThanOrEqual(row.memory!.baselineRssMiB);
      expect(row.memory!.peakExtraMiB).toBeGreaterThanOrEqual(0);
      expect(row.memory!.samples).toBeGreaterThan(0);
    }
    expect(document.files.json).toBe(join(folder, 'prune', 'node', 'mobilenetv2-224x224-r0.5.json'));
    expect(readFileSync(document.files.markdown, 'utf8')).toMatch(/Memory: each variant pruned once more in a fresh Node process/);
    expect(result.stderr).toMatch(/suite prune \(node\)/);
    expectUsageError(runCli(['bench', '--suite', 'prune', '--variants', 'channel', '--out', folder]), /already exists; not overwriting it/);
  }, 120_000);

  it('measures staircases and HSR moves per layer, and writes them under hsr/<mode>/', async () => {
    const human = await runCliAsync(['bench', '--suite', 'hsr', '--model', 'zoo:mobilenetv3-small', '--mode', 'cpu', '--quick', '--layers', LAYERS, '--out', folder]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/features\.1\.block\.0\.0 +dw dwSparse +10 of 0\.\.9 taps per channel/);
    expect(human.stdout).toMatch(/HSR \(recover, against the table measured in this run\) moved \d+ of 2 layers/);
    const stem = join(folder, 'hsr', 'cpu', 'mobilenetv3-small-224x224-r0.5');
    const report = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { layers: { layer: string; kept: number[]; latencyUs: number[]; move: { keptB: number; keptBH: number } | null }[] };
    expect(report.layers.map((layer) => layer.layer)).toEqual(LAYERS.split(','));
    for (const layer of report.layers) {
      expect(layer.latencyUs.every((value) => value > 0)).toBe(true);
      expect(layer.move!.keptBH).toBeGreaterThanOrEqual(layer.move!.keptB);
    }
    expect(readFileSync(`${stem}.svg`, 'utf8')).toMatch(/^<svg/);
  }, 120_000);

  it('--compare checks each median against an earlier run of the suite and records it', async () => {
    const args = ['bench', '--suite', 'prune', '--model', 'zoo:mobilenetv3-small', '--variants', 'deprune,deprune-b', '--repeats', '2', '--warmup', '0', '--no-memory'];
    const first = join(folder, 'first.json');
    writeFileSync(first, (await runCliAsync([...args, '--json'])).stdout);
    const { document } = await runJsonAsync<{ repeatability: { rows: number; within: number; details: { key: string; within: boolean }[]; previous: { date: string } } }>([...args, '--compare', first]);
    expect(document.repeatability.rows).toBe(2);
    expect(document.repeatability.details.map((detail) => detail.key)).toEqual(['deprune', 'deprune-b']);
    expect(document.repeatability.within).toBe(document.repeatability.details.filter((detail) => detail.within).length);
    expect(document.repeatability.previous.date).toBe((JSON.parse(readFileSync(first, 'utf8')) as { date: string }).date);
    expectUsageError(runCli([...args, '--compare', join(folder, 'missing.json')]), /missing\.json: cannot read it as a JSON report/);
  }, 120_000);

  it('refuses what a suite does not take', () => {
    expectUsageError(runCli(['bench', '--suite', 'prune', '--mode', 'webgl2']), /--mode is not an option of --suite prune \(it is for --suite kernels, models, hsr\)/);
    expectUsageError(runCli(['bench', '--suite', 'hsr', '--variants', 'dense']), /--variants is not an option of --suite hsr/);
    expectUsageError(runCli(['bench', '--suite', 'prune', '--variants', 'dense']), /unknown variant 'dense' in --variants/);
    expectUsageError(runCli(['bench', '--suite', 'hsr', '--mode', 'cpu', '--layers', 'nope', '--quick']), /no DW or PW layer matches 'nope'/);
    writeFileSync(join(folder, 'models.json'), JSON.stringify({ suite: 'models', date: '2026-01-01' }));
    expectUsageError(runCli(['bench', '--suite', 'prune', '--compare', join(folder, 'models.json')]), /models\.json: is not a --suite prune report/);
  });
});
