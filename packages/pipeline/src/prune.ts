/**
 * `prune(model, config)`: one call, a plain config, a pruned model + plan + report back.
 *
 * Importance is scored on EFFECTIVE weights (BN folded in, whether or not the file has it), the
 * mask is applied to the STORED weights: pruned weights become exactly 0, every kept weight stays
 * bit-identical (float32). The `channel` variant removes DW channels physically instead.
 */
import { DeprunError, ShapeError } from '@deprune/errors';
import {
  checkConvGroups,
  checkGraphStructure,
  convGemmParameters,
  effectiveConvWeights,
  findDsconvBlocks,
  indexGraph,
  inferShapes,
  listLayers,
  readFloatConstant,
  replaceConstants,
  serializeModel,
  type GraphIndex,
  type LayerInfo,
  type OnnxModel,
  type ShapeInference,
} from '@deprune/onnx';
import {
  DENSE_RECIPE,
  buildPwPlan,
  getScorer,
  getVariant,
  imbalance,
  keptWeightCount,
  maskLayer,
  planEntryToJson,
  recipeFixedRatio,
  variantUsesBwt,
  type DwLayer,
  type LayerPlan,
  type LayerPlanShape,
  type LayerStatistics,
  type PrunableLayer,
  type PwLayer,
  type VariantDefinition,
  type VariantLayerRecipe,
} from '@deprune/masks';
import { balanceReport, workPerUnit } from '@deprune/bwt';
import type { HsrMove } from '@deprune/hsr';
import { allocateRatios, normalizedSaliency } from './allocation';
import { channelRemovalEligibility, removeChannels } from './channel-removal';
import { densePlan, latencyModelOf, planLayer, recalibrateLayers } from './layer-plans';
import { ConfigError, allocationApplies, loadPruneConfig, resolvePruneConfig, type PruneConfig, type ResolvedPruneConfig } from './config';
import { PLAN_FORMAT, PLAN_VERSION, fnv1a32, layerInfoShape, type PlanRemoval, type PrunePlan } from './plan';
import { keptStats, type AllocationSummary, type HsrSummary, type LayerReport, type PruneReport, type PruneTotals } from './report';
import { selectLayers, type PruneTarget, type SkippedLayer } from './select';

export type PruneStage = 'shapes' | 'score' | 'hsr' | 'apply' | 'remove' | 'report';

export interface PruneProgress {
  stage: PruneStage;
  done: number;
  total: number;
  layer?: string;
}

export interface PruneOptions {
  /** Called as the work advances (the only side effect of prune()). */
  onProgress?: (event: PruneProgress) => void;
  /**
   * Calibration statistics of each layer's input, by layer (node) name, from `@deprune/calibrate`:
   * handed to the `importance` scorer (`activation` and `obs` need them). Computed outside so
   * this package stays pure (no forward passes here).
   */
  statistics?: ReadonlyMap<string, LayerStatistics>;
}

export interface PruneResult {
  model: OnnxModel;
  plan: PrunePlan;
  report: PruneReport;
}

/** One layer as pruned: its plan (with mask) and what the report needs. */
interface LayerOutcome {
  target: PruneTarget;
  layer: PrunableLayer;
  scores: Float64Array;
  plan: LayerPlan;
  /** The DCP / PCP plan BWT started from (deprune-b, deprune-bh). */
  before?: LayerPlan;
  hsr?: HsrMove;
  /** channel: weights of the layer in the output model. */
  keptWeightsAfter?: number;
}

function outputPixels(info: LayerInfo): number | undefined {
  const shape = info.outputShape;
  if (!shape || shape.length < 3) return undefined;
  const pixels = shape.slice(2).reduce((product, dim) => product * dim, 1);
  return pixels > 0 ? pixels : undefined;
}

/** The layer as `@deprune/masks` sees it, with its effective (BN-folded) weights. */
function prunableLayer(index: GraphIndex, target: PruneTarget): PrunableLayer {
  const { info } = target;
  const weights = effectiveConvWeights(index, info.name).weight.data;
  const pixels = outputPixels(info);
  const extra = pixels === undefined ? {} : { outputPixels: pixels };
  if (target.kind === 'dw') {
    return { kind: 'dw', name: info.name, channels: info.outChannels, kernel: [info.kernel[0], info.kernel[1]], weights, ...extra } satisfies DwLayer;
  }
  return { kind: 'pw', name: info.name, outChannels: info.outChannels, inChannels: info.inChannels, weights, ...extra } satisfies PwLayer;
}

/** max / mean kept work per unit of `unitSize` channels (DW) or rows (PW), full units only. */
function imbalanceAt(plan: LayerPlan, unitSize: number): number {
  const { work, lastIsPartial } = workPerUnit(plan, unitSize);
  return imbalance(lastIsPartial && work.length > 1 ? work.slice(0, -1) : work);
}

function balanceUnitSize(layer: PrunableLayer, config: ResolvedPruneConfig): number {
  if (layer.kind === 'dw') return config.bwt.granularity === 'channel' ? 1 : Math.min(layer.channels, config.bwt.groupSize);
  return Math.min(layer.outChannels, config.bwt.tileRows);
}

/** Shape inference, or a warning when the model's shapes cannot be settled without input shapes. */
function inferModelShapes(model: OnnxModel, config: ResolvedPruneConfig, warnings: string[]): ShapeInference | undefined {
  try {
    const inference = inferShapes(model, config.inputShapes ? { inputShapes: config.inputShapes } : {});
    return inference;
  } catch (cause) {
    // Shapes the user gave that do not fit are their error; missing ones only cost the MAC figures.
    if (config.inputShapes || !(cause instanceof ShapeError)) throw cause;
    warnings.push(`layer shapes unknown (${cause.message}); pruning goes on, but MACs are null and latency models see 1 output pixel per layer`);
    return undefined;
  }
}

const KIND_NAMES = { dw: 'DW', pw: 'PW' } as const;

/** What a recipe that fixes its kind's ratio does, for the warnings that say a ratio is ignored. */
function fixedRatioNote(recipe: VariantLayerRecipe, kind: 'dw' | 'pw' | 'both', config: ResolvedPruneConfig): string {
  const layers = kind === 'both' ? 'layer' : `${KIND_NAMES[kind]} layer`;
  if (recipe.strategy === DENSE_RECIPE) return `keeps every ${layers} dense`;
  return `${config.nm.n}:${config.nm.m} removes ${recipeFixedRatio(recipe, config.nm)} of each ${layers}`;
}

function configWarnings(given: PruneConfig, config: ResolvedPruneConfig, variant: Readonly<VariantDefinition>, warnings: string[]): void {
  const name = variant.name;
  // The ratios the recipes fix; `ratio` itself is replaced only when both do, the same way (nm).
  const recipeFixed = { dw: recipeFixedRatio(variant.dw, config.nm), pw: recipeFixedRatio(variant.pw, config.nm) };
  const sameRecipe = variant.dw.strategy === variant.pw.strategy && recipeFixed.dw !== undefined && recipeFixed.dw === recipeFixed.pw;
  // Per kind, a strategy override replaces the recipe and frees the kind's ratio again.
  const fixed = { dw: config.strategy.dw === null ? recipeFixed.dw : undefined, pw: config.strategy.pw === null ? recipeFixed.pw : undefined };
  const kindsNote = (kinds: readonly ('dw' | 'pw')[]) =>
    sameRecipe && kinds.length === 2 ? fixedRatioNote(variant.dw, 'both', config) : kinds.map((kind) => fixedRatioNote(variant[kind], sameRecipe ? 'both' : kind, config)).join(' and ');
  for (const key of ['ratio', 'dwRatio', 'pwRatio'] as const) {
    const value = given[key];
    if (value === undefined || Math.abs(value - config[key]) <= 1e-9) continue;
    const kinds = key === 'ratio' ? (['dw', 'pw'] as const) : ([key === 'dwRatio' ? 'dw' : 'pw'] as const);
    if (kinds.some((kind) => (key === 'ratio' ? recipeFixed : fixed)[kind] === undefined)) continue;
    warnings.push(`${key} ${value} is ignored: variant '${name}' ${kindsNote(kinds)}`);
  }
  for (const [pattern, override] of Object.entries(config.layers)) {
    if (override.ratio === undefined || override.ratio === 0) continue;
    const ignoredOn = (['dw', 'pw'] as const).filter((kind) => fixed[kind] !== undefined && Math.abs(override.ratio! - fixed[kind]!) > 1e-9);
    if (ignoredOn.length === 0) continue;
    const where = sameRecipe && ignoredOn.length === 2 ? `by variant '${name}'` : `on the ${ignoredOn.map((kind) => KIND_NAMES[kind]).join(' and ')} layers of variant '${name}'`;
    warnings.push(`layers['${pattern}'].ratio ${override.ratio} is ignored ${where} (only 0, dense, is honoured)`);
  }
  if (given.bwt && !variantUsesBwt(variant)) warnings.push(`config.bwt is ignored by variant '${name}'`);
  if (given.hsr && variant.hsr !== true) warnings.push(`config.hsr is ignored by variant '${name}'`);
  if (config.allocation.mode !== 'uniform' && !allocationApplies(name)) {
    warnings.push(`allocation '${config.allocation.mode}' is ignored by variant '${name}' (masking variants with a ratio only)`);
  }
  const usesNm = variant.dw.strategy === 'nm' || variant.pw.strategy === 'nm' || config.strategy.dw === 'nm' || config.strategy.pw === 'nm';
  if (given.nm && !usesNm) warnings.push(`config.nm is ignored by variant '${name}'`);
}

/**
 * Prunes a model. Pure: the input model is not modified (the result shares its untouched parts),
 * no file is read or written; `options.onProgress` is the only side effect.
 *
 * - Layers: every DW layer and the PW layers `pwScope` names (never squeeze-excitation convs),
 *   minus `ignore` and `layers[...].skip`, at `layers[...].ratio` or dwRatio / pwRatio.
 * - Masking variants write zeros into the stored weights; `channel` removes DW channels with their
 *   coupled producer rows, BN, SE and PW columns (`removeChannels`).
 * - Config errors are `ConfigError`s (BAD_CONFIG) naming the key.
 * - A malformed graph (undefined input, value assigned twice, cycle, Conv group that does not
 *   divide its channels) is an `InvalidGraphError` (INVALID_MODEL) naming the node.
 */
export function prune(model: OnnxModel, config: PruneConfig, options: PruneOptions = {}): PruneResult {
  const given = loadPruneConfig(config, 'prune config');
  const resolved = resolvePruneConfig(given);
  const variant = getVariant(resolved.variant);
  const warnings: string[] = [];
  configWarnings(given, resolved, variant, warnings);
  const emit = (stage: PruneStage, done: number, total: number, layer?: string) =>
    options.onProgress?.({ stage, done, total, ...(layer === undefined ? {} : { layer }) });

  emit('shapes', 0, 1);
  // A graph onnxruntime would refuse is refused here, naming the node, not pruned into a broken file.
  checkGraphStructure(model);
  const inference = inferModelShapes(model, resolved, warnings);
  checkConvGroups(model, inference?.shapes);
  const index = indexGraph(model);
  const infos = listLayers(model, inference);
  const blocks = findDsconvBlocks(model, infos);
  const selection = selectLayers(index, infos, blocks, resolved, warnings);
  emit('shapes', 1, 1);

  const outcome =
    variant.removal === 'channel'
      ? pruneChannels(model, index, selection.targets, resolved, emit, options.statistics)
      : pruneMasks(model, index, selection.targets, resolved, variant, emit, warnings, options.statistics);
  const skipped = [...selection.skipped, ...outcome.skipped];

  emit('report', 0, 1);
  const macsKnown = infos.every((info) => info.macs !== undefined);
  if (inference && !macsKnown) {
    const unknown = infos.filter((info) => info.macs === undefined).map((info) => info.name);
    warnings.push(`MACs unknown: shapes of ${unknown.length} layer(s) could not be inferred (first: '${unknown[0]}'); macsBefore/macsAfter are null`);
  }
  const macsBefore = inference && macsKnown ? infos.reduce((sum, info) => sum + (info.macs ?? 0), 0) : null;
  let macsAfter: number | null = null;
  if (macsBefore !== null) {
    if (variant.removal !== undefined) {
      macsAfter = smallerModelMacs(outcome.model, resolved, warnings);
    } else {
      macsAfter = macsBefore;
      for (const layer of outcome.layers) {
        const pixels = outputPixels(layer.target.info);
        macsAfter -= (layer.target.info.macs ?? 0) - keptWeightCount(layer.plan) * (pixels ?? 0);
      }
    }
  }
  const before = convGemmParameters(model);
  const after = convGemmParameters(outcome.model);
  const layerReports = outcome.layers.map((layer) => layerReport(layer, resolved, variant));
  const sumOf = (kind: 'dw' | 'pw', field: 'weights' | 'keptWeights') =>
    layerReports.filter((layer) => layer.kind === kind).reduce((sum, layer) => sum + layer[field], 0);
  const sparsity = (weights: number, kept: number) => (weights === 0 ? 0 : (weights - kept) / weights);
  const totals: PruneTotals = {
    paramsBefore: before.params,
    paramsAfter: after.params,
    nonzeroBefore: before.nonzero,
    nonzeroAfter: after.nonzero,
    dwLayers: layerReports.filter((layer) => layer.kind === 'dw').length,
    pwLayers: layerReports.filter((layer) => layer.kind === 'pw').length,
    dwSparsity: sparsity(sumOf('dw', 'weights'), sumOf('dw', 'keptWeights')),
    pwSparsity: sparsity(sumOf('pw', 'weights'), sumOf('pw', 'keptWeights')),
    dsconvSparsity: sparsity(sumOf('dw', 'weights') + sumOf('pw', 'weights'), sumOf('dw', 'keptWeights') + sumOf('pw', 'keptWeights')),
    macsBefore,
    macsAfter,
  };
  const report: PruneReport = {
    variant: resolved.variant,
    layers: layerReports,
    totals,
    ...(outcome.hsr ? { hsr: outcome.hsr } : {}),
    ...(outcome.allocation ? { allocation: outcome.allocation } : {}),
    skipped,
    warnings,
  };
  const inputBytes = serializeModel(model);
  const outputBytes = outcome.model === model ? inputBytes : serializeModel(outcome.model);
  const plan: PrunePlan = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    variant: resolved.variant,
    model: { source: model.source, hash: fnv1a32(inputBytes), bytes: inputBytes.length },
    output: { hash: fnv1a32(outputBytes), bytes: outputBytes.length },
    config: resolved,
    layers: outcome.layers.map((layer) => planEntryToJson(layer.plan)),
    physical: outcome.physical ?? null,
  };
  emit('report', 1, 1);
  return { model: outcome.model, plan, report };
}

interface Outcome {
  model: OnnxModel;
  layers: LayerOutcome[];
  skipped: SkippedLayer[];
  hsr?: HsrSummary;
  allocation?: AllocationSummary;
  physical?: PrunePlan['physical'];
}

type Emit = (stage: PruneStage, done: number, total: number, layer?: string) => void;

function scoreLayer(layer: PrunableLayer, config: ResolvedPruneConfig, statistics: PruneOptions['statistics']): Float64Array {
  // Scorers that rank groups (obs-greedy) need the PW tile the strategy will use.
  return getScorer(config.importance).score(layer, statistics?.get(layer.name), { tileRows: config.bwt.tileRows });
}

function pruneMasks(
  model: OnnxModel,
  index: GraphIndex,
  targets: readonly PruneTarget[],
  config: ResolvedPruneConfig,
  variant: Readonly<VariantDefinition>,
  emit: Emit,
  warnings: string[],
  statistics: PruneOptions['statistics'],
): Outcome {
  const layers: LayerOutcome[] = [];
  const skipped: SkippedLayer[] = [];
  const scored = targets.map((target, position) => {
    emit('score', position, targets.length, target.info.name);
    const layer = prunableLayer(index, target);
    return { target, layer, scores: scoreLayer(layer, config, statistics) };
  });
  emit('score', targets.length, targets.length);
  const allocated = allocate(scored, config, statistics, warnings);
  scored.forEach(({ target, layer, scores }, position) => {
    const ratio = allocated ? allocated.ratios[position] : target.ratio;
    if (ratio === 0) {
      layers.push({ target, layer, scores, plan: densePlan(layer) });
      return;
    }
    const { plan, before } = planLayer(layer, ratio, scores, config, variant);
    if (keptWeightCount(plan) === 0) {
      skipped.push({ name: layer.name, reason: `ratio ${ratio} would remove all ${plan.mask.length} weights of the layer` });
      return;
    }
    layers.push({ target, layer, scores, plan, ...(before ? { before } : {}) });
  });

  let hsr: HsrSummary | undefined;
  if (variant.hsr === true) {
    emit('hsr', 0, 1);
    const latencyModel = latencyModelOf(config);
    const result = recalibrateLayers(
      layers.map((layer) => layer.plan),
      layers.map((layer) => layer.layer),
      layers.map((layer) => layer.scores),
      config,
      latencyModel,
    );
    const moves = new Map(result.moves.map((move) => [move.layer, move]));
    layers.forEach((layer, position) => {
      layer.plan = result.plans[position];
      const move = moves.get(layer.layer.name);
      if (move) layer.hsr = move;
    });
    if (result.budgetMet === false) {
      warnings.push(
        `HSR latency budget ${config.hsr.budgetUs} us not met: predicted ${result.predictedLatencyUs.after} us with every balanced layer at its floor (hsr.minKeptFraction ${config.hsr.minKeptFraction})`,
      );
    }
    hsr = {
      mode: config.hsr.mode,
      latencyModel: latencyModel.name,
      budgetUs: config.hsr.budgetUs,
      budgetMet: result.budgetMet,
      predictedLatencyUs: { ...result.predictedLatencyUs },
      moves: result.moves.filter((move) => move.keptAfter !== move.keptBefore).length,
      // Without a table every layer is modelled (latencyModel says how); the list is for tables with gaps.
      unmeasured: config.hsr.table ? [...result.unmeasured] : [],
    };
    emit('hsr', 1, 1);
  }

  // Masks go onto the STORED weights: pruned ones become exactly +0, kept ones keep their bits.
  const replacements = new Map<string, { values: Float32Array }>();
  layers.forEach((layer, position) => {
    emit('apply', position, layers.length, layer.layer.name);
    if (layer.plan.sparsity === 0) return;
    const stored = readFloatConstant(index, layer.target.info.weight)!.data;
    const values = Float32Array.from(stored);
    const mask = layer.plan.mask;
    for (let weight = 0; weight < values.length; weight++) if (!mask[weight]) values[weight] = 0;
    replacements.set(layer.target.info.weight, { values });
  });
  emit('apply', layers.length, layers.length);
  const output = replacements.size > 0 ? replaceConstants(model, replacements) : model;
  return { model: output, layers, skipped, ...(hsr ? { hsr } : {}), ...(allocated ? { allocation: allocated.summary } : {}) };
}

/**
 * `allocation: 'saliency'`: each layer's ratio from one threshold on normalised OBS saliency,
 * removing together as many weights as the configured ratios would (allocation.ts). Layers with a
 * `layers[...]` ratio keep it. Undefined for 'uniform'.
 */
function allocate(
  scored: readonly { target: PruneTarget; layer: PrunableLayer; scores: Float64Array }[],
  config: ResolvedPruneConfig,
  statistics: PruneOptions['statistics'],
  warnings: string[],
): { ratios: number[]; summary: AllocationSummary } | undefined {
  if (config.allocation.mode === 'uniform') return undefined;
  const { budget, minRatio, maxRatio } = config.allocation;
  const inputs = scored.map(({ target, layer, scores }) => {
    const fixed = target.overridden || target.ratio === 0;
    if (fixed) return { name: layer.name, ratio: target.ratio, fixed, losses: new Float64Array(0) };
    // A weight saves its output pixels in MACs: one multiply-add per pixel (DW and PW alike).
    const pixels = outputPixels(target.info);
    if (budget === 'macs' && pixels === undefined) {
      throw new ConfigError(`allocation.budget 'macs' needs the output shape of layer '${layer.name}', which could not be inferred`, {
        key: 'allocation.budget',
        node: layer.name,
        hint: "give inputShapes (deprune prune --input-shape 1,3,H,W), or use allocation.budget 'weights'",
      });
    }
    // With importance 'obs' the layer's OBS scores are already there: no second factorisation.
    const obsScores = config.importance === 'obs' ? scores : undefined;
    const losses = normalizedSaliency(layer, statistics?.get(layer.name), obsScores);
    return { name: layer.name, ratio: target.ratio, fixed, losses, cost: budget === 'macs' ? pixels : 1 };
  });
  const result = allocateRatios(inputs, { minRatio, maxRatio });
  if (!result.budgetMet) {
    warnings.push(
      `allocation 'saliency' removes ${Math.round(result.allocated)} ${budget}, fewer than the ${Math.round(result.budget)} the ratios ask for: allocation.maxRatio ${maxRatio} caps every layer`,
    );
  }
  return {
    ratios: result.ratios,
    summary: {
      mode: config.allocation.mode,
      budget,
      budgetAmount: Math.round(result.budget),
      minRatio,
      maxRatio,
      threshold: result.threshold,
      ratios: Object.fromEntries(scored.map(({ layer }, position) => [layer.name, result.ratios[position]])),
    },
  };
}

function pruneChannels(
  model: OnnxModel,
  index: GraphIndex,
  targets: readonly PruneTarget[],
  config: ResolvedPruneConfig,
  emit: Emit,
  statistics: PruneOptions['statistics'],
): Outcome {
  const skipped: SkippedLayer[] = [];
  const byName = new Map(targets.map((target) => [target.info.name, target]));
  const pairs: { dw: PruneTarget; pw: PruneTarget }[] = [];
  const paired = new Set<string>();
  for (const target of targets) {
    if (target.kind !== 'dw') continue;
    const block = target.block;
    if (!block || block.dw !== target.info.name) {
      skipped.push({ name: target.info.name, reason: "not the DW of a DSConv block; variant 'channel' removes channels of DSConv blocks only" });
      continue;
    }
    const pw = byName.get(block.pw);
    if (!pw) {
      skipped.push({ name: target.info.name, reason: `its block's PW '${block.pw}' is not pruned (ignored, skipped or not prunable), and its input columns must follow the DW's channels` });
      continue;
    }
    const eligibility = channelRemovalEligibility(model, target.info.name);
    if (!eligibility.eligible) {
      skipped.push({ name: target.info.name, reason: `channel removal not possible: ${eligibility.reason ?? 'not eligible'}` });
      skipped.push({ name: pw.info.name, reason: `its block's DW '${target.info.name}' is not pruned` });
      paired.add(pw.info.name);
      continue;
    }
    pairs.push({ dw: target, pw });
    paired.add(pw.info.name);
  }
  for (const target of targets) {
    if (target.kind === 'pw' && !paired.has(target.info.name)) {
      const isBlockPw = target.block?.pw === target.info.name;
      skipped.push({
        name: target.info.name,
        reason: isBlockPw
          ? `its block's DW '${target.block!.dw}' is not pruned`
          : "variant 'channel' prunes a PW layer only by the input columns of its DSConv block's removed DW channels",
      });
    }
  }

  const layers: LayerOutcome[] = [];
  const removals: { dw: string; channels: number[] }[] = [];
  pairs.forEach(({ dw, pw }, position) => {
    emit('score', position, pairs.length, dw.info.name);
    const dwLayer = prunableLayer(index, dw) as DwLayer;
    const pwLayer = prunableLayer(index, pw) as PwLayer;
    const dwScores = scoreLayer(dwLayer, config, statistics);
    const pwScores = scoreLayer(pwLayer, config, statistics);
    if (dw.ratio === 0) {
      layers.push({ target: dw, layer: dwLayer, scores: dwScores, plan: densePlan(dwLayer) });
      layers.push({ target: pw, layer: pwLayer, scores: pwScores, plan: densePlan(pwLayer) });
      return;
    }
    const dwPlan = maskLayer(dwLayer, { strategy: 'channel', ratio: dw.ratio, scores: dwScores });
    const removed = dwPlan.removedChannels ?? [];
    if (removed.length >= dwLayer.channels) {
      skipped.push({ name: dw.info.name, reason: `ratio ${dw.ratio} would remove all ${dwLayer.channels} channels` });
      skipped.push({ name: pw.info.name, reason: `its block's DW '${dw.info.name}' is not pruned` });
      return;
    }
    const removedSet = new Set(removed);
    const keptColumns = Array.from({ length: pwLayer.inChannels }, (_, column) => column).filter((column) => !removedSet.has(column));
    const pwPlan = buildPwPlan(pwLayer, [keptColumns], { strategy: 'channel', granularity: 'structured', tileRows: pwLayer.outChannels, removedChannels: removed });
    layers.push({ target: dw, layer: dwLayer, scores: dwScores, plan: dwPlan });
    layers.push({ target: pw, layer: pwLayer, scores: pwScores, plan: pwPlan });
    if (removed.length > 0) removals.push({ dw: dw.info.name, channels: [...removed] });
  });
  emit('score', pairs.length, pairs.length);

  emit('remove', 0, 1);
  let output = model;
  let planRemovals: PlanRemoval[] = [];
  if (removals.length > 0) {
    const result = removeChannels(model, removals);
    output = result.model;
    planRemovals = result.removed.map((removal) => ({ dw: removal.dw, channels: [...removal.channels], touched: [...removal.touched] }));
    const refused = new Map(result.skipped.map((skip) => [skip.dw, skip.reason]));
    if (refused.size > 0) {
      const dropped = new Set<string>();
      for (const pair of pairs) {
        const reason = refused.get(pair.dw.info.name);
        if (reason === undefined) continue;
        skipped.push({ name: pair.dw.info.name, reason: `channel removal refused: ${reason}` });
        skipped.push({ name: pair.pw.info.name, reason: `its block's DW '${pair.dw.info.name}' is not pruned` });
        dropped.add(pair.dw.info.name).add(pair.pw.info.name);
      }
      for (let position = layers.length - 1; position >= 0; position--) if (dropped.has(layers[position].layer.name)) layers.splice(position, 1);
    }
  }
  emit('remove', 1, 1);

  // What every plan layer looks like in the smaller model (the runtime validates against this).
  const outputInfos = new Map(listLayers(output).map((info) => [info.name, info]));
  const shapeEntries: [string, LayerPlanShape][] = [];
  for (const layer of layers) {
    const info = outputInfos.get(layer.layer.name);
    if (!info) throw new DeprunError('INTERNAL', `layer '${layer.layer.name}' is missing from the model after channel removal`);
    shapeEntries.push([info.name, layerInfoShape(info)]);
    layer.keptWeightsAfter = info.kind === 'dw' ? info.outChannels * info.kernel[0] * info.kernel[1] : info.outChannels * info.inChannels;
  }
  // Graph order, as in the masking variants.
  const order = new Map(targets.map((target, position) => [target.info.name, position]));
  layers.sort((a, b) => order.get(a.layer.name)! - order.get(b.layer.name)!);
  // fromEntries keeps every node name an own key (a node named '__proto__' included).
  return { model: output, layers, skipped, physical: { removals: planRemovals, shapes: Object.fromEntries(shapeEntries) } };
}

function smallerModelMacs(model: OnnxModel, config: ResolvedPruneConfig, warnings: string[]): number | null {
  try {
    const inference = inferShapes(model, config.inputShapes ? { inputShapes: config.inputShapes } : {});
    const infos = listLayers(model, inference);
    if (infos.some((info) => info.macs === undefined)) {
      warnings.push('MACs of the channel-pruned model unknown: some layer shapes could not be inferred');
      return null;
    }
    return infos.reduce((sum, info) => sum + (info.macs ?? 0), 0);
  } catch (cause) {
    warnings.push(`MACs of the channel-pruned model unknown: ${(cause as Error).message}`);
    return null;
  }
}

function layerReport(outcome: LayerOutcome, config: ResolvedPruneConfig, variant: Readonly<VariantDefinition>): LayerReport {
  const { plan, layer, target } = outcome;
  const weights = plan.mask.length;
  const keptWeights = outcome.keptWeightsAfter ?? keptWeightCount(plan);
  let balance: Pick<LayerReport, 'imbalanceBefore' | 'imbalanceAfter'> = {};
  if (variant.removal === undefined) {
    if (outcome.before) {
      const report = balanceReport(outcome.before, plan);
      balance = { imbalanceBefore: report.imbalanceBefore, imbalanceAfter: report.imbalanceAfter };
    } else {
      balance = { imbalanceAfter: imbalanceAt(plan, balanceUnitSize(layer, config)) };
    }
  }
  const move = outcome.hsr;
  const pixels = outputPixels(target.info);
  const macsKnown = target.info.macs !== undefined && pixels !== undefined;
  return {
    name: plan.name,
    kind: plan.kind,
    strategy: plan.strategy,
    granularity: plan.granularity,
    weights,
    keptWeights,
    sparsity: weights === 0 ? 0 : (weights - keptWeights) / weights,
    kept: keptStats(plan.kept),
    ...balance,
    ...(move
      ? { hsr: { keptBefore: move.keptBefore, keptAfter: move.keptAfter, step: move.step, latencyBeforeUs: move.latencyBeforeUs, latencyAfterUs: move.latencyAfterUs } }
      : {}),
    macsBefore: macsKnown ? target.info.macs! : null,
    macsAfter: macsKnown ? keptWeights * pixels! : null,
  };
}
