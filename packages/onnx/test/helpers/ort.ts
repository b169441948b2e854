/**
 * onnxruntime-node as the test oracle: run a serialized model once and read its outputs.
 * One thread per session: vitest already runs two forks on a two-core machine.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';

export interface OrtValue {
  data: Float32Array;
  dims: number[];
}

export interface OrtRawValue {
  /** Element type as onnxruntime names it ('float32', 'int64', 'bool', ...). */
  type: string;
  dims: number[];
  /** The values as plain numbers (int64 converted). */
  values: number[];
}

async function run(bytes: Uint8Array, feeds: Record<string, OrtValue>) {
  // logSeverityLevel 3: onnxruntime's own (ONNX) shape inference warns where its kernels differ
  // from it (MaxPool ceil_mode); the tests compare against what the kernels compute.
  const session = await InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const inputs: Record<string, OrtTensor> = {};
    for (const [name, value] of Object.entries(feeds)) inputs[name] = new OrtTensor('float32', value.data, value.dims);
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

/** Runs the model once on float32 feeds; every output comes back as float32. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, OrtValue>): Promise<Record<string, OrtValue>> {
  const results = await run(bytes, feeds);
  const outputs: Record<string, OrtValue> = {};
  for (const [name, value] of Object.entries(results)) {
    const data = value.data as ArrayLike<number | bigint>;
    const floats = data instanceof Float32Array ? data : Float32Array.from(Array.from(data, Number));
    outputs[name] = { data: floats, dims: [...value.dims].map(Number) };
  }
  return outputs;
}

/** Runs the model once and returns every output with its type, shape and values as numbers. */
export async function runOrtRaw(bytes: Uint8Array, feeds: Record<string, OrtValue>): Promise<Record<string, OrtRawValue>> {
  const results = await run(bytes, feeds);
  const outputs: Record<string, OrtRawValue> = {};
  for (const [name, value] of Object.entries(results)) {
    const data = value.data as ArrayLike<number | bigint | boolean>;
    outputs[name] = { type: value.type, dims: [...value.dims].map(Number), values: Array.from(data, Number) };
  }
  return outputs;
}
