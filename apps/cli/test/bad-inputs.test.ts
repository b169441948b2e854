import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLocation, encodeModel, encodeTensor, GraphBuilder, type TensorProto } from '@deprune/onnx';
import { bundledModelPath, bundledModels } from '../src/models';
import { cleanup, listFiles, runCli, tempDir } from './helpers';

/**
 * Every bad input must end the same way: exit 2, exactly one line on stderr that starts
 * with `deprune: ` and names the file, no stack trace, and no file created (the temp
 * folder is listed before and after). stdout is empty, or with --json one error document.
 */
function expectRefused(args: string[], cwd: string, names: string, pattern?: RegExp): string {
  const before = listFiles(cwd);
  for (const json of [false, true]) {
    const result = runCli(json ? [...args, '--json'] : args, { cwd });
    expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    if (json) expect(JSON.parse(result.stdout)).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.stringContaining(names) }) });
    else expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^deprune: /);
    expect(lines[0]).toContain(names);
    expect(lines[0]).not.toMatch(/internal error|\bat .*:\d+:\d+/);
    if (pattern) expect(lines[0]).toMatch(pattern);
  }
  expect(listFiles(cwd)).toEqual(before);
  return runCli(args, { cwd }).stderr;
}

/** A one-Conv model whose weight lives in external data at `location` (no raw data inline). */
function externalDataModel(location: string): { model: Uint8Array; weightBytes: Uint8Array } {
  const builder = new GraphBuilder({ name: 'external' });
  const x = builder.input('x', [1, 2, 4, 4]);
  const weight = builder.weight('w', { data: new Float32Array(2 * 2 * 3 * 3).fill(0.5), shape: [2, 2, 3, 3] });
  builder.output(builder.node('Conv', [x, weight], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' }));
  const proto = builder.toProto();
  const initializer = proto.graph!.initializer![0] as TensorProto;
  const weightBytes = initializer.rawData as Uint8Array;
  proto.graph!.initializer![0] = {
    ...initializer,
    rawData: new Uint8Array(0),
    dataLocation: DataLocation.EXTERNAL,
    externalData: [{ key: 'location', value: location }],
  };
  return { model: encodeModel(proto), weightBytes };
}

describe('bad inputs: exit 2, one line naming the file, nothing written', () => {
  let root: string;
  let folder: string;
  beforeAll(() => {
    root = tempDir();
    folder = join(root, 'models');
    mkdirSync(folder);
  });
  afterAll(() => cleanup(root));

  it('a missing file', () => {
    expectRefused(['inspect', 'missing.onnx'], folder, 'missing.onnx', /no such file/);
    expectRefused(['inspect', join('sub', 'missing.onnx')], folder, join('sub', 'missing.onnx'), /no such file/);
  });

  it('a missing name that looks like a bundled model lists the bundled names', () => {
    const stderr = expectRefused(['inspect', 'ppocr-dett'], folder, 'ppocr-dett', /not a bundled model name/);
    for (const name of ['ppocr-det', 'ppocr-rec', 'ppocr-cls', 'zoo:mobilenetv2', 'zoo:efficientnet-b0']) expect(stderr).toContain(name);
    expectRefused(['inspect', 'zoo:resnet50'], folder, 'zoo:resnet50', /unknown zoo model/);
    expectRefused(['inspect', 'zoo:mobilenetv2:fused'], folder, 'zoo:mobilenetv2:fused', /unknown zoo model.*:folded/);
  });

  it('a folder instead of a file', () => {
    expectRefused(['inspect', '.'], folder, '.', /is a folder/);
  });

  it('a truncated copy of a real model (its first half)', () => {
    const bytes = readFileSync(bundledModelPath(bundledModels.find((model) => model.name === 'ppocr-cls')!));
    writeFileSync(join(folder, 'half.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    expectRefused(['inspect', 'half.onnx'], folder, 'half.onnx', /not a valid ONNX model|truncated/);
  });

  it('random bytes, and an empty file', () => {
    let state = 12345;
    const random = Uint8Array.from({ length: 4096 }, () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state >>> 24;
    });
    writeFileSync(join(folder, 'random.onnx'), random);
    expectRefused(['inspect', 'random.onnx'], folder, 'random.onnx', /ONNX/);
    writeFileSync(join(folder, 'empty.onnx'), new Uint8Array(0));
    expectRefused(['inspect', 'empty.onnx'], folder, 'empty.onnx', /empty/);
  });

  it('valid protobufs that are not ONNX models', () => {
    const tensor = encodeTensor(
      { name: 't', dims: [2, 2], dataType: 1, floatData: [1, 2, 3, 4] },
    );
    writeFileSync(join(folder, 'tensor.onnx'), tensor);
    expectRefused(['inspect', 'tensor.onnx'], folder, 'tensor.onnx', /ONNX/);
    // Field 1000 (varint 1) and field 1001 (bytes 'hi'): well-formed, but nothing ModelProto knows.
    writeFileSync(join(folder, 'unknown.onnx'), Uint8Array.from([0xc0, 0x3e, 0x01, 0xca, 0x3e, 0x02, 0x68, 0x69]));
    expectRefused(['inspect', 'unknown.onnx'], folder, 'unknown.onnx', /not an ONNX model: no ir_version/);
  });

  it("external data that escapes the model's folder: '..', an absolute path, a link", () => {
    const { model: escaping, weightBytes } = externalDataModel('../outside.bin');
    writeFileSync(join(root, 'outside.bin'), weightBytes); // would load fine if the path were followed
    writeFileSync(join(folder, 'parent.onnx'), escaping);
    expectRefused(['inspect', 'parent.onnx'], folder, 'parent.onnx', /external data '\.\.\/outside\.bin' resolves outside the model folder/);

    writeFileSync(join(folder, 'absolute.onnx'), externalDataModel(join(root, 'outside.bin')).model);
    expectRefused(['inspect', 'absolute.onnx'], folder, 'absolute.onnx', /is an absolute path/);

    symlinkSync(join(root, 'outside.bin'), join(folder, 'link.bin'));
    writeFileSync(join(folder, 'link.onnx'), externalDataModel('link.bin').model);
    expectRefused(['inspect', 'link.onnx'], folder, 'link.onnx', /is a link that points outside the model folder/);

    // The same model with its data inside the folder loads: the refusals above are about the path.
    copyFileSync(join(root, 'outside.bin'), join(folder, 'inside.bin'));
    writeFileSync(join(folder, 'inside.onnx'), externalDataModel('inside.bin').model);
    const ok = runCli(['inspect', 'inside.onnx', '--json'], { cwd: folder });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).totals.params).toBe(36);

    writeFileSync(join(folder, 'missing-data.onnx'), externalDataModel('nowhere.bin').model);
    expectRefused(['inspect', 'missing-data.onnx'], folder, 'missing-data.onnx', /external data file 'nowhere\.bin' is missing/);
  });

  it('a bad --input-shape', () => {
    expectRefused(['inspect', 'ppocr-det', '--input-shape', '1,3,abc,64'], folder, "'1,3,abc,64'", /bad --input-shape/);
    expectRefused(['inspect', 'ppocr-det', '--input-shape', '1,3,0,64'], folder, "'1,3,0,64'", /bad --input-shape/);
    expectRefused(['inspect', 'ppocr-det', '--input-shape', ''], folder, '--input-shape', /needs a value/);
    expectRefused(['inspect', 'ppocr-det', '--input-shape', '1,1,64,64'], folder, 'ch_PP-OCRv4_det_infer.onnx', /input 'x' fixes axis 1 to 3 \(declared \[\?,3,\?,\?\]\) but --input-shape gave \[1,1,64,64\] \(pass --input-shape 1,3,H,W\)/);
    expectRefused(['inspect', 'ppocr-det', '--input-shape', '1,3,64'], folder, 'ch_PP-OCRv4_det_infer.onnx', /has rank 4/);
    expectRefused(['inspect', 'ppocr-det', '--input-shape', 'y=1,3,64,64'], folder, "'y'", /inputs are 'x'/);
    expectRefused(['inspect', 'ppocr-det', '--input-shape', '1,3,64,64', '--input-shape', '1,3,32,32'], folder, '--input-shape', /twice/);
  });

  it('unknown flags and commands', () => {
    expectRefused(['inspect', 'ppocr-det', '--frobnicate'], folder, '--frobnicate', /deprune inspect --help/);
    expectRefused(['frobnicate', 'ppocr-det'], folder, 'frobnicate', /deprune --help/);
  });
});
