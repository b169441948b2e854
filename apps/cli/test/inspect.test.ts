import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constantDims, indexGraph, serializeModel, type OnnxModel } from '@deprune/onnx';
import { buildZooModel, trainableParameterCount, zooModels, type ZooModelName } from '@deprune/zoo';
import { bundledModelPath, bundledModels } from '../src/models';
import type { InspectReport } from '../src/commands/inspect';
import { cleanup, runCli, runJson, tempDir } from './helpers';
import { ortLayers } from './ort';

function inspect(args: string[], cwd?: string): InspectReport {
  const { result, document } = runJson<InspectReport>(['inspect', ...args], { cwd });
  expect(result.stderr).toBe('');
  return document;
}

/** Elements of the constant operands of `ops` at `positions`, each tensor once. */
function constantElements(model: OnnxModel, ops: readonly string[], positions: readonly number[]): number {
  const index = indexGraph(model);
  const seen = new Set<string>();
  let total = 0;
  for (const node of index.nodes) {
    if (!ops.includes(node.opType ?? '')) continue;
    for (const position of positions) {
      const name = node.input?.[position];
      if (!name || seen.has(name) || !index.constants.has(name)) continue;
      seen.add(name);
      total += constantDims(index, name)!.reduce((a, b) => a * b, 1);
    }
  }
  return total;
}

/** The layers, MACs and output shapes must be what onnxruntime produces, layer by layer. */
async function expectMatchesOrt(report: InspectReport, modelBytes: Uint8Array, inputShape: number[]): Promise<void> {
  const measured = await ortLayers(modelBytes, inputShape);
  expect(report.layers.map((layer) => layer.name).sort()).toEqual([...measured.keys()].sort());
  for (const layer of report.layers) {
    const truth = measured.get(layer.name)!;
    expect({ name: layer.name, outputShape: layer.outputShape, macs: layer.macs, params: layer.params }).toEqual({
      name: layer.name,
      outputShape: truth.outputShape,
      macs: truth.macs,
      params: truth.params,
    });
  }
  expect(report.totals.macs).toBe([...measured.values()].reduce((sum, layer) => sum + layer.macs, 0));
}

describe('inspect --json: the document', () => {
  it('has exactly the documented shape', () => {
    const report = inspect(['zoo:mobilenetv3-small']);
    expect(Object.keys(report)).toEqual(['model', 'ops', 'totals', 'layers', 'blocks', 'warnings']);
    expect(report.model).toMatchObject({ file: null, spec: 'zoo:mobilenetv3-small', irVersion: 7, opset: 13, producer: 'deprune-zoo' });
    expect(report.model.inputs).toEqual([{ name: 'input', shape: [1, 3, 224, 224], declaredShape: ['N', 3, 224, 224], shapeFrom: 'model' }]);
    expect(report.model.outputs).toEqual([{ name: 'logits', shape: [1, 1000] }]);
    expect(Object.keys(report.totals).sort()).toEqual(
      ['blocks', 'convLayers', 'dwLayers', 'dwParams', 'gemmLayers', 'layers', 'macs', 'nodes', 'params', 'pwLayers', 'pwParams'].sort(),
    );
    for (const layer of report.layers) {
      expect(Object.keys(layer)).toEqual(
        expect.arrayContaining(['name', 'kind', 'op', 'kernel', 'strides', 'inChannels', 'outChannels', 'group', 'params', 'macs', 'inputShape', 'outputShape']),
      );
    }
    for (const block of report.blocks) expect(Object.keys(block)).toEqual(['dw', 'pw', 'between', 'squeezeExcitation']);
    // op histogram: most frequent first, ties by name
    const counts = Object.entries(report.ops);
    for (let i = 1; i < counts.length; i++) {
      const [previous, current] = [counts[i - 1], counts[i]];
      expect(previous[1] > current[1] || (previous[1] === current[1] && previous[0] < current[0])).toBe(true);
    }
    expect(report.totals.dwLayers + report.totals.pwLayers + report.totals.convLayers + report.totals.gemmLayers).toBe(report.layers.length);
    expect(report.blocks.some((block) => block.squeezeExcitation)).toBe(true);
  });
});

/** Conv/Gemm MACs at 224x224 and the DSConv counts, verified against onnxruntime below. */
const ZOO_EXPECTED: Record<'mobilenetv2' | 'efficientnet-b0', { dw: number; blocks: number; macs: number; about: number }> = {
  mobilenetv2: { dw: 17, blocks: 17, macs: 300_774_272, about: 300e6 },
  'efficientnet-b0': { dw: 16, blocks: 16, macs: 385_814_752, about: 390e6 },
};

describe.each(Object.entries(ZOO_EXPECTED))('inspect zoo:%s', (name, expected) => {
  const published = zooModels.find((info) => info.name === name)!.publishedParams;
  const kept = buildZooModel(name as ZooModelName, { seed: 0 });
  const bnChannels = constantElements(kept, ['BatchNormalization'], [1]); // gamma: one per BN channel

  it('BatchNorm kept: params are the published count minus BN gamma and beta', async () => {
    const report = inspect([`zoo:${name}`]);
    expect(trainableParameterCount(kept)).toBe(published);
    expect(report.totals.params).toBe(published - 2 * bnChannels);
    expect(report.totals.params).toBe(constantElements(kept, ['Conv', 'Gemm'], [1, 2]));
    expect(report.totals).toMatchObject({ dwLayers: expected.dw, blocks: expected.blocks, macs: expected.macs, gemmLayers: 1 });
    expect(Math.abs(report.totals.macs! - expected.about) / expected.about).toBeLessThan(0.02);
    expect(report.totals.dwParams).toBe(report.layers.filter((layer) => layer.kind === 'dw').reduce((sum, layer) => sum + layer.params, 0));
    expect(report.warnings).toEqual([]);
    await expectMatchesOrt(report, serializeModel(kept), [1, 3, 224, 224]);
  });

  it('BatchNorm folded: each BN leaves a bias behind, so params are published minus gamma', () => {
    const report = inspect([`zoo:${name}:folded`]);
    expect(report.ops.BatchNormalization).toBeUndefined();
    expect(report.totals.params).toBe(published - bnChannels);
    expect(report.totals).toMatchObject({ dwLayers: expected.dw, blocks: expected.blocks, macs: expected.macs });
    expect(report.blocks.every((block) => !block.between.includes('BatchNormalization'))).toBe(true);
  });
});

/**
 * The bundled PaddleOCR models at their default shapes. The numbers were checked once by
 * hand against onnxruntime's shapes (the test re-checks every layer against it).
 */
const PPOCR_EXPECTED = {
  'ppocr-det': { shape: [1, 3, 640, 640], params: 1_168_936, macs: 2_233_122_944, layers: 62, dw: 14, pw: 42, conv: 6, blocks: 14, hint: '1,3,H,W' },
  'ppocr-rec': { shape: [1, 3, 48, 320], params: 1_651_780, macs: 660_685_440, layers: 38, dw: 14, pw: 21, conv: 3, blocks: 14, hint: '1,3,48,W' },
  'ppocr-cls': { shape: [1, 3, 48, 192], params: 124_682, macs: 16_314_976, layers: 53, dw: 11, pw: 41, conv: 1, blocks: 11, hint: '1,3,H,W' },
} as const;

describe.each(Object.entries(PPOCR_EXPECTED))('inspect %s', (name, expected) => {
  const file = bundledModelPath(bundledModels.find((model) => model.name === name)!);
  let folder: string;
  beforeAll(() => {
    folder = tempDir();
    copyFileSync(file, join(folder, 'model.onnx'));
  });
  afterAll(() => cleanup(folder));

  it('by name uses the default input shape, and the counts match onnxruntime', async () => {
    const report = inspect([name]);
    expect(report.model.file).toBe(file);
    expect(report.model.inputs).toEqual([expect.objectContaining({ name: 'x', shape: expected.shape, shapeFrom: 'default' })]);
    expect(report.totals).toMatchObject({
      params: expected.params,
      macs: expected.macs,
      layers: expected.layers,
      dwLayers: expected.dw,
      pwLayers: expected.pw,
      convLayers: expected.conv,
      gemmLayers: 0,
      blocks: expected.blocks,
    });
    const { parseModel } = await import('@deprune/onnx');
    expect(report.totals.params).toBe(constantElements(parseModel(readFileSync(file)), ['Conv', 'Gemm'], [1, 2]));
    await expectMatchesOrt(report, readFileSync(file), [...expected.shape]);
  });

  it('by path: dynamic H/W without --input-shape is a usage error that asks for it', () => {
    const result = runCli(['inspect', 'model.onnx', '--json'], { cwd: folder });
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'BAD_USAGE', file: 'model.onnx' });
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^deprune: model\.onnx: input 'x' has a dynamic shape \[.*\].*\(pass --input-shape /);
    expect(lines[0]).toContain(`--input-shape ${expected.hint}`);
  });

  it('by path with --input-shape gives the same report as the bundled name', () => {
    const byPath = inspect(['model.onnx', '--input-shape', expected.shape.join(',')], folder);
    const byName = inspect([name]);
    expect(byPath.totals).toEqual(byName.totals);
    expect(byPath.layers).toEqual(byName.layers);
    expect(byPath.model.inputs[0].shapeFrom).toBe('flag');
    const named = inspect(['model.onnx', '--input-shape', `x=${expected.shape.join(',')}`], folder);
    expect(named.totals).toEqual(byName.totals);
  });
});

describe('inspect: other shapes and the human report', () => {
  it('a smaller --input-shape lowers MACs and keeps params', async () => {
    const report = inspect(['ppocr-det', '--input-shape', '1,3,320,480']);
    expect(report.totals.params).toBe(PPOCR_EXPECTED['ppocr-det'].params);
    expect(report.totals.macs).toBeLessThan(PPOCR_EXPECTED['ppocr-det'].macs);
    const file = bundledModelPath(bundledModels.find((model) => model.name === 'ppocr-det')!);
    await expectMatchesOrt(report, readFileSync(file), [1, 3, 320, 480]);
  });

  it('reports constant-weight MatMuls it does not count', () => {
    const report = inspect(['ppocr-rec']);
    expect(report.warnings).toEqual([expect.stringMatching(/^9 MatMul node\(s\) with constant weights .* params and MACs leave them out$/)]);
  });

  it('human output: summary, op table, first and last layers, blocks; --layers lists every layer', () => {
    const short = runCli(['inspect', 'zoo:mobilenetv2']);
    expect(short.status).toBe(0);
    expect(short.stderr).toBe('');
    expect(short.stdout).toMatch(/^Model\s+zoo:mobilenetv2\n/);
    expect(short.stdout).toMatch(/parameters\s+3,470,760\n/);
    expect(short.stdout).toMatch(/MACs\s+300,774,272 \(300\.8M\)\n/);
    expect(short.stdout).toMatch(/layers\s+53: 17 dw, 34 pw, 1 conv, 1 gemm\n/);
    expect(short.stdout).toMatch(/BatchNormalization\s+52\n/);
    expect(short.stdout).toContain('... 35 more (--layers lists all)');
    expect(short.stdout).toContain('DSConv blocks (17)');
    expect(short.stdout).toMatch(/classifier\.1\s+gemm\s+-\s+-\s+1280->1000/);
    const full = runCli(['inspect', 'zoo:mobilenetv2', '--layers']);
    expect(full.stdout).not.toContain('more (--layers lists all)');
    const report = inspect(['zoo:mobilenetv2']);
    for (const layer of report.layers) expect(full.stdout).toContain(`  ${layer.name} `);
    expect(full.stdout.split('\n').length).toBeGreaterThan(short.stdout.split('\n').length + 30);
  });

  it('--json output is exactly one JSON document, whatever the flag order', () => {
    for (const args of [['inspect', '--json', 'ppocr-cls'], ['--json', 'inspect', 'ppocr-cls'], ['inspect', 'ppocr-cls', '--json', '--layers']]) {
      const result = runCli(args);
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
      expect(() => JSON.parse(result.stdout)).not.toThrow();
      expect(result.stdout.trim().startsWith('{')).toBe(true);
      expect(result.stdout.trim().endsWith('}')).toBe(true);
    }
  });
});
