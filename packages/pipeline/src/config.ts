/**
 * The prune config: a plain object (Torch-Pruning style: a variant, a ratio, an importance
 * criterion, ignored layers), loadable from JSON. `loadPruneConfig` checks an untrusted object
 * (unknown keys, wrong types, ratios outside [0, 1), unknown names) and names the key and the
 * file on every error; `resolvePruneConfig` fills in the defaults, giving the object the plan
 * file records.
 */
import { DeprunError, closestName, type DeprunErrorDetails } from '@deprune/errors';
import { DEFAULT_GROUP_SIZE } from '@deprune/bwt';
import {
  BUILTIN_VARIANTS,
  DEFAULT_TILE_ROWS,
  getScorer,
  getStrategy,
  getVariant,
  listScorers,
  listStrategies,
  listVariants,
  recipeFixedRatio,
  variantTakesRatio,
  type BuiltinVariant,
  type StrategyOptions,
} from '@deprune/masks';
import { validateLatencyTable, type HsrMode, type LatencyTable } from '@deprune/hsr';

/**
 * The built-in variants (`@deprune/masks`' BUILTIN_VARIANTS). Variants are registered recipes:
 * `listVariants()` of `@deprune/masks` has the contributed ones too, and `prune()` reads them.
 */
export const PRUNE_VARIANTS = BUILTIN_VARIANTS;
/** A registered variant's name: a built-in one, or any name given to `registerVariant`. */
export type PruneVariant = BuiltinVariant | (string & {});

/** Per-layer override; the key is an ONNX node name or a glob pattern (`*`, `?`). */
export interface LayerOverride {
  /** Ratio for this layer, replacing dwRatio / pwRatio. 0 keeps the layer dense (it stays in the plan). */
  ratio?: number;
  /** Leave the layer out of pruning entirely (it is listed in the report's `skipped`). */
  skip?: boolean;
}

export interface BwtConfig {
  /**
   * DW balancing unit: 'channel' (default: every channel keeps m taps, the unit of work of the
   * runtime's direct sparse DW kernel, dwSparse) or 'group' (G channels keep n taps in all: one DR
   * sub-GEMM, method.md section 1, the dwDiagonal kernel's unit).
   */
  granularity?: 'group' | 'channel';
  /** G, channels per DW group (default 32, clamped to C). */
  groupSize?: number;
  /** T, PW output rows per tile (default 4, the wasm GEMM tile; clamped to Cout). Also PCP's tile in the plain `deprune` variant. */
  tileRows?: number;
}

export interface HsrConfig {
  /** 'recover' (default): weights come back at no modelled latency cost; 'latency': meet budgetUs. */
  mode?: HsrMode;
  /** Chunk size t of the analytic staircase (default 4), used for layers a table lacks. */
  step?: number;
  /** Latency budget in microseconds over the balanced layers; required in 'latency' mode. */
  budgetUs?: number;
  /** Measured latency table from the GPU profiler (`@deprune/hsr`'s LatencyTable). */
  table?: LatencyTable;
  /** 'latency' mode never steps a unit below ceil(fraction x capacity) kept. Default 0.1: no layer is emptied. */
  minKeptFraction?: number;
}

export type AllocationMode = 'uniform' | 'saliency';
export type AllocationBudget = 'weights' | 'macs';

export interface AllocationConfig {
  /**
   * 'uniform' (default): every layer at its ratio. 'saliency': the layers without a ratio of their
   * own share the weights those ratios would remove, each pruned up to one threshold on the
   * normalised OBS saliency (allocation.ts); needs calibration statistics. Masking variants only.
   */
  mode?: AllocationMode;
  /**
   * What the allocation keeps equal to the uniform ratios': 'weights' (default: the same sparsity)
   * or 'macs' (the same MACs removed, so about the same speedup; needs layer shapes).
   */
  budget?: AllocationBudget;
  /** Lowest ratio 'saliency' gives a layer (default 0). */
  minRatio?: number;
  /** Highest ratio 'saliency' gives a layer (default 0.8: no layer loses almost everything). */
  maxRatio?: number;
}

/**
 * The allocations by one name, as the CLI's and the bench's `--allocation` take them:
 * `saliency` keeps the uniform ratios' sparsity, `saliency-macs` their MACs removed.
 */
export const ALLOCATION_PRESETS = {
  uniform: { mode: 'uniform' },
  saliency: { mode: 'saliency', budget: 'weights' },
  'saliency-macs': { mode: 'saliency', budget: 'macs' },
} as const satisfies Record<string, AllocationConfig>;
export type AllocationPreset = keyof typeof ALLOCATION_PRESETS;

/**
 * Whether a variant honours `allocation`: one that removes channels, or whose recipe fixes a kind's
 * ratio (an N:M pattern, dense layers), has no free ratio per layer to spread.
 */
export function allocationApplies(variant: PruneVariant): boolean {
  return variantTakesRatio(getVariant(variant));
}

export interface NmConfig {
  n: number;
  m: number;
}

export interface StrategyOverride {
  /** Any registered strategy name for DW layers; overrides the variant's choice. */
  dw?: string;
  /** Any registered strategy name for PW layers; overrides the variant's choice. */
  pw?: string;
  /** Options handed to the DW strategy's mask(). */
  dwOptions?: StrategyOptions;
  /** Options handed to the PW strategy's mask(). */
  pwOptions?: StrategyOptions;
}

/** What `prune()` takes. Every field but `variant` is optional. */
export interface PruneConfig {
  /** A registered variant (`listVariants()` of `@deprune/masks`): a built-in or one given to `registerVariant`. */
  variant: PruneVariant;
  /** Global default ratio (fraction of weights removed) for DW and PW layers, in [0, 1). Default 0.5. */
  ratio?: number;
  dwRatio?: number;
  pwRatio?: number;
  /** Scorer name in the `@deprune/masks` registry (default 'magnitude'), applied to effective weights. */
  importance?: string;
  /** Per-layer overrides by node name or glob; the first matching key (insertion order) wins. */
  layers?: Record<string, LayerOverride>;
  /** Node names or glob patterns never pruned. */
  ignore?: string[];
  /** 'all' (default): every PW layer except squeeze-excitation convs; 'blocks': only the PW of DSConv blocks. */
  pwScope?: 'all' | 'blocks';
  bwt?: BwtConfig;
  hsr?: HsrConfig;
  /** N:M pattern of `nm` recipes (default: the variant's `defaults.nm`, else 2:4). */
  nm?: NmConfig;
  /** How the ratio is spread over the layers (default uniform). */
  allocation?: AllocationConfig;
  /** Advanced: registered strategy names that replace the variant's per-kind choice (the contributor path). */
  strategy?: StrategyOverride;
  /** Concrete input shapes by graph input name ('*' for a single-input model), for layer shapes and MACs. */
  inputShapes?: Record<string, number[]>;
}

/** The config with every default filled in, as recorded in the plan file. Absent values are null. */
export interface ResolvedPruneConfig {
  variant: PruneVariant;
  ratio: number;
  dwRatio: number;
  pwRatio: number;
  importance: string;
  layers: Record<string, LayerOverride>;
  ignore: string[];
  pwScope: 'all' | 'blocks';
  bwt: { granularity: 'group' | 'channel'; groupSize: number; tileRows: number };
  hsr: { mode: HsrMode; step: number; budgetUs: number | null; table: LatencyTable | null; minKeptFraction: number };
  nm: NmConfig;
  allocation: { mode: AllocationMode; budget: AllocationBudget; minRatio: number; maxRatio: number };
  strategy: { dw: string | null; pw: string | null; dwOptions: StrategyOptions | null; pwOptions: StrategyOptions | null };
  inputShapes: Record<string, number[]> | null;
}

export const DEFAULT_RATIO = 0.5;
/** BWT's DW group and PCP's row tile: the defaults of the packages that own them. */
export { DEFAULT_GROUP_SIZE, DEFAULT_TILE_ROWS };
export const DEFAULT_HSR_STEP = 4;
export const DEFAULT_MIN_KEPT_FRACTION = 0.1;
export const DEFAULT_ALLOCATION_MAX_RATIO = 0.8;

/** A bad prune config value: code BAD_CONFIG (exit 2), naming the key and the file. */
export class ConfigError extends DeprunError {
  /** The offending key path, e.g. `layers['features.1.conv.0.0'].ratio`. */
  readonly key?: string;

  constructor(message: string, details: DeprunErrorDetails & { key?: string } = {}) {
    super('BAD_CONFIG', message, details);
    this.key = details.key;
  }
}

const TOP_KEYS = [
  'variant', 'ratio', 'dwRatio', 'pwRatio', 'importance', 'layers', 'ignore', 'pwScope', 'bwt', 'hsr', 'nm', 'allocation', 'strategy', 'inputShapes',
] as const;
const LAYER_KEYS = ['ratio', 'skip'] as const;
const BWT_KEYS = ['granularity', 'groupSize', 'tileRows'] as const;
const HSR_KEYS = ['mode', 'step', 'budgetUs', 'table', 'minKeptFraction'] as const;
const NM_KEYS = ['n', 'm'] as const;
const ALLOCATION_KEYS = ['mode', 'budget', 'minRatio', 'maxRatio'] as const;
const STRATEGY_KEYS = ['dw', 'pw', 'dwOptions', 'pwOptions'] as const;

/**
 * How deeply objects and arrays may nest in a config. A real config is at most 6 deep (a latency
 * table's `hsr.table.layers[name].kept`); copying and serialising a value recurses, so a file
 * nested thousands deep ran out of stack ("Maximum call stack size exceeded", exit 1).
 */
export const MAX_CONFIG_DEPTH = 32;

/** The key path of the first value nested deeper than `limit` (walked without recursion), or undefined. */
function tooDeepAt(root: unknown, limit: number): string | undefined {
  const stack: { value: unknown; depth: number; key: string }[] = [{ value: root, depth: 1, key: '' }];
  while (stack.length > 0) {
    const { value, depth, key } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return key;
    const entries = Array.isArray(value) ? value.map((item, index) => [`${key}[${index}]`, item] as const) : Object.entries(value).map(([name, item]) => [childKey(key, name), item] as const);
    for (const [childPath, item] of entries) if (item !== null && typeof item === 'object') stack.push({ value: item, depth: depth + 1, key: childPath });
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** `layers['a.b']` style path segment for keys that are not identifiers. */
function childKey(parent: string, key: string): string {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return parent === '' ? segment.replace(/^\./, '') : `${parent}${segment}`;
}

class Checker {
  constructor(private readonly source: string) {}

  fail(key: string, message: string, hint?: string): never {
    throw new ConfigError(`config key '${key}' ${message}`, { file: this.source, key, ...(hint ? { hint } : {}) });
  }

  object(key: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
    if (!isPlainObject(value)) this.fail(key, `must be an object, got ${describe(value)}`);
    for (const name of Object.keys(value)) {
      if (!allowed.includes(name)) {
        const suggestion = closestName(name, allowed);
        const full = key === '' ? name : childKey(key, name);
        throw new ConfigError(`unknown config key '${full}'${suggestion ? `; did you mean '${suggestion}'?` : ''}`, {
          file: this.source,
          key: full,
          hint: `allowed keys${key === '' ? '' : ` in '${key}'`}: ${allowed.join(', ')}`,
        });
      }
    }
    return value;
  }

  ratio(key: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, `must be a number in [0, 1), got ${describe(value)}`);
    if (value < 0 || value >= 1) {
      this.fail(key, `must be in [0, 1), got ${value}`, value >= 1 ? 'a ratio is the fraction of weights removed; 1 would remove them all' : undefined);
    }
    return value;
  }

  integer(key: string, value: unknown, min: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(key, `must be an integer >= ${min}, got ${describe(value)}`);
    return value;
  }

  finiteNonNegative(key: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(key, `must be a finite number >= 0, got ${describe(value)}`);
    return value;
  }

  oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      const suggestion = typeof value === 'string' ? closestName(value, allowed) : undefined;
      this.fail(key, `must be one of ${allowed.map((name) => `'${name}'`).join(', ')}, got ${describe(value)}${suggestion ? `; did you mean '${suggestion}'?` : ''}`);
    }
    return value as T;
  }

  boolean(key: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(key, `must be true or false, got ${describe(value)}`);
    return value;
  }

  nonEmptyString(key: string, value: unknown): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(key, `must be a non-empty string, got ${describe(value)}`);
    return value;
  }
}

/**
 * Validates a parsed JSON object (or a config built in code) and returns a clean copy typed as
 * `PruneConfig`. `source` names the file in error messages (default '<config>'). Every error is a
 * `ConfigError` (code BAD_CONFIG, exit 2) naming the key: unknown keys, wrong types, ratios outside
 * [0, 1), unknown variant / strategy / scorer names, a latency table that does not parse.
 * Strategy and scorer names are looked up in the registries as they are at call time, so register
 * contributed ones first.
 */
export function loadPruneConfig(json: unknown, source = '<config>'): PruneConfig {
  const check: Checker = new Checker(source);
  if (!isPlainObject(json)) {
    throw new ConfigError(`a prune config must be a JSON object, got ${describe(json)}`, { file: source, hint: 'e.g. { "variant": "deprune-bh", "ratio": 0.5 }' });
  }
  const deep = tooDeepAt(json, MAX_CONFIG_DEPTH);
  if (deep !== undefined) check.fail(deep, `nests objects or arrays more than ${MAX_CONFIG_DEPTH} deep`, 'a prune config is a few levels deep; check the file');
  const raw = check.object('', json, TOP_KEYS);
  // The registry as it is now: a variant registered before this call is as valid as a built-in.
  const variantNames = listVariants().map((variant) => variant.name);
  if (raw.variant === undefined) check.fail('variant', `is required (one of ${variantNames.join(', ')})`);
  const config: PruneConfig = { variant: check.oneOf('variant', raw.variant, variantNames) };
  for (const key of ['ratio', 'dwRatio', 'pwRatio'] as const) {
    if (raw[key] !== undefined) config[key] = check.ratio(key, raw[key]);
  }
  if (raw.importance !== undefined) {
    const name = check.nonEmptyString('importance', raw.importance);
    if (!listScorers().some((scorer) => scorer.name === name)) {
      check.fail('importance', `names no registered scorer: '${name}'`, `registered: ${listScorers().map((scorer) => scorer.name).join(', ')}`);
    }
    getScorer(name);
    config.importance = name;
  }
  if (raw.layers !== undefined) {
    const layers = check.object('layers', raw.layers, Object.keys(isPlainObject(raw.layers) ? raw.layers : {}));
    const clean: [string, LayerOverride][] = [];
    for (const [pattern, value] of Object.entries(layers)) {
      const key = childKey('layers', pattern);
      if (pattern.trim() === '') check.fail(key, 'is an empty layer name or pattern');
      const entry = check.object(key, value, LAYER_KEYS);
      const override: LayerOverride = {};
      if (entry.ratio !== undefined) override.ratio = check.ratio(childKey(key, 'ratio'), entry.ratio);
      if (entry.skip !== undefined) override.skip = check.boolean(childKey(key, 'skip'), entry.skip);
      clean.push([pattern, override]);
    }
    // fromEntries defines own properties: a node named '__proto__' stays a key, not a prototype.
    config.layers = Object.fromEntries(clean);
  }
  if (raw.ignore !== undefined) {
    if (!Array.isArray(raw.ignore)) check.fail('ignore', `must be an array of node names or glob patterns, got ${describe(raw.ignore)}`);
    config.ignore = raw.ignore.map((pattern, index) => check.nonEmptyString(`ignore[${index}]`, pattern));
  }
  if (raw.pwScope !== undefined) config.pwScope = check.oneOf('pwScope', raw.pwScope, ['all', 'blocks'] as const);
  if (raw.bwt !== undefined) {
    const bwt = check.object('bwt', raw.bwt, BWT_KEYS);
    config.bwt = {};
    if (bwt.granularity !== undefined) config.bwt.granularity = check.oneOf('bwt.granularity', bwt.granularity, ['group', 'channel'] as const);
    if (bwt.groupSize !== undefined) config.bwt.groupSize = check.integer('bwt.groupSize', bwt.groupSize, 1);
    if (bwt.tileRows !== undefined) config.bwt.tileRows = check.integer('bwt.tileRows', bwt.tileRows, 1);
  }
  if (raw.hsr !== undefined) {
    const hsr = check.object('hsr', raw.hsr, HSR_KEYS);
    config.hsr = {};
    if (hsr.mode !== undefined) config.hsr.mode = check.oneOf('hsr.mode', hsr.mode, ['recover', 'latency'] as const);
    if (hsr.step !== undefined) config.hsr.step = check.integer('hsr.step', hsr.step, 1);
    if (hsr.budgetUs !== undefined) config.hsr.budgetUs = check.finiteNonNegative('hsr.budgetUs', hsr.budgetUs);
    if (hsr.minKeptFraction !== undefined) {
      const fraction = check.finiteNonNegative('hsr.minKeptFraction', hsr.minKeptFraction);
      if (fraction > 1) check.fail('hsr.minKeptFraction', `must be in [0, 1], got ${fraction}`);
      config.hsr.minKeptFraction = fraction;
    }
    if (hsr.table !== undefined) {
      try {
        validateLatencyTable(hsr.table as LatencyTable);
      } catch (cause) {
        check.fail('hsr.table', `is not a valid latency table: ${(cause as Error).message}`);
      }
      config.hsr.table = structuredClone(hsr.table) as LatencyTable;
    }
    if (config.hsr.mode === 'latency' && config.hsr.budgetUs === undefined) {
      check.fail('hsr.budgetUs', "is required when hsr.mode is 'latency'", 'give the latency budget in microseconds');
    }
  }
  if (raw.nm !== undefined) {
    const nm = check.object('nm', raw.nm, NM_KEYS);
    if (nm.n === undefined || nm.m === undefined) check.fail('nm', 'needs both n and m, e.g. { "n": 2, "m": 4 }');
    const n = check.integer('nm.n', nm.n, 1);
    const m = check.integer('nm.m', nm.m, 1);
    if (n > m) check.fail('nm', `needs n <= m, got ${n}:${m}`);
    config.nm = { n, m };
  }
  if (raw.allocation !== undefined) {
    const allocation = check.object('allocation', raw.allocation, ALLOCATION_KEYS);
    config.allocation = {};
    if (allocation.mode !== undefined) config.allocation.mode = check.oneOf('allocation.mode', allocation.mode, ['uniform', 'saliency'] as const);
    if (allocation.budget !== undefined) config.allocation.budget = check.oneOf('allocation.budget', allocation.budget, ['weights', 'macs'] as const);
    if (allocation.minRatio !== undefined) config.allocation.minRatio = check.ratio('allocation.minRatio', allocation.minRatio);
    if (allocation.maxRatio !== undefined) config.allocation.maxRatio = check.ratio('allocation.maxRatio', allocation.maxRatio);
    const min = config.allocation.minRatio ?? 0;
    const max = config.allocation.maxRatio ?? DEFAULT_ALLOCATION_MAX_RATIO;
    if (min > max) check.fail('allocation', `needs minRatio <= maxRatio, got ${min} > ${max}`);
  }
  if (raw.strategy !== undefined) {
    const strategy = check.object('strategy', raw.strategy, STRATEGY_KEYS);
    config.strategy = {};
    for (const kind of ['dw', 'pw'] as const) {
      if (strategy[kind] === undefined) continue;
      const key = `strategy.${kind}`;
      const name = check.nonEmptyString(key, strategy[kind]);
      if (!listStrategies().some((candidate) => candidate.name === name)) {
        check.fail(key, `names no registered strategy: '${name}'`, `registered: ${listStrategies().map((candidate) => candidate.name).join(', ')}`);
      }
      if (!getStrategy(name).appliesTo.includes(kind)) {
        check.fail(key, `names strategy '${name}', which applies to ${getStrategy(name).appliesTo.join(', ')} layers, not ${kind}`);
      }
      config.strategy[kind] = name;
    }
    for (const key of ['dwOptions', 'pwOptions'] as const) {
      if (strategy[key] === undefined) continue;
      if (!isPlainObject(strategy[key])) check.fail(`strategy.${key}`, `must be an object, got ${describe(strategy[key])}`);
      config.strategy[key] = structuredClone(strategy[key]) as StrategyOptions;
    }
    if (getVariant(config.variant).removal !== undefined && (config.strategy.dw !== undefined || config.strategy.pw !== undefined)) {
      check.fail(
        'strategy',
        `cannot be combined with variant '${config.variant}'`,
        `'${config.variant}' removes whole DW channels and the coupled PW columns; strategy overrides apply to the masking variants`,
      );
    }
  }
  if (raw.inputShapes !== undefined) {
    const shapes = check.object('inputShapes', raw.inputShapes, Object.keys(isPlainObject(raw.inputShapes) ? raw.inputShapes : {}));
    const clean: [string, number[]][] = [];
    for (const [name, dims] of Object.entries(shapes)) {
      const key = childKey('inputShapes', name);
      if (!Array.isArray(dims) || dims.length === 0) check.fail(key, `must be an array of positive integers, got ${describe(dims)}`);
      clean.push([name, dims.map((dim, index) => check.integer(`${key}[${index}]`, dim, 1))]);
    }
    config.inputShapes = Object.fromEntries(clean);
  }
  return config;
}

/**
 * Fills every default, the variant's own (its `defaults`) before the general ones: ratio 0.5,
 * dwRatio/pwRatio from ratio, importance 'magnitude', pwScope 'all', BWT channel granularity, groupSize 32, tileRows DEFAULT_TILE_ROWS (4), HSR
 * recover/step 4, N:M 2:4, allocation uniform (weights budget, bounds 0..0.8). A kind whose recipe
 * fixes its ratio gets that ratio (N:M: 1 - n/m; dense: 0) unless `strategy` replaces the recipe;
 * when both recipes fix the same ratio (the `nm` variant), `ratio` is it too. Does not validate:
 * pass the config through `loadPruneConfig` first when it is not trusted (prune() does).
 */
export function resolvePruneConfig(config: PruneConfig): ResolvedPruneConfig {
  const variant = getVariant(config.variant);
  const defaults = variant.defaults ?? {};
  const nm = { n: config.nm?.n ?? defaults.nm?.n ?? 2, m: config.nm?.m ?? defaults.nm?.m ?? 4 };
  const recipeDw = recipeFixedRatio(variant.dw, nm);
  const recipePw = recipeFixedRatio(variant.pw, nm);
  const ratio = recipeDw !== undefined && recipeDw === recipePw ? recipeDw : (config.ratio ?? defaults.ratio ?? DEFAULT_RATIO);
  // A strategy override replaces the kind's recipe, and with it the ratio the recipe fixed.
  const fixedDw = config.strategy?.dw === undefined ? recipeDw : undefined;
  const fixedPw = config.strategy?.pw === undefined ? recipePw : undefined;
  const layers: Record<string, LayerOverride> = Object.fromEntries(
    Object.entries(config.layers ?? {}).map(([pattern, override]) => [
      pattern,
      {
        ...(override.ratio === undefined ? {} : { ratio: override.ratio }),
        ...(override.skip === undefined ? {} : { skip: override.skip }),
      },
    ]),
  );
  return {
    variant: config.variant,
    ratio,
    dwRatio: fixedDw ?? config.dwRatio ?? ratio,
    pwRatio: fixedPw ?? config.pwRatio ?? ratio,
    importance: config.importance ?? 'magnitude',
    layers,
    ignore: [...(config.ignore ?? [])],
    pwScope: config.pwScope ?? 'all',
    bwt: {
      granularity: config.bwt?.granularity ?? defaults.bwt?.granularity ?? 'channel',
      groupSize: config.bwt?.groupSize ?? defaults.bwt?.groupSize ?? DEFAULT_GROUP_SIZE,
      tileRows: config.bwt?.tileRows ?? defaults.bwt?.tileRows ?? DEFAULT_TILE_ROWS,
    },
    hsr: {
      mode: config.hsr?.mode ?? 'recover',
      step: config.hsr?.step ?? DEFAULT_HSR_STEP,
      budgetUs: config.hsr?.budgetUs ?? null,
      table: config.hsr?.table ?? null,
      minKeptFraction: config.hsr?.minKeptFraction ?? DEFAULT_MIN_KEPT_FRACTION,
    },
    nm,
    allocation: {
      mode: config.allocation?.mode ?? 'uniform',
      budget: config.allocation?.budget ?? 'weights',
      minRatio: config.allocation?.minRatio ?? 0,
      maxRatio: config.allocation?.maxRatio ?? DEFAULT_ALLOCATION_MAX_RATIO,
    },
    strategy: {
      dw: config.strategy?.dw ?? null,
      pw: config.strategy?.pw ?? null,
      dwOptions: config.strategy?.dwOptions ?? null,
      pwOptions: config.strategy?.pwOptions ?? null,
    },
    inputShapes: config.inputShapes ? Object.fromEntries(Object.entries(config.inputShapes).map(([name, dims]) => [name, [...dims]])) : null,
  };
}
