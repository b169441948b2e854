import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, serializeModel } from '@deprune/onnx';
import { encodeNpy } from '../src/npy';
import { cleanup, listFiles, runCli, tempDir, type CliResult } from './helpers';

/**
 * Reproducers from the reliability review (issue 16): hostile or careless inputs must end in
 * exit 2 with one line on stderr naming the file, in well under a second, and change no file.
 */

/** Exit 2, nothing on stdout, a last stderr line that starts `deprune: ` and matches `pattern`, no stack trace. */
function expectRefused(result: CliResult, pattern: RegExp): string {
  expect(result.status, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  expect(last).toMatch(/^deprune: /);
  expect(last).not.toMatch(/internal error|\bat .*:\d+:\d+/);
  expect(last).toMatch(pattern);
  return last;
}

/** A DW conv then a PW conv; `dims` is the declared input shape, `dwName` the DW node's name. */
function tinyModel(options: { dims?: number[]; dwName?: string } = {}): Uint8Array {
  const builder = new GraphBuilder({ name: 'tiny' });
  const x = builder.input('x', options.dims ?? [1, 2, 8, 8]);
  const dw = builder.weight('dw.w', { data: new Float32Array(2 * 9).fill(0.5), shape: [2, 1, 3, 3] });
  const y = builder.node('Conv', [x, dw], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2 }, { name: options.dwName ?? 'dw' });
  const pw = builder.weight('pw.w', { data: new Float32Array(4 * 2).fill(0.25), shape: [4, 2, 1, 1] });
  builder.output(builder.node('Conv', [y, pw], { kernel_shape: [1, 1] }, { name: 'pw' }));
  return serializeModel(builder.build());
}

/** A real 1x1 PNG with the size in its IHDR rewritten: what a decompression bomb's header says. */
function pngClaiming(width: number, height: number): Uint8Array {
  const bytes = Uint8Array.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55,
    0, 0, 0, 10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1, 0x48, 0xaf, 0xa4, 0x71, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
  ]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

/** An .npy v2 file whose header is padded with `padding` spaces (numpy pads to 64 bytes). */
function npyWithHeaderPadding(padding: number): Uint8Array {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 8, 8), }${' '.repeat(padding)}\n`;
  const bytes = new Uint8Array(12 + header.length + 4 * 128);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  new DataView(bytes.buffer).setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[12 + i] = header.charCodeAt(i);
  return bytes;
}

let folder: string;
beforeAll(() => {
  folder = tempDir('deprune-reliability-');
  writeFileSync(join(folder, 'm.onnx'), tinyModel());
  writeFileSync(join(folder, 'x.npy'), encodeNpy(new Float32Array(128).fill(1), [1, 2, 8, 8]));
  // An eval data folder whose one image claims 2^62 pixels.
  mkdirSync(join(folder, 'lines'));
  writeFileSync(join(folder, 'lines', 'bomb.png'), pngClaiming(2147483647, 2147483647));
  writeFileSync(join(folder, 'lines', 'labels.txt'), 'bomb.png\t0\n');
  writeFileSync(join(folder, 'deep.json'), `{"variant": "deprune", "strategy": {"dwOptions": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}}`);
});
afterAll(() => cleanup(folder));

const run = (args: string[]) => runCli(args, { cwd: folder, timeout: 30_000 });

describe('1. no crash on huge headers: limits checked before decoding', () => {
  it('an .npy whose header is over 64 KiB (here 1 MiB of spaces) is refused before it is parsed', () => {
    writeFileSync(join(folder, 'big-header.npy'), npyWithHeaderPadding(1024 * 1024));
    expectRefused(run(['run', 'm.onnx', '--input', 'big-header.npy', '--mode', 'cpu', '--repeat', '1']), /^deprune: big-header\.npy: not a valid \.npy file: the header says it is \d+ bytes; headers over 65536 bytes are refused/);
  });

  it('run --image and eval refuse a 2147483647 x 2147483647 PNG and a 20000 x 20000 one, naming file, pixel count and limit', () => {
    writeFileSync(join(folder, 'bomb.png'), pngClaiming(2147483647, 2147483647));
    writeFileSync(join(folder, 'grey.png'), pngClaiming(20000, 20000));
    expectRefused(run(['run', 'ppocr-cls', '--image', 'bomb.png', '--mode', 'cpu']), /^deprune: bomb\.png: the PNG image is 2147483647x2147483647 = 4,611,686,014,132,420,609 pixels, over the limit of 33,554,432 pixels/);
    expectRefused(run(['run', 'ppocr-cls', '--image', 'grey.png', '--mode', 'cpu']), /^deprune: grey\.png: the PNG image is 20000x20000 = 400,000,000 pixels, over the limit of 33,554,432 pixels/);
    expectRefused(run(['eval', 'ppocr-cls', '--task', 'ppocr-cls', '--data', 'lines', '--engine', 'deprune']), /^deprune: lines\/bomb\.png: the PNG image is 2147483647x2147483647 = [\d,]+ pixels, over the limit of 33,554,432 pixels/);
  });
});

describe('3. glob patterns run in linear time', () => {
  const stars = `${'*'.repeat(40)}X`;

  it("a config 'ignore' pattern of 40 stars then X is matched at once", () => {
    writeFileSync(join(folder, 'stars.json'), JSON.stringify({ variant: 'deprune', ignore: [stars], layers: { [stars]: { ratio: 0.1 } } }));
    const started = Date.now();
    const result = run(['prune', 'm.onnx', '-o', 'stars.onnx', '--config', 'stars.json', '--json']);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).report.layers.map((layer: { name: string }) => layer.name)).toEqual(['dw', 'pw']);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('profile --layers (the bench matcher) with 40 stars then X finds no layer, at once', () => {
    expectRefused(run(['profile', 'zoo:mobilenetv3-small', '--mode', 'cpu', '-o', 'table.json', '--layers', stars]), /no DW or PW layer matches --layers/);
  });
});

describe('4. no output lands on an input, compared as files (links resolved)', () => {
  it('run link.onnx -o m.onnx --force, link.onnx a symbolic link to m.onnx, leaves the model alone', () => {
    symlinkSync(join(folder, 'm.onnx'), join(folder, 'link.onnx'));
    const model = readFileSync(join(folder, 'm.onnx'));
    expectRefused(run(['run', 'link.onnx', '-o', 'm.onnx', '--force']), /^deprune: m\.onnx: refusing to write the --output file over the input model 'link\.onnx' \(the same file\)/);
    expect(readFileSync(join(folder, 'm.onnx'))).toEqual(model);
  });

  it('run --input x.npy -o on a hard link to x.npy, and -o on --plan, are refused', () => {
    linkSync(join(folder, 'x.npy'), join(folder, 'hard.npy'));
    expectRefused(run(['run', 'm.onnx', '--input', 'x.npy', '-o', 'hard.npy', '--force']), /^deprune: hard\.npy: refusing to write the --output file over the --input file 'x\.npy'/);
    writeFileSync(join(folder, 'p.json'), '{}');
    expectRefused(run(['run', 'm.onnx', '--plan', 'p.json', '-o', 'p.json', '--force']), /^deprune: p\.json: refusing to write the --output file over the --plan file 'p\.json'/);
    expect(readFileSync(join(folder, 'p.json'), 'utf8')).toBe('{}');
  });

  it('prune -o (or its plan path) on --config, --hsr-table or --calib is refused even with --force', () => {
    writeFileSync(join(folder, 'cfg.json'), JSON.stringify({ variant: 'deprune' }));
    writeFileSync(join(folder, 't.deprune.json'), '{}');
    const before = listFiles(folder);
    expectRefused(run(['prune', 'm.onnx', '-o', 'cfg.json', '--config', 'cfg.json', '--force']), /^deprune: cfg\.json: refusing to write the pruned model over the --config file 'cfg\.json'/);
    expectRefused(run(['prune', 'm.onnx', '-o', 't.onnx', '--hsr-table', 't.deprune.json', '--force']), /^deprune: t\.deprune\.json: refusing to write the plan over the --hsr-table file 't\.deprune\.json'/);
    expectRefused(run(['prune', 'm.onnx', '-o', 'x.npy', '--calib', 'x.npy', '--force']), /^deprune: x\.npy: refusing to write the pruned model over the --calib input 'x\.npy'/);
    expect(listFiles(folder)).toEqual(before);
    expect(readFileSync(join(folder, 'cfg.json'), 'utf8')).toBe(JSON.stringify({ variant: 'deprune' }));
  });

  it('profile -o over the model through a link is refused', () => {
    symlinkSync(join(folder, 'm.onnx'), join(folder, 'alias.onnx'));
    expectRefused(run(['profile', 'm.onnx', '--mode', 'cpu', '-o', 'alias.onnx', '--force']), /^deprune: alias\.onnx: refusing to write the --output table over the input model 'm\.onnx'/);
  });
});

describe('5. bad input is exit 2 with one line naming it; messages are safe to print', () => {
  it('an input of 2^40 elements (from the model or --input-shape) is a shape error, not an internal one', () => {
    writeFileSync(join(folder, 'huge-input.onnx'), tinyModel({ dims: [1, 2, 2 ** 40, 4] }));
    expectRefused(run(['run', 'huge-input.onnx', '--mode', 'cpu']), /^deprune: huge-input\.onnx: input 'x' of shape \[1,2,1099511627776,4\] has 8,796,093,022,208 elements, over the limit of 2,147,483,648/);
    expectRefused(run(['run', 'm.onnx', '--input-shape', '1,2,1000000000,1000000000', '--mode', 'cpu']), /^deprune: --input-shape '1,2,1000000000,1000000000' has [\d,]+ elements, over the limit/);
    expectRefused(run(['run', 'm.onnx', '--input-shape', '1,3,1e9,1e9', '--mode', 'cpu']), /bad --input-shape '1,3,1e9,1e9'/);
  });

  it('a --config nested 5000 deep is a config error naming the file', () => {
    expectRefused(run(['prune', 'm.onnx', '-o', 'deep.onnx', '--config', 'deep.json']), /^deprune: deep\.json: config key 'strategy\.dwOptions(\.a)+' nests objects or arrays more than 32 deep/);
  });

  it('a folder as --input or --keys', () => {
    mkdirSync(join(folder, 'a-folder'));
    expectRefused(run(['run', 'm.onnx', '--input', 'a-folder', '--mode', 'cpu']), /^deprune: a-folder: is a folder, not a file \(give --input the input file itself\)/);
    mkdirSync(join(folder, 'rec'));
    writeFileSync(join(folder, 'rec', 'labels.txt'), 'line.png\tabc\n');
    writeFileSync(join(folder, 'rec', 'line.png'), pngClaiming(2, 2));
    expectRefused(run(['eval', 'ppocr-rec', '--task', 'ppocr-rec', '--data', 'rec', '--keys', 'a-folder']), /^deprune: a-folder: is a folder, not a file \(give --keys the key file itself\)/);
  });

  it('bench --out naming a file is refused when the flags are read, before any benchmark', () => {
    const started = Date.now();
    expectRefused(run(['bench', '--suite', 'prune', '--out', 'x.npy']), /^deprune: x\.npy: --out must be a folder, but this is a file/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('control characters from files and flags are escaped in errors and reports', () => {
    writeFileSync(join(folder, 'evil-key.json'), JSON.stringify({ variant: 'deprune', 'a\r\u001b[2J\u0000': 1 }));
    const line = expectRefused(run(['prune', 'm.onnx', '-o', 'e.onnx', '--config', 'evil-key.json']), /unknown config key 'a\\x0d\\x1b\[2J\\x00'/);
    expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    writeFileSync(join(folder, 'evil.onnx'), tinyModel({ dwName: 'dw\r\u001b[2Jevil\u0000' }));
    const report = run(['inspect', 'evil.onnx']);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain('dw\\x0d\\x1b[2Jevil\\x00');
    expect(report.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it('with --json a failing command prints one JSON error document on stdout, and the line on stderr', () => {
    const result = run(['prune', 'm.onnx', '-o', 'deep.onnx', '--config', 'deep.json', '--json']);
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: 'BAD_CONFIG', message: expect.stringMatching(/^deep\.json: config key 'strategy\.dwOptions/), file: 'deep.json', hint: expect.any(String) },
    });
    expect(result.stderr).toMatch(/^deprune: deep\.json: config key/);
    const usage = run(['prune', 'm.onnx', '--json']);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { code: 'BAD_USAGE', message: expect.stringMatching(/^missing --output/), hint: expect.any(String) } });
  });
});

describe('6. user-given names are looked up as own keys; a null plan is refused', () => {
  it('--allocation __proto__, constructor and toString are unknown allocations', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expectRefused(run(['prune', 'm.onnx', '-o', 'alloc.onnx', '--allocation', name]), new RegExp(`unknown --allocation '${name}' \\(choose one of uniform, saliency, saliency-macs\\)`));
    }
  });

  it('a plan file holding null is refused naming the plan, by run and eval', () => {
    writeFileSync(join(folder, 'null.deprune.json'), 'null');
    expectRefused(run(['run', 'm.onnx', '--plan', 'null.deprune.json', '--mode', 'cpu']), /^deprune: null\.deprune\.json: not a deprune plan: the file holds null, not a JSON object/);
    expectRefused(run(['eval', 'ppocr-cls', '--task', 'ppocr-cls', '--data', 'lines', '--plan', 'null.deprune.json']), /^deprune: null\.deprune\.json: not a deprune plan/);
  });
});

describe('memory: activations are bounded before anything is allocated', () => {
  it('run refuses a 300-byte model whose pads would need hundreds of MiB, and a bad --max-memory', () => {
    const builder = new GraphBuilder({ name: 'pads' });
    const x = builder.input('x', [1, 2, 4, 4]);
    const w = builder.weight('w', { data: new Float32Array(2 * 2 * 9).fill(0.1), shape: [2, 2, 3, 3] });
    builder.output(builder.node('Conv', [x, w], { pads: [1_000_000, 10, 1_000_000, 10] }, { name: 'huge' }));
    writeFileSync(join(folder, 'pads.onnx'), serializeModel(builder.build()));
    expectRefused(run(['run', 'pads.onnx']), /^deprune: pads\.onnx: at these input shapes \(.*\) the model's activations need 336 MiB, over the 256 MiB limit/);
    expectRefused(run(['run', 'pads.onnx', '--max-memory', '0']), /--max-memory must be a positive number of MiB, got '0'/);
  });
});
