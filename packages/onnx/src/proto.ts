import { decodeMessage, encodeMessage } from './protobuf';
import type { ModelProto, TensorProto } from './proto-schema';

// The message interfaces, for the modules of this package (index.ts names the public ones).
export type * from './proto-schema';
export { AttributeType, DataLocation, DataType } from './proto-schema';
export { WireFormatError } from './protobuf';

/** Decodes an ONNX file's bytes (raw_data fields are views into `bytes`); throws WireFormatError. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return decodeMessage(bytes, 'ModelProto') as ModelProto;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return encodeMessage(model, 'ModelProto');
}

/** A TensorProto on its own, as external-data tools and tests write one. */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  return decodeMessage(bytes, 'TensorProto') as TensorProto;
}

export function encodeTensor(tensor: TensorProto): Uint8Array {
  return encodeMessage(tensor, 'TensorProto');
}

/** The TensorProto fields that hold values by type (raw_data aside). */
export type TypedDataField = 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data' | 'stringData';

export interface DataTypeInfo {
  /** The name messages use. */
  readonly name: string;
  /** The typed field that holds the values when raw_data does not. */
  readonly field: TypedDataField;
  /** Entries of `field` per element: 2 for complex numbers, 1/8 for 4-bit types packed 8 to an int32. */
  readonly perElement: number;
  /** Bits per element in raw_data; 0 where raw_data may not hold the values (strings). */
  readonly rawBits: number;
}

const type = (name: string, field: TypedDataField, rawBits: number, perElement = 1): DataTypeInfo => ({ name, field, perElement, rawBits });

/**
 * Every TensorProto.DataType of the ONNX release the op schemas come from (NEWEST_DATA_TYPE in
 * op-schemas.ts), with where the ONNX checker requires its values to be stored (onnx/checker.cc,
 * check_tensor). 0 is UNDEFINED, which no tensor may have.
 */
export const DATA_TYPES: Readonly<Record<number, DataTypeInfo>> = {
  1: type('float32', 'floatData', 32),
  2: type('uint8', 'int32Data', 8),
  3: type('int8', 'int32Data', 8),
  4: type('uint16', 'int32Data', 16),
  5: type('int16', 'int32Data', 16),
  6: type('int32', 'int32Data', 32),
  7: type('int64', 'int64Data', 64),
  8: type('string', 'stringData', 0),
  9: type('bool', 'int32Data', 8),
  10: type('float16', 'int32Data', 16),
  11: type('float64', 'doubleData', 64),
  12: type('uint32', 'uint64Data', 32),
  13: type('uint64', 'uint64Data', 64),
  14: type('complex64', 'floatData', 64, 2),
  15: type('complex128', 'doubleData', 128, 2),
  16: type('bfloat16', 'int32Data', 16),
  17: type('float8e4m3fn', 'int32Data', 8),
  18: type('float8e4m3fnuz', 'int32Data', 8),
  19: type('float8e5m2', 'int32Data', 8),
  20: type('float8e5m2fnuz', 'int32Data', 8),
  21: type('uint4', 'int32Data', 4, 1 / 8),
  22: type('int4', 'int32Data', 4, 1 / 8),
  23: type('float4e2m1', 'int32Data', 4, 1 / 8),
  24: type('float8e8m0', 'int32Data', 8),
  25: type('uint2', 'int32Data', 2, 1 / 16),
  26: type('int2', 'int32Data', 2, 1 / 16),
  27: type('float6e2m3', 'int32Data', 6),
  28: type('float6e3m2', 'int32Data', 6),
};

export function dataTypeName(dataType: number | null | undefined): string {
  if (!dataType) return 'undefined';
  return Object.hasOwn(DATA_TYPES, dataType) ? DATA_TYPES[dataType].name : `type ${dataType}`;
}

/** An int64 field's value, 0 when unset. */
export function toNumber(value: number | null | undefined): number {
  return value ?? 0;
}
