import { ShapeError, UnsupportedError, DeprunError } from '@deprune/errors';
import { tensor, type Tensor } from '@deprune/tensor';
import { DataLocation, DataType, dataTypeName, toNumber, type TensorProto } from './proto';

/** What a tensor stored in external data needs from its file, so the reader can check before reading. */
export interface ExternalDataRequest {
  /** The tensor's name, for error messages. */
  tensor: string;
  /** Bytes its shape and element type take: exactly what is read. */
  bytes: number;
}

/**
 * Reads external tensor data: (location, offset, length or undefined for "to the end", and what
 * the tensor needs). With `request`, the reader reads exactly `request.bytes` and refuses a
 * `length` or a file too short for it before reading anything.
 */
export type ExternalDataReader = (location: string, offset: number, length: number | undefined, request?: ExternalDataRequest) => Uint8Array;

export interface TensorDecodeContext {
  /** Where the tensor lives, for error messages: the model file. */
  file?: string;
  /** Reads external data; absent when the model came from bytes with no folder. */
  readExternal?: ExternalDataReader;
}

export function tensorDims(proto: TensorProto): number[] {
  return (proto.dims ?? []).map(toNumber);
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}

/**
 * The tensor's raw little-endian bytes, whether stored inline (`raw_data`) or in an
 * external file. Returns undefined when the values sit in a typed field instead.
 */
function rawBytes(proto: TensorProto, context: TensorDecodeContext, bytesNeeded: number): Uint8Array | undefined {
  if (proto.dataLocation === DataLocation.EXTERNAL) {
    const entries = new Map((proto.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
    const location = entries.get('location');
    if (!location) {
      throw new DeprunError('INVALID_MODEL', `tensor '${proto.name}' is stored externally but names no location`, {
        file: context.file,
      });
    }
    if (!context.readExternal) {
      throw new DeprunError('INVALID_MODEL', `tensor '${proto.name}' is stored in external file '${location}'`, {
        file: context.file,
        hint: 'load the model from its path so its folder is known',
      });
    }
    const offset = entries.has('offset') ? Number(entries.get('offset')) : 0;
    const length = entries.has('length') ? Number(entries.get('length')) : undefined;
    return context.readExternal(location, offset, length, { tensor: proto.name ?? '', bytes: bytesNeeded });
  }
  const raw = proto.rawData;
  return raw && raw.length > 0 ? raw : undefined;
}

const bytesPerElement: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

function checkedView(proto: TensorProto, bytes: Uint8Array, count: number, context: TensorDecodeContext): DataView {
  const width = bytesPerElement[proto.dataType ?? 0] ?? 0;
  if (bytes.length !== count * width) {
    throw new DeprunError(
      'INVALID_MODEL',
      `tensor '${proto.name}' has ${bytes.length} bytes of data but its shape [${tensorDims(proto)}] of ${dataTypeName(proto.dataType)} needs ${count * width}`,
      { file: context.file, hint: 'the file is probably truncated or corrupt' },
    );
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** True for the element types we can read as floating-point weights. */
export function isFloatTensor(proto: TensorProto): boolean {
  const type = proto.dataType ?? 0;
  return type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16;
}

/**
 * Decodes a float tensor (float32, float64 or float16) into float32 values, from
 * `raw_data`, `float_data`/`double_data`/`int32_data` (float16 bits) or external data.
 * Any other element type is refused: weights we prune must be floating point.
 */
export function decodeFloatTensor(proto: TensorProto, context: TensorDecodeContext = {}): Tensor<Float32Array> {
  const dims = tensorDims(proto);
  const count = elementCount(dims);
  const type = proto.dataType ?? 0;
  if (!isFloatTensor(proto)) {
    throw new UnsupportedError(`tensor '${proto.name}' holds ${dataTypeName(type)} values where float weights are needed`, {
      file: context.file,
      hint: 'deprune prunes float32/float16/float64 models; dequantize the model first',
    });
  }
  const values = new Float32Array(count);
  const bytes = rawBytes(proto, context, count * bytesPerElement[type]);
  if (bytes) {
    const view = checkedView(proto, bytes, count, context);
    for (let i = 0; i < count; i++) {
      if (type === DataType.FLOAT) values[i] = view.getFloat32(i * 4, true);
      else if (type === DataType.DOUBLE) values[i] = view.getFloat64(i * 8, true);
      else values[i] = float16ToFloat32(view.getUint16(i * 2, true));
    }
  } else {
    const field =
      type === DataType.FLOAT ? proto.floatData : type === DataType.DOUBLE ? proto.doubleData : proto.int32Data;
    const source = field ?? [];
    if (source.length !== count) {
      throw new DeprunError(
        'INVALID_MODEL',
        `tensor '${proto.name}' has ${source.length} values but its shape [${dims}] needs ${count}`,
        { file: context.file, hint: 'the file is probably truncated or corrupt' },
      );
    }
    for (let i = 0; i < count; i++) {
      values[i] = type === DataType.FLOAT16 ? float16ToFloat32(source[i]) : source[i];
    }
  }
  return tensor(values, dims);
}

/**
 * Decodes an integer tensor (int64, int32, int8, uint8, bool) into plain numbers: shape
 * operands, axes, indices. Float tensors are accepted too (their values are returned).
 */
export function decodeNumericTensor(proto: TensorProto, context: TensorDecodeContext = {}): { dims: number[]; values: number[] } {
  const dims = tensorDims(proto);
  const count = elementCount(dims);
  const type = proto.dataType ?? 0;
  if (isFloatTensor(proto)) return { dims, values: Array.from(decodeFloatTensor(proto, context).data) };
  const stored = proto.dataLocation === DataLocation.EXTERNAL || (proto.rawData?.length ?? 0) > 0;
  // Checked before reading: an external file is read only for a type we can decode.
  if (stored && !(type in bytesPerElement)) {
    throw new UnsupportedError(`tensor '${proto.name}' has unsupported element type ${dataTypeName(type)}`, { file: context.file });
  }
  const bytes = rawBytes(proto, context, count * (bytesPerElement[type] ?? 0));
  const values: number[] = new Array(count);
  if (bytes) {
    const view = checkedView(proto, bytes, count, context);
    for (let i = 0; i < count; i++) {
      if (type === DataType.INT64) values[i] = Number(view.getBigInt64(i * 8, true));
      else if (type === DataType.INT32) values[i] = view.getInt32(i * 4, true);
      else if (type === DataType.INT8) values[i] = view.getInt8(i);
      else values[i] = view.getUint8(i);
    }
    return { dims, values };
  }
  const field = type === DataType.INT64 ? proto.int64Data : proto.int32Data;
  const source = field ?? [];
  if (source.length !== count) {
    throw new ShapeError(`tensor '${proto.name}' has ${source.length} values but its shape [${dims}] needs ${count}`, {
      file: context.file,
    });
  }
  for (let i = 0; i < count; i++) values[i] = toNumber(source[i]);
  return { dims, values };
}

/** A float32 TensorProto with little-endian `raw_data` (what exporters write and ORT reads fastest). */
export function encodeFloatTensor(name: string, values: ArrayLike<number>, dims: readonly number[]): TensorProto {
  const count = elementCount(dims);
  if (values.length !== count) {
    throw new ShapeError(`tensor '${name}': ${values.length} values do not fill shape [${dims}]`);
  }
  const bytes = new Uint8Array(count * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytes };
}

/** An int64 TensorProto (shape operands, axes) with little-endian `raw_data`. */
export function encodeInt64Tensor(name: string, values: readonly number[], dims: readonly number[] = [values.length]): TensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setBigInt64(i * 8, BigInt(value), true));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: bytes };
}
