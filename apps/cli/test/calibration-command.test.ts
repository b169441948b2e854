import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClsSet, generateDetSet, generateRecSet, writeDataset } from '@deprune/textdata';
import { createRng } from '@deprune/tensor';
import { encodeNpy } from '../src/npy';
import { spawn } from 'node:child_process';
import { CLI, cleanup, listFiles, runCli, tempDir, type CliResult } from './helpers';

/**
 * The CLI in a child process WITHOUT blocking this worker (runCli's spawnSync would): calibration
 * runs take tens of seconds, longer on a loaded machine, and a worker blocked that long misses
 * vitest's own heartbeats.
 */
function runCliAsync(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: folder, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function runJsonAsync<T>(args: readonly string[]): Promise<{ document: T }> {
  const result = await runCliAsync([...args, '--json']);
  if (result.status !== 0) throw new Error(`deprune ${args.join(' ')} --json exited ${result.status}: ${result.stderr}`);
  return { document: JSON.parse(result.stdout) as T };
}

let folder: string;
beforeAll(() => {
  folder = tempDir('deprune-calib-');
  const rng = createRng(3);
  const batch = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  writeFileSync(join(folder, 'calib.npy'), encodeNpy(batch([4, 3, 224, 224]), [4, 3, 224, 224]));
  writeFileSync(join(folder, 'flat.npy'), encodeNpy(batch([4, 3, 224]), [4, 3, 224]));
  writeFileSync(join(folder, 'gray.npy'), encodeNpy(batch([2, 1, 224, 224]), [2, 1, 224, 224]));
  mkdirSync(join(folder, 'empty'));
  mkdirSync(join(folder, 'broken'));
  writeFileSync(join(folder, 'broken', 'a.png'), 'not a png at all');
  writeDataset(join(folder, 'rec'), 'rec', generateRecSet(4, 21));
  writeDataset(join(folder, 'cls'), 'cls', generateClsSet(6, 21));
  writeDataset(join(folder, 'det'), 'det', generateDetSet(1, 21));
});
afterAll(() => cleanup(folder));

/** Exit 2, nothing on stdout, one stderr line naming `names`, no file created. */
function expectRefused(args: string[], names: string, pattern?: RegExp): void {
  const before = listFiles(folder);
  const result = runCli(args, { cwd: folder });
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^deprune: /);
  expect(lines[0]).toContain(names);
  if (pattern) expect(lines[0]).toMatch(pattern);
  expect(listFiles(folder)).toEqual(before);
}

describe('prune --calib: bad calibration input is exit 2 naming the file', () => {
  const prune = (...extra: string[]) => ['prune', 'zoo:mobilenetv3-small', '-o', 'out.onnx', '--engine', 'onnxruntime', ...extra];
  it('an empty folder, an unreadable image, a missing path', () => {
    expectRefused(prune('--calib', 'empty'), 'empty', /no PNG or JPEG images/);
    expectRefused(prune('--calib', 'broken'), 'a.png');
    expectRefused(prune('--calib', 'nowhere'), 'nowhere', /no such calibration/);
  });
  it('a batch of the wrong rank or channel count', () => {
    expectRefused(prune('--calib', 'flat.npy'), 'flat.npy', /\[N, C, H, W\]/);
    expectRefused(prune('--calib', 'gray.npy'), 'gray.npy[0]', /1 channels, the model expects 3/);
  });
  it('flags that need --calib, and bad counts', () => {
    expectRefused(prune('--importance', 'obs'), 'obs', /needs calibration data/);
    expectRefused(prune('--allocation', 'saliency'), "allocation 'saliency'", /needs calibration data/);
    expectRefused(prune('--allocation', 'global', '--calib', 'calib.npy'), "unknown --allocation 'global'", /uniform, saliency, saliency-macs/);
    expectRefused(prune('--calib', 'calib.npy', '--calib-samples', '0'), 'calib-samples');
    expectRefused(prune('--calib', 'calib.npy', '--preset', 'ppocr'), 'ppocr', /unknown --preset/);
  });
});

describe('prune --calib on MobileNetV3-Small', () => {
  it('collects statistics, prunes by greedy OBS (the default with --calib), reconstructs, and eval accepts the result with its plan', async () => {
    const { document } = await runJsonAsync<{
      calibration: { samples: number; engine: string; statisticsMs: number; importance: string };
      reconstruction: { layers: { name: string; errorBefore: number; errorAfter: number }[]; meanErrorBefore: number; meanErrorAfter: number };
      report: { totals: { dsconvSparsity: number; pwSparsity: number; dwSparsity: number } };
    }>(['prune', 'zoo:mobilenetv3-small', '-o', 'mnv3.onnx', '--ratio', '0.5', '--calib', 'calib.npy', '--engine', 'onnxruntime', '--allocation', 'uniform']);
    expect(document.calibration.samples).toBe(4);
    expect(document.calibration.importance).toBe('obs-greedy');
    expect(document.calibration.statisticsMs).toBeGreaterThan(0);
    // PW columns are cut at the ratio exactly; DEPrune-BH's HSR then lifts each DW layer's kept count to
    // the top of its latency step (weights that cost no time), so DW and DSConv sparsity land below it.
    expect(document.report.totals.pwSparsity).toBeCloseTo(0.5, 2);
    expect(document.report.totals.dwSparsity).toBeGreaterThan(0.2);
    expect(document.report.totals.dwSparsity).toBeLessThanOrEqual(0.5);
    expect(document.report.totals.dsconvSparsity).toBeGreaterThan(0.45);
    expect(document.report.totals.dsconvSparsity).toBeLessThanOrEqual(0.5);
    for (const layer of document.reconstruction.layers) expect(layer.errorAfter).toBeLessThanOrEqual(layer.errorBefore + 1e-12);
    expect(document.reconstruction.meanErrorAfter).toBeLessThan(document.reconstruction.meanErrorBefore);
    // The plan still matches the reconstructed model (names, shapes, every pruned weight 0).
    const fidelity = await runJsonAsync<{ metrics: { cosine: number; items: number } }>([
      'eval', 'mnv3.onnx', '--plan', 'mnv3.deprune.json', '--task', 'fidelity', '--reference', 'zoo:mobilenetv3-small', '--data', 'rec', '--engine', 'onnxruntime',
    ]);
    expect(fidelity.document.metrics.items).toBe(4);
    expect(fidelity.document.metrics.cosine).toBeGreaterThan(0);
  }, 240_000);

  it('--allocation saliency spreads the same weight budget unevenly over the layers; --calib defaults to saliency-macs', async () => {
    type Document = {
      report: { allocation?: { mode: string; budget: string; budgetAmount: number; ratios: Record<string, number> }; layers: { weights: number; keptWeights: number }[] };
      calibration: { allocation: string };
    };
    const args = ['prune', 'zoo:mobilenetv3-small', '--variant', 'unstructured', '--ratio', '0.5', '--calib', 'calib.npy', '--engine', 'onnxruntime', '--no-reconstruct'];
    const { document } = await runJsonAsync<Document>([...args, '-o', 'mnv3-saliency.onnx', '--allocation', 'saliency']);
    const uniform = (await runJsonAsync<Document>([...args, '-o', 'mnv3-uniform.onnx', '--allocation', 'uniform'])).document;
    const byDefault = (await runJsonAsync<Document>([...args, '-o', 'mnv3-default.onnx'])).document;
    expect(byDefault.report.allocation).toMatchObject({ mode: 'saliency', budget: 'macs' });
    expect(byDefault.calibration.allocation).toBe('saliency (macs budget)');
    expect(uniform.calibration.allocation).toBe('uniform');
    const allocation = document.report.allocation!;
    expect(allocation.mode).toBe('saliency');
    expect(allocation.budget).toBe('weights');
    const ratios = Object.values(allocation.ratios);
    expect(Math.max(...ratios) - Math.min(...ratios)).toBeGreaterThan(0.1);
    expect(uniform.report.allocation).toBeUndefined();
    const pruned = (report: Document['report']) => report.layers.reduce((sum, layer) => sum + layer.weights - layer.keptWeights, 0);
    expect(Math.abs(pruned(document.report) - pruned(uniform.report))).toBeLessThanOrEqual(document.report.layers.length);
  }, 240_000);
});

describe('eval on rendered PP-OCR data', () => {
  it('rec, cls and det of the dense bundled models', async () => {
    const rec = await runJsonAsync<{ metrics: { lineAccuracy: number; charAccuracy: number; items: number } }>(['eval', 'ppocr-rec', '--task', 'ppocr-rec', '--data', 'rec', '--engine', 'onnxruntime']);
    expect(rec.document.metrics).toMatchObject({ items: 4, lineAccuracy: 1, charAccuracy: 1 });
    const cls = await runJsonAsync<{ metrics: { accuracy: number } }>(['eval', 'ppocr-cls', '--task', 'ppocr-cls', '--data', 'cls', '--engine', 'onnxruntime']);
    expect(cls.document.metrics.accuracy).toBeGreaterThanOrEqual(5 / 6);
    const det = await runJsonAsync<{ metrics: { recall: number; precision: number } }>(['eval', 'ppocr-det', '--task', 'ppocr-det', '--data', 'det', '--engine', 'onnxruntime']);
    expect(det.document.metrics.recall).toBeGreaterThanOrEqual(0.5);
    const human = await runCliAsync(['eval', 'ppocr-rec', '--task', 'ppocr-rec', '--data', 'rec', '--limit', '2', '--engine', 'onnxruntime']);
    expect(human.stdout).toMatch(/line accuracy 100\.00%, character accuracy 100\.00%/);
  }, 120_000);

  it('refuses a missing folder, wrong labels and a fidelity run without a reference', () => {
    expectRefused(['eval', 'ppocr-cls', '--task', 'ppocr-cls', '--data', 'rec'], 'labels.txt:1', /cls label must be 0 or 180/);
    expectRefused(['eval', 'ppocr-rec', '--task', 'ppocr-rec', '--data', 'missing'], 'missing', /no such data folder/);
    expectRefused(['eval', 'ppocr-rec', '--task', 'fidelity', '--data', 'rec'], 'reference');
    expectRefused(['eval', 'ppocr-rec', '--task', 'ppocr-recc', '--data', 'rec'], 'ppocr-recc', /did you mean 'ppocr-rec'/);
  });
});
