/**
 * NumPy `.npy` files, the CLI's tensor format (inputs, outputs, labels, images).
 *
 * Format (numpy/lib/format.py): the magic `\x93NUMPY`, a major and a minor version byte,
 * the header length (uint16 LE in v1.0, uint32 LE in v2.0 and v3.0), then the header: a
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
 * padded with spaces and ended by '\n' so the data starts on a 64-byte boundary. v1/v2
 * headers are latin-1, v3 headers UTF-8. The data follows in C (row-major) order.
 *
 * Read: float32, float64 (as typed arrays, bit-exact) and int64, int32, uint8 (as numbers,
 * for labels and images). Write: float32 and float64. Fortran order and big-endian data
 * are refused with a message that says how to re-save the array.
 */
import { DeprunError, ModelFileError, UnsupportedError } from '@deprune/errors';

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /**
   * float32 -> Float32Array, float64 -> Float64Array, int32 -> Int32Array, uint8 ->
   * Uint8Array, int64 -> Float64Array of the exact integer values (|v| <= 2^53).
   */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/**
 * The longest header we parse. numpy itself refuses headers over 10,000 bytes when reading
 * (`max_header_size`), and every header it writes for a real array is well under 1 KiB; a
 * v2/v3 length field can claim 4 GiB, and parsing a header of hundreds of MiB (decoded to a
 * string, then matched by regular expressions) takes gigabytes and can abort Node.
 */
export const MAX_NPY_HEADER_BYTES = 64 * 1024;

/** descr (without its byte-order character) -> our dtype and item size. */
const TYPES: Readonly<Record<string, { dtype: NpyDtype; size: number }>> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i8: { dtype: 'int64', size: 8 },
  i4: { dtype: 'int32', size: 4 },
  u1: { dtype: 'uint8', size: 1 },
};

const RESAVE_HINT = 'save it with numpy.save(path, array) from a float32/float64 array';

function malformed(file: string, why: string): DeprunError {
  return new ModelFileError('INVALID_MODEL', `not a valid .npy file: ${why}`, { file, hint: RESAVE_HINT });
}

/** The fields of the header dict we need; a tiny parser for the literal numpy writes. */
interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, file: string): NpyHeader {
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) throw malformed(file, 'the header is not a Python dict');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(body)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(body)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(body)?.[1];
  if (descr === undefined) {
    if (/['"]descr['"]\s*:\s*\[/.test(body)) {
      throw new DeprunError('BAD_DTYPE', 'structured (record) arrays are not supported', { file, hint: RESAVE_HINT });
    }
    throw malformed(file, "the header has no 'descr'");
  }
  if (fortran === undefined) throw malformed(file, "the header has no 'fortran_order'");
  if (shapeText === undefined) throw malformed(file, "the header has no 'shape' tuple");
  const parts = shapeText.split(',').map((part) => part.trim());
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  const shape = parts.map((part) => (/^\d+L?$/.test(part) ? Number.parseInt(part, 10) : Number.NaN));
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) throw malformed(file, `bad shape (${shapeText})`);
  return { descr, fortranOrder: fortran === 'True', shape };
}

function decodeText(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8').decode(bytes);
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte); // latin-1
  return text;
}

function resolveDtype(descr: string, file: string): { dtype: NpyDtype; size: number } {
  const order = descr[0];
  const code = descr.slice(1);
  // Own keys only: a descr of '<constructor' must not find Object's.
  const type = Object.hasOwn(TYPES, code) ? TYPES[code] : undefined;
  const known = ['<', '>', '|', '='].includes(order);
  if (!known || !type) {
    throw new DeprunError('BAD_DTYPE', `unsupported dtype '${descr}'`, {
      file,
      hint: "deprune reads float32 ('<f4'), float64 ('<f8'), int64 ('<i8'), int32 ('<i4') and uint8 ('|u1'); convert with array.astype(numpy.float32)",
    });
  }
  if (order === '>' && type.size > 1) {
    throw new DeprunError('BAD_DTYPE', `big-endian data ('${descr}') is not supported`, {
      file,
      hint: "convert to little-endian with array.astype(array.dtype.newbyteorder('<')) and save again",
    });
  }
  return type;
}

/**
 * Parses an .npy file's bytes. `file` names it in errors. The result's data is a fresh
 * typed array (not a view of `bytes`).
 */
export function readNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((value, i) => bytes[i] !== value)) {
    throw malformed(file, bytes.length < 10 ? 'the file is too short' : 'it does not start with the NumPy magic string');
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new UnsupportedError(`unsupported .npy format version ${major}.${minor}`, { file, hint: 'versions 1.0, 2.0 and 3.0 are supported' });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  const preamble = 8 + lengthBytes;
  if (bytes.length < preamble) throw malformed(file, 'the file is too short');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_NPY_HEADER_BYTES) {
    throw malformed(file, `the header says it is ${headerLength} bytes; headers over ${MAX_NPY_HEADER_BYTES} bytes are refused`);
  }
  const dataStart = preamble + headerLength;
  if (dataStart > bytes.length) throw malformed(file, `the header says it is ${headerLength} bytes but the file ends first`);
  const header = parseHeader(decodeText(bytes.subarray(preamble, dataStart), major === 3), file);
  const type = resolveDtype(header.descr, file);
  if (header.fortranOrder) {
    throw new UnsupportedError('Fortran-order (column-major) arrays are not supported', {
      file,
      hint: 'save numpy.ascontiguousarray(array) instead',
    });
  }
  const count = header.shape.reduce((product, dim) => product * dim, 1);
  const needed = count * type.size;
  const available = bytes.length - dataStart;
  if (available < needed) {
    throw malformed(file, `truncated: shape (${header.shape.join(', ')}) of ${type.dtype} needs ${needed} bytes of data, the file has ${available}`);
  }
  if (available > needed) {
    throw malformed(file, `${available - needed} unexpected bytes after the data of shape (${header.shape.join(', ')})`);
  }
  return { dtype: type.dtype, shape: header.shape, data: decodeData(view, dataStart, count, type.dtype, file) };
}

function decodeData(view: DataView, start: number, count: number, dtype: NpyDtype, file: string): NpyArray['data'] {
  switch (dtype) {
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + 4 * i, true);
      return data;
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(start + 8 * i, true);
      return data;
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(start + 4 * i, true);
      return data;
    }
    case 'uint8': {
      return new Uint8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + count));
    }
    case 'int64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const value = view.getBigInt64(start + 8 * i, true);
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new DeprunError('BAD_DTYPE', `int64 value ${value} at index ${i} does not fit a JavaScript number exactly`, { file });
        }
        data[i] = Number(value);
      }
      return data;
    }
  }
}

/** numpy's repr of a shape tuple: (), (5,), (2, 3). */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * Encodes a float32 or float64 array as an .npy file, byte for byte what
 * `numpy.save` writes (version 1.0; 2.0 only if the header would not fit 65535 bytes).
 */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
    throw new DeprunError('BAD_SHAPE', `cannot write an .npy file with shape [${shape.join(', ')}]`);
  }
  const count = shape.reduce((product, dim) => product * dim, 1);
  if (count !== data.length) {
    throw new DeprunError('BAD_SHAPE', `shape [${shape.join(', ')}] holds ${count} values but ${data.length} were given`);
  }
  const isDouble = data instanceof Float64Array;
  const size = isDouble ? 8 : 4;
  const dict = `{'descr': '${isDouble ? '<f8' : '<f4'}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  // numpy >= 1.23 leaves room to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS = 21)...
  const growth = shape.length > 0 ? Math.max(0, 21 - String(shape[0]).length) : 0;
  const body = dict + ' '.repeat(growth);
  // ...then pads with spaces so magic + version + length + header (incl. '\n') is a
  // multiple of 64; like numpy, a header that is already aligned still gets 64 spaces.
  const wrap = (preambleLength: number) => `${body}${' '.repeat(ALIGN - ((preambleLength + body.length + 1) % ALIGN))}\n`;
  let major = 1;
  let preamble = 10;
  let header = wrap(preamble);
  if (header.length > 0xffff) {
    major = 2;
    preamble = 12;
    header = wrap(preamble);
  }
  const bytes = new Uint8Array(preamble + header.length + count * size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[6] = major;
  bytes[7] = 0;
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[preamble + i] = header.charCodeAt(i);
  const start = preamble + header.length;
  if (isDouble) for (let i = 0; i < count; i++) view.setFloat64(start + 8 * i, data[i], true);
  else for (let i = 0; i < count; i++) view.setFloat32(start + 4 * i, data[i], true);
  return bytes;
}
