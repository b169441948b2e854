import { UsageError } from '@deprune/errors';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILTIN_SCORERS,
  BUILTIN_STRATEGIES,
  dcpStrategy,
  getScorer,
  getStrategy,
  listScorers,
  listStrategies,
  magnitudeScorer,
  registerScorer,
  registerStrategy,
  unregisterScorer,
  unregisterStrategy,
  type MaskStrategy,
} from '../src/index';

afterEach(() => {
  registerStrategy(dcpStrategy, { override: true });
  registerScorer(magnitudeScorer, { override: true });
  unregisterStrategy('dummy');
  unregisterScorer('dummy');
});

const dummy: MaskStrategy = { name: 'dummy', description: 'test', appliesTo: ['dw'], mask: () => dcpStrategy.mask({ kind: 'dw', name: 'x', channels: 1, kernel: [1, 1], weights: Float64Array.of(1) }, 0, Float64Array.of(1)) };

describe('strategy registry', () => {
  it('has the built-ins on import', () => {
    expect(listStrategies().map((strategy) => strategy.name)).toEqual([...BUILTIN_STRATEGIES]);
    expect(listScorers().map((scorer) => scorer.name)).toEqual([...BUILTIN_SCORERS]);
    expect(getStrategy('pcp').appliesTo).toEqual(['pw']);
    for (const strategy of listStrategies()) expect(strategy.description.length).toBeGreaterThan(10);
  });

  it('names the registered strategies when a name is unknown', () => {
    expect(() => getStrategy('dcpp')).toThrow(UsageError);
    expect(() => getStrategy('dcpp')).toThrow("unknown mask strategy 'dcpp'; registered: channel, dcp, nm, pcp, unstructured");
    expect(() => getScorer('taylor')).toThrow("unknown importance scorer 'taylor'; registered: activation, magnitude, obs");
  });

  it('refuses duplicates unless override is set', () => {
    expect(() => registerStrategy({ ...dummy, name: 'dcp' })).toThrow(/already registered/);
    registerStrategy({ ...dummy, name: 'dcp', description: 'replaced' }, { override: true });
    expect(getStrategy('dcp').description).toBe('replaced');
    expect(() => registerScorer({ ...magnitudeScorer })).toThrow(/already registered/);
    registerScorer({ ...magnitudeScorer, description: 'mine' }, { override: true });
    expect(getScorer('magnitude').description).toBe('mine');
  });

  it('checks what it registers', () => {
    expect(() => registerStrategy({ ...dummy, name: '' })).toThrow(UsageError);
    expect(() => registerStrategy({ ...dummy, appliesTo: [] })).toThrow(/appliesTo/);
    expect(() => registerStrategy({ ...dummy, appliesTo: ['conv' as 'dw'] })).toThrow(/appliesTo/);
    expect(() => registerStrategy({ ...dummy, mask: undefined as unknown as MaskStrategy['mask'] })).toThrow(/mask\(/);
    expect(() => registerScorer({ name: 'dummy', description: '', score: 3 as unknown as () => Float64Array })).toThrow(/score\(/);
  });

  it('unregisters', () => {
    registerStrategy(dummy);
    expect(getStrategy('dummy')).toBe(dummy);
    expect(unregisterStrategy('dummy')).toBe(true);
    expect(unregisterStrategy('dummy')).toBe(false);
    expect(() => getStrategy('dummy')).toThrow(UsageError);
  });
});
