import { beforeAll, describe, expect, it } from 'vitest';
import { DeprunError, ShapeError } from '@deprune/errors';
import { serializeModel, type OnnxModel } from '@deprune/onnx';
import { planFromMask, prunedCount, registerStrategy, unregisterStrategy, validateRatio, type MaskStrategy } from '@deprune/masks';
import { topKIndices } from '@deprune/tensor';
import { buildZooModel } from '@deprune/zoo';
import { fnv1a32, prune, serializePlan, validatePlanForModel, type PruneProgress, type PrunePlan } from '../src/index';
import { checkMaskedWeights, checkStepEdges, convWeights, keptOf } from './helpers';

let mobilenet: OnnxModel;
beforeAll(() => {
  mobilenet = buildZooModel('mobilenetv2');
});

const entryOf = (plan: PrunePlan, name: string) => plan.layers.find((entry) => entry.name === name);

describe('per-layer overrides and ignore', () => {
  it('applies the first matching override, skip, ignore patterns; warns about patterns that match nothing', () => {
    const result = prune(mobilenet, {
      variant: 'deprune',
      ratio: 0.5,
      layers: {
        'features.1.*': { ratio: 0 },
        'features.2.conv.1.0': { ratio: 0.25 },
        'features.2.*': { ratio: 0.75 },
        'features.3.conv.1.0': { skip: true },
        'no.such.layer': { ratio: 0.1 },
      },
      ignore: ['features.18.*', 'features.17.conv.?', 'nothing*'],
    });
    const { plan, report } = result;
    // ratio 0: in the plan as a dense entry, weights untouched.
    for (const name of ['features.1.conv.0.0', 'features.1.conv.1']) {
      expect(entryOf(plan, name)).toMatchObject({ strategy: 'dense', granularity: 'none', sparsity: 0 });
    }
    // First match wins: features.2.conv.1.0 gets 0.25 although 'features.2.*' also matches.
    const dw2 = entryOf(plan, 'features.2.conv.1.0')!;
    const dwWeights = 96 * 9;
    expect(dw2.sparsity).toBe(prunedCount(0.25, dwWeights) / dwWeights);
    expect(entryOf(plan, 'features.2.conv.0.0')!.sparsity).toBeCloseTo(0.75, 2);
    expect(entryOf(plan, 'features.4.conv.1.0')!.sparsity).toBe(0.5);
    // skip and ignore: out of the plan, listed with the reason.
    const skipped = new Map(report.skipped.map((layer) => [layer.name, layer.reason]));
    expect(skipped.get('features.3.conv.1.0')).toBe("skip: true in layers['features.3.conv.1.0']");
    expect(skipped.get('features.18.0')).toBe("ignored (ignore pattern 'features.18.*')");
    expect(skipped.get('features.17.conv.2')).toBe("ignored (ignore pattern 'features.17.conv.?')");
    expect(skipped.has('features.17.conv.0.0')).toBe(false);
    for (const name of skipped.keys()) expect(entryOf(plan, name)).toBeUndefined();
    expect(report.warnings).toEqual([
      "ignore pattern 'nothing*' matches no prunable layer",
      "layers['no.such.layer'] matches no prunable layer (or an earlier key matched first)",
    ]);
    // Skipped and dense layers keep their weights bit for bit; the rest is masked as the plan says.
    checkMaskedWeights(mobilenet, result);
    const before = convWeights(mobilenet);
    const after = convWeights(result.model);
    for (const name of ['features.3.conv.1.0', 'features.18.0', 'features.1.conv.0.0']) {
      expect(Buffer.from(after.get(name)!.buffer).equals(Buffer.from(before.get(name)!.buffer)), name).toBe(true);
    }
  });

  it("pwScope 'blocks' prunes only the PW of DSConv blocks", () => {
    const { report, plan } = prune(mobilenet, { variant: 'unstructured', pwScope: 'blocks' });
    expect(report.totals.pwLayers).toBe(17);
    expect(plan.layers.filter((entry) => entry.kind === 'pw').every((entry) => /conv\.(1|2)$/.test(entry.name))).toBe(true);
    expect(report.skipped.filter((layer) => layer.reason.startsWith("pwScope 'blocks'"))).toHaveLength(17);
  });

  it('dwRatio and pwRatio apply per kind', () => {
    const { report } = prune(mobilenet, { variant: 'unstructured', dwRatio: 0.2, pwRatio: 0.7 });
    expect(report.totals.dwSparsity).toBeCloseTo(0.2, 3);
    expect(report.totals.pwSparsity).toBeCloseTo(0.7, 3);
  });

  it('channel: an ignored block PW keeps its block whole, with the reason; ratio 0 gives dense entries', () => {
    const { report, plan } = prune(mobilenet, {
      variant: 'channel',
      ignore: ['features.5.conv.2'],
      layers: { 'features.6.conv.1.0': { ratio: 0 } },
    });
    const skipped = new Map(report.skipped.map((layer) => [layer.name, layer.reason]));
    expect(skipped.get('features.5.conv.1.0')).toMatch(/its block's PW 'features.5.conv.2' is not pruned/);
    expect(skipped.get('features.5.conv.0.0')).toMatch(/variant 'channel' prunes a PW layer only/);
    expect(entryOf(plan, 'features.6.conv.1.0')).toMatchObject({ strategy: 'dense', sparsity: 0 });
    expect(entryOf(plan, 'features.6.conv.2')).toMatchObject({ strategy: 'dense', sparsity: 0 });
    expect(plan.physical!.removals.map((removal) => removal.dw)).not.toContain('features.6.conv.1.0');
    const dw = entryOf(plan, 'features.7.conv.1.0')!;
    expect(dw).toMatchObject({ strategy: 'channel', granularity: 'structured' });
    expect(dw.removedChannels).toHaveLength(prunedCount(0.5, 192));
    expect(entryOf(plan, 'features.7.conv.2')!.removedChannels).toEqual(dw.removedChannels);
    expect(plan.physical!.shapes['features.7.conv.1.0']).toEqual({ channels: 96, kernel: [3, 3] });
    expect(plan.physical!.shapes['features.7.conv.2']).toEqual({ outChannels: 64, inChannels: 96 });
  });

  it("nm ignores ratios (the pattern fixes them) and says so; sections a variant doesn't use are flagged", () => {
    const { report, plan } = prune(mobilenet, { variant: 'nm', ratio: 0.3, nm: { n: 2, m: 4 }, hsr: { step: 8 } });
    expect(plan.config.ratio).toBe(0.5);
    expect(report.warnings).toEqual(["ratio 0.3 is ignored: variant 'nm' 2:4 removes 0.5 of each layer", "config.hsr is ignored by variant 'nm'"]);
    expect(plan.layers.every((entry) => entry.strategy === 'nm' && entry.granularity === 'nm')).toBe(true);
  });
});

describe('contributor path', () => {
  it('a strategy registered from outside runs through prune() by name', () => {
    const rowBalanced: MaskStrategy = {
      name: 'my-strategy',
      description: 'each DW channel / PW row prunes its own lowest-scoring weights',
      appliesTo: ['dw', 'pw'],
      mask(layer, ratio, scores) {
        validateRatio(ratio, layer.name);
        const rowLength = layer.kind === 'dw' ? layer.kernel[0] * layer.kernel[1] : layer.inChannels;
        const mask = new Uint8Array(layer.weights.length);
        for (let start = 0; start < mask.length; start += rowLength) {
          for (const offset of topKIndices(scores.subarray(start, start + rowLength), rowLength - prunedCount(ratio, rowLength))) mask[start + offset] = 1;
        }
        return planFromMask(layer, mask, { strategy: 'my-strategy', granularity: 'channel', groupSize: layer.kind === 'dw' ? 1 : null, tileRows: 1 });
      },
    };
    registerStrategy(rowBalanced);
    try {
      const result = prune(mobilenet, { variant: 'deprune', ratio: 0.5, strategy: { dw: 'my-strategy' } });
      const dwEntries = result.plan.layers.filter((entry) => entry.kind === 'dw');
      expect(dwEntries).toHaveLength(17);
      for (const entry of dwEntries) {
        expect(entry.strategy).toBe('my-strategy');
        expect(new Set(entry.kept)).toEqual(new Set([9 - prunedCount(0.5, 9)]));
      }
      expect(result.plan.layers.filter((entry) => entry.kind === 'pw').every((entry) => entry.strategy === 'pcp')).toBe(true);
      expect(result.plan.config.strategy.dw).toBe('my-strategy');
      checkMaskedWeights(mobilenet, result);
    } finally {
      unregisterStrategy('my-strategy');
    }
  });
});

describe('plan file', () => {
  it('is deterministic, JSON, hashed, and names the models it goes with', () => {
    const first = prune(mobilenet, { variant: 'deprune-b', ratio: 0.4 });
    const second = prune(mobilenet, { variant: 'deprune-b', ratio: 0.4 });
    expect(JSON.stringify(first.plan)).toBe(JSON.stringify(second.plan));
    expect(JSON.stringify(first.report)).toBe(JSON.stringify(second.report));
    expect(Buffer.from(serializeModel(first.model)).equals(Buffer.from(serializeModel(second.model)))).toBe(true);
    const { plan } = first;
    expect(Object.keys(plan)).toEqual(['format', 'version', 'variant', 'model', 'output', 'config', 'layers', 'physical']);
    expect(plan).toMatchObject({ format: 'deprune-plan', version: 1, variant: 'deprune-b', physical: null });
    expect(plan.model.hash).toBe(fnv1a32(serializeModel(mobilenet)));
    expect(plan.output.hash).toBe(fnv1a32(serializeModel(first.model)));
    expect(plan.model.hash).toMatch(/^fnv1a32:[0-9a-f]{8}$/);
    expect(Object.keys(plan.layers[0])).toEqual(['name', 'kind', 'strategy', 'granularity', 'groupSize', 'tileRows', 'step', 'shape', 'kept', 'keptIndices', 'sparsity']);
    expect(plan.layers.map((entry) => entry.name).slice(0, 3)).toEqual(['features.1.conv.0.0', 'features.1.conv.1', 'features.2.conv.0.0']);
    expect(fnv1a32(new TextEncoder().encode('a'))).toBe('fnv1a32:e40c292c');
    // The file text: parses back to the plan, number arrays on one line.
    const text = serializePlan(plan);
    expect(JSON.parse(text)).toEqual(plan);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('"kernel": [3, 3]');
    expect(text.length).toBeLessThan(JSON.stringify(plan, null, 2).length / 2);
  });

  it('validatePlanForModel refuses plans that do not fit, naming the first mismatch', () => {
    const { plan, model } = prune(mobilenet, { variant: 'deprune', ratio: 0.5 });
    validatePlanForModel(plan, model, { checkWeights: true });
    const refuse = (badPlan: unknown, target: OnnxModel, pattern: RegExp, options = {}) => {
      let caught: unknown;
      try {
        validatePlanForModel(badPlan as PrunePlan, target, options);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DeprunError);
      expect((caught as Error).message).toMatch(pattern);
      return caught as DeprunError;
    };
    const copy = (): PrunePlan => JSON.parse(JSON.stringify(plan));
    // A plan for another model.
    const error = refuse(plan, buildZooModel('mobilenetv3-small'), /node 'features\.1\.conv\.0\.0': plan (expects DW 32 channels 3x3, the model has DW 16 channels 3x3|layer is not a Conv)/);
    expect(error).toBeInstanceOf(ShapeError);
    // A shape edited in the file.
    const shapeEdited = copy();
    shapeEdited.layers[1].shape.inChannels = 31;
    refuse(shapeEdited, model, /node 'features\.1\.conv\.1': plan expects PW 16x31, the model has PW 16x32/);
    const unknown = copy();
    unknown.layers[2].name = 'features.99';
    refuse(unknown, model, /node 'features\.99': plan layer is not a Conv\/Gemm layer of this model/);
    const kind = copy();
    kind.layers[0].kind = 'pw';
    refuse(kind, model, /plan says a PW layer, the model has a dw layer/);
    const indices = copy();
    indices.layers[0].kept[0] += 1;
    refuse(indices, model, /kept\[0\] is \d+ but keptIndices\[0\] lists/);
    const twice = copy();
    twice.layers.push(twice.layers[0]);
    refuse(twice, model, /plan lists this layer twice/);
    refuse({ ...copy(), format: 'other' }, model, /not a deprune plan/);
    refuse({ ...copy(), version: 2 }, model, /version 2 is not supported/);
    // The dense input carries non-zero weights where the plan prunes.
    refuse(plan, mobilenet, /is pruned by the plan but is/, { checkWeights: true });
  });

  it('a channel plan validates against the smaller model, not the original', () => {
    const { plan, model } = prune(mobilenet, { variant: 'channel', ratio: 0.25 });
    validatePlanForModel(plan, model);
    expect(() => validatePlanForModel(plan, mobilenet)).toThrow(/plan expects DW \d+ channels 3x3, the model has DW \d+ channels/);
    for (const entry of plan.layers.filter((candidate) => candidate.kind === 'dw')) {
      expect(keptOf(entry)).toBe((entry.shape.channels! - entry.removedChannels!.length) * 9);
    }
  });
});

describe('prune() contract', () => {
  it('never modifies its input, reports progress by stage, and is pure otherwise', () => {
    const before = Buffer.from(serializeModel(mobilenet));
    const events: PruneProgress[] = [];
    for (const variant of ['deprune-bh', 'channel'] as const) {
      prune(mobilenet, { variant, ratio: 0.3, layers: { 'features.4.*': { ratio: 0 } } }, { onProgress: (event) => events.push(event) });
      expect(Buffer.from(serializeModel(mobilenet)).equals(before)).toBe(true);
    }
    const stages = [...new Set(events.map((event) => event.stage))];
    expect(stages).toEqual(['shapes', 'score', 'hsr', 'apply', 'report', 'remove']);
    for (const event of events) expect(event.done).toBeLessThanOrEqual(event.total);
    expect(events.filter((event) => event.stage === 'score' && event.layer === 'features.2.conv.1.0')).toHaveLength(2);
  });

  it('a model with dynamic H, W still prunes; MACs are null with a warning until input shapes are given', () => {
    const dynamic = buildZooModel('mobilenetv2', { inputSize: 'dynamic' });
    const blind = prune(dynamic, { variant: 'deprune-b' });
    expect(blind.report.totals.macsBefore).toBeNull();
    expect(blind.report.totals.macsAfter).toBeNull();
    expect(blind.report.layers[0].macsBefore).toBeNull();
    expect(blind.report.warnings).toHaveLength(1);
    expect(blind.report.warnings[0]).toMatch(/^layer shapes unknown \(.*\); pruning goes on, but MACs are null/);
    const sighted = prune(dynamic, { variant: 'deprune-b', inputShapes: { input: [1, 3, 224, 224] } });
    expect(sighted.report.totals.macsBefore).toBe(300_774_272);
    expect(sighted.report.warnings).toEqual([]);
    // Same masks either way: shapes only feed MACs and latency models.
    expect(sighted.plan.layers.map((entry) => entry.keptIndices)).toEqual(blind.plan.layers.map((entry) => entry.keptIndices));
    expect(() => prune(dynamic, { variant: 'deprune-b', inputShapes: { image: [1, 3, 224, 224] } })).toThrow(ShapeError);
  });

  it('reports effective MACs: dense minus pruned weights x output pixels', () => {
    const { report } = prune(mobilenet, { variant: 'unstructured', ratio: 0.5 });
    const saved = report.layers.reduce((sum, layer) => sum + (layer.macsBefore! - layer.macsAfter!), 0);
    expect(report.totals.macsAfter).toBe(report.totals.macsBefore! - saved);
    const dw = report.layers.find((layer) => layer.name === 'features.2.conv.1.0')!;
    expect(dw.macsAfter).toBe(dw.keptWeights * 112 * 112 / 4);
  });
});

describe('deprune-bh: HSR on the pipeline', () => {
  it('recover mode lifts kept counts to step edges without raising modelled latency', () => {
    const balanced = prune(mobilenet, { variant: 'deprune-b', ratio: 0.6 });
    const recovered = prune(mobilenet, { variant: 'deprune-bh', ratio: 0.6 });
    checkStepEdges(recovered);
    const hsr = recovered.report.hsr!;
    expect(hsr).toMatchObject({ mode: 'recover', latencyModel: 'analytic-staircase(t=4)', budgetUs: null, budgetMet: null, unmeasured: [] });
    expect(hsr.moves).toBeGreaterThan(0);
    expect(hsr.predictedLatencyUs.after).toBeCloseTo(hsr.predictedLatencyUs.before, 9);
    // Weights only come back: every BWT-kept weight is still kept.
    for (const entry of recovered.plan.layers) {
      const bwt = entryOf(balanced.plan, entry.name)!;
      bwt.keptIndices.forEach((list, unit) => expect(entry.keptIndices[unit], entry.name).toEqual(expect.arrayContaining(list)));
    }
    expect(recovered.report.totals.nonzeroAfter).toBeGreaterThan(balanced.report.totals.nonzeroAfter);
    checkMaskedWeights(mobilenet, recovered);
  });

  it('latency mode meets a budget; a measured table sets the step of the layers it lists', () => {
    const recover = prune(mobilenet, { variant: 'deprune-bh', ratio: 0.5 }).report.hsr!;
    const budgetUs = 0.8 * recover.predictedLatencyUs.after;
    const fast = prune(mobilenet, { variant: 'deprune-bh', ratio: 0.5, hsr: { mode: 'latency', budgetUs } });
    expect(fast.report.hsr!.budgetMet).toBe(true);
    expect(fast.report.hsr!.predictedLatencyUs.after).toBeLessThanOrEqual(budgetUs);
    checkStepEdges(fast);
    checkMaskedWeights(mobilenet, fast);

    // The PW of block 3 (24 x 144 -> 6 tiles of 4 rows) measured every 16 columns.
    const table = { backend: 'test', mode: 'pw-tiled', layers: { 'features.3.conv.2': { kept: [0, 16, 32, 48, 64, 80, 96, 112, 128, 144], latencyUs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], step: 16 } } };
    const measured = prune(mobilenet, { variant: 'deprune-bh', ratio: 0.6, hsr: { table } });
    const entry = entryOf(measured.plan, 'features.3.conv.2')!;
    expect(entry.step).toBe(16);
    // BWT keeps 144 - round(0.6 * 144) = 58 columns; the table's stair above 48 ends at 64.
    expect(entry.kept).toEqual([64, 64, 64, 64, 64, 64]);
    expect(measured.report.hsr!.unmeasured).toHaveLength(measured.plan.layers.length - 1);
    expect(measured.report.hsr!.latencyModel).toMatch(/table|measured/i);
    checkStepEdges(measured);
  });
});

describe('deprune-bh: an unreachable budget', () => {
  it('stops at the floors and says so', () => {
    const { report } = prune(mobilenet, { variant: 'deprune-bh', ratio: 0.5, hsr: { mode: 'latency', budgetUs: 0.001 } });
    expect(report.hsr!.budgetMet).toBe(false);
    expect(report.warnings).toEqual([expect.stringMatching(/^HSR latency budget 0\.001 us not met: predicted [\d.e-]+ us with every balanced layer at its floor \(hsr\.minKeptFraction 0\.1\)$/)]);
    // No layer is emptied: every unit keeps at least ceil(0.1 x its capacity).
    for (const layer of report.layers) expect(layer.keptWeights, layer.name).toBeGreaterThanOrEqual(0.1 * layer.weights - 1);
  });
});
