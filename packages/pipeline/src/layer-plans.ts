/**
 * A variant's recipe carried out on layers: the strategy or BWT per layer, then HSR. `prune()`
 * runs it over a model's selected layers; `planVariantLayers` runs it over layers given directly
 * (the kernel bench times one DSConv block's DW and PW this way), so both read the same recipe
 * and no caller rebuilds a variant's plans by hand.
 */
import { UsageError } from '@deprune/errors';
import { balanceDw, balancePw } from '@deprune/bwt';
import { analyticStaircase, recalibrate, tableLatencyModel, type LatencyModel, type RecalibrateResult } from '@deprune/hsr';
import {
  DENSE_RECIPE,
  buildDwPlan,
  buildPwPlan,
  getVariant,
  maskLayer,
  recipeFixedRatio,
  validateLayer,
  validateScores,
  type LayerPlan,
  type PrunableLayer,
  type StrategyOptions,
  type VariantDefinition,
  type VariantLayerRecipe,
} from '@deprune/masks';
import { loadPruneConfig, resolvePruneConfig, type PruneConfig, type ResolvedPruneConfig } from './config';

/** Everything kept: the entry of a layer whose ratio is 0 (the runtime still learns about it). */
export function densePlan(layer: PrunableLayer): LayerPlan {
  if (layer.kind === 'dw') {
    const taps = Array.from({ length: layer.kernel[0] * layer.kernel[1] }, (_, tap) => tap);
    return buildDwPlan(layer, Array.from({ length: layer.channels }, () => taps), { strategy: 'dense', granularity: 'none' });
  }
  const columns = Array.from({ length: layer.inChannels }, (_, column) => column);
  return buildPwPlan(layer, [columns], { strategy: 'dense', granularity: 'none', tileRows: layer.outChannels });
}

/** The options the config supplies to a strategy it knows: PCP's row tile, the N:M pattern. */
function configOptions(name: string, config: ResolvedPruneConfig): StrategyOptions | undefined {
  if (name === 'pcp') return { tileRows: config.bwt.tileRows };
  if (name === 'nm') return { n: config.nm.n, m: config.nm.m };
  return undefined;
}

/** The recipe's options over the config's (undefined when neither has any, as a strategy without options expects). */
function recipeOptions(recipe: VariantLayerRecipe, config: ResolvedPruneConfig): StrategyOptions | undefined {
  const fromConfig = configOptions(recipe.strategy, config);
  return fromConfig === undefined && recipe.options === undefined ? undefined : { ...fromConfig, ...recipe.options };
}

/** The variant's plan for one layer (before HSR); `before` is the unbalanced plan BWT started from. */
export function planLayer(
  layer: PrunableLayer,
  ratio: number,
  scores: Float64Array,
  config: ResolvedPruneConfig,
  variant: Readonly<VariantDefinition>,
): { plan: LayerPlan; before?: LayerPlan } {
  const override = layer.kind === 'dw' ? config.strategy.dw : config.strategy.pw;
  if (override !== null) {
    const options = (layer.kind === 'dw' ? config.strategy.dwOptions : config.strategy.pwOptions) ?? configOptions(override, config);
    const nmRatio = override === 'nm' ? 1 - Number(options?.n ?? 2) / Number(options?.m ?? 4) : ratio;
    return { plan: maskLayer(layer, { strategy: override, ratio: nmRatio, scores, ...(options ? { options } : {}) }) };
  }
  const recipe = variant[layer.kind];
  if (recipe.strategy === DENSE_RECIPE) return { plan: densePlan(layer) };
  // An N:M recipe removes the pattern's share whatever the layer's ratio (0 still keeps it dense: the caller's check).
  const layerRatio = recipeFixedRatio(recipe, config.nm) ?? ratio;
  const options = recipeOptions(recipe, config);
  const unbalanced = (extra?: StrategyOptions) => {
    const merged = options === undefined && extra === undefined ? undefined : { ...options, ...extra };
    return maskLayer(layer, { strategy: recipe.strategy, ratio: layerRatio, scores, ...(merged ? { options: merged } : {}) });
  };
  if (recipe.balanced !== true) return { plan: unbalanced() };
  // BWT keeps the unbalanced strategy's budget, spread evenly (registration allows dcp / pcp only).
  const { tileRows, granularity, groupSize } = config.bwt;
  if (layer.kind === 'dw') return { plan: balanceDw(layer, layerRatio, scores, { granularity, groupSize }), before: unbalanced() };
  return { plan: balancePw(layer, layerRatio, scores, { tileRows }), before: unbalanced({ balanced: false }) };
}

/** The config's latency model: its measured table (the analytic staircase where the table has no entry), else the staircase. */
export function latencyModelOf(config: ResolvedPruneConfig): LatencyModel {
  const staircase = analyticStaircase({ step: config.hsr.step });
  return config.hsr.table ? tableLatencyModel(config.hsr.table, { fallback: staircase }) : staircase;
}

/** HSR over the plans, with the config's mode, step, floor and budget. */
export function recalibrateLayers(
  plans: readonly LayerPlan[],
  layers: readonly PrunableLayer[],
  scores: readonly Float64Array[],
  config: ResolvedPruneConfig,
  latencyModel: LatencyModel,
): RecalibrateResult {
  return recalibrate(plans, layers, scores, latencyModel, {
    mode: config.hsr.mode,
    step: config.hsr.step,
    minKeptFraction: config.hsr.minKeptFraction,
    ...(config.hsr.budgetUs === null ? {} : { budgetUs: config.hsr.budgetUs }),
  });
}

export interface VariantLayerPlans {
  /** One plan per layer, in the order given (after HSR when the variant turns it on). */
  plans: LayerPlan[];
  /** Per layer, the unbalanced plan BWT started from (layers of a balanced recipe; undefined otherwise). */
  before: (LayerPlan | undefined)[];
  /** HSR's result (moves, predicted latency) when the variant turns it on; undefined otherwise. */
  hsr?: RecalibrateResult;
  /** The config as resolved, defaults filled in. */
  config: ResolvedPruneConfig;
}

export interface PlanVariantOptions {
  /** HSR's latency model, replacing the config's (e.g. one measured for these very layers). */
  latencyModel?: LatencyModel;
}

/**
 * A variant's plans for layers given directly (no model): each layer at `dwRatio` / `pwRatio` of
 * the config (a ratio of 0 keeps it dense), through the variant's recipe, then HSR over all of
 * them when the variant turns it on. Pure, like `prune()`. `scores` has one array per layer (the
 * caller's importance, e.g. magnitude). A removal variant (`channel`) changes the model's shapes,
 * so it needs `prune()`: a UsageError here. Per-layer overrides, ignore lists and allocation are
 * model-level and not applied.
 */
export function planVariantLayers(
  layers: readonly PrunableLayer[],
  scores: readonly Float64Array[],
  config: PruneConfig,
  options: PlanVariantOptions = {},
): VariantLayerPlans {
  const resolved = resolvePruneConfig(loadPruneConfig(config, 'planVariantLayers config'));
  const variant = getVariant(resolved.variant);
  if (variant.removal !== undefined) {
    throw new UsageError(`variant '${variant.name}' removes channels from the model; planVariantLayers plans masking variants only`, { hint: 'use prune() on the model' });
  }
  if (!Array.isArray(layers) || !Array.isArray(scores) || layers.length !== scores.length) {
    throw new UsageError(`planVariantLayers needs one scores array per layer, got ${layers?.length} layers and ${scores?.length} scores`);
  }
  const plans: LayerPlan[] = [];
  const before: (LayerPlan | undefined)[] = [];
  layers.forEach((layer, index) => {
    validateLayer(layer);
    validateScores(layer, scores[index]);
    const ratio = layer.kind === 'dw' ? resolved.dwRatio : resolved.pwRatio;
    const planned = ratio === 0 ? { plan: densePlan(layer) } : planLayer(layer, ratio, scores[index], resolved, variant);
    plans.push(planned.plan);
    before.push(planned.before);
  });
  if (variant.hsr !== true) return { plans, before, config: resolved };
  const hsr = recalibrateLayers(plans, layers, scores, resolved, options.latencyModel ?? latencyModelOf(resolved));
  return { plans: [...hsr.plans], before, hsr, config: resolved };
}
