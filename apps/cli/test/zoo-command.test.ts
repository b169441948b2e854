import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, listFiles, runCli, runJson, tempDir } from './helpers';

interface ZooListing {
  models: { name: string; title: string; publishedParams: number; reference: string }[];
}

interface ZooWritten {
  file: string;
  model: string;
  seed: number;
  foldedBatchNorm: boolean;
  trainableParams: number;
  nodes: number;
  bytes: number;
}

describe('deprune zoo', () => {
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
  });
  afterAll(() => cleanup(folder));

  it('--list names the four models, as a table or as JSON', () => {
    const { document } = runJson<ZooListing>(['zoo', '--list']);
    expect(document.models.map((model) => model.name)).toEqual(['mobilenetv2', 'mobilenetv3-small', 'mobilenetv3-large', 'efficientnet-b0']);
    expect(document.models[0].publishedParams).toBe(3_504_872);
    const human = runCli(['zoo', '--list']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/mobilenetv2\s+MobileNetV2 1\.0\s+3,504,872/);
  });

  it('writes a model that inspect reads, and the same seed gives the same bytes', () => {
    const { document, result } = runJson<ZooWritten>(['zoo', 'mobilenetv2', '-o', 'mnv2.onnx'], { cwd: folder });
    expect(result.stderr).toBe('');
    expect(document).toMatchObject({ file: 'mnv2.onnx', model: 'mobilenetv2', seed: 0, foldedBatchNorm: false, trainableParams: 3_504_872 });
    const file = join(folder, 'mnv2.onnx');
    expect(statSync(file).size).toBe(document.bytes);
    expect(listFiles(folder)).toEqual(['mnv2.onnx']); // no temporary file left behind

    const again = runCli(['zoo', 'zoo:mobilenetv2', '--output', 'again.onnx', '--seed', '0'], { cwd: folder });
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^wrote again\.onnx: MobileNetV2 1\.0, seed 0, BatchNorm kept, 3,504,872 trainable parameters/);
    expect(readFileSync(join(folder, 'again.onnx')).equals(readFileSync(file))).toBe(true);

    const inspected = runJson<{ totals: { dwLayers: number; blocks: number }; model: { file: string } }>(['inspect', file]);
    expect(inspected.document.model.file).toBe(file);
    expect(inspected.document.totals).toMatchObject({ dwLayers: 17, blocks: 17 });
  });

  it('--seed changes the weights, --fold-bn removes BatchNormalization', () => {
    runJson(['zoo', 'mobilenetv3-small', '-o', 'a.onnx', '--seed', '1'], { cwd: folder });
    runJson(['zoo', 'mobilenetv3-small', '-o', 'b.onnx', '--seed', '2'], { cwd: folder });
    expect(readFileSync(join(folder, 'a.onnx')).equals(readFileSync(join(folder, 'b.onnx')))).toBe(false);
    const { document } = runJson<ZooWritten>(['zoo', 'mobilenetv3-small', '-o', 'folded.onnx', '--fold-bn'], { cwd: folder });
    expect(document.foldedBatchNorm).toBe(true);
    const inspected = runJson<{ ops: Record<string, number> }>(['inspect', join(folder, 'folded.onnx')]);
    expect(inspected.document.ops.BatchNormalization).toBeUndefined();
  });

  it('refuses to overwrite an existing file unless --force', () => {
    const target = join(folder, 'keep.onnx');
    writeFileSync(target, 'precious');
    const refused = runCli(['zoo', 'mobilenetv2', '-o', target]);
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`deprune: ${target}: already exists`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(target, 'utf8')).toBe('precious');

    const forced = runCli(['zoo', 'mobilenetv2', '-o', target, '--force', '--json']);
    expect(forced.status).toBe(0);
    expect(JSON.parse(forced.stdout).file).toBe(target);
    expect(readFileSync(target, 'utf8')).not.toBe('precious');
  });

  it('bad names and missing flags are usage errors; nothing is written', () => {
    const sandbox = tempDir();
    try {
      const cases: [string[], RegExp][] = [
        [['zoo', 'resnet50', '-o', 'x.onnx'], /unknown zoo model 'resnet50' \(choose one of mobilenetv2, /],
        [['zoo', 'mobilenetv2'], /missing --output/],
        [['zoo'], /missing <name>/],
        [['zoo', 'mobilenetv2', '-o', 'x.onnx', '--seed', '-1'], /needs a value|--seed must be an integer/],
        [['zoo', 'mobilenetv2', '-o', 'x.onnx', '--seed=-1'], /--seed must be an integer >= 0, got '-1'/],
        [['zoo', 'mobilenetv2', '-o', join('no-such-folder', 'x.onnx')], /no-such-folder.*cannot write/],
        [['zoo', '--list', 'mobilenetv2'], /--list takes no model name/],
      ];
      for (const [args, pattern] of cases) {
        const result = runCli(args, { cwd: sandbox });
        expect(result.status, args.join(' ')).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(result.stderr).toMatch(pattern);
      }
      expect(listFiles(sandbox)).toEqual([]);
      expect(existsSync(join(sandbox, 'x.onnx'))).toBe(false);
    } finally {
      cleanup(sandbox);
    }
  });
});
