import { getScorer, type LayerPlanEntry, type LayerStatistics, type PrunableLayer } from '@deprune/masks';
import { effectiveConvWeights, indexGraph, type OnnxModel } from '@deprune/onnx';
import { choleskySolve, dampedCholesky } from '@deprune/tensor';
import type { PairedStatistics } from './paired';

/**
 * Sequential importance: each layer's masks re-chosen from the statistics of its input in the
 * PRUNED network (predecessors already re-masked and reconstructed), not the dense network's, as
 * `reconstruct`'s `remask` hook. prune() scored every layer on the dense network's inputs; its
 * allocation (each layer's ratio) and HSR's kept counts stay: only which weights a balanced unit
 * keeps changes, never how many.
 *
 * - `inputs`: the scorer sees the dense layer's effective weights and the Gram matrix of the
 *   pruned network's input (SparseGPT's sequential mode).
 * - `refit`: the scorer sees the weights a* that best reproduce the dense layer's output from the
 *   pruned network's input with every weight kept (a* = (Cov_pp + lambda I)^-1 Cov_pd w, per row)
 *   and the covariance Cov_pp. Reconstruction fits the kept weights (and a free bias) to that same
 *   target, and its error is the unpruned fit's error plus (a_S - a*)^T Cov_pp (a_S - a*), which
 *   is what OBS on (a*, Cov_pp) ranks removals by.
 */
export type SequentialImportance = 'inputs' | 'refit';

export const SEQUENTIAL_IMPORTANCE_MODES: readonly SequentialImportance[] = ['inputs', 'refit'];

/** Relative damping of the `refit` solve (as the reconstruction's default). */
const REFIT_DAMPING = 0.01;

export interface SequentialRemaskOptions {
  /** The importance scorer prune() used (its registry name). */
  importance: string;
  mode: SequentialImportance;
}

/**
 * The units whose kept counts BWT / HSR fixed, and their members: DW channels grouped by the
 * plan's group size (1 for `channel` granularity), PW row tiles. Undefined for a plan that is not
 * balanced DCP / PCP (left as it is).
 */
function balancedUnits(entry: LayerPlanEntry): { size: number } | undefined {
  if (entry.kind === 'dw' && entry.strategy === 'dcp' && (entry.granularity === 'group' || entry.granularity === 'channel')) {
    return { size: entry.granularity === 'channel' ? 1 : (entry.groupSize ?? 1) };
  }
  if (entry.kind === 'pw' && entry.strategy === 'pcp' && entry.granularity === 'tile' && entry.tileRows !== null) return { size: entry.tileRows };
  return undefined;
}

/** Positions of the `count` largest values (ties: lower position), ascending. */
function topPositions(values: ArrayLike<number>, count: number): number[] {
  const order = Array.from({ length: values.length }, (_, position) => position);
  order.sort((a, b) => values[b] - values[a] || a - b);
  return order.slice(0, count).sort((a, b) => a - b);
}

/**
 * The same units with the same kept counts, each unit's kept set the best by `scores` (DW: the
 * top n taps of a group's channels together; PW: the top q columns of a tile by the L2 norm of
 * the tile's scores in each column). The plan entry's other fields (strategy, granularity, HSR
 * step, sparsity) stay as they are.
 */
export function reselectWithinUnits(entry: LayerPlanEntry, scores: Float64Array): LayerPlanEntry {
  const units = balancedUnits(entry);
  if (units === undefined) return entry;
  if (entry.kind === 'dw') {
    const [kh, kw] = entry.shape.kernel!;
    const taps = kh * kw;
    const channels = entry.shape.channels!;
    const keptIndices: number[][] = Array.from({ length: channels }, () => []);
    for (let first = 0; first < channels; first += units.size) {
      const last = Math.min(channels, first + units.size);
      let n = 0;
      for (let channel = first; channel < last; channel++) n += entry.kept[channel];
      for (const offset of topPositions(scores.subarray(first * taps, last * taps), n)) keptIndices[first + Math.floor(offset / taps)].push(offset % taps);
    }
    return { ...entry, kept: keptIndices.map((list) => list.length), keptIndices };
  }
  const rows = entry.shape.outChannels!;
  const columns = entry.shape.inChannels!;
  const keptIndices: number[][] = [];
  for (let tile = 0, first = 0; first < rows; tile++, first += units.size) {
    const last = Math.min(rows, first + units.size);
    const norms = new Float64Array(columns);
    for (let row = first; row < last; row++) for (let column = 0; column < columns; column++) norms[column] += scores[row * columns + column] ** 2;
    keptIndices.push(topPositions(norms, entry.kept[tile]));
  }
  return { ...entry, kept: keptIndices.map((list) => list.length), keptIndices };
}

/** The statistics a scorer reads, from the pruned network's side of the paired sums (`refit`: centred). */
function scorerStatistics(stats: PairedStatistics, centred: boolean): LayerStatistics {
  if (!centred) return { gram: stats.pp, inputSum: stats.sumP, count: stats.count };
  const { blocks, prunedLength: n, count } = stats;
  const gram = new Float64Array(stats.pp.length);
  for (let block = 0; block < blocks; block++) {
    const base = block * n * n;
    for (let i = 0; i < n; i++) {
      const mi = stats.sumP[block * n + i] / count;
      for (let j = 0; j < n; j++) gram[base + i * n + j] = stats.pp[base + i * n + j] - count * mi * (stats.sumP[block * n + j] / count);
    }
  }
  return { gram, inputSum: new Float64Array(stats.sumP.length), count };
}

/** a* per row: the unpruned least-squares fit of the dense output from the pruned network's input (see the module comment). */
function refitWeights(weights: Float64Array, rows: number, stats: PairedStatistics, centred: LayerStatistics): Float64Array {
  const { blocks, prunedLength: n, denseLength: d, count } = stats;
  const out = new Float64Array(weights.length);
  const factors: Float64Array[] = [];
  for (let block = 0; block < blocks; block++) factors.push(dampedCholesky(centred.gram!.subarray(block * n * n, (block + 1) * n * n), n, REFIT_DAMPING).factor);
  for (let row = 0; row < rows; row++) {
    const block = blocks === 1 ? 0 : row;
    const w = weights.subarray(row * d, (row + 1) * d);
    let wmu = 0;
    for (let j = 0; j < d; j++) wmu += w[j] * (stats.sumD[block * d + j] / count);
    // Cov_pd w (as a sum over the vectors, like the centred Gram).
    const rhs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < d; j++) sum += stats.pd[block * n * d + i * d + j] * w[j];
      rhs[i] = sum - stats.sumP[block * n + i] * wmu;
    }
    out.set(choleskySolve(factors[block], n, rhs), row * n);
  }
  return out;
}

/**
 * `reconstruct`'s `remask` hook for sequential importance on the dense model the plan was made
 * from (masking plans only: the pruned and dense layers have the same shape).
 */
export function sequentialRemask(dense: OnnxModel, options: SequentialRemaskOptions): (event: { entry: LayerPlanEntry; statistics: PairedStatistics }) => LayerPlanEntry | undefined {
  const index = indexGraph(dense);
  const scorer = getScorer(options.importance);
  return ({ entry, statistics }) => {
    if (balancedUnits(entry) === undefined || entry.sparsity === 0) return undefined;
    const effective = Float64Array.from(effectiveConvWeights(index, entry.name).weight.data);
    const centred = options.mode === 'refit';
    const stats = scorerStatistics(statistics, centred);
    const rows = entry.kind === 'dw' ? entry.shape.channels! : entry.shape.outChannels!;
    const weights = centred ? refitWeights(effective, rows, statistics, stats) : effective;
    const layer: PrunableLayer =
      entry.kind === 'dw'
        ? { kind: 'dw', name: entry.name, channels: entry.shape.channels!, kernel: [entry.shape.kernel![0], entry.shape.kernel![1]], weights }
        : { kind: 'pw', name: entry.name, outChannels: entry.shape.outChannels!, inChannels: entry.shape.inChannels!, weights };
    const scores = scorer.score(layer, stats, entry.tileRows === null ? {} : { tileRows: entry.tileRows });
    return reselectWithinUnits(entry, scores);
  };
}
