/**
 * Test helper: encodes a single-node ONNX model with onnx-proto and runs it with onnxruntime-node,
 * so the float64 reference kernels can be compared with ORT's float32. Opset 13 and IR version 7
 * unless the model asks for another opset (IR 8 from opset 14 on, IR 9 from 19 on: ORT rejects a
 * model whose IR version is older than its opset needs). Float initializers are stored as
 * little-endian float32 raw_data, as exporters write them; integer inputs (indices, pads, axes,
 * sizes) are int64, as ONNX requires.
 */
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { Tensor } from '../src/index';

export type AttributeValue = number | readonly number[] | string;

/** Integer data for an int64 input (ONNX indices, pads, axes, sizes, repeats, shapes). */
export interface Int64Value {
  /** bigint for values a double cannot hold exactly, such as INT64_MAX (9223372036854775807n). */
  int64: readonly (number | bigint)[];
  shape: readonly number[];
}

export interface NodeInput {
  /** '' leaves an optional input out (e.g. Resize's roi), as exporters do. */
  name: string;
  value?: Tensor | Int64Value;
  /** Baked into the model as an initializer (weights, constant attributes-as-inputs) rather than fed at run time. */
  initializer?: boolean;
}

export interface SingleNodeModel {
  opType: string;
  inputs: readonly NodeInput[];
  /** Integers become INT/INTS attributes, non-integer numbers FLOAT, strings STRING. `floatAttributes` forces FLOAT. */
  attributes?: Record<string, AttributeValue>;
  floatAttributes?: readonly string[];
  /** Default 13. */
  opset?: number;
  /** Output names, default ['y']. */
  outputs?: readonly string[];
}

function float32RawData(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) view.setFloat32(index * 4, values[index], true);
  return bytes;
}

function int64RawData(values: readonly (number | bigint)[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => view.setBigInt64(index * 8, BigInt(value), true));
  return bytes;
}

function isInt64(value: Tensor | Int64Value): value is Int64Value {
  return 'int64' in value;
}

function attribute(name: string, value: AttributeValue, forceFloat: boolean): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value !== 'number') return { name, type: AttributeType.INTS, ints: [...value] };
  if (forceFloat || !Number.isInteger(value)) return { name, type: AttributeType.FLOAT, f: value };
  return { name, type: AttributeType.INT, i: value };
}

function valueInfo(name: string, elemType: number, shape?: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: shape === undefined ? undefined : { dim: shape.map((dimValue) => ({ dimValue })) },
      },
    },
  };
}

function presentInputs(model: SingleNodeModel): (NodeInput & { value: Tensor | Int64Value })[] {
  return model.inputs.filter((input): input is NodeInput & { value: Tensor | Int64Value } => input.name !== '' && input.value !== undefined);
}

function irVersionFor(opset: number): number {
  if (opset >= 19) return 9;
  if (opset >= 14) return 8;
  return 7;
}

export function encodeSingleNodeModel(model: SingleNodeModel): Uint8Array {
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const floatAttributes = new Set(model.floatAttributes ?? []);
  const outputs = model.outputs ?? ['y'];
  const opset = model.opset ?? 13;
  const inputs = presentInputs(model);
  const graph: onnx.IGraphProto = {
    name: `single_${model.opType}`,
    node: [
      {
        name: `${model.opType.toLowerCase()}_0`,
        opType: model.opType,
        input: model.inputs.map((input) => input.name),
        output: [...outputs],
        attribute: Object.entries(model.attributes ?? {}).map(([name, value]) => attribute(name, value, floatAttributes.has(name))),
      },
    ],
    initializer: inputs
      .filter((input) => input.initializer)
      .map(({ name, value }) => ({
        name,
        dims: [...value.shape],
        dataType: isInt64(value) ? INT64 : FLOAT,
        rawData: isInt64(value) ? int64RawData(value.int64) : float32RawData(value.data),
      })),
    input: inputs
      .filter((input) => !input.initializer)
      .map(({ name, value }) => valueInfo(name, isInt64(value) ? INT64 : FLOAT, value.shape)),
    output: outputs.map((name) => valueInfo(name, FLOAT)),
  };
  return onnx.ModelProto.encode({
    irVersion: irVersionFor(opset),
    producerName: 'deprune-tensor-tests',
    opsetImport: [{ domain: '', version: opset }],
    graph,
  }).finish();
}

export interface OrtResult {
  data: Float32Array;
  shape: number[];
}

/** Builds and runs the model once and returns every output; run-time float inputs are converted to float32. */
export async function runSingleNodeOutputs(model: SingleNodeModel): Promise<Record<string, OrtResult>> {
  const session = await InferenceSession.create(encodeSingleNodeModel(model), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const feeds: Record<string, OrtTensor> = {};
    for (const { name, value, initializer } of presentInputs(model)) {
      if (initializer) continue;
      feeds[name] = isInt64(value)
        ? new OrtTensor('int64', BigInt64Array.from(value.int64, (item) => BigInt(item)), [...value.shape])
        : new OrtTensor('float32', Float32Array.from(value.data), [...value.shape]);
    }
    const results = await session.run(feeds);
    const outputs: Record<string, OrtResult> = {};
    for (const name of model.outputs ?? ['y']) {
      outputs[name] = { data: results[name].data as Float32Array, shape: [...results[name].dims] };
    }
    return outputs;
  } finally {
    await session.release();
  }
}

/** Builds and runs the model once and returns its first output. */
export async function runSingleNode(model: SingleNodeModel): Promise<OrtResult> {
  const outputs = await runSingleNodeOutputs(model);
  return outputs[(model.outputs ?? ['y'])[0]];
}
