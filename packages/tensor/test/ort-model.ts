/**
 * Test helper: encodes a single-node ONNX model (opset 13, IR version 7) with onnx-proto and runs
 * it with onnxruntime-node, so the float64 reference kernels can be compared with ORT's float32.
 * Initializers are stored as little-endian float32 raw_data, as exporters write them.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { Tensor } from '../src/index';

export type AttributeValue = number | readonly number[];

export interface NodeInput {
  name: string;
  value: Tensor;
  /** Baked into the model as an initializer (weights) rather than fed at run time (activations). */
  initializer?: boolean;
}

export interface SingleNodeModel {
  opType: string;
  inputs: readonly NodeInput[];
  /** Integers become INT/INTS attributes; non-integer numbers become FLOAT. `floatAttributes` forces FLOAT. */
  attributes?: Record<string, AttributeValue>;
  floatAttributes?: readonly string[];
}

function float32RawData(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) view.setFloat32(index * 4, values[index], true);
  return bytes;
}

function attribute(name: string, value: AttributeValue, forceFloat: boolean): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value !== 'number') return { name, type: AttributeType.INTS, ints: [...value] };
  if (forceFloat || !Number.isInteger(value)) return { name, type: AttributeType.FLOAT, f: value };
  return { name, type: AttributeType.INT, i: value };
}

function float32ValueInfo(name: string, shape?: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: shape === undefined ? undefined : { dim: shape.map((dimValue) => ({ dimValue })) },
      },
    },
  };
}

export function encodeSingleNodeModel(model: SingleNodeModel): Uint8Array {
  const floatAttributes = new Set(model.floatAttributes ?? []);
  const graph: onnx.IGraphProto = {
    name: `single_${model.opType}`,
    node: [
      {
        name: `${model.opType.toLowerCase()}_0`,
        opType: model.opType,
        input: model.inputs.map((input) => input.name),
        output: ['y'],
        attribute: Object.entries(model.attributes ?? {}).map(([name, value]) => attribute(name, value, floatAttributes.has(name))),
      },
    ],
    initializer: model.inputs
      .filter((input) => input.initializer)
      .map((input) => ({
        name: input.name,
        dims: [...input.value.shape],
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: float32RawData(input.value.data),
      })),
    input: model.inputs.filter((input) => !input.initializer).map((input) => float32ValueInfo(input.name, input.value.shape)),
    output: [float32ValueInfo('y')],
  };
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'deprune-tensor-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  }).finish();
}

export interface OrtResult {
  data: Float32Array;
  shape: number[];
}

/** Builds and runs the model once; the run-time inputs are converted to float32. */
export async function runSingleNode(model: SingleNodeModel): Promise<OrtResult> {
  const session = await InferenceSession.create(encodeSingleNodeModel(model), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const feeds: Record<string, OrtTensor> = {};
    for (const input of model.inputs) {
      if (!input.initializer) {
        feeds[input.name] = new OrtTensor('float32', Float32Array.from(input.value.data), [...input.value.shape]);
      }
    }
    const outputs = await session.run(feeds);
    const y = outputs.y;
    return { data: y.data as Float32Array, shape: [...y.dims] };
  } finally {
    await session.release();
  }
}
