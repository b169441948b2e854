// "A variant registered from outside the packages runs through prune(), createSession and
// `deprune bench --suite kernels`, and appears in `deprune prune --help`" (issue 15). Written as a
// contributor's own package would be: only the public entry points, no package internals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKernelSuite, runModelSuite, runPruneSuite } from '@deprune/bench';
import { listVariants, registerVariant, unregisterVariant } from '@deprune/masks';
import { serializeModel } from '@deprune/onnx';
import { prune, type PruneResult } from '@deprune/pipeline';
import { createSession, type HostTensor } from '@deprune/runtime';
import { createRng } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { main, type CliIo } from 'deprune';

const NAME = 'contrib-dcp-nm';
const DESCRIPTION = 'balanced DCP on DW (sparse kernel) + 2:4 N:M on PW (runs dense)';
const INPUT = [1, 3, 64, 64];
const model = buildZooModel('mobilenetv3-small', { seed: 3, inputSize: 64 });

function bufferIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) }, out: () => out, err: () => err };
}

let pruned: PruneResult;
beforeAll(() => {
  registerVariant({ name: NAME, description: DESCRIPTION, dw: { strategy: 'dcp', balanced: true }, pw: { strategy: 'nm' }, hsr: true, defaults: { ratio: 0.56 } });
  pruned = prune(model, { variant: NAME, inputShapes: { '*': INPUT } });
});
afterAll(() => {
  unregisterVariant(NAME);
});

describe(`a contributed variant (${NAME})`, () => {
  it('is listed beside the built-ins', () => {
    expect(listVariants().map((variant) => variant.name)).toContain(NAME);
  });

  it('prunes through prune(): balanced DCP with HSR on DW, 2:4 on PW, its default ratio', () => {
    const { plan, report } = pruned;
    expect(plan.variant).toBe(NAME);
    expect(plan.config).toMatchObject({ ratio: 0.56, dwRatio: 0.56, pwRatio: 0.5 });
    const dw = plan.layers.filter((entry) => entry.kind === 'dw');
    const pw = plan.layers.filter((entry) => entry.kind === 'pw');
    expect(dw.length).toBeGreaterThan(0);
    expect(dw.every((entry) => entry.strategy === 'dcp' && entry.granularity === 'channel' && new Set(entry.kept).size === 1)).toBe(true);
    expect(pw.every((entry) => entry.strategy === 'nm' && entry.granularity === 'nm')).toBe(true);
    expect(report.hsr?.latencyModel).toBeDefined();
    expect(report.totals.pwSparsity).toBeCloseTo(0.5, 2);
  });

  it('runs in createSession (wasm): DW on the sparse kernel, PW dense, the same outputs as the pruned weights run dense', async () => {
    const rng = createRng(11);
    const data = Float32Array.from({ length: INPUT.reduce((a, b) => a * b, 1) }, () => rng.normal());
    const input: HostTensor = { data, shape: INPUT };
    const sparse = await createSession(pruned.model, { mode: 'wasm', plan: pruned.plan });
    // Without the plan every layer runs dense on the stored weights, whose pruned ones are exact zeros.
    const dense = await createSession(pruned.model, { mode: 'wasm' });
    try {
      const feeds = { [sparse.inputNames[0]]: input };
      const uses = sparse.compile({ [sparse.inputNames[0]]: INPUT }).planLayers;
      expect(uses.filter((use) => use.kind === 'dw').every((use) => use.kernel === 'dwSparse')).toBe(true);
      expect(uses.filter((use) => use.kind === 'pw').every((use) => use.kernel !== 'pwSparse')).toBe(true);
      const [a, b] = [(await sparse.run(feeds)).outputs, (await dense.run(feeds)).outputs];
      const name = sparse.outputNames[0];
      const scale = Math.max(...Array.from(b[name].data, Math.abs));
      let worst = 0;
      for (let index = 0; index < a[name].data.length; index++) worst = Math.max(worst, Math.abs(a[name].data[index] - b[name].data[index]));
      expect(a[name].shape).toEqual(b[name].shape);
      expect(worst / scale).toBeLessThan(1e-4);
    } finally {
      sparse.dispose();
      dense.dispose();
    }
  });

  it('is timed by the kernel bench (runKernelSuite, what deprune bench --suite kernels calls) on the kernels its plans run on', async () => {
    const report = await runKernelSuite({ model, mode: 'wasm', quick: true, repeats: 1, warmup: 0, layers: 'features.1.*', extraVariants: [NAME] });
    const rows = report.rows.filter((row) => row.variant === NAME);
    expect(rows.map((row) => `${row.op} ${row.kernel}`).slice(0, 2)).toEqual(['dw dwSparse', 'pw pwDense']);
    expect(report.variants[NAME]).toContain(DESCRIPTION);
    expect(report.summary.dsconvSpeedup[NAME]).toBeGreaterThan(0);
    expect(report.layers[0].plans[NAME]?.pw.slots).toBeNull();
  });

  it('runs whole in the models suite and is timed by the prune suite, and deprune bench --variants takes it', async () => {
    const models = await runModelSuite({ model, modelName: 'mobilenetv3-small', mode: 'wasm', inputShape: INPUT, variants: ['dense', NAME], warmup: 0, repeats: 1 });
    const row = models.rows.find((each) => each.variant === NAME);
    expect(row?.sparseLayers).toBeGreaterThan(0);
    const pruning = await runPruneSuite({ model, modelName: 'mobilenetv3-small', inputShape: INPUT, variants: [NAME], warmup: 0, repeats: 1 });
    expect(pruning.rows.map((each) => each.variant)).toEqual([NAME]);
    const folder = mkdtempSync(join(tmpdir(), 'deprune-variant-'));
    const modelFile = join(folder, 'model.onnx');
    writeFileSync(modelFile, serializeModel(model));
    try {
      const cli = bufferIo();
      const args = ['bench', '--suite', 'models', '--model', modelFile, '--mode', 'wasm', '--input-shape', INPUT.join(','), '--variants', `dense,${NAME}`, '--no-onnxruntime', '--quick', '--repeats', '1', '--warmup', '0', '--json'];
      expect(await main(args, { io: cli }), cli.err()).toBe(0);
      expect(JSON.parse(cli.out()).rows.some((each: { variant: string }) => each.variant === NAME)).toBe(true);
      const typo = bufferIo();
      expect(await main(['bench', '--suite', 'prune', '--model', modelFile, '--variants', 'contrib-dcp-mn', '--json'], { io: typo })).toBe(2);
      expect(typo.err()).toContain(`did you mean '${NAME}'?`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('appears in deprune prune --help, and the CLI prunes with it and benches it', async () => {
    const help = bufferIo();
    expect(await main(['prune', '--help'], { io: help })).toBe(0);
    expect(help.out()).toContain(`${NAME}  ${DESCRIPTION}`);
    expect(help.out()).toMatch(new RegExp(`--variant <name>\\s+deprune \\| .*\\| ${NAME} \\(default deprune-bh\\)`));
    const folder = mkdtempSync(join(tmpdir(), 'deprune-variant-'));
    const modelFile = join(folder, 'model.onnx');
    writeFileSync(modelFile, serializeModel(model));
    try {
      const cli = bufferIo();
      const code = await main(['prune', modelFile, '-o', join(folder, 'out.onnx'), '--variant', NAME, '--json'], { io: cli });
      expect(code, cli.err()).toBe(0);
      expect(JSON.parse(cli.out()).report.variant).toBe(NAME);
      const typo = bufferIo();
      expect(await main(['prune', modelFile, '-o', join(folder, 'x.onnx'), '--variant', 'contrib-dcp-mn'], { io: typo })).toBe(2);
      expect(typo.err()).toContain(`unknown --variant 'contrib-dcp-mn'; did you mean '${NAME}'?`);
      const bench = bufferIo();
      const args = ['bench', '--suite', 'kernels', '--model', modelFile, '--mode', 'wasm', '--quick', '--repeats', '1', '--warmup', '0', '--layers', 'features.1.*', '--json'];
      expect(await main(args, { io: bench }), bench.err()).toBe(0);
      expect(JSON.parse(bench.out()).rows.some((row: { variant: string }) => row.variant === NAME)).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
