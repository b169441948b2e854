import { ShapeError, UsageError } from '@deprune/errors';
import { maskFromPlanEntry, type LayerPlanEntry } from '@deprune/masks';
import type { FloatArray, Tensor } from '@deprune/tensor';
import type { ColumnTable, DiagonalTable, TapTable } from '@deprune/kernels';

export type { ColumnTable, DiagonalTable, TapTable } from '@deprune/kernels';

/**
 * Plan entry + weights -> the compact tables the sparse kernels read. Built once per layer on the
 * host (they depend on the plan and the weights, not on the input), then reused for every call.
 *
 * All three tables pad each unit (channel, group, row tile) to the same number of slots, because
 * gpu.js loops need a compile-time trip count in the GPU modes: `slots = roundUp(max kept, t)`.
 * Padding slots carry weight 0, so they cost work but add nothing. When the plan is balanced every
 * unit keeps the same count and only the rounding to t is padding; an unbalanced plan pays up to
 * the max unit everywhere (the imbalance cost BWT removes). Latency is therefore a staircase in the
 * kept count with step t, which is what HSR's latency table measures.
 */

/** Default chunk size t: the same default as HSR's analytic staircase (`@deprune/hsr`). */
export const DEFAULT_STEP = 4;
/** Default DR group size G when the plan has none: BWT's default group (`@deprune/bwt`). */
export const DEFAULT_DIAGONAL_GROUP_SIZE = 32;

export interface TableOptions {
  /** Chunk size t. Default: the entry's `step` (set by HSR), else DEFAULT_STEP. */
  step?: number;
}

export interface DiagonalTableOptions extends TableOptions {
  /** Channels per DR group G. Default: the entry's `groupSize` (group/channel plans), else DEFAULT_DIAGONAL_GROUP_SIZE. */
  groupSize?: number;
}

function weightData(weights: Tensor | FloatArray, expected: number, what: string, layer: string): FloatArray {
  const data = weights instanceof Float32Array || weights instanceof Float64Array ? weights : weights?.data;
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw new UsageError(`${what} weights must be a Tensor or a Float32Array/Float64Array`, { node: layer });
  }
  if (data.length !== expected) throw new ShapeError(`${what} weights have ${data.length} values but the plan's shape needs ${expected}`, { node: layer });
  return data;
}

function resolveStep(options: TableOptions, entry: LayerPlanEntry): number {
  const step = options.step ?? entry.step ?? DEFAULT_STEP;
  if (!Number.isInteger(step) || step < 1) {
    // A plan file can hold anything here: name the kind of value, not all of it.
    const shown = typeof step === 'number' ? String(step) : Array.isArray(step) ? `an array of ${(step as unknown[]).length} values` : typeof step;
    throw new UsageError(`step t must be an integer >= 1, got ${shown}`, { node: entry.name });
  }
  return step;
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function expectKind(entry: LayerPlanEntry, kind: 'dw' | 'pw', table: string): void {
  if (entry === null || typeof entry !== 'object') throw new UsageError(`${table} needs a plan entry`);
  if (entry.kind !== kind) throw new UsageError(`${table} needs a ${kind.toUpperCase()} plan entry, got kind '${String(entry.kind)}'`, { node: entry.name });
}

function dwShape(entry: LayerPlanEntry): { channels: number; kernelH: number; kernelW: number } {
  const { channels, kernel } = entry.shape;
  if (channels === undefined || kernel === undefined) throw new ShapeError('DW plan entry has no shape.channels / shape.kernel', { node: entry.name });
  // Validates the entry against its shape (indices in range, ascending, counts match).
  maskFromPlanEntry(entry);
  return { channels, kernelH: kernel[0], kernelW: kernel[1] };
}

function allEqual(values: readonly number[]): boolean {
  return values.every((value) => value === values[0]);
}

/** DEPrune-sparse DW: for each channel its kept taps (dy, dx, weight), padded to roundUp(max m_c, t) slots. */
export function buildTapTable(entry: LayerPlanEntry, weights: Tensor | FloatArray, options: TableOptions = {}): TapTable {
  expectKind(entry, 'dw', 'buildTapTable');
  const { channels, kernelH, kernelW } = dwShape(entry);
  const area = kernelH * kernelW;
  const data = weightData(weights, channels * area, 'DW', entry.name);
  const step = resolveStep(options, entry);
  const kept = entry.kept.slice();
  const slots = roundUp(Math.max(0, ...kept), step);
  const taps = new Float32Array(channels * slots * 3);
  for (let channel = 0; channel < channels; channel++) {
    entry.keptIndices[channel].forEach((tap, slot) => {
      const at = (channel * slots + slot) * 3;
      taps[at] = Math.floor(tap / kernelW);
      taps[at + 1] = tap % kernelW;
      taps[at + 2] = data[channel * area + tap];
    });
  }
  const total = kept.reduce((sum, count) => sum + count, 0);
  return Object.freeze({
    kind: 'dw-taps',
    name: entry.name,
    channels,
    kernel: Object.freeze([kernelH, kernelW] as const),
    step,
    slots,
    kept: Object.freeze(kept),
    balance: allEqual(kept) ? 'channel' : 'none',
    taps,
    efficiency: slots === 0 ? 1 : total / (channels * slots),
  });
}

/** DEPrune-sparse PW: per row tile its kept input columns, and every row's weights at them, padded to roundUp(max q_t, t). */
export function buildColumnTable(entry: LayerPlanEntry, weights: Tensor | FloatArray, options: TableOptions = {}): ColumnTable {
  expectKind(entry, 'pw', 'buildColumnTable');
  const { outChannels, inChannels } = entry.shape;
  if (outChannels === undefined || inChannels === undefined) throw new ShapeError('PW plan entry has no shape.outChannels / shape.inChannels', { node: entry.name });
  maskFromPlanEntry(entry);
  const tileRows = entry.tileRows as number;
  const data = weightData(weights, outChannels * inChannels, 'PW', entry.name);
  const step = resolveStep(options, entry);
  const tiles = entry.kept.length;
  const kept = entry.kept.slice();
  const slots = roundUp(Math.max(0, ...kept), step);
  const columns = new Float32Array(tiles * slots);
  const compact = new Float32Array(outChannels * slots);
  for (let tile = 0; tile < tiles; tile++) {
    const list = entry.keptIndices[tile];
    list.forEach((column, slot) => {
      columns[tile * slots + slot] = column;
    });
    const rowEnd = Math.min(outChannels, (tile + 1) * tileRows);
    for (let row = tile * tileRows; row < rowEnd; row++) {
      list.forEach((column, slot) => {
        compact[row * slots + slot] = data[row * inChannels + column];
      });
    }
  }
  let keptMacs = 0;
  for (let tile = 0; tile < tiles; tile++) keptMacs += kept[tile] * (Math.min(outChannels, (tile + 1) * tileRows) - tile * tileRows);
  return Object.freeze({
    kind: 'pw-columns',
    name: entry.name,
    outChannels,
    inChannels,
    tileRows,
    tiles,
    step,
    slots,
    kept: Object.freeze(kept),
    balance: allEqual(kept) ? 'tile' : 'none',
    columns,
    weights: compact,
    efficiency: slots === 0 ? 1 : keptMacs / (outChannels * slots),
  });
}

/**
 * DR form of a DW plan (method.md section 1): channels in groups of G; group g's kept columns
 * (one per kept tap of one of its channels, in channel then tap order) form the inner dimension
 * n_g of the GEMM Y_g = W_g * im2col(X_g), padded to roundUp(max n_g, t).
 */
export function buildDiagonalTable(entry: LayerPlanEntry, weights: Tensor | FloatArray, options: DiagonalTableOptions = {}): DiagonalTable {
  expectKind(entry, 'dw', 'buildDiagonalTable');
  const { channels, kernelH, kernelW } = dwShape(entry);
  const area = kernelH * kernelW;
  const data = weightData(weights, channels * area, 'DW', entry.name);
  const step = resolveStep(options, entry);
  const requested = options.groupSize ?? (entry.granularity === 'group' || entry.granularity === 'channel' ? entry.groupSize : null) ?? DEFAULT_DIAGONAL_GROUP_SIZE;
  if (!Number.isInteger(requested) || requested < 1) throw new UsageError(`DR group size must be an integer >= 1, got ${String(requested)}`, { node: entry.name });
  const groupSize = Math.max(1, Math.min(requested, channels));
  const groups = Math.ceil(channels / groupSize);
  const kept: number[] = [];
  for (let group = 0; group < groups; group++) {
    let count = 0;
    for (let channel = group * groupSize; channel < Math.min(channels, (group + 1) * groupSize); channel++) count += entry.kept[channel];
    kept.push(count);
  }
  const slots = roundUp(Math.max(0, ...kept), step);
  const columns = new Float32Array(groups * slots * 4);
  const compact = new Float32Array(channels * slots);
  for (let group = 0; group < groups; group++) {
    let column = 0;
    for (let channel = group * groupSize; channel < Math.min(channels, (group + 1) * groupSize); channel++) {
      for (const tap of entry.keptIndices[channel]) {
        const at = (group * slots + column) * 4;
        columns[at] = channel;
        columns[at + 1] = Math.floor(tap / kernelW);
        columns[at + 2] = tap % kernelW;
        columns[at + 3] = 1;
        compact[channel * slots + column] = data[channel * area + tap];
        column++;
      }
    }
  }
  const fullGroups = kept.slice(0, channels % groupSize === 0 ? groups : groups - 1);
  const total = kept.reduce((sum, count) => sum + count, 0);
  return Object.freeze({
    kind: 'dw-diagonal',
    name: entry.name,
    channels,
    kernel: Object.freeze([kernelH, kernelW] as const),
    groupSize,
    groups,
    step,
    slots,
    kept: Object.freeze(kept),
    balance: fullGroups.length === 0 || allEqual(fullGroups) ? 'group' : 'none',
    columns,
    weights: compact,
    efficiency: slots === 0 ? 1 : total / (channels * slots),
  });
}
