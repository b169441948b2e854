import { DeprunError } from '@deprune/errors';
import { maskFromPlanEntry, type LayerPlanEntry, type LayerStatistics } from '@deprune/masks';
import {
  constantSource,
  followingBatchNorm,
  indexGraph,
  readBatchNormParams,
  readFloatConstant,
  serializeModel,
  type GraphIndex,
  type LayerInfo,
  type OnnxModel,
} from '@deprune/onnx';
import { fnv1a32, type PrunePlan } from '@deprune/plan';
import type { HostTensor } from '@deprune/runtime';
import { effectiveScale } from '@deprune/tensor';
import { declaredChannels, geometryOf, layerInfos, type CalibrationProgress } from './collect';
import { singleInputName, type ForwardEngine } from './engine';
import { dataInputOf, truncateModel, upstreamNodes, writeConvUpdates, type ConvUpdate } from './graph';
import { activationWeights, followingActivation, type ActivationWeighting, type FollowingActivation } from './activation';
import { PairedAccumulator, type PairedStatistics } from './paired';
import { checkSamples, type CalibrationSample } from './samples';
import { solveLayer } from './solve';

/** Relative damping of the reconstruction's least squares when none is given: 1% of the mean input variance. */
export const DEFAULT_RECONSTRUCTION_DAMPING = 0.01;

export interface ReconstructOptions {
  engine: ForwardEngine;
  /** Relative damping (lambda = damping x mean diagonal of the kept inputs' covariance); default 0.01. */
  damping?: number;
  onProgress?: (event: CalibrationProgress) => void;
  /**
   * The dense model's statistics over the SAME samples (`collectStatistics`' result, when the
   * importance scorer needed them): the passes then skip the dense inputs' own moments.
   */
  denseStatistics?: ReadonlyMap<string, LayerStatistics>;
  /** DW patches per tap and sample (default `DEFAULT_DW_VECTORS_PER_TAP`; `Infinity`: every pixel). */
  dwVectorsPerTap?: number;
  /**
   * Called with each layer's statistics just before its solve: what it saw of its input in the
   * pruned network (predecessors already reconstructed) beside the dense network's. For
   * inspecting a reconstruction; the sums are the solver's own, not to be changed.
   */
  onLayerStatistics?: (event: { name: string; pass: number; statistics: PairedStatistics }) => void;
  /**
   * Sequential importance: called with each layer's plan entry and the statistics of its input in
   * the pruned network (predecessors already re-masked and reconstructed) just before its solve.
   * A returned entry replaces the layer's mask (the solve starts from the dense weights under it,
   * and the returned plan carries it); undefined keeps the plan's. Masking plans only (ignored
   * for a `channel` plan). The caller keeps each balanced unit's kept count, so the balance and HSR's
   * steps hold; it is checked here that the kept weight count does not change.
   */
  remask?: (event: { entry: LayerPlanEntry; pass: number; statistics: PairedStatistics }) => LayerPlanEntry | undefined;
  /**
   * Reconstruction targets through the following activation, for layers followed by ReLU, Clip
   * or HardSwish (after per-channel affines): each output value's squared error is weighted by the
   * activation's slope at the dense value (see `ActivationWeighting`); a PW layer, which solves
   * all its rows on one Gram matrix, weights each pixel by the mean over its rows. Default: none
   * (plain output error). The layer errors reported are then the weighted ones.
   */
  activationWeighting?: ActivationWeighting;
  /** Which layers `activationWeighting` applies to: 'dw' (default) or 'all' (PW too). */
  activationLayers?: 'dw' | 'all';
}

export interface LayerReconstruction {
  name: string;
  kind: 'dw' | 'pw';
  /** Rows solved (PW output channels, DW channels) and the number of kept weights (unchanged). */
  rows: number;
  keptWeights: number;
  /** Relative output error against the dense layer on the dense network's input, before / after. */
  errorBefore: number;
  errorAfter: number;
  /** Relative damping actually used (requested, or raised where a covariance needed it). */
  damping: { requested: number; min: number; max: number };
  /** Rows where the solve did not help and only the bias was corrected. */
  biasOnlyRows: number;
  /** Rows with too few calibration vectors (see MIN_VECTORS_PER_WEIGHT): bias corrected only. */
  underdeterminedRows: number;
  /** Which pass (0-based) reconstructed it: layers in one pass do not depend on each other. */
  pass: number;
  /**
   * `remask` changed the layer's mask: the number of kept weights that moved (kept now, pruned in
   * the plan). `errorBefore` is then the dense weights under the new mask.
   */
  remasked?: number;
  /** The activation its target was weighted through (`activationWeighting`); the errors are then weighted ones. */
  activation?: FollowingActivation['kind'];
}

export interface ReconstructionReport {
  engine: string;
  samples: number;
  damping: number;
  /** Forward passes over the calibration set (each runs the pruned and the dense network up to its layers). */
  passes: number;
  layers: LayerReconstruction[];
  /** Kept-weight-weighted mean of the layers' relative errors, before / after. */
  meanErrorBefore: number;
  meanErrorAfter: number;
  ms: number;
}

/** `Plan`: the caller's plan type (the pipeline's, with its config), handed back as it came. */
export interface ReconstructResult<Plan extends PrunePlan = PrunePlan> {
  model: OnnxModel;
  /** The plan with its `output` hash and size updated for the reconstructed model (masks unchanged). */
  plan: Plan;
  report: ReconstructionReport;
}

/** A layer of the plan, with how its pruned rows and inputs map onto the dense layer's. */
interface Target {
  entry: LayerPlanEntry;
  dense: LayerInfo;
  pruned: LayerInfo;
  mask: Uint8Array;
  /** Dense row (PW output channel / DW channel) of each pruned row. */
  rowMap: Int32Array;
}

function storedWeights(index: GraphIndex, info: LayerInfo): { weights: Float64Array; bias: Float64Array } {
  const weight = readFloatConstant(index, constantSource(index, info.weight) ?? info.weight);
  if (weight === undefined) throw new DeprunError('UNSUPPORTED', `the weight of '${info.name}' is not a constant`, { file: index.model.source, node: info.name });
  const biasSource = info.bias ? constantSource(index, info.bias) : undefined;
  const bias = biasSource ? readFloatConstant(index, biasSource) : undefined;
  return { weights: Float64Array.from(weight.data), bias: bias ? Float64Array.from(bias.data) : new Float64Array(info.outChannels) };
}

function count(mask: Uint8Array): number {
  let kept = 0;
  for (let index = 0; index < mask.length; index++) kept += mask[index];
  return kept;
}

function complement(removed: readonly number[] | undefined, size: number): number[] {
  const gone = new Set(removed ?? []);
  return Array.from({ length: size }, (_, index) => index).filter((index) => !gone.has(index));
}

/**
 * How a pruned layer lines up with its dense original. Masking plans keep every shape: identity
 * maps, the plan's mask. A `channel` plan's model is physically smaller: DW channels and PW input
 * columns follow the plan's `removedChannels`; PW output rows removed by the next block are found
 * by matching each pruned row to the next dense row with the same (bit-identical) kept weights,
 * which channel removal copies unchanged.
 */
function alignLayer(entry: LayerPlanEntry, dense: LayerInfo, pruned: LayerInfo, denseIndex: GraphIndex, prunedIndex: GraphIndex, physical: boolean): Target {
  if (!physical) {
    return { entry, dense, pruned, mask: maskFromPlanEntry(entry), rowMap: Int32Array.from({ length: dense.outChannels }, (_, row) => row) };
  }
  const rowLength = pruned.kind === 'dw' ? pruned.kernel[0] * pruned.kernel[1] : pruned.inChannels;
  const mask = new Uint8Array(pruned.outChannels * rowLength).fill(1);
  if (entry.kind === 'dw') {
    const kept = complement(entry.removedChannels, dense.outChannels);
    if (kept.length !== pruned.outChannels) throw alignmentError(entry.name, denseIndex);
    return { entry, dense, pruned, mask, rowMap: Int32Array.from(kept) };
  }
  const columns = complement(entry.removedChannels, dense.inChannels);
  if (columns.length !== pruned.inChannels) throw alignmentError(entry.name, denseIndex);
  const denseWeights = storedWeights(denseIndex, dense).weights;
  const prunedWeights = storedWeights(prunedIndex, pruned).weights;
  const rowMap = new Int32Array(pruned.outChannels);
  let next = 0;
  for (let row = 0; row < pruned.outChannels; row++) {
    const same = (denseRow: number) => columns.every((column, position) => Math.fround(denseWeights[denseRow * dense.inChannels + column]) === Math.fround(prunedWeights[row * pruned.inChannels + position]));
    while (next < dense.outChannels && !same(next)) next++;
    if (next >= dense.outChannels) throw alignmentError(entry.name, denseIndex);
    rowMap[row] = next++;
  }
  return { entry, dense, pruned, mask, rowMap };
}

function alignmentError(name: string, index: GraphIndex): DeprunError {
  return new DeprunError('INVALID_MODEL', `cannot line the pruned layer '${name}' up with the dense model's`, {
    file: index.model.source,
    node: name,
    hint: 'pass the dense model the plan was made from',
  });
}

/** Per dense output row: the following BN's gamma / sqrt(var + eps), or 1 (the layer error is weighted by it). */
function outputScale(index: GraphIndex, info: LayerInfo): Float64Array | undefined {
  const conv = index.nodes.find((node) => node.name === info.name)!;
  const bn = followingBatchNorm(index, conv);
  return bn ? Float64Array.from(effectiveScale(readBatchNormParams(index, bn))) : undefined;
}

/**
 * Groups layers (in graph order) into passes: a layer joins the current pass unless it depends on
 * one of the pass's layers, so every layer is solved on inputs computed by already-reconstructed
 * predecessors, and independent layers (parallel branches) share a forward pass.
 */
export function groupPasses(index: GraphIndex, names: readonly string[]): string[][] {
  const upstream = upstreamNodes(index, names);
  const passes: string[][] = [];
  for (const name of names) {
    const current = passes[passes.length - 1];
    if (current && !current.some((member) => upstream.get(name)!.has(member))) current.push(name);
    else passes.push([name]);
  }
  return passes;
}

/**
 * Reconstruction after the mask is fixed: every layer of the plan, in graph order, gets the kept
 * weights and bias that best reproduce the dense layer's output (see `solveLayer`) on the inputs
 * the pruned network -- its predecessors already reconstructed -- actually feeds it. One pass over
 * the calibration set per group of independent layers; each pass runs the pruned and the dense
 * network only up to the layers it needs. The zero pattern is the plan's, unchanged.
 */
export async function reconstruct<Plan extends PrunePlan>(
  dense: OnnxModel,
  pruned: OnnxModel,
  plan: Plan,
  samples: readonly CalibrationSample[],
  options: ReconstructOptions,
): Promise<ReconstructResult<Plan>> {
  const started = performance.now();
  const damping = options.damping ?? DEFAULT_RECONSTRUCTION_DAMPING;
  if (!(damping >= 0) || !Number.isFinite(damping)) throw new DeprunError('BAD_USAGE', `damping must be a finite number >= 0, got ${damping}`);
  const inputName = singleInputName(pruned);
  const denseInput = singleInputName(dense);
  checkSamples(samples, declaredChannels(pruned, inputName));
  const shape = samples[0].tensor.shape;
  const denseInfos = layerInfos(dense, denseInput, shape);
  const prunedInfos = layerInfos(pruned, inputName, shape);
  const denseIndex = indexGraph(dense);
  const physical = plan.physical !== null;
  const targets = new Map<string, Target>();
  for (const entry of plan.layers) {
    const denseInfo = denseInfos.get(entry.name);
    const prunedInfo = prunedInfos.get(entry.name);
    if (denseInfo === undefined || prunedInfo === undefined) throw alignmentError(entry.name, denseIndex);
    targets.set(entry.name, alignLayer(entry, denseInfo, prunedInfo, denseIndex, indexGraph(pruned), physical));
  }
  const passes = groupPasses(indexGraph(pruned), [...targets.keys()]);
  let current = pruned;
  const layers: LayerReconstruction[] = [];
  const total = passes.length * samples.length;

  for (let pass = 0; pass < passes.length; pass++) {
    const members = passes[pass].map((name) => targets.get(name)!);
    const prunedIndex = indexGraph(current);
    const inputs = members.map((target) => ({ pruned: dataInputOf(prunedIndex, target.entry.name), dense: dataInputOf(denseIndex, target.entry.name) }));
    const activations: (FollowingActivation | undefined)[] = members.map((target) =>
      options.activationWeighting !== undefined && (target.pruned.kind === 'dw' || options.activationLayers === 'all') ? followingActivation(denseIndex, target.dense.name) : undefined,
    );
    const accumulators = members.map((target, member) => {
      const { dense: denseInfo, pruned: prunedInfo, rowMap } = target;
      return new PairedAccumulator({
        kind: prunedInfo.kind as 'dw' | 'pw',
        name: prunedInfo.name,
        prunedChannels: prunedInfo.inChannels,
        denseChannels: denseInfo.inChannels,
        ...(prunedInfo.kind === 'dw' ? { channelMap: rowMap } : {}),
        geometry: geometryOf(prunedInfo),
        ...(options.dwVectorsPerTap === undefined ? {} : { dwVectorsPerTap: options.dwVectorsPerTap }),
        ...(options.denseStatistics?.has(denseInfo.name) && activations[member] === undefined ? { dense: options.denseStatistics.get(denseInfo.name)! } : {}),
      });
    });
    const prunedFetch = [...new Set(inputs.map((input) => input.pruned).filter((name) => name !== inputName))];
    const denseFetch = [
      ...new Set([...inputs.map((input) => input.dense), ...activations.flatMap((activation) => (activation ? [activation.value] : []))].filter((name) => name !== denseInput)),
    ];
    const prunedModel = prunedFetch.length > 0 ? truncateModel(current, prunedFetch) : null;
    const denseModel = denseFetch.length > 0 ? truncateModel(dense, denseFetch) : null;
    try {
      for (let position = 0; position < samples.length; position++) {
        options.onProgress?.({ stage: 'reconstruct', done: pass * samples.length + position, total, detail: members.map((target) => target.entry.name).join(', ') });
        const feed = samples[position].tensor;
        const prunedValues: Record<string, HostTensor> = prunedModel ? await options.engine.run(prunedModel, { [inputName]: feed }) : {};
        const denseValues: Record<string, HostTensor> = denseModel ? await options.engine.run(denseModel, { [denseInput]: feed }) : {};
        prunedValues[inputName] = feed;
        denseValues[denseInput] = feed;
        accumulators.forEach((accumulator, member) => {
          const activation = activations[member];
          if (activation === undefined) accumulator.add(prunedValues[inputs[member].pruned], denseValues[inputs[member].dense]);
          else accumulator.addWeighted(prunedValues[inputs[member].pruned], denseValues[inputs[member].dense], activationWeights(denseValues[activation.value].data, activation, options.activationWeighting!));
        });
      }
    } finally {
      if (prunedModel) await options.engine.release(prunedModel);
      if (denseModel) await options.engine.release(denseModel);
    }
    const updates = new Map<string, ConvUpdate>();
    members.forEach((target, member) => {
      const { pruned: prunedInfo, dense: denseInfo } = target;
      const now = storedWeights(prunedIndex, prunedInfo);
      const original = storedWeights(denseIndex, denseInfo);
      const scale = outputScale(denseIndex, denseInfo);
      const stats = accumulators[member].result();
      options.onLayerStatistics?.({ name: prunedInfo.name, pass, statistics: stats });
      let remasked: number | undefined;
      const replacement = physical ? undefined : options.remask?.({ entry: target.entry, pass, statistics: stats });
      if (replacement !== undefined) {
        const mask = maskFromPlanEntry(replacement);
        if (replacement.name !== target.entry.name || mask.length !== target.mask.length || count(mask) !== count(target.mask)) {
          throw new DeprunError('BAD_USAGE', `remask of '${target.entry.name}' returned a plan entry with another layer, shape or kept count`, { node: target.entry.name });
        }
        remasked = 0;
        for (let weight = 0; weight < mask.length; weight++) {
          if (mask[weight] && !target.mask[weight]) remasked += 1;
          // The solve starts from the dense weights under the new mask (what prune() would have written).
          now.weights[weight] = mask[weight] ? Math.fround(original.weights[weight]) : 0;
        }
        target.mask = mask;
        target.entry = replacement;
      }
      const solution = solveLayer({
        name: prunedInfo.name,
        kind: prunedInfo.kind as 'dw' | 'pw',
        rows: prunedInfo.outChannels,
        rowLength: prunedInfo.kind === 'dw' ? prunedInfo.kernel[0] * prunedInfo.kernel[1] : prunedInfo.inChannels,
        weights: now.weights,
        bias: now.bias,
        mask: target.mask,
        denseWeights: original.weights,
        denseBias: original.bias,
        denseLength: denseInfo.kind === 'dw' ? denseInfo.kernel[0] * denseInfo.kernel[1] : denseInfo.inChannels,
        rowMap: target.rowMap,
        stats,
        ...(scale ? { outputScale: scale } : {}),
        damping,
      });
      updates.set(prunedInfo.name, { weights: Float32Array.from(solution.weights), bias: Float32Array.from(solution.bias) });
      layers.push({
        name: prunedInfo.name,
        kind: prunedInfo.kind as 'dw' | 'pw',
        rows: prunedInfo.outChannels,
        keptWeights: target.mask.reduce((sum, bit) => sum + bit, 0),
        errorBefore: solution.errorBefore,
        errorAfter: solution.errorAfter,
        damping: { requested: damping, ...solution.dampingUsed },
        biasOnlyRows: solution.biasOnlyRows,
        underdeterminedRows: solution.underdeterminedRows,
        pass,
        ...(remasked === undefined ? {} : { remasked }),
        ...(activations[member] === undefined ? {} : { activation: activations[member]!.kind }),
      });
    });
    current = writeConvUpdates(current, updates);
  }
  options.onProgress?.({ stage: 'reconstruct', done: total, total });
  const bytes = serializeModel(current);
  const weightOf = (layer: LayerReconstruction) => layer.keptWeights;
  const totalKept = layers.reduce((sum, layer) => sum + weightOf(layer), 0);
  const mean = (field: 'errorBefore' | 'errorAfter') => (totalKept === 0 ? 0 : layers.reduce((sum, layer) => sum + weightOf(layer) * layer[field], 0) / totalKept);
  return {
    model: current,
    plan: { ...plan, layers: plan.layers.map((entry) => targets.get(entry.name)?.entry ?? entry), output: { hash: fnv1a32(bytes), bytes: bytes.length } },
    report: {
      engine: options.engine.name,
      samples: samples.length,
      damping,
      passes: passes.length,
      layers,
      meanErrorBefore: mean('errorBefore'),
      meanErrorAfter: mean('errorAfter'),
      ms: performance.now() - started,
    },
  };
}
