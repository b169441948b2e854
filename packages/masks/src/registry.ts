import { UsageError } from '@deprune/errors';
import { magnitudeScorer } from './scorers';
import { activationScorer, obsScorer } from './calibrated-scorers';
import { obsGreedyScorer } from './greedy-obs';
import { channelStrategy } from './strategies/channel';
import { dcpStrategy } from './strategies/dcp';
import { nmStrategy } from './strategies/nm';
import { pcpStrategy } from './strategies/pcp';
import { unstructuredStrategy } from './strategies/unstructured';
import type { ImportanceScorer, MaskStrategy, StrategyOptions } from './types';

/**
 * Name -> implementation maps, after tfjs's kernel registry: contributors add strategies and
 * scorers with `registerStrategy` / `registerScorer` from their own package, without touching
 * this one. The built-ins are placed in the maps when this module is evaluated (no side-effect
 * import to lose to tree shaking).
 */
export interface RegisterOptions {
  /** Replace an existing entry of the same name instead of throwing. */
  override?: boolean;
}

type AnyStrategy = MaskStrategy<StrategyOptions>;

const strategies = new Map<string, AnyStrategy>();
const scorers = new Map<string, ImportanceScorer>();

function assertName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new UsageError(`a ${what} needs a non-empty string name, got ${String(name)}`);
  }
}

function registered(map: Map<string, unknown>): string {
  return [...map.keys()].sort().join(', ');
}

export function registerStrategy<Options>(strategy: MaskStrategy<Options>, options: RegisterOptions = {}): void {
  if (strategy === null || typeof strategy !== 'object') throw new UsageError(`registerStrategy needs a strategy object, got ${String(strategy)}`);
  assertName('mask strategy', strategy.name);
  if (typeof strategy.mask !== 'function') {
    throw new UsageError(`mask strategy '${strategy.name}' needs a mask(layer, ratio, scores, options) function`);
  }
  if (!Array.isArray(strategy.appliesTo) || strategy.appliesTo.length === 0 || strategy.appliesTo.some((kind) => kind !== 'dw' && kind !== 'pw')) {
    throw new UsageError(`mask strategy '${strategy.name}' needs appliesTo: a non-empty list of 'dw' and/or 'pw'`);
  }
  if (strategies.has(strategy.name) && !options.override) {
    throw new UsageError(`a mask strategy named '${strategy.name}' is already registered`, {
      hint: 'pick another name, or pass { override: true } to replace it',
    });
  }
  strategies.set(strategy.name, strategy as unknown as AnyStrategy);
}

/** The strategy of that name; UsageError listing the registered names if there is none. */
export function getStrategy<Options = StrategyOptions>(name: string): MaskStrategy<Options> {
  const strategy = strategies.get(name);
  if (strategy === undefined) {
    throw new UsageError(`unknown mask strategy '${String(name)}'; registered: ${registered(strategies)}`);
  }
  return strategy as unknown as MaskStrategy<Options>;
}

/** Registered strategies, sorted by name. */
export function listStrategies(): MaskStrategy<StrategyOptions>[] {
  return [...strategies.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Removes a strategy (built-ins included); true if it was there. Mostly for tests. */
export function unregisterStrategy(name: string): boolean {
  return strategies.delete(name);
}

export function registerScorer(scorer: ImportanceScorer, options: RegisterOptions = {}): void {
  if (scorer === null || typeof scorer !== 'object') throw new UsageError(`registerScorer needs a scorer object, got ${String(scorer)}`);
  assertName('importance scorer', scorer.name);
  if (typeof scorer.score !== 'function') {
    throw new UsageError(`importance scorer '${scorer.name}' needs a score(layer, stats) function`);
  }
  if (scorers.has(scorer.name) && !options.override) {
    throw new UsageError(`an importance scorer named '${scorer.name}' is already registered`, {
      hint: 'pick another name, or pass { override: true } to replace it',
    });
  }
  scorers.set(scorer.name, scorer);
}

export function getScorer(name: string): ImportanceScorer {
  const scorer = scorers.get(name);
  if (scorer === undefined) {
    throw new UsageError(`unknown importance scorer '${String(name)}'; registered: ${registered(scorers)}`);
  }
  return scorer;
}

export function listScorers(): ImportanceScorer[] {
  return [...scorers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function unregisterScorer(name: string): boolean {
  return scorers.delete(name);
}

/** Names of the strategies and scorers registered when the package loads. */
export const BUILTIN_STRATEGIES = ['channel', 'dcp', 'nm', 'pcp', 'unstructured'] as const;
export const BUILTIN_SCORERS = ['activation', 'magnitude', 'obs', 'obs-greedy'] as const;

for (const strategy of [dcpStrategy, pcpStrategy, unstructuredStrategy, nmStrategy, channelStrategy] as MaskStrategy<never>[]) {
  strategies.set(strategy.name, strategy as unknown as AnyStrategy);
}
for (const scorer of [magnitudeScorer, activationScorer, obsScorer, obsGreedyScorer]) scorers.set(scorer.name, scorer);
