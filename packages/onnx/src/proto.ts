import onnxProto from 'onnx-proto';

/**
 * The ONNX protobuf bindings (onnx.proto v1.10 through protobufjs). onnx-proto is a
 * CommonJS module without named ESM exports, hence the default import.
 */
export const onnx = onnxProto.onnx;
import type { onnx as P } from 'onnx-proto';

export type ModelProto = P.IModelProto;
export type GraphProto = P.IGraphProto;
export type NodeProto = P.INodeProto;
export type TensorProto = P.ITensorProto;
export type AttributeProto = P.IAttributeProto;
export type ValueInfoProto = P.IValueInfoProto;

/** ONNX TensorProto.DataType values we name in code. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
} as const;

const dataTypeNames: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64',
  15: 'complex128', 16: 'bfloat16',
};

export function dataTypeName(dataType: number | null | undefined): string {
  return dataTypeNames[dataType ?? 0] ?? `type ${dataType}`;
}

interface LongLike {
  toNumber(): number;
}

/** protobufjs gives int64 fields as Long objects; every int64 we meet fits a double. */
export function toNumber(value: number | LongLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
