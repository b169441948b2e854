import { UsageError } from '@deprune/errors';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILTIN_VARIANTS,
  getVariant,
  hasVariant,
  listVariants,
  recipeFixedRatio,
  registerStrategy,
  registerVariant,
  unregisterStrategy,
  unregisterVariant,
  variantTakesRatio,
  variantUsesBwt,
  getStrategy,
  type VariantDefinition,
} from '../src/index';

const contributed: VariantDefinition = {
  name: 'dcp-balanced-pw-dense',
  description: 'balanced DCP on DW, PW left dense',
  dw: { strategy: 'dcp', balanced: true },
  pw: { strategy: 'dense' },
  hsr: true,
  defaults: { ratio: 0.6, bwt: { granularity: 'group', groupSize: 8 } },
};

afterEach(() => {
  unregisterVariant(contributed.name);
  unregisterVariant('uses-row');
  unregisterStrategy('row');
});

describe('variant registry', () => {
  it('holds the built-ins in --help order, as data', () => {
    expect(listVariants().map((variant) => variant.name)).toEqual([...BUILTIN_VARIANTS]);
    expect(getVariant('deprune-bh')).toMatchObject({ dw: { strategy: 'dcp', balanced: true }, pw: { strategy: 'pcp', balanced: true }, hsr: true });
    expect(getVariant('channel').removal).toBe('channel');
    expect(BUILTIN_VARIANTS.filter((name) => variantTakesRatio(getVariant(name)))).toEqual(['deprune', 'deprune-b', 'deprune-bh', 'unstructured']);
    expect(BUILTIN_VARIANTS.filter((name) => variantUsesBwt(getVariant(name)))).toEqual(['deprune', 'deprune-b', 'deprune-bh']);
    expect(recipeFixedRatio(getVariant('nm').pw, { n: 1, m: 4 })).toBe(0.75);
    expect(recipeFixedRatio(getVariant('deprune').pw, { n: 2, m: 4 })).toBeUndefined();
  });

  it('registers a contributed variant, keeps a frozen copy, and refuses a second one of the name', () => {
    const definition = structuredClone(contributed);
    registerVariant(definition);
    definition.dw.strategy = 'unstructured';
    expect(getVariant(contributed.name).dw.strategy).toBe('dcp');
    expect(Object.isFrozen(getVariant(contributed.name).dw)).toBe(true);
    expect(listVariants().at(-1)?.name).toBe(contributed.name);
    expect(recipeFixedRatio(getVariant(contributed.name).pw, { n: 2, m: 4 })).toBe(0);
    expect(variantTakesRatio(getVariant(contributed.name))).toBe(false);
    expect(() => registerVariant(contributed)).toThrow(`'${contributed.name}' is already registered`);
    registerVariant({ ...contributed, description: 'replaced' }, { override: true });
    expect(getVariant(contributed.name).description).toBe('replaced');
    expect(unregisterVariant(contributed.name)).toBe(true);
    expect(hasVariant(contributed.name)).toBe(false);
  });

  it('names the closest variant of an unknown name', () => {
    expect(() => getVariant('dprune-bh')).toThrow(UsageError);
    expect(() => getVariant('dprune-bh')).toThrow("unknown pruning variant 'dprune-bh'; did you mean 'deprune-bh'? (registered: deprune, deprune-b, deprune-bh, channel, unstructured, nm)");
  });

  it('refuses bad definitions, naming the variant and the field', () => {
    const refused = (patch: Record<string, unknown>, message: string) => expect(() => registerVariant({ ...contributed, ...patch } as VariantDefinition)).toThrow(message);
    refused({ name: '' }, 'needs a non-empty string name');
    refused({ description: '' }, `variant '${contributed.name}' needs a description`);
    refused({ dw: { strategy: 'dpc' } }, "names no registered strategy for dw: 'dpc'; did you mean 'dcp'?");
    refused({ dw: { strategy: 'pcp' } }, "uses strategy 'pcp' for dw layers, but it applies to pw layers only");
    refused({ pw: { strategy: 'nm', balanced: true } }, "BWT balances 'pcp' pw plans only");
    refused({ pw: { strategy: 'nm', options: { n: 1, m: 4 } } }, 'sets the N:M pattern in pw.options');
    refused({ dw: { strategy: 'dcp' }, hsr: true }, 'turns HSR on without a balanced recipe');
    refused({ removal: 'channel' }, "both recipes must be { strategy: 'channel' }");
    refused({ defaults: { ratio: 1 } }, 'needs defaults.ratio in [0, 1), got 1');
    refused({ defaults: { nm: { n: 3, m: 2 } } }, 'needs defaults.nm with n <= m, got 3:2');
    refused({ defaults: { bwt: { granularity: 'tile' } } }, "needs defaults.bwt.granularity 'group' or 'channel'");
    expect(hasVariant(contributed.name)).toBe(false);
  });

  it('takes a contributed strategy registered first', () => {
    registerStrategy({ ...getStrategy('unstructured'), name: 'row' });
    registerVariant({ name: 'uses-row', description: 'row on both kinds', dw: { strategy: 'row' }, pw: { strategy: 'row' } });
    expect(getVariant('uses-row').dw.strategy).toBe('row');
  });
});
