import { ShapeError, UsageError } from '@deprune/errors';
import {
  buildDwPlan,
  buildPwPlan,
  clamp,
  roundCount,
  segmentNorms,
  validatePlan,
  validateScores,
  type LayerPlan,
  type PrunableLayer,
} from '@deprune/masks';
import { layerShapeOf, unitsOf } from './shape';
import type { HsrMove, HsrUnit, LatencyModel, LayerShape, RecalibrateOptions, RecalibrateResult } from './types';

/**
 * One balanced unit (DW group or channel, PW tile) prepared for HSR: its candidate elements in
 * the order they are kept. The order puts the unit's current (BWT) kept set first, best score
 * first, then the rest, best first; keeping the first e elements therefore only ever grows or
 * shrinks the BWT set (masks stay nested), and equals "top-e scores" when the scores are those
 * BWT used.
 */
interface PreparedUnit {
  /** DW: flat weight indices; PW: column indices. */
  order: number[];
  /** prefix[e] = importance of the first e elements of `order`. */
  prefix: Float64Array;
  /** Kept count now. */
  current: number;
  /** Channels in this DW group (0 for PW tiles), to scale partial groups. */
  size: number;
}

interface PreparedLayer {
  index: number;
  plan: LayerPlan;
  layer: PrunableLayer;
  shape: LayerShape;
  unit: HsrUnit;
  /** Channels per group (DW) or 0 (PW). */
  groupSize: number;
  full: number;
  taps: number;
  units: PreparedUnit[];
  /** Kept count of a full unit under BWT. */
  keptBefore: number;
  /** curve[n] = modelled latency at n kept per full unit, n = 0..full. */
  curve: Float64Array;
  totalImportance: number;
  step: number;
  measured: boolean;
  latencySource: string;
}

const BALANCED = new Set(['group', 'channel', 'tile']);

function byScoreDescending(importance: (element: number) => number) {
  return (a: number, b: number): number => importance(b) - importance(a) || a - b;
}

/** Most common width of the interior stairs of a latency curve (first and last stair left out). */
export function inferStep(curve: ArrayLike<number>): number {
  const widths: number[] = [];
  let start = 0;
  for (let n = 1; n <= curve.length; n++) {
    if (n === curve.length || curve[n] !== curve[start]) {
      widths.push(n - start);
      start = n;
    }
  }
  const interior = widths.length > 2 ? widths.slice(1, -1) : widths;
  const counts = new Map<number, number>();
  for (const width of interior) counts.set(width, (counts.get(width) ?? 0) + 1);
  let best = 1;
  let bestCount = 0;
  for (const [width, count] of counts) {
    if (count > bestCount || (count === bestCount && width > best)) {
      best = width;
      bestCount = count;
    }
  }
  return best;
}

/** Count a partial DW group keeps when full groups keep `n`; never crosses its current count the wrong way. */
function unitCount(prepared: PreparedLayer, unit: PreparedUnit, n: number): number {
  if (prepared.layer.kind === 'pw' || unit.size === prepared.groupSize) return n;
  const scaled = clamp(roundCount((n * unit.size) / prepared.groupSize), 0, unit.size * prepared.taps);
  return n >= prepared.keptBefore ? Math.max(unit.current, scaled) : Math.min(unit.current, scaled);
}

function prepare(index: number, plan: LayerPlan, layer: PrunableLayer, scores: Float64Array, model: LatencyModel, options: RecalibrateOptions): PreparedLayer {
  const where = { node: layer.name };
  const shape = layerShapeOf(plan, layer);
  const { unit, full } = unitsOf(shape);
  const units: PreparedUnit[] = [];
  let groupSize = 0;
  let taps = 0;
  let importanceOf: (element: number, unitIndex: number) => number;
  let elementsOf: (unitIndex: number) => { all: number[]; kept: Set<number>; size: number };
  if (layer.kind === 'dw') {
    if (plan.granularity === 'tile') throw new UsageError(`plan granularity 'tile' does not fit a DW layer`, where);
    taps = layer.kernel[0] * layer.kernel[1];
    groupSize = plan.granularity === 'group' ? Math.min(layer.channels, plan.groupSize ?? 0) : 1;
    if (!(groupSize >= 1)) throw new UsageError(`a DW plan with granularity 'group' needs groupSize`, where);
    importanceOf = (element) => scores[element];
    elementsOf = (unitIndex) => {
      const first = unitIndex * groupSize;
      const size = Math.min(groupSize, layer.channels - first);
      const all: number[] = [];
      const kept = new Set<number>();
      for (let channel = first; channel < first + size; channel++) {
        for (let tap = 0; tap < taps; tap++) all.push(channel * taps + tap);
        for (const tap of plan.keptIndices[channel]) kept.add(channel * taps + tap);
      }
      return { all, kept, size };
    };
  } else {
    if (plan.granularity !== 'tile') throw new UsageError(`plan granularity '${plan.granularity}' does not fit a PW layer`, where);
    const tileRows = plan.tileRows!;
    const norms = segmentNorms(layer, scores, tileRows);
    importanceOf = (column, tile) => norms[tile * layer.inChannels + column];
    elementsOf = (tile) => ({
      all: Array.from({ length: layer.inChannels }, (_, column) => column),
      kept: new Set(plan.keptIndices[tile]),
      size: 0,
    });
  }
  const unitCountTotal = layer.kind === 'dw' ? Math.ceil(layer.channels / groupSize) : plan.keptIndices.length;
  let totalImportance = 0;
  for (let unitIndex = 0; unitIndex < unitCountTotal; unitIndex++) {
    const { all, kept, size } = elementsOf(unitIndex);
    const importance = (element: number): number => importanceOf(element, unitIndex);
    const order = [
      ...all.filter((element) => kept.has(element)).sort(byScoreDescending(importance)),
      ...all.filter((element) => !kept.has(element)).sort(byScoreDescending(importance)),
    ];
    const prefix = new Float64Array(order.length + 1);
    order.forEach((element, position) => (prefix[position + 1] = prefix[position] + importance(element)));
    totalImportance += prefix[order.length];
    units.push({ order, prefix, current: kept.size, size });
  }
  // Balanced means every full unit keeps the same count; a partial last DW group may differ.
  const fullUnits = units.filter((candidate) => layer.kind === 'pw' || candidate.size === groupSize);
  const keptBefore = fullUnits[0].current;
  if (fullUnits.some((candidate) => candidate.current !== keptBefore)) {
    throw new UsageError(
      `plan says granularity '${plan.granularity}' but its ${unit}s keep different counts (${fullUnits.map((candidate) => candidate.current).join(', ')})`,
      { ...where, hint: 'balance the layer with @deprune/bwt before HSR' },
    );
  }
  const curve = new Float64Array(full + 1);
  for (let n = 0; n <= full; n++) {
    const latency = model.latency(shape, n);
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
      throw new UsageError(`latency model '${model.name}' returned ${String(latency)} us for ${n} kept`, where);
    }
    curve[n] = latency;
  }
  const step = model.step?.(shape) ?? options.step ?? inferStep(curve);
  if (!Number.isInteger(step) || step < 1) throw new UsageError(`HSR step must be an integer >= 1, got ${String(step)}`, where);
  const source = model.source?.(shape) ?? { measured: false, description: model.name };
  return {
    index,
    plan,
    layer,
    shape,
    unit,
    groupSize,
    full,
    taps,
    units,
    keptBefore,
    curve,
    totalImportance,
    step,
    measured: source.measured,
    latencySource: source.description,
  };
}

/** recover: the largest n' >= n reachable without the latency ever rising above L(n). */
function recoverCount(prepared: PreparedLayer): number {
  const { curve, keptBefore, full } = prepared;
  let n = keptBefore;
  while (n < full && curve[n + 1] <= curve[keptBefore]) n++;
  return n;
}

/** Next stair down from `n`: the largest count with a strictly lower latency, if not below `floor`. */
function stairBelow(prepared: PreparedLayer, n: number, floor: number): number | undefined {
  for (let candidate = n - 1; candidate >= floor; candidate--) {
    if (prepared.curve[candidate] < prepared.curve[n]) return candidate;
  }
  return undefined;
}

/** Fraction of the layer's importance lost going from `from` to `to` kept per full unit. */
function relativeLoss(prepared: PreparedLayer, from: number, to: number): number {
  if (prepared.totalImportance === 0) return 0;
  let lost = 0;
  for (const unit of prepared.units) lost += unit.prefix[unitCount(prepared, unit, from)] - unit.prefix[unitCount(prepared, unit, to)];
  return lost / prepared.totalImportance;
}

function rebuild(prepared: PreparedLayer, n: number): LayerPlan {
  const { plan, layer } = prepared;
  const meta = { strategy: plan.strategy, granularity: plan.granularity, step: prepared.step };
  if (layer.kind === 'dw') {
    const taps = prepared.taps;
    const keptTaps: number[][] = Array.from({ length: layer.channels }, () => []);
    for (const unit of prepared.units) {
      for (const element of unit.order.slice(0, unitCount(prepared, unit, n))) keptTaps[Math.floor(element / taps)].push(element % taps);
    }
    return buildDwPlan(layer, keptTaps, { ...meta, groupSize: plan.groupSize });
  }
  return buildPwPlan(
    layer,
    prepared.units.map((unit) => unit.order.slice(0, n)),
    { ...meta, tileRows: plan.tileRows! },
  );
}

/**
 * HSR (method section 5). For every balanced plan (granularity group, channel or tile), moves the
 * kept count per unit to a step edge of the layer's latency staircase:
 * - 'recover': n -> the largest n' with the same latency as BWT's n (never more latency). The
 *   extra weights are the best-scoring ones not yet kept; kept sets only grow.
 * - 'latency': starts from the recovered counts, then repeatedly steps one layer down one stair,
 *   choosing the step that loses the least importance per saved microsecond (importance = the
 *   layer's scores; DW taps' scores, PW segment L2 norms, as a fraction of the layer's total so
 *   layers of different scale compare), until the summed latency fits `budgetUs`. If the floor is
 *   reached first it stops there and reports `budgetMet: false`.
 * Other plans pass through unchanged, with no move. Latencies are the model's, summed over the
 * balanced layers only.
 */
export function recalibrate(
  plans: readonly LayerPlan[],
  layers: readonly PrunableLayer[],
  scores: readonly Float64Array[],
  model: LatencyModel,
  options: RecalibrateOptions = { mode: 'recover' },
): RecalibrateResult {
  if (!Array.isArray(plans) || !Array.isArray(layers) || !Array.isArray(scores) || plans.length !== layers.length || plans.length !== scores.length) {
    throw new UsageError(`recalibrate needs plans, layers and scores of the same length, got ${plans?.length}, ${layers?.length} and ${scores?.length}`);
  }
  if (model === null || typeof model !== 'object' || typeof model.latency !== 'function') {
    throw new UsageError('recalibrate needs a LatencyModel with a latency(layer, kept) function');
  }
  const mode = options.mode ?? 'recover';
  if (mode !== 'recover' && mode !== 'latency') throw new UsageError(`HSR mode must be 'recover' or 'latency', got '${String(mode)}'`);
  const { budgetUs } = options;
  if (budgetUs !== undefined && (typeof budgetUs !== 'number' || !Number.isFinite(budgetUs) || budgetUs < 0)) {
    throw new UsageError(`HSR budgetUs must be a finite number >= 0, got ${String(budgetUs)}`);
  }
  if (mode === 'latency' && budgetUs === undefined) throw new UsageError("HSR 'latency' mode needs budgetUs");
  const minKeptFraction = options.minKeptFraction ?? 0;
  if (typeof minKeptFraction !== 'number' || !(minKeptFraction >= 0 && minKeptFraction <= 1)) {
    throw new UsageError(`minKeptFraction must be in [0, 1], got ${String(minKeptFraction)}`);
  }
  if (options.step !== undefined && (!Number.isInteger(options.step) || options.step < 1)) {
    throw new UsageError(`HSR step must be an integer >= 1, got ${String(options.step)}`);
  }

  const prepared: PreparedLayer[] = [];
  plans.forEach((plan, index) => {
    const layer = layers[index];
    if (plan?.name !== layer?.name) {
      throw new ShapeError(`plans[${index}] is for layer '${plan?.name}' but layers[${index}] is '${layer?.name}'`, { node: layer?.name });
    }
    if (!BALANCED.has(plan.granularity)) return;
    validatePlan(plan, layer);
    validateScores(layer, scores[index]);
    prepared.push(prepare(index, plan, layer, scores[index], model, options));
  });

  const counts = prepared.map(recoverCount);
  const latencyAt = (layerIndex: number, n: number): number => prepared[layerIndex].curve[n];
  const total = (): number => counts.reduce((sum, n, layerIndex) => sum + latencyAt(layerIndex, n), 0);

  // Equal to the budget counts as meeting it, whatever the float noise in the sum.
  const fits = (latency: number): boolean => budgetUs === undefined || latency <= budgetUs + 1e-9 * Math.max(1, budgetUs);
  if (mode === 'latency') {
    const floors = prepared.map((layer) => Math.ceil(minKeptFraction * layer.full - 1e-9));
    type Candidate = { to: number; cost: number; saved: number } | undefined;
    // Each layer's next stair down, recomputed only when that layer moves.
    const candidateFor = (layerIndex: number): Candidate => {
      const layer = prepared[layerIndex];
      const from = counts[layerIndex];
      const to = stairBelow(layer, from, Math.min(floors[layerIndex], from));
      if (to === undefined) return undefined;
      const saved = layer.curve[from] - layer.curve[to];
      return { to, saved, cost: relativeLoss(layer, from, to) / saved };
    };
    const candidates = prepared.map((_, layerIndex) => candidateFor(layerIndex));
    while (!fits(total())) {
      let bestIndex = -1;
      candidates.forEach((candidate, layerIndex) => {
        if (candidate === undefined) return;
        const best = candidates[bestIndex];
        // Cheapest importance loss per saved microsecond; ties: the bigger saving, then the earlier layer.
        if (best === undefined || candidate.cost < best.cost || (candidate.cost === best.cost && candidate.saved > best.saved)) bestIndex = layerIndex;
      });
      if (bestIndex < 0) break;
      counts[bestIndex] = candidates[bestIndex]!.to;
      candidates[bestIndex] = candidateFor(bestIndex);
    }
  }

  const newPlans = [...plans];
  const moves: HsrMove[] = prepared.map((layer, layerIndex) => {
    newPlans[layer.index] = rebuild(layer, counts[layerIndex]);
    return {
      layer: layer.layer.name,
      unit: layer.unit,
      keptBefore: layer.keptBefore,
      keptAfter: counts[layerIndex],
      full: layer.full,
      step: layer.step,
      latencyBeforeUs: latencyAt(layerIndex, layer.keptBefore),
      latencyAfterUs: latencyAt(layerIndex, counts[layerIndex]),
      measured: layer.measured,
      latencySource: layer.latencySource,
    };
  });
  const before = moves.reduce((sum, move) => sum + move.latencyBeforeUs, 0);
  const after = moves.reduce((sum, move) => sum + move.latencyAfterUs, 0);
  return {
    plans: newPlans,
    moves,
    predictedLatencyUs: { before, after },
    budgetMet: budgetUs === undefined ? null : fits(after),
    unmeasured: moves.filter((move) => !move.measured).map((move) => move.layer),
  };
}
