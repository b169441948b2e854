/**
 * `deprune run` and `deprune demo` as users run them: .npy in and out (exact float32 round trip),
 * images through the presets on the bundled PP-OCR models, pruned models with their plans, and
 * every bad input refused with exit 2 and one line naming the file, creating nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotate180 } from '@deprune/images';
import { readImage } from '@deprune/images/node';
import { GraphBuilder, serializeModel } from '@deprune/onnx';
import { createRng, randomTensor, relativeL2Error, tensor } from '@deprune/tensor';
import ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { encodeNpy, readNpy } from '../src/npy';
import { cleanup, listFiles, runCli, runJson, tempDir } from './helpers';

interface RunDocument {
  mode: string;
  plan: string | null;
  inputs: Record<string, { shape: number[]; source: string }>;
  outputs: { name: string; shape: number[]; text?: string; top5?: { index: number; score: number; label?: string }[] }[];
  latency: { medianMs: number; repeats: number };
  planLayers: number;
  sparseLayers: number;
}

/** A small DSConv network with dynamic H and W: stem conv, DW 3x3 + BN + ReLU6, PW, global pool, Gemm. */
function smallNet(): Uint8Array {
  const rng = createRng(5);
  const w = (shape: number[], scale = 0.4) => randomTensor(shape, rng, { dtype: 'float32', scale });
  const b = new GraphBuilder({ name: 'small-dsconv' });
  const x = b.input('x', [1, 3, 'H', 'W']);
  const stem = b.node('Conv', [x, b.weight('stem.w', w([16, 3, 3, 3])), b.weight('stem.b', w([16]))], { pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'stem' });
  const relu = b.node('Relu', [stem], {}, { name: 'stem.relu' });
  const dw = b.node('Conv', [relu, b.weight('dw.w', w([16, 1, 3, 3]))], { group: 16, pads: [1, 1, 1, 1] }, { name: 'dw' });
  const bn = b.node('BatchNormalization', [dw, b.weight('bn.g', w([16])), b.weight('bn.b', w([16])), b.weight('bn.m', w([16])), b.weight('bn.v', tensor(Float32Array.from(w([16]).data, (v) => 1 + Math.abs(v)), [16]))], {}, { name: 'bn' });
  const act = b.node('Clip', [bn, b.weight('lo', tensor(Float32Array.of(0), [])), b.weight('hi', tensor(Float32Array.of(6), []))], {}, { name: 'relu6' });
  const pw = b.node('Conv', [act, b.weight('pw.w', w([32, 16, 1, 1]))], {}, { name: 'pw' });
  const pool = b.node('GlobalAveragePool', [pw], {}, { name: 'pool' });
  const flat = b.node('Flatten', [pool], { axis: 1 }, { name: 'flat' });
  const logits = b.node('Gemm', [flat, b.weight('fc.w', w([10, 32])), b.weight('fc.b', w([10]))], { transB: 1 }, { name: 'fc' });
  b.output(logits);
  return serializeModel(b.build());
}

async function ortOutput(modelFile: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelFile);
  const result = await session.run({ x: new ort.Tensor('float32', x, shape) });
  return Float32Array.from(Object.values(result)[0].data as Float32Array);
}

function expectRefused(result: ReturnType<typeof runCli>, pattern: RegExp): void {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n').filter((line) => !line.startsWith('running') && !line.startsWith('ran '));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('deprune run', () => {
  let folder: string;
  let model: string;
  let x: Float32Array;
  beforeAll(() => {
    folder = tempDir();
    model = join(folder, 'small.onnx');
    writeFileSync(model, smallNet());
    x = randomTensor([1, 3, 20, 28], createRng(9), { dtype: 'float32' }).data as Float32Array;
    writeFileSync(join(folder, 'x.npy'), encodeNpy(x, [1, 3, 20, 28]));
  });
  afterAll(() => cleanup(folder));

  it('reads a float32 .npy, writes the output as float32 .npy, and matches onnxruntime', async () => {
    const out = join(folder, 'y.npy');
    const { document } = runJson<RunDocument>(['run', model, '--input', join(folder, 'x.npy'), '--output', out, '--mode', 'cpu', '--repeat', '1']);
    expect(document.inputs.x.shape).toEqual([1, 3, 20, 28]);
    expect(document.latency.repeats).toBe(1);
    const y = readNpy(readFileSync(out), out);
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([1, 10]);
    expect(relativeL2Error(y.data, await ortOutput(model, x, [1, 3, 20, 28]))).toBeLessThan(1e-4);
    expect(document.outputs[0].top5).toHaveLength(5);
  });

  it('prune --calib on a dynamic model: the default MAC budget takes its layer shapes from the first sample without --input-shape', () => {
    type Document = { report: { allocation: { mode: string; budget: string }; warnings: string[]; totals: { macsBefore: number | null } } };
    const args = ['prune', model, '--calib', join(folder, 'x.npy'), '--engine', 'onnxruntime', '--no-reconstruct', '--ratio', '0.5', '--force'];
    const fromSample = runJson<Document>([...args, '-o', join(folder, 'small-sample.onnx')]);
    expect(fromSample.document.report.allocation).toMatchObject({ mode: 'saliency', budget: 'macs' });
    expect(fromSample.document.report.totals.macsBefore).toBeGreaterThan(0);
    expect(fromSample.document.report.warnings.join('\n')).not.toMatch(/counts weights instead of MACs/);
    const plan = JSON.parse(readFileSync(join(folder, 'small-sample.deprune.json'), 'utf8')) as { config: { inputShapes: Record<string, number[]> } };
    expect(plan.config.inputShapes).toEqual({ x: [1, 3, 20, 28] });
    // --input-shape wins over the samples' shape.
    const shaped = runJson<Document>([...args, '-o', join(folder, 'small-macs.onnx'), '--input-shape', '1,3,40,56']);
    expect(shaped.document.report.allocation).toMatchObject({ mode: 'saliency', budget: 'macs' });
    expect((JSON.parse(readFileSync(join(folder, 'small-macs.deprune.json'), 'utf8')) as typeof plan).config.inputShapes).toEqual({ x: [1, 3, 40, 56] });
  });

  it('round-trips float32 data exactly (an Identity model returns its input bit for bit)', () => {
    const b = new GraphBuilder({ name: 'identity' });
    b.output(b.node('Identity', [b.input('x', [2, 3, 5])], {}, { name: 'id' }));
    const identity = join(folder, 'identity.onnx');
    writeFileSync(identity, serializeModel(b.build()));
    const values = Float32Array.from({ length: 30 }, (_, i) => Math.fround(Math.PI * (i - 15)) / 7 + 1e-30 * i);
    writeFileSync(join(folder, 'id-in.npy'), encodeNpy(values, [2, 3, 5]));
    expect(runCli(['run', identity, '--input', join(folder, 'id-in.npy'), '-o', join(folder, 'id-out.npy'), '--repeat', '1']).status).toBe(0);
    const back = readNpy(readFileSync(join(folder, 'id-out.npy')));
    expect(back.shape).toEqual([2, 3, 5]);
    expect(Buffer.from((back.data as Float32Array).buffer).equals(Buffer.from(values.buffer))).toBe(true);
  });

  it('runs a pruned model with its plan on the sparse kernels, close to onnxruntime on the pruned file', async () => {
    const pruned = join(folder, 'small-bh.onnx');
    expect(runCli(['prune', model, '-o', pruned, '--variant', 'deprune-bh', '--ratio', '0.5', '--input-shape', '1,3,20,28']).status).toBe(0);
    const out = join(folder, 'y-bh.npy');
    const { document, result } = runJson<RunDocument>(['run', pruned, '--plan', join(folder, 'small-bh.deprune.json'), '--input', join(folder, 'x.npy'), '-o', out, '--mode', 'webasm', '--repeat', '1']);
    expect(document.planLayers).toBe(2);
    expect(document.sparseLayers).toBe(2);
    expect(result.stderr).not.toMatch(/warning/);
    expect(relativeL2Error(readNpy(readFileSync(out)).data, await ortOutput(pruned, x, [1, 3, 20, 28]))).toBeLessThan(1e-3);
    // Without --plan it says where the plan is.
    expect(runCli(['run', pruned, '--input', join(folder, 'x.npy'), '--repeat', '1']).stderr).toMatch(/small-bh\.deprune\.json is next to the model: pass --plan/);
  });

  it('reads images through the presets: the bundled text line is upright for the direction classifier, its 180-degree turn is not', () => {
    const line = fileURLToPath(new URL('../assets/demo-line.png', import.meta.url));
    const upright = runJson<RunDocument>(['run', 'ppocr-cls', '--image', line, '--repeat', '1']).document;
    expect(upright.inputs.x.shape).toEqual([1, 3, 48, 192]);
    expect(upright.outputs[0].top5?.[0].label).toBe('0');
    const turned = rotate180(readImage(line));
    const png = new PNG({ width: turned.width, height: turned.height });
    for (let pixel = 0; pixel < turned.width * turned.height; pixel++) png.data.set([...turned.data.subarray(pixel * 3, pixel * 3 + 3), 255], pixel * 4);
    writeFileSync(join(folder, 'turned.png'), PNG.sync.write(png));
    expect(runJson<RunDocument>(['run', 'ppocr-cls', '--image', join(folder, 'turned.png'), '--repeat', '1']).document.outputs[0].top5?.[0].label).toBe('180');
  });

  it('refuses bad inputs with exit 2 and one line naming the file, creating nothing', () => {
    const before = listFiles(folder);
    writeFileSync(join(folder, 'x64.npy'), encodeNpy(Float64Array.from(x), [1, 3, 20, 28]));
    const wrongRank = join(folder, 'rank.npy');
    writeFileSync(wrongRank, encodeNpy(x, [3, 20, 28]));
    const created = listFiles(folder);
    const out = join(folder, 'never.npy');
    expectRefused(runCli(['run', model, '--input', join(folder, 'x64.npy'), '-o', out]), /x64\.npy: the input is float64; the model takes float32/);
    expectRefused(runCli(['run', model, '--input', wrongRank, '-o', out]), /rank/);
    expectRefused(runCli(['run', model, '--input', join(folder, 'missing.npy')]), /missing\.npy: no such input file/);
    expectRefused(runCli(['run', model, '--plan', join(folder, 'nope.deprune.json')]), /nope\.deprune\.json: no such plan file/);
    writeFileSync(join(folder, 'bad.deprune.json'), '{ not json');
    expectRefused(runCli(['run', model, '--plan', join(folder, 'bad.deprune.json')]), /bad\.deprune\.json: the plan is not valid JSON/);
    expectRefused(runCli(['run', model, '--image', join(folder, 'x.npy'), '--preset', 'imagenet']), /x\.npy: not a PNG or JPEG image/);
    expectRefused(runCli(['run', model, '--input', join(folder, 'x.npy'), '-o', join(folder, 'x.npy')]), /x\.npy: already exists/);
    expect(listFiles(folder)).toEqual([...new Set([...created, 'bad.deprune.json'])].sort());
    expect(before.every((file) => created.includes(file))).toBe(true);
  });

  it('refuses a plan made for another model, naming the layer', () => {
    const other = join(folder, 'mnv2-bh.onnx');
    expect(runCli(['prune', 'zoo:mobilenetv2', '-o', other, '--variant', 'deprune-b']).status).toBe(0);
    expectRefused(runCli(['run', model, '--plan', join(folder, 'mnv2-bh.deprune.json'), '--repeat', '1']), /node '[^']+': plan layer is not a Conv\/Gemm layer of this model/);
  });
});

describe('deprune demo', () => {
  it('prunes a bundled PP-OCR model and reports kept weights, both latencies and fidelity', () => {
    interface DemoDocument {
      mode: string;
      rows: { model: string; calibration: { samples: number; importance: string; allocation: string; meanErrorBefore: number; meanErrorAfter: number } | null; dsconvKept: number; dsconvWeights: number; sparseLayers: number; planLayers: number; denseMs: number; prunedMs: number; speedup: number; fidelity: { maxAbsDiff: number; cosine: number; agrees?: boolean } }[];
    }
    const { document, result } = runJson<DemoDocument>(['demo', '--model', 'ppocr-cls', '--repeat', '1', '--ratio', '0.3', '--calib-samples', '8']);
    const [row] = document.rows;
    expect(row.model).toBe('ppocr-cls');
    // At least 70% kept: HSR may raise a layer's kept count to its stair's top, never lower it.
    expect(row.dsconvKept / row.dsconvWeights).toBeGreaterThanOrEqual(0.69);
    expect(row.dsconvKept / row.dsconvWeights).toBeLessThan(0.9);
    expect(row.calibration).toMatchObject({ samples: 8, importance: 'obs-greedy', allocation: 'saliency-macs' });
    expect(row.calibration!.meanErrorAfter).toBeLessThan(row.calibration!.meanErrorBefore);
    expect(row.sparseLayers).toBe(row.planLayers);
    expect(row.planLayers).toBeGreaterThan(10);
    for (const value of [row.denseMs, row.prunedMs, row.speedup]) expect(value).toBeGreaterThan(0);
    expect(row.speedup).toBeCloseTo(row.denseMs / row.prunedMs, 10);
    expect(typeof row.fidelity.agrees).toBe('boolean');
    expect(row.fidelity.cosine).toBeGreaterThan(-1);
    expect(result.stderr).toMatch(/ppocr-cls: pruned \d+ layers/);
    const plain = runJson<DemoDocument>(['demo', '--model', 'ppocr-cls', '--repeat', '1', '--no-calib']).document;
    expect(plain.rows[0].calibration).toBeNull();
  });

  it('--allocation: a known name with calibration only', () => {
    expectRefused(runCli(['demo', '--model', 'ppocr-cls', '--allocation', 'global']), /unknown --allocation 'global' \(choose one of uniform, saliency, saliency-macs\)/);
    expectRefused(runCli(['demo', '--model', 'ppocr-cls', '--no-calib', '--allocation', 'uniform']), /--allocation goes without --no-calib/);
  });
});
