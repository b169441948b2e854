import { UsageError, closestName } from '@deprune/errors';
import { getStrategy, listStrategies, type RegisterOptions } from './registry';
import type { LayerKind, StrategyOptions } from './types';

/**
 * Pruning variants as data, registered beside the strategies and scorers. A variant says which
 * strategy prunes the DW layers and which the PW layers, whether BWT balances them, whether HSR
 * recalibrates them and what the config defaults to; `@deprune/pipeline`'s `prune()` reads the
 * definition instead of switching on the name, so a contributor adds a variant with
 * `registerVariant` from their own package and it runs through `prune()`, the CLI (`--variant`,
 * `--help`) and the kernel bench like a built-in. The registry lives here, not in the pipeline,
 * because it is plain data over this package's strategy names and the CLI lists it in `--help`
 * without loading the pruner.
 */

/** The strategy name of a recipe that leaves the layers of its kind unpruned (in the plan, every weight kept). */
export const DENSE_RECIPE = 'dense';

/** How a variant prunes the layers of one kind. */
export interface VariantLayerRecipe {
  /**
   * A registered strategy that applies to this kind (`dcp`, `pcp`, `unstructured`, `nm`, `channel`,
   * a contributed one), or `'dense'`: the layers of this kind stay unpruned.
   */
  strategy: string;
  /**
   * BWT: every unit keeps the same count (DW `dcp`: per channel or per group of `bwt.groupSize`,
   * `bwt.granularity`; PW `pcp`: per row tile of `bwt.tileRows`). Only `dcp` and `pcp` balance.
   */
  balanced?: boolean;
  /**
   * Options for the strategy's `mask()`, laid over the ones the prune config supplies (`pcp`:
   * `tileRows` from `bwt.tileRows`; `nm`: `n`, `m` from `nm`, which this may not set).
   */
  options?: StrategyOptions;
}

/** BWT settings a variant defaults to (the prune config's `bwt` wins). */
export interface VariantBwtDefaults {
  granularity?: 'group' | 'channel';
  groupSize?: number;
  tileRows?: number;
}

/** Config values a variant defaults to when the prune config leaves them out. */
export interface VariantDefaults {
  /** Fraction of weights removed (default 0.5). */
  ratio?: number;
  bwt?: VariantBwtDefaults;
  /** The N:M pattern of `nm` recipes (default 2:4). */
  nm?: { n: number; m: number };
}

/** A pruning variant: a name, a description and a recipe per layer kind. */
export interface VariantDefinition {
  name: string;
  /** One line for `deprune prune --help` and the bench reports. */
  description: string;
  dw: VariantLayerRecipe;
  pw: VariantLayerRecipe;
  /** HSR moves the balanced layers' kept counts to the latency staircase's step edges (config `hsr`). Needs a balanced recipe. */
  hsr?: boolean;
  /**
   * `'channel'`: whole DW channels and the coupled PW input columns (with the producer's rows, BN
   * and SE) are removed from the model, which gets smaller, instead of masked. Both recipes must
   * then be `channel`, unbalanced, without HSR.
   */
  removal?: 'channel';
  defaults?: VariantDefaults;
}

/** What a layer kind's ratio is when the variant's recipe fixes it; undefined when the config's ratio applies. */
export function recipeFixedRatio(recipe: VariantLayerRecipe, nm: { n: number; m: number }): number | undefined {
  if (recipe.strategy === DENSE_RECIPE) return 0;
  if (recipe.strategy === 'nm') return 1 - nm.n / nm.m;
  return undefined;
}

/** Whether the variant spreads a free ratio over every layer (what saliency allocation needs): no removal, no dense or N:M recipe. */
export function variantTakesRatio(variant: VariantDefinition): boolean {
  const free = (recipe: VariantLayerRecipe) => recipe.strategy !== DENSE_RECIPE && recipe.strategy !== 'nm';
  return variant.removal === undefined && free(variant.dw) && free(variant.pw);
}

/** Whether the variant reads the config's `bwt` (a balanced recipe, or PCP's row tile). */
export function variantUsesBwt(variant: VariantDefinition): boolean {
  return variant.dw.balanced === true || variant.pw.balanced === true || variant.dw.strategy === 'pcp' || variant.pw.strategy === 'pcp';
}

const variants = new Map<string, Readonly<VariantDefinition>>();

/** The strategy each kind balances with: BWT's units are DCP's channels / groups and PCP's row tiles. */
const BALANCEABLE: Readonly<Record<LayerKind, string>> = { dw: 'dcp', pw: 'pcp' };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function invalid(name: string, message: string, hint?: string): never {
  throw new UsageError(`variant '${name}' ${message}`, hint === undefined ? {} : { hint });
}

function positiveInteger(name: string, key: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) invalid(name, `needs ${key} to be an integer >= 1, got ${String(value)}`);
}

function checkRecipe(name: string, kind: LayerKind, recipe: unknown): void {
  if (!isPlainObject(recipe)) invalid(name, `needs a ${kind} recipe object ({ strategy, balanced?, options? }), got ${String(recipe)}`);
  const { strategy, balanced, options } = recipe;
  if (typeof strategy !== 'string' || strategy.trim() === '') invalid(name, `needs ${kind}.strategy: a registered strategy name or '${DENSE_RECIPE}'`);
  if (strategy !== DENSE_RECIPE) {
    const known = listStrategies().map((candidate) => candidate.name);
    if (!known.includes(strategy)) {
      const guess = closestName(strategy, [...known, DENSE_RECIPE]);
      invalid(name, `names no registered strategy for ${kind}: '${strategy}'${guess ? `; did you mean '${guess}'?` : ''}`, `registered: ${known.join(', ')}, or '${DENSE_RECIPE}'; register a contributed strategy before the variant`);
    }
    const applies = getStrategy(strategy).appliesTo;
    if (!applies.includes(kind)) invalid(name, `uses strategy '${strategy}' for ${kind} layers, but it applies to ${applies.join(', ')} layers only`);
  }
  if (balanced !== undefined && typeof balanced !== 'boolean') invalid(name, `needs ${kind}.balanced to be true or false, got ${String(balanced)}`);
  if (balanced === true && strategy !== BALANCEABLE[kind]) {
    invalid(name, `balances its ${kind} strategy '${strategy}', but BWT balances '${BALANCEABLE[kind]}' ${kind} plans only`, `use strategy '${BALANCEABLE[kind]}', or balanced: false`);
  }
  if (options !== undefined && !isPlainObject(options)) invalid(name, `needs ${kind}.options to be an object, got ${String(options)}`);
  // The N:M pattern fixes the layers' ratio, which the plan's config records from `nm`: one source.
  if (strategy === 'nm' && options !== undefined && ('n' in options || 'm' in options)) {
    invalid(name, `sets the N:M pattern in ${kind}.options`, 'give it as defaults.nm (the prune config nm replaces it)');
  }
}

function checkDefaults(name: string, defaults: unknown): void {
  if (defaults === undefined) return;
  if (!isPlainObject(defaults)) invalid(name, `needs defaults to be an object, got ${String(defaults)}`);
  const { ratio, bwt, nm } = defaults;
  if (ratio !== undefined && (typeof ratio !== 'number' || !(ratio >= 0 && ratio < 1))) invalid(name, `needs defaults.ratio in [0, 1), got ${String(ratio)}`);
  if (bwt !== undefined) {
    if (!isPlainObject(bwt)) invalid(name, `needs defaults.bwt to be an object, got ${String(bwt)}`);
    if (bwt.granularity !== undefined && bwt.granularity !== 'group' && bwt.granularity !== 'channel') {
      invalid(name, `needs defaults.bwt.granularity 'group' or 'channel', got ${String(bwt.granularity)}`);
    }
    positiveInteger(name, 'defaults.bwt.groupSize', bwt.groupSize);
    positiveInteger(name, 'defaults.bwt.tileRows', bwt.tileRows);
  }
  if (nm !== undefined) {
    if (!isPlainObject(nm)) invalid(name, `needs defaults.nm to be { n, m }, got ${String(nm)}`);
    if (nm.n === undefined || nm.m === undefined) invalid(name, 'needs both n and m in defaults.nm, e.g. { n: 2, m: 4 }');
    positiveInteger(name, 'defaults.nm.n', nm.n);
    positiveInteger(name, 'defaults.nm.m', nm.m);
    if ((nm.n as number) > (nm.m as number)) invalid(name, `needs defaults.nm with n <= m, got ${String(nm.n)}:${String(nm.m)}`);
  }
}

/** Checks a definition; throws a UsageError naming the variant and the field. */
function checkDefinition(definition: VariantDefinition): void {
  if (!isPlainObject(definition)) throw new UsageError(`registerVariant needs a variant definition object, got ${String(definition)}`);
  const { name } = definition;
  if (typeof name !== 'string' || name.trim() === '') throw new UsageError(`a pruning variant needs a non-empty string name, got ${String(name)}`);
  if (typeof definition.description !== 'string' || definition.description.trim() === '') invalid(name, 'needs a description (one line for --help)');
  checkRecipe(name, 'dw', definition.dw);
  checkRecipe(name, 'pw', definition.pw);
  if (definition.hsr !== undefined && typeof definition.hsr !== 'boolean') invalid(name, `needs hsr to be true or false, got ${String(definition.hsr)}`);
  if (definition.hsr === true && definition.dw.balanced !== true && definition.pw.balanced !== true) {
    invalid(name, 'turns HSR on without a balanced recipe', 'HSR moves the kept counts of balanced plans only: set dw.balanced or pw.balanced');
  }
  if (definition.removal !== undefined) {
    if (definition.removal !== 'channel') invalid(name, `has removal '${String(definition.removal)}'; the only removal is 'channel'`);
    if (definition.dw.strategy !== 'channel' || definition.pw.strategy !== 'channel' || definition.dw.balanced === true || definition.pw.balanced === true || definition.hsr === true) {
      invalid(name, "removes channels, so both recipes must be { strategy: 'channel' }, unbalanced, without HSR");
    }
  }
  checkDefaults(name, definition.defaults);
}

/** A deep copy, frozen: later changes to the caller's object do not reach the registry. */
function frozenCopy<T>(value: T): T {
  const copy = structuredClone(value);
  const freeze = (item: unknown): void => {
    if (item === null || typeof item !== 'object') return;
    Object.freeze(item);
    for (const child of Object.values(item)) freeze(child);
  };
  freeze(copy);
  return copy;
}

/**
 * Registers a pruning variant. Its strategies must be registered first (the built-ins are). Throws
 * a UsageError naming the variant for a bad definition, or for a name already taken unless
 * `{ override: true }`.
 */
export function registerVariant(definition: VariantDefinition, options: RegisterOptions = {}): void {
  checkDefinition(definition);
  if (variants.has(definition.name) && !options.override) {
    throw new UsageError(`a pruning variant named '${definition.name}' is already registered`, {
      hint: 'pick another name, or pass { override: true } to replace it',
    });
  }
  variants.set(definition.name, frozenCopy(definition));
}

/** The variant of that name; a UsageError with the closest registered name and the list if there is none. */
export function getVariant(name: string): Readonly<VariantDefinition> {
  const variant = variants.get(name);
  if (variant === undefined) {
    const names = [...variants.keys()];
    const guess = typeof name === 'string' ? closestName(name, names) : undefined;
    throw new UsageError(`unknown pruning variant '${String(name)}'${guess ? `; did you mean '${guess}'?` : ''}`, { hint: `registered: ${names.join(', ')}` });
  }
  return variant;
}

/** Whether a variant of that name is registered. */
export function hasVariant(name: string): boolean {
  return variants.has(name);
}

/** Registered variants in registration order: the built-ins first (as `--help` lists them), then contributed ones. */
export function listVariants(): Readonly<VariantDefinition>[] {
  return [...variants.values()];
}

/** Removes a variant (built-ins included); true if it was there. Mostly for tests. */
export function unregisterVariant(name: string): boolean {
  return variants.delete(name);
}

/** Names of the variants registered when the package loads, in the order `--help` lists them. */
export const BUILTIN_VARIANTS = ['deprune', 'deprune-b', 'deprune-bh', 'channel', 'unstructured', 'nm'] as const;
export type BuiltinVariant = (typeof BUILTIN_VARIANTS)[number];

const builtins: readonly (VariantDefinition & { name: BuiltinVariant })[] = [
  {
    name: 'deprune',
    description: 'DCP on DW (each channel keeps its best taps, unbalanced) + PCP on PW (columns per row tile, unbalanced)',
    dw: { strategy: 'dcp' },
    pw: { strategy: 'pcp', options: { balanced: false } },
  },
  {
    name: 'deprune-b',
    description: 'DEPrune + BWT: every DW channel (or group) keeps the same taps, every PW tile the same columns',
    dw: { strategy: 'dcp', balanced: true },
    pw: { strategy: 'pcp', balanced: true },
  },
  {
    name: 'deprune-bh',
    description: "DEPrune-B + HSR: kept counts moved to the latency staircase's step edges",
    dw: { strategy: 'dcp', balanced: true },
    pw: { strategy: 'pcp', balanced: true },
    hsr: true,
  },
  {
    name: 'channel',
    description: 'whole DW channels removed with their PW input columns (a physically smaller model)',
    dw: { strategy: 'channel' },
    pw: { strategy: 'channel' },
    removal: 'channel',
  },
  {
    name: 'unstructured',
    description: 'the lowest-scoring weights of each layer (runs dense)',
    dw: { strategy: 'unstructured' },
    pw: { strategy: 'unstructured' },
  },
  {
    name: 'nm',
    description: 'N:M (default 2:4) along DW taps and PW input channels (runs dense)',
    dw: { strategy: 'nm' },
    pw: { strategy: 'nm' },
  },
];
for (const definition of builtins) {
  checkDefinition(definition);
  variants.set(definition.name, frozenCopy(definition));
}
