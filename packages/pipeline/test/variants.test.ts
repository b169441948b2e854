import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { effectiveConvWeights, indexGraph, inferShapes, listLayers, type OnnxModel } from '@deprune/onnx';
import { getVariant, planEntryToJson, registerVariant, unregisterVariant, type PrunableLayer } from '@deprune/masks';
import { buildZooModel } from '@deprune/zoo';
import { ConfigError, allocationApplies, loadPruneConfig, planVariantLayers, prune, type PrunePlan } from '../src/index';
import { checkMaskedWeights } from './helpers';

// Variants are registered recipes: prune() reads the definition, not the name.
let model: OnnxModel;
beforeAll(() => {
  model = buildZooModel('mobilenetv3-small');
});

const registered: string[] = [];
function register(definition: Parameters<typeof registerVariant>[0]): void {
  registerVariant(definition);
  registered.push(definition.name);
}
afterEach(() => {
  for (const name of registered.splice(0)) unregisterVariant(name);
});

const kinds = (plan: PrunePlan, kind: 'dw' | 'pw') => plan.layers.filter((entry) => entry.kind === kind);

describe('registered variants in prune()', () => {
  it('a copy of a built-in recipe under another name prunes exactly like the built-in', () => {
    register({ ...structuredClone(getVariant('deprune-bh')), name: 'my-bh' } as Parameters<typeof registerVariant>[0]);
    const builtin = prune(model, { variant: 'deprune-bh', ratio: 0.6 });
    const copy = prune(model, { variant: 'my-bh', ratio: 0.6 });
    expect(copy.plan.layers).toEqual(builtin.plan.layers);
    expect(copy.report.hsr).toEqual(builtin.report.hsr);
    expect(copy.plan.variant).toBe('my-bh');
  });

  it('DW dcp balanced per group + PW dense: its defaults, HSR on the DW layers, PW entries kept whole', () => {
    register({
      name: 'dw-only',
      description: 'balanced DCP on DW, PW dense',
      dw: { strategy: 'dcp', balanced: true },
      pw: { strategy: 'dense' },
      hsr: true,
      defaults: { ratio: 0.6, bwt: { granularity: 'group', groupSize: 8 } },
    });
    const result = prune(model, { variant: 'dw-only', pwRatio: 0.3 });
    const { plan, report } = result;
    expect(plan.config).toMatchObject({ ratio: 0.6, dwRatio: 0.6, pwRatio: 0, bwt: { granularity: 'group', groupSize: 8 } });
    expect(kinds(plan, 'dw').every((entry) => entry.strategy === 'dcp' && entry.granularity === 'group' && entry.groupSize === Math.min(8, entry.kept.length))).toBe(true);
    expect(kinds(plan, 'pw').every((entry) => entry.strategy === 'dense' && entry.sparsity === 0)).toBe(true);
    expect(report.hsr?.mode).toBe('recover');
    expect(report.totals.dwSparsity).toBeGreaterThan(0.5);
    expect(report.totals.pwSparsity).toBe(0);
    expect(report.warnings).toContain("pwRatio 0.3 is ignored: variant 'dw-only' keeps every PW layer dense");
    checkMaskedWeights(model, result);
  });

  it('DW dcp + PW nm 2:4: the PW ratio is the pattern, the DW ratio the config; allocation does not apply', () => {
    register({ name: 'dcp-nm', description: 'DCP on DW, 2:4 on PW', dw: { strategy: 'dcp' }, pw: { strategy: 'nm' } });
    const { plan, report } = prune(model, { variant: 'dcp-nm', ratio: 0.4, pwRatio: 0.2, nm: { n: 1, m: 4 }, layers: { 'features.2.*': { ratio: 0.3 } } });
    expect(plan.config).toMatchObject({ ratio: 0.4, dwRatio: 0.4, pwRatio: 0.75 });
    expect(kinds(plan, 'pw').every((entry) => entry.strategy === 'nm' && entry.granularity === 'nm')).toBe(true);
    expect(kinds(plan, 'dw').every((entry) => entry.strategy === 'dcp' && entry.granularity === 'none')).toBe(true);
    expect(report.warnings).toEqual([
      "pwRatio 0.2 is ignored: variant 'dcp-nm' 1:4 removes 0.75 of each PW layer",
      "layers['features.2.*'].ratio 0.3 is ignored on the PW layers of variant 'dcp-nm' (only 0, dense, is honoured)",
    ]);
    expect(allocationApplies('dcp-nm')).toBe(false);
    // A strategy override replaces the recipe and frees the kind's ratio.
    const overridden = prune(model, { variant: 'dcp-nm', ratio: 0.4, strategy: { pw: 'unstructured' } });
    expect(overridden.plan.config.pwRatio).toBe(0.4);
    expect(kinds(overridden.plan, 'pw').every((entry) => entry.strategy === 'unstructured')).toBe(true);
  });

  it('an unregistered variant is a ConfigError naming the closest one; a variant registered later is accepted', () => {
    const error = (() => {
      try {
        loadPruneConfig({ variant: 'dcp-mn' }, 'prune.json');
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key).toBe('variant');
    expect(error.message).toContain("got 'dcp-mn'");
    register({ name: 'dcp-nm', description: 'DCP on DW, 2:4 on PW', dw: { strategy: 'dcp' }, pw: { strategy: 'nm' } });
    expect(() => loadPruneConfig({ variant: 'dcp-mn' }, 'prune.json')).toThrow("did you mean 'dcp-nm'?");
    expect(loadPruneConfig({ variant: 'dcp-nm' }).variant).toBe('dcp-nm');
  });

  it('a removal variant refuses strategy overrides by its own name', () => {
    register({ ...structuredClone(getVariant('channel')), name: 'my-channel' } as Parameters<typeof registerVariant>[0]);
    expect(() => loadPruneConfig({ variant: 'my-channel', strategy: { dw: 'dcp' } })).toThrow("config key 'strategy' cannot be combined with variant 'my-channel'");
    const { plan } = prune(model, { variant: 'my-channel', ratio: 0.25 });
    expect(plan.physical).not.toBeNull();
  });
});

describe('planVariantLayers', () => {
  /** The model's DW and PW layers as prune() sees them (effective weights, output pixels). */
  function layersOf(names: readonly string[]): PrunableLayer[] {
    const index = indexGraph(model);
    const infos = new Map(listLayers(model, inferShapes(model)).map((info) => [info.name, info]));
    return names.map((name) => {
      const info = infos.get(name)!;
      const weights = effectiveConvWeights(index, name).weight.data;
      const outputPixels = info.outputShape![2] * info.outputShape![3];
      return info.kind === 'dw'
        ? { kind: 'dw', name, channels: info.outChannels, kernel: [info.kernel[0], info.kernel[1]], weights, outputPixels }
        : { kind: 'pw', name, outChannels: info.outChannels, inChannels: info.inChannels, weights, outputPixels };
    });
  }

  it("plans given layers exactly as prune() plans them in the model (BWT and HSR included)", () => {
    for (const variant of ['deprune', 'deprune-bh', 'unstructured', 'nm']) {
      const config = { variant, ratio: 0.6, bwt: { tileRows: 16 } };
      const { plan, report } = prune(model, config);
      const layers = layersOf(plan.layers.map((entry) => entry.name));
      const planned = planVariantLayers(layers, layers.map((layer) => layer.weights.map(Math.abs)), config);
      expect(planned.plans.map(planEntryToJson), variant).toEqual(plan.layers);
      expect(planned.hsr?.predictedLatencyUs, variant).toEqual(report.hsr?.predictedLatencyUs);
      expect(planned.before.some((before) => before !== undefined), variant).toBe(variant === 'deprune-bh');
    }
  });

  it('refuses a removal variant and mismatched scores', () => {
    const layers = layersOf(['features.1.block.0.0']);
    expect(() => planVariantLayers(layers, [layers[0].weights], { variant: 'channel' })).toThrow("variant 'channel' removes channels from the model");
    expect(() => planVariantLayers(layers, [], { variant: 'deprune' })).toThrow('one scores array per layer, got 1 layers and 0 scores');
  });
});
