import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeprunError } from '@deprune/errors';
import { ConfigError, MAX_CONFIG_DEPTH, PRUNE_VARIANTS, loadPruneConfig, matchesPattern, resolvePruneConfig } from '../src/index';

function configError(json: unknown, source = 'prune.json'): ConfigError {
  try {
    loadPruneConfig(json, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as DeprunError).code).toBe('BAD_CONFIG');
    expect((error as DeprunError).exitCode).toBe(2);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(json)}`);
}

describe('loadPruneConfig', () => {
  it('accepts a full config and returns a clean copy', () => {
    const json = {
      variant: 'deprune-bh',
      ratio: 0.6,
      dwRatio: 0.4,
      pwRatio: 0.7,
      importance: 'magnitude',
      layers: { 'features.1.*': { ratio: 0 }, 'features.18.0': { skip: true } },
      ignore: ['classifier*'],
      pwScope: 'blocks',
      bwt: { granularity: 'channel', groupSize: 16, tileRows: 64 },
      hsr: { mode: 'latency', step: 8, budgetUs: 100, minKeptFraction: 0.25, table: { backend: 'b', mode: 'm', layers: { a: { kept: [0, 4], latencyUs: [1, 2] } } } },
      nm: { n: 1, m: 4 },
      allocation: { mode: 'saliency', budget: 'macs', minRatio: 0.1, maxRatio: 0.9 },
      strategy: { dw: 'dcp', pw: 'pcp', pwOptions: { tileRows: 16 } },
      inputShapes: { input: [1, 3, 224, 224] },
    };
    const config = loadPruneConfig(json, 'x.json');
    expect(config).toEqual(json);
    expect(config).not.toBe(json);
    expect(config.hsr!.table).not.toBe(json.hsr.table);
  });

  it('names the key and the file: bad ratio, unknown variant, unknown key, wrong types', () => {
    let error = configError({ variant: 'deprune', ratio: 1.5 });
    expect(error.message).toBe("prune.json: config key 'ratio' must be in [0, 1), got 1.5 (a ratio is the fraction of weights removed; 1 would remove them all)");
    expect(error.key).toBe('ratio');
    error = configError({ variant: 'deprune', dwRatio: -0.1 });
    expect(error.message).toContain("config key 'dwRatio' must be in [0, 1), got -0.1");
    error = configError({ variant: 'deprune', pwRatio: '0.5' });
    expect(error.message).toContain("config key 'pwRatio' must be a number in [0, 1), got '0.5'");
    error = configError({ variant: 'deprun' });
    expect(error.message).toContain("config key 'variant' must be one of 'deprune', 'deprune-b', 'deprune-bh', 'channel', 'unstructured', 'nm', got 'deprun'; did you mean 'deprune'?");
    error = configError({ ratio: 0.5 });
    expect(error.message).toContain("config key 'variant' is required");
    error = configError({ variant: 'deprune', ratoi: 0.5 });
    expect(error.message).toContain("unknown config key 'ratoi'; did you mean 'ratio'?");
    expect(error.key).toBe('ratoi');
    error = configError({ variant: 'deprune', bwt: { groupsize: 8 } });
    expect(error.message).toContain("unknown config key 'bwt.groupsize'; did you mean 'groupSize'?");
    error = configError({ variant: 'deprune', layers: { 'features.1.conv.0.0': { ratio: 2 } } });
    expect(error.message).toContain(`config key 'layers["features.1.conv.0.0"].ratio' must be in [0, 1), got 2`);
    error = configError({ variant: 'deprune', allocation: { mode: 'global' } });
    expect(error.message).toContain("config key 'allocation.mode' must be one of 'uniform', 'saliency', got 'global'");
    error = configError({ variant: 'deprune', allocation: { budget: 'latency' } });
    expect(error.message).toContain("config key 'allocation.budget' must be one of 'weights', 'macs', got 'latency'");
    error = configError({ variant: 'deprune', allocation: { maxRatio: 1 } });
    expect(error.message).toContain("config key 'allocation.maxRatio' must be in [0, 1), got 1");
    error = configError({ variant: 'deprune', allocation: { minRatio: 0.6, maxRatio: 0.4 } });
    expect(error.message).toContain("config key 'allocation' needs minRatio <= maxRatio, got 0.6 > 0.4");
    error = configError({ variant: 'deprune', layers: { a: { rate: 0.2 } } });
    expect(error.message).toContain(`unknown config key 'layers.a.rate'`);
    error = configError({ variant: 'deprune', ignore: 'classifier' });
    expect(error.message).toContain("config key 'ignore' must be an array");
    error = configError({ variant: 'deprune', ignore: ['ok', ''] });
    expect(error.message).toContain("config key 'ignore[1]' must be a non-empty string");
    error = configError({ variant: 'deprune', bwt: { groupSize: 0 } });
    expect(error.message).toContain("config key 'bwt.groupSize' must be an integer >= 1, got 0");
    error = configError({ variant: 'deprune', pwScope: 'some' });
    expect(error.message).toContain("config key 'pwScope' must be one of 'all', 'blocks'");
    error = configError({ variant: 'nm', nm: { n: 4, m: 2 } });
    expect(error.message).toContain("config key 'nm' needs n <= m, got 4:2");
    error = configError({ variant: 'nm', nm: { n: 2 } });
    expect(error.message).toContain("config key 'nm' needs both n and m");
    error = configError({ variant: 'deprune-bh', hsr: { mode: 'latency' } });
    expect(error.message).toContain("config key 'hsr.budgetUs' is required when hsr.mode is 'latency'");
    error = configError({ variant: 'deprune-bh', hsr: { table: { backend: 'b', mode: 'm', layers: { a: { kept: [0], latencyUs: [] } } } } });
    expect(error.message).toContain("config key 'hsr.table' is not a valid latency table");
    error = configError({ variant: 'deprune-bh', hsr: { minKeptFraction: 1.5 } });
    expect(error.message).toContain("config key 'hsr.minKeptFraction' must be in [0, 1], got 1.5");
    error = configError({ variant: 'deprune', inputShapes: { input: [1, 3, 0, 224] } });
    expect(error.message).toContain("config key 'inputShapes.input[2]' must be an integer >= 1, got 0");
    error = configError([1, 2]);
    expect(error.message).toBe('prune.json: a prune config must be a JSON object, got an array (e.g. { "variant": "deprune-bh", "ratio": 0.5 })');
  });

  it('checks strategy and scorer names against the registries', () => {
    let error = configError({ variant: 'deprune', importance: 'taylor' });
    expect(error.message).toContain("config key 'importance' names no registered scorer: 'taylor' (registered: activation, magnitude, obs");
    error = configError({ variant: 'deprune', strategy: { dw: 'nope' } });
    expect(error.message).toContain("config key 'strategy.dw' names no registered strategy: 'nope'");
    error = configError({ variant: 'deprune', strategy: { dw: 'pcp' } });
    expect(error.message).toContain("strategy 'pcp', which applies to pw layers, not dw");
    error = configError({ variant: 'channel', strategy: { dw: 'dcp' } });
    expect(error.message).toContain("config key 'strategy' cannot be combined with variant 'channel'");
  });

  it('property: every ratio in [0, 1) loads, every other number is refused naming the key', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.constantFrom('ratio', 'dwRatio', 'pwRatio'), (ratio, key) => {
        expect(loadPruneConfig({ variant: 'deprune', [key]: ratio })[key as 'ratio']).toBe(ratio);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 1, noNaN: true }), fc.double({ max: -Number.MIN_VALUE, noNaN: true }), fc.constant(Number.NaN), fc.constant(Infinity)),
        (ratio) => {
          expect(configError({ variant: 'deprune', ratio }).key).toBe('ratio');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('loadPruneConfig: hostile files', () => {
  it('refuses a config nested thousands deep with a ConfigError naming the key, not a stack overflow', () => {
    let options: unknown = 1;
    for (let depth = 0; depth < 5000; depth++) options = { a: options };
    const error = configError({ variant: 'deprune', strategy: { dwOptions: options } });
    expect(error.message).toMatch(new RegExp(`^prune\\.json: config key 'strategy\\.dwOptions(\\.a)+' nests objects or arrays more than ${MAX_CONFIG_DEPTH} deep`));
    let list: unknown = 1;
    for (let depth = 0; depth < 5000; depth++) list = [list];
    expect(configError({ variant: 'deprune', ignore: list }).message).toMatch(/config key 'ignore(\[0\])+' nests/);
  });

  it("keeps a layer override keyed '__proto__' as a key (not the object's prototype)", () => {
    const config = loadPruneConfig(JSON.parse('{"variant": "deprune", "layers": {"__proto__": {"ratio": 0.2}}}'));
    expect(Object.hasOwn(config.layers!, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(config.layers)).toBe(Object.prototype);
    const resolved = resolvePruneConfig(config);
    expect(Object.hasOwn(resolved.layers, '__proto__')).toBe(true);
    expect(Object.entries(resolved.layers)).toEqual([['__proto__', { ratio: 0.2 }]]);
  });
});

describe('resolvePruneConfig', () => {
  it('fills the defaults in a fixed key order', () => {
    const resolved = resolvePruneConfig({ variant: 'deprune-b' });
    expect(resolved).toEqual({
      variant: 'deprune-b',
      ratio: 0.5,
      dwRatio: 0.5,
      pwRatio: 0.5,
      importance: 'magnitude',
      layers: {},
      ignore: [],
      pwScope: 'all',
      bwt: { granularity: 'channel', groupSize: 32, tileRows: 4 },
      hsr: { mode: 'recover', step: 4, budgetUs: null, table: null, minKeptFraction: 0.1 },
      nm: { n: 2, m: 4 },
      allocation: { mode: 'uniform', budget: 'weights', minRatio: 0, maxRatio: 0.8 },
      strategy: { dw: null, pw: null, dwOptions: null, pwOptions: null },
      inputShapes: null,
    });
    expect(Object.keys(resolved)).toEqual(['variant', 'ratio', 'dwRatio', 'pwRatio', 'importance', 'layers', 'ignore', 'pwScope', 'bwt', 'hsr', 'nm', 'allocation', 'strategy', 'inputShapes']);
  });

  it('dwRatio / pwRatio fall back to ratio; nm fixes every ratio at 1 - n/m', () => {
    expect(resolvePruneConfig({ variant: 'deprune', ratio: 0.3, pwRatio: 0.6 })).toMatchObject({ ratio: 0.3, dwRatio: 0.3, pwRatio: 0.6 });
    expect(resolvePruneConfig({ variant: 'nm', ratio: 0.3, nm: { n: 1, m: 4 } })).toMatchObject({ ratio: 0.75, dwRatio: 0.75, pwRatio: 0.75 });
  });

  it('every variant resolves', () => {
    for (const variant of PRUNE_VARIANTS) expect(resolvePruneConfig(loadPruneConfig({ variant })).variant).toBe(variant);
  });
});

describe('glob patterns', () => {
  it("'*' matches any run, '?' one character, everything else literally", () => {
    expect(matchesPattern('features.1.conv.0.0', 'features.1.*')).toBe(true);
    expect(matchesPattern('features.11.conv.0.0', 'features.1.*')).toBe(false);
    expect(matchesPattern('features.11.conv.0.0', 'features.1?.*')).toBe(true);
    expect(matchesPattern('features.1.conv.0.0', 'features.1.conv.0.0')).toBe(true);
    expect(matchesPattern('featuresX1', 'features.1')).toBe(false);
    expect(matchesPattern('p2o.Conv.12', '*Conv.1?')).toBe(true);
    expect(matchesPattern('a(b)[c]+', 'a(b)[c]+')).toBe(true);
    expect(matchesPattern('a.x', 'a.*')).toBe(true);
    expect(matchesPattern('abx', 'a.*')).toBe(false);
  });

  it('property: a name without wildcards matches itself only; "*" matches everything', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }).filter((name) => !/[*?]/.test(name)), fc.string({ maxLength: 20 }), (name, other) => {
        expect(matchesPattern(name, name)).toBe(true);
        expect(matchesPattern(other, name)).toBe(other === name);
        expect(matchesPattern(other, '*')).toBe(true);
        expect(matchesPattern(`${name}${other}`, `${name.replace(/./gs, '?')}*`)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
