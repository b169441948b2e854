import { UsageError } from '@deprune/errors';
import { describe, expect, it } from 'vitest';
import { analyticStaircase, inferStep, tableLatencyModel, unitsOf, type LayerShape } from '../src/index';

const dwShape: LayerShape = { name: 'dw1', kind: 'dw', channels: 10, kernel: [3, 3], granularity: 'channel', groupSize: 1, outputPixels: 100 };
const pwShape: LayerShape = { name: 'pw1', kind: 'pw', outChannels: 64, inChannels: 32, granularity: 'tile', tileRows: 32, outputPixels: 49 };

describe('analyticStaircase', () => {
  it('is ceil(n / t) chunks of the layer\'s useful MACs', () => {
    const model = analyticStaircase();
    // DW channel: 10 units, 1 row per tap, 100 pixels: one chunk of 4 taps = 4 * 10 * 100 MACs.
    expect(model.latency(dwShape, 5)).toBeCloseTo(2 * 4000 / 1e6, 15);
    expect(model.latency(dwShape, 8)).toBe(model.latency(dwShape, 5));
    expect(model.latency(dwShape, 9)).toBeGreaterThan(model.latency(dwShape, 8));
    expect(model.latency(dwShape, 0)).toBe(0);
    // PW: 2 tiles of 32 rows, 49 pixels.
    expect(model.latency(pwShape, 3)).toBeCloseTo((4 * 32 * 2 * 49) / 1e6, 15);
    expect(model.step!(pwShape)).toBe(4);
    expect(model.source!(pwShape).measured).toBe(false);
  });

  it('takes a step and cost per chunk, fixed or per layer', () => {
    expect(analyticStaircase({ step: 8, costPerChunk: 2 }).latency(dwShape, 9)).toBe(4);
    const perLayer = analyticStaircase({ step: (layer) => (layer.kind === 'pw' ? 16 : 2), costPerChunk: (layer) => (layer.kind === 'pw' ? 10 : 1) });
    expect(perLayer.latency(pwShape, 17)).toBe(20);
    expect(perLayer.latency(dwShape, 3)).toBe(2);
    expect(() => analyticStaircase({ step: 0 }).latency(dwShape, 1)).toThrow(UsageError);
    expect(() => analyticStaircase({ costPerChunk: -1 }).latency(dwShape, 1)).toThrow(UsageError);
    expect(() => analyticStaircase().latency(dwShape, 1.5)).toThrow(UsageError);
    expect(() => analyticStaircase({ macsPerMicrosecond: 0 })).toThrow(UsageError);
  });

  it('knows the balanced unit of a shape', () => {
    expect(unitsOf(dwShape)).toEqual({ unit: 'channel', units: 10, full: 9, rowsPerElement: 1 });
    expect(unitsOf({ ...dwShape, granularity: 'group', groupSize: 4 })).toEqual({ unit: 'group', units: 3, full: 36, rowsPerElement: 1 });
    expect(unitsOf(pwShape)).toEqual({ unit: 'tile', units: 2, full: 32, rowsPerElement: 32 });
    expect(() => unitsOf({ ...dwShape, channels: undefined })).toThrow(/channels/);
  });
});

describe('tableLatencyModel', () => {
  const table = {
    backend: 'gpu.js',
    mode: 'sparse-tiled',
    layers: { pw1: { kept: [32, 0, 8, 16, 24], latencyUs: [4, 1, 2, 3, 3.5], step: 8 }, noisy: { kept: [0, 4, 8], latencyUs: [1, 3, 2.5] } },
  };

  it('uses the measured value at the smallest measured count >= n', () => {
    const model = tableLatencyModel(table);
    expect(model.name).toBe('table:gpu.js/sparse-tiled');
    expect(model.latency(pwShape, 0)).toBe(1);
    expect(model.latency(pwShape, 8)).toBe(2);
    expect(model.latency(pwShape, 9)).toBe(3);
    expect(model.latency(pwShape, 32)).toBe(4);
    expect(model.latency(pwShape, 40)).toBe(4);
    expect(model.step!(pwShape)).toBe(8);
    expect(model.source!(pwShape)).toEqual({ measured: true, description: 'latency table gpu.js/sparse-tiled' });
  });

  it('is monotone by default (running maximum), raw on request', () => {
    const noisy = { ...pwShape, name: 'noisy' };
    expect(tableLatencyModel(table).latency(noisy, 5)).toBe(3);
    expect(tableLatencyModel(table, { monotone: false }).latency(noisy, 5)).toBe(2.5);
    expect(tableLatencyModel(table).step!(noisy)).toBeUndefined();
  });

  it('falls back to the analytic model for missing layers and says so', () => {
    const model = tableLatencyModel(table);
    expect(model.latency(dwShape, 5)).toBe(analyticStaircase().latency(dwShape, 5));
    expect(model.source!(dwShape).measured).toBe(false);
    expect(model.source!(dwShape).description).toMatch(/layer 'dw1' is not in latency table gpu.js\/sparse-tiled/);
    const custom = tableLatencyModel(table, { fallback: analyticStaircase({ step: 2, costPerChunk: 1 }) });
    expect(custom.latency(dwShape, 5)).toBe(3);
    expect(custom.step!(dwShape)).toBe(2);
  });

  it('refuses malformed tables, naming the layer', () => {
    const bad = (layers: unknown) => () => tableLatencyModel({ backend: 'b', mode: 'm', layers } as never);
    expect(bad({ a: { kept: [0, 1], latencyUs: [1] } })).toThrow(/same non-zero length/);
    expect(bad({ a: { kept: [0, 0], latencyUs: [1, 2] } })).toThrow(/twice/);
    expect(bad({ a: { kept: [-1], latencyUs: [1] } })).toThrow(/kept\[0\]/);
    expect(bad({ a: { kept: [1], latencyUs: [Number.NaN] } })).toThrow(/latencyUs\[0\]/);
    expect(bad({ a: { kept: [1], latencyUs: [1], step: 0 } })).toThrow(/step/);
    expect(bad({ layer_9: { kept: [], latencyUs: [] } })).toThrow(/layer_9/);
    expect(bad([])).toThrow(/layers/);
    expect(() => tableLatencyModel(null as never)).toThrow(UsageError);
  });
});

describe('inferStep', () => {
  it('is the most common interior stair width', () => {
    const model = analyticStaircase({ step: 4, costPerChunk: 1 });
    const curve = Array.from({ length: 10 }, (_, n) => model.latency(dwShape, n));
    expect(inferStep(curve)).toBe(4);
    expect(inferStep([0, 1, 1, 1])).toBe(3);
    expect(inferStep([5])).toBe(1);
  });
});
