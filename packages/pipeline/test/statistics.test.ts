import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '@deprune/errors';
import type { LayerStatistics } from '@deprune/masks';
import type { OnnxModel } from '@deprune/onnx';
import { buildZooModel } from '@deprune/zoo';
import { prune } from '../src/index';

let mobilenet: OnnxModel;
beforeAll(() => {
  mobilenet = buildZooModel('mobilenetv3-small', { seed: 1, inputSize: 96 });
});

describe('calibration statistics reach the importance scorer', () => {
  it('activation importance follows the input norms it is given', () => {
    const magnitude = prune(mobilenet, { variant: 'deprune-b', ratio: 0.5 });
    const statistics = new Map<string, LayerStatistics>();
    // Every PW input column's norm grows with its index and every DW tap's norm with its tap:
    // activation importance must then keep the high columns / taps that magnitude does not.
    for (const entry of magnitude.plan.layers) {
      const shape = entry.shape;
      const length = entry.kind === 'dw' ? shape.channels! * shape.kernel![0] * shape.kernel![1] : shape.inChannels!;
      const period = entry.kind === 'dw' ? shape.kernel![0] * shape.kernel![1] : length;
      statistics.set(entry.name, { inputNormSquared: Float64Array.from({ length }, (_, index) => 1e6 ** ((index % period) / period)) });
    }
    const activation = prune(mobilenet, { variant: 'deprune-b', ratio: 0.5, importance: 'activation' }, { statistics });
    const pw = activation.plan.layers.find((entry) => entry.kind === 'pw' && entry.shape.inChannels! >= 16)!;
    const inChannels = pw.shape.inChannels!;
    const kept = pw.keptIndices[0];
    expect(kept.every((column) => column >= inChannels / 2 - 2)).toBe(true);
    expect(magnitude.plan.layers.find((entry) => entry.name === pw.name)!.keptIndices[0]).not.toEqual(kept);
    expect(activation.report.totals.dsconvSparsity).toBeCloseTo(magnitude.report.totals.dsconvSparsity, 6);
  });

  it('a calibrated scorer without statistics says which layer needs them', () => {
    expect(() => prune(mobilenet, { variant: 'deprune', ratio: 0.5, importance: 'obs' })).toThrow(UsageError);
    expect(() => prune(mobilenet, { variant: 'channel', ratio: 0.5, importance: 'activation' })).toThrow(/needs calibration statistics .* for layer '/);
  });
});
