import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CALIBRATION_SAMPLES, DEFAULT_RECONSTRUCTION_DAMPING, collectStatistics, runtimeEngine, type CalibrationSample } from '@deprune/calibrate';
import { disposeBackend } from '@deprune/gpu';
import { maskFromPlanEntry } from '@deprune/masks';
import { constantSource, encodeModel, GraphBuilder, indexGraph, listLayers, parseModel, readFloatConstant, type OnnxModel } from '@deprune/onnx';
import { ConfigError, prune } from '@deprune/pipeline';
import { createRng, randomTensor, tensor } from '@deprune/tensor';
import { ONE_SHOT_DEFAULTS, WEIGHTS_FALLBACK_WARNING, calibratedPrune, type OneShotProgress } from '../src/index';
import { ONE_SHOT_DEFAULTS as LIGHT_DEFAULTS } from '../src/defaults';

const H = 20;
const W = 28;

/**
 * A small DSConv network: stem conv, two DW 3x3 + BN + ReLU6 -> PW blocks, global pool, Gemm. H and
 * W fixed or dynamic ('H', 'W'); `customOp` puts an operator of a private domain after the input,
 * which shape inference cannot see through (the engine never runs that model).
 */
function smallNet(options: { dynamic?: boolean; customOp?: boolean } = {}): OnnxModel {
  const rng = createRng(5);
  const w = (shape: number[], scale = 0.4) => randomTensor(shape, rng, { dtype: 'float32', scale });
  const b = new GraphBuilder({ name: 'small-dsconv' });
  const input = b.input('x', options.dynamic || options.customOp ? [1, 3, 'H', 'W'] : [1, 3, H, W]);
  const x = options.customOp ? b.node('Passthrough', [input], {}, { name: 'custom', domain: 'com.example' }) : input;
  let value = b.node('Conv', [x, b.weight('stem.w', w([16, 3, 3, 3])), b.weight('stem.b', w([16]))], { pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'stem' });
  value = b.node('Relu', [value], {}, { name: 'stem.relu' });
  let channels = 16;
  for (const [block, out] of [[1, 24], [2, 32]] as const) {
    const dw = b.node('Conv', [value, b.weight(`dw${block}.w`, w([channels, 1, 3, 3]))], { group: channels, pads: [1, 1, 1, 1] }, { name: `dw${block}` });
    const variance = tensor(Float32Array.from(w([channels]).data, (v) => 1 + Math.abs(v)), [channels]);
    const bn = b.node('BatchNormalization', [dw, b.weight(`bn${block}.g`, w([channels])), b.weight(`bn${block}.b`, w([channels])), b.weight(`bn${block}.m`, w([channels])), b.weight(`bn${block}.v`, variance)], {}, { name: `bn${block}` });
    const act = b.node('Clip', [bn, b.weight(`lo${block}`, tensor(Float32Array.of(0), [])), b.weight(`hi${block}`, tensor(Float32Array.of(6), []))], {}, { name: `relu6_${block}` });
    value = b.node('Conv', [act, b.weight(`pw${block}.w`, w([out, channels, 1, 1])), b.weight(`pw${block}.b`, w([out]))], {}, { name: `pw${block}` });
    channels = out;
  }
  const pool = b.node('GlobalAveragePool', [value], {}, { name: 'pool' });
  const flat = b.node('Flatten', [pool], { axis: 1 }, { name: 'flat' });
  b.output(b.node('Gemm', [flat, b.weight('fc.w', w([10, channels])), b.weight('fc.b', w([10]))], { transB: 1 }, { name: 'fc' }));
  if (!options.customOp) return b.build();
  const proto = b.toProto();
  proto.opsetImport!.push({ domain: 'com.example', version: 1 });
  return parseModel(encodeModel(proto));
}

function samples(count: number, seed = 1): CalibrationSample[] {
  return Array.from({ length: count }, (_, index) => ({ tensor: randomTensor([1, 3, H, W], createRng(seed + index), { dtype: 'float32' }) as CalibrationSample['tensor'], source: `sample ${index}` }));
}

function storedWeights(model: OnnxModel, name: string): Float32Array {
  const index = indexGraph(model);
  const info = listLayers(model).find((layer) => layer.name === name)!;
  return readFloatConstant(index, constantSource(index, info.weight)!)!.data;
}

afterAll(async () => {
  await disposeBackend();
});

describe('calibratedPrune', () => {
  it('applies the one-shot defaults: greedy OBS importance, saliency-macs allocation, statistics, reconstruction', async () => {
    const events: OneShotProgress[] = [];
    const result = await calibratedPrune(smallNet(), samples(4), { variant: 'deprune-bh', ratio: 0.5 }, { onProgress: (event) => events.push(event) });
    expect(result.plan.config).toMatchObject({ importance: 'obs-greedy', allocation: { mode: 'saliency', budget: 'macs' }, inputShapes: null });
    expect(result.oneShot).toMatchObject({
      samples: 4,
      engine: 'deprune-runtime (wasm)',
      importance: 'obs-greedy',
      allocation: { mode: 'saliency', budget: 'macs', defaulted: true, fellBack: false },
      shapes: 'model',
      inputShapes: null,
      damping: ONE_SHOT_DEFAULTS.damping,
    });
    expect(result.oneShot.statisticsMs).toBeGreaterThan(0);
    expect(result.oneShot.reconstructionMs).toBeGreaterThan(0);
    expect(result.report.allocation?.budget).toBe('macs');
    expect(result.statistics?.size).toBeGreaterThan(0);
    // Stages in order, each closed by an event that says what it took.
    const stages = [...new Set(events.map((event) => event.stage))];
    expect(stages).toEqual(['statistics', 'prune', 'reconstruct']);
    const ends = events.filter((event) => event.end !== undefined);
    expect(ends.map((event) => event.stage)).toEqual(['statistics', 'prune', 'reconstruct']);
    expect(ends[1].end?.layers).toBe(result.plan.layers.length);
    expect(ends[2].end?.passes).toBe(result.reconstruction?.passes);
    expect(events.some((event) => event.stage === 'prune' && event.detail?.startsWith('score '))).toBe(true);
    // The report is plain data.
    expect(JSON.parse(JSON.stringify(result.oneShot))).toEqual(result.oneShot);
  });

  it('a model with dynamic H, W takes its layer shapes from the first sample: the MAC budget, no fallback', async () => {
    const model = smallNet({ dynamic: true });
    const config = { variant: 'deprune-bh', ratio: 0.5 } as const;
    // prune() alone has no shapes for the MAC budget: this is what used to fall back to weights.
    expect(() => prune(model, { ...config, allocation: { mode: 'saliency', budget: 'macs' } })).toThrow(ConfigError);
    const result = await calibratedPrune(model, samples(3), config, { reconstruct: false });
    expect(result.oneShot).toMatchObject({ shapes: 'samples', inputShapes: { x: [1, 3, H, W] }, allocation: { budget: 'macs', fellBack: false } });
    expect(result.plan.config.inputShapes).toEqual({ x: [1, 3, H, W] });
    expect(result.report.allocation).toMatchObject({ mode: 'saliency', budget: 'macs' });
    expect(result.report.totals.macsBefore).toBeGreaterThan(0);
    expect(result.report.warnings).not.toContain(WEIGHTS_FALLBACK_WARNING);
    // Shapes the config gives win over the samples'.
    const given = await calibratedPrune(model, samples(3), { ...config, inputShapes: { x: [1, 3, 40, 56] } }, { reconstruct: false, statistics: result.statistics! });
    expect(given.oneShot).toMatchObject({ shapes: 'config', inputShapes: { x: [1, 3, 40, 56] } });
  });

  it('falls back to the weight budget, with a warning, when even the samples do not settle the layer shapes', async () => {
    const twin = smallNet({ dynamic: true });
    const engine = runtimeEngine();
    const { statistics } = await collectStatistics(twin, samples(3), { engine });
    await engine.dispose();
    // The same network behind an operator shape inference cannot see through.
    const opaque = smallNet({ customOp: true });
    const result = await calibratedPrune(opaque, samples(3), { variant: 'deprune', ratio: 0.5 }, { statistics, reconstruct: false });
    expect(result.oneShot.allocation).toEqual({ mode: 'saliency', budget: 'weights', defaulted: true, fellBack: true });
    expect(result.report.warnings[0]).toBe(WEIGHTS_FALLBACK_WARNING);
    expect(result.oneShot.statisticsMs).toBeNull();
    // Asked for by name, the MAC budget without shapes stays the caller's error.
    await expect(calibratedPrune(opaque, samples(3), { variant: 'deprune', ratio: 0.5, allocation: { mode: 'saliency', budget: 'macs' } }, { statistics, reconstruct: false })).rejects.toThrow(
      /allocation\.budget 'macs' needs the output shape of layer/,
    );
  });

  it("reconstruction re-fits the kept weights and keeps the plan's zero pattern", async () => {
    const dense = smallNet();
    const result = await calibratedPrune(dense, samples(6), { variant: 'deprune-b', ratio: 0.6 });
    expect(result.plan.layers).toEqual(result.pruned.plan.layers);
    expect(result.reconstruction!.meanErrorAfter).toBeLessThan(result.reconstruction!.meanErrorBefore);
    expect(result.oneShot.meanErrorAfter).toBe(result.reconstruction!.meanErrorAfter);
    let changed = 0;
    for (const entry of result.plan.layers) {
      const mask = maskFromPlanEntry(entry);
      const rebuilt = storedWeights(result.model, entry.name);
      const masked = storedWeights(result.pruned.model, entry.name);
      for (let index = 0; index < mask.length; index++) {
        if (mask[index] === 0) expect(rebuilt[index], `${entry.name}[${index}]`).toBe(0);
        else if (rebuilt[index] !== masked[index]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('with magnitude importance, a uniform allocation and no reconstruction, runs no forward pass', async () => {
    const events: OneShotProgress[] = [];
    const result = await calibratedPrune(smallNet(), samples(2), { variant: 'deprune', ratio: 0.5, importance: 'magnitude', allocation: { mode: 'uniform' } }, { reconstruct: false, onProgress: (event) => events.push(event) });
    expect(result.oneShot).toMatchObject({ importance: 'magnitude', allocation: { mode: 'uniform', defaulted: false }, statisticsMs: null, reconstructionMs: null, meanErrorBefore: null });
    expect(result.statistics).toBeNull();
    expect(result.reconstruction).toBeNull();
    expect(result.model).toBe(result.pruned.model);
    expect(events.every((event) => event.stage === 'prune')).toBe(true);
    expect(result.plan.layers).toEqual(prune(smallNet(), { variant: 'deprune', ratio: 0.5 }).plan.layers);
  });

  it('refuses a bad config by key and bad samples by source, before any forward pass', async () => {
    await expect(calibratedPrune(smallNet(), samples(1), { variant: 'deprune', ratio: 1.5 })).rejects.toThrow("config key 'ratio' must be in [0, 1), got 1.5");
    await expect(calibratedPrune(smallNet(), samples(1), { variant: 'deprune-hb' } as never)).rejects.toThrow(ConfigError);
    const wrong: CalibrationSample[] = [{ tensor: randomTensor([1, 4, H, W], createRng(1), { dtype: 'float32' }) as CalibrationSample['tensor'], source: 'four-channels.npy' }];
    await expect(calibratedPrune(smallNet(), wrong, { variant: 'deprune' })).rejects.toThrow(/four-channels\.npy: calibration input has 4 channels, the model expects 3/);
    await expect(calibratedPrune(smallNet(), [], { variant: 'deprune' })).rejects.toThrow('no calibration samples');
  });

  it('owns the one-shot defaults, in step with calibrate (samples, damping) and the light entry', () => {
    expect(ONE_SHOT_DEFAULTS).toEqual({ importance: 'obs-greedy', allocation: 'saliency-macs', reconstruct: true, calibSamples: DEFAULT_CALIBRATION_SAMPLES, damping: DEFAULT_RECONSTRUCTION_DAMPING });
    expect(LIGHT_DEFAULTS).toBe(ONE_SHOT_DEFAULTS);
  });
});
