import { DeprunError } from '@deprune/errors';
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

/** The UsageError a call throws (fails the test when it does not throw one). */
function errorOf(call: () => unknown): DeprunError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(DeprunError);
    return error as DeprunError;
  }
  throw new Error('expected a DeprunError');
}

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
    const duplicate = errorOf(() => registerVariant(contributed));
    expect(duplicate.message).toContain(`'${contributed.name}' is already registered`);
    registerVariant({ ...contributed, description: 'replaced' }, { override: true });
    expect(getVariant(contributed.name).description).toBe('replaced');
    expect(unregisterVariant(contributed.name)).toBe(true);
    expect(hasVariant(contributed.name)).toBe(false);
  });

  it('names the closest variant of an unknown name', () => {
    const error = errorOf(() => getVariant('dprune-bh'));
    expect(error.code).toBe('BAD_USAGE');
    expect(error.message).toContain("unknown pruning variant 'dprune-bh'; did you mean 'deprune-bh'?");
    expect(error.message).toContain('registered: deprune, deprune-b, deprune-bh, channel, unstructured, nm');
  });

  it('refuses bad definitions, naming the variant and the field', () => {
    const bad = (patch: Record<string, unknown>) => errorOf(() => registerVariant({ ...contributed, ...patch } as VariantDefinition)).message;
    expect(bad({ name: '' })).toContain('needs a non-empty string name');
    expect(bad({ description: '' })).toContain(`variant '${contributed.name}' needs a description`);
    expect(bad({ dw: { strategy: 'dpc' } })).toContain("names no registered strategy for dw: 'dpc'; did you mean 'dcp'?");
    expect(bad({ dw: { strategy: 'pcp' } })).toContain("uses strategy 'pcp' for dw layers, but it applies to pw layers only");
    expect(bad({ pw: { strategy: 'nm', balanced: true } })).toContain("BWT balances 'pcp' pw plans only");
    expect(bad({ pw: { strategy: 'nm', options: { n: 1, m: 4 } } })).toContain('sets the N:M pattern in pw.options');
    expect(bad({ dw: { strategy: 'dcp' }, hsr: true })).toContain('turns HSR on without a balanced recipe');
    expect(bad({ removal: 'channel' })).toContain("both recipes must be { strategy: 'channel' }");
    expect(bad({ defaults: { ratio: 1 } })).toContain('needs defaults.ratio in [0, 1), got 1');
    expect(bad({ defaults: { nm: { n: 3, m: 2 } } })).toContain('needs defaults.nm with n <= m, got 3:2');
    expect(bad({ defaults: { bwt: { granularity: 'tile' } } })).toContain("needs defaults.bwt.granularity 'group' or 'channel'");
    expect(hasVariant(contributed.name)).toBe(false);
  });

  it('takes a contributed strategy registered first', () => {
    registerStrategy({ ...getStrategy('unstructured'), name: 'row' });
    registerVariant({ name: 'uses-row', description: 'row on both kinds', dw: { strategy: 'row' }, pw: { strategy: 'row' } });
    expect(getVariant('uses-row').dw.strategy).toBe('row');
  });
});
