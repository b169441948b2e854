import { ShapeError, UsageError } from '@deprune/errors';
import type { FloatArray, Tensor } from '@deprune/tensor';
import type { ColumnTable, DiagonalTable, DwKeptTaps, PwKeptColumns, TapTable } from './tables';

/**
 * Kept indices + weights -> the compact tables the sparse kernels read. The backend takes kept
 * indices (`DwKeptTaps`, `PwKeptColumns`), not plan entries: it knows nothing of masks or plan
 * files (`@deprune/runtime`'s `keptTapsOf` / `keptColumnsOf` convert a plan entry). Built once per
 * layer on the host (they depend on the kept indices and the weights, not on the input), then
 * reused for every call.
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
  /** Chunk size t. Default: the kept indices' `step` (set by HSR), else DEFAULT_STEP. */
  step?: number;
}

export interface DiagonalTableOptions extends TableOptions {
  /** Channels per DR group G. Default: the kept taps' `groupSize` (group/channel plans), else DEFAULT_DIAGONAL_GROUP_SIZE. */
  groupSize?: number;
}

function weightData(weights: Tensor | FloatArray, expected: number, what: string, layer: string): FloatArray {
  const data = weights instanceof Float32Array || weights instanceof Float64Array ? weights : weights?.data;
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw new UsageError(`${what} weights must be a Tensor or a Float32Array/Float64Array`, { node: layer });
  }
  if (data.length !== expected) throw new ShapeError(`${what} weights have ${data.length} values but the layer's shape needs ${expected}`, { node: layer });
  return data;
}

function resolveStep(options: TableOptions, kept: DwKeptTaps | PwKeptColumns): number {
  const step = options.step ?? kept.step ?? DEFAULT_STEP;
  if (!Number.isInteger(step) || step < 1) {
    // A plan file can hold anything here: name the kind of value, not all of it.
    const shown = typeof step === 'number' ? String(step) : Array.isArray(step) ? `an array of ${(step as unknown[]).length} values` : typeof step;
    throw new UsageError(`step t must be an integer >= 1, got ${shown}`, { node: kept.name });
  }
  return step;
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/**
 * `units` lists of strictly ascending integers in [0, limit): the loops below index weights with
 * them, so a bad list must be refused here, not read out of bounds.
 */
function checkKeptLists(lists: unknown, units: number, limit: number, what: string, table: string, name: string): readonly (readonly number[])[] {
  if (!Array.isArray(lists)) throw new UsageError(`${table} needs ${what} as an array of index lists`, { node: name });
  if (lists.length !== units) throw new ShapeError(`${table}: expected ${units} lists of ${what}, got ${lists.length}`, { node: name });
  for (let unit = 0; unit < units; unit++) {
    const list: unknown = lists[unit];
    if (!Array.isArray(list)) throw new ShapeError(`${table}: ${what}[${unit}] must be an array`, { node: name });
    for (let position = 0; position < list.length; position++) {
      const index: unknown = list[position];
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= limit) {
        throw new ShapeError(`${table}: ${what}[${unit}][${position}] is outside [0, ${limit - 1}]`, { node: name });
      }
      if (position > 0 && (list[position - 1] as number) >= index) throw new ShapeError(`${table}: ${what}[${unit}] must be strictly ascending`, { node: name });
    }
  }
  return lists as readonly (readonly number[])[];
}

function dwShape(input: DwKeptTaps, table: string): { channels: number; kernelH: number; kernelW: number; keptTaps: readonly (readonly number[])[] } {
  if (input === null || typeof input !== 'object') throw new UsageError(`${table} needs a layer's kept taps`);
  const { channels, kernel } = input;
  if (!isPositiveInteger(channels) || !Array.isArray(kernel) || !isPositiveInteger(kernel[0]) || !isPositiveInteger(kernel[1])) {
    throw new UsageError(`${table} needs a DW layer's channels and kernel [kh, kw]`, { node: input.name });
  }
  const keptTaps = checkKeptLists(input.keptTaps, channels, kernel[0] * kernel[1], 'keptTaps', table, input.name);
  return { channels, kernelH: kernel[0], kernelW: kernel[1], keptTaps };
}

function allEqual(values: readonly number[]): boolean {
  return values.every((value) => value === values[0]);
}

/** DEPrune-sparse DW: for each channel its kept taps (dy, dx, weight), padded to roundUp(max m_c, t) slots. */
export function buildTapTable(input: DwKeptTaps, weights: Tensor | FloatArray, options: TableOptions = {}): TapTable {
  const { channels, kernelH, kernelW, keptTaps } = dwShape(input, 'buildTapTable');
  const area = kernelH * kernelW;
  const data = weightData(weights, channels * area, 'DW', input.name);
  const step = resolveStep(options, input);
  const kept = keptTaps.map((list) => list.length);
  const slots = roundUp(Math.max(0, ...kept), step);
  const taps = new Float32Array(channels * slots * 3);
  for (let channel = 0; channel < channels; channel++) {
    keptTaps[channel].forEach((tap, slot) => {
      const at = (channel * slots + slot) * 3;
      taps[at] = Math.floor(tap / kernelW);
      taps[at + 1] = tap % kernelW;
      taps[at + 2] = data[channel * area + tap];
    });
  }
  const total = kept.reduce((sum, count) => sum + count, 0);
  return Object.freeze({
    kind: 'dw-taps',
    name: input.name,
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
export function buildColumnTable(input: PwKeptColumns, weights: Tensor | FloatArray, options: TableOptions = {}): ColumnTable {
  if (input === null || typeof input !== 'object') throw new UsageError("buildColumnTable needs a layer's kept columns");
  const { outChannels, inChannels, tileRows } = input;
  if (!isPositiveInteger(outChannels) || !isPositiveInteger(inChannels)) throw new UsageError('buildColumnTable needs a PW layer\'s outChannels and inChannels', { node: input.name });
  if (!isPositiveInteger(tileRows) || tileRows > outChannels) throw new UsageError(`tileRows must be an integer in [1, ${outChannels}], got ${String(tileRows)}`, { node: input.name });
  const tiles = Math.ceil(outChannels / tileRows);
  const keptColumns = checkKeptLists(input.keptColumns, tiles, inChannels, 'keptColumns', 'buildColumnTable', input.name);
  const data = weightData(weights, outChannels * inChannels, 'PW', input.name);
  const step = resolveStep(options, input);
  const kept = keptColumns.map((list) => list.length);
  const slots = roundUp(Math.max(0, ...kept), step);
  const columns = new Float32Array(tiles * slots);
  const compact = new Float32Array(outChannels * slots);
  for (let tile = 0; tile < tiles; tile++) {
    const list = keptColumns[tile];
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
    name: input.name,
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
export function buildDiagonalTable(input: DwKeptTaps, weights: Tensor | FloatArray, options: DiagonalTableOptions = {}): DiagonalTable {
  const { channels, kernelH, kernelW, keptTaps } = dwShape(input, 'buildDiagonalTable');
  const area = kernelH * kernelW;
  const data = weightData(weights, channels * area, 'DW', input.name);
  const step = resolveStep(options, input);
  const requested = options.groupSize ?? input.groupSize ?? DEFAULT_DIAGONAL_GROUP_SIZE;
  if (!Number.isInteger(requested) || requested < 1) throw new UsageError(`DR group size must be an integer >= 1, got ${String(requested)}`, { node: input.name });
  const groupSize = Math.max(1, Math.min(requested, channels));
  const groups = Math.ceil(channels / groupSize);
  const kept: number[] = [];
  for (let group = 0; group < groups; group++) {
    let count = 0;
    for (let channel = group * groupSize; channel < Math.min(channels, (group + 1) * groupSize); channel++) count += keptTaps[channel].length;
    kept.push(count);
  }
  const slots = roundUp(Math.max(0, ...kept), step);
  const columns = new Float32Array(groups * slots * 4);
  const compact = new Float32Array(channels * slots);
  for (let group = 0; group < groups; group++) {
    let column = 0;
    for (let channel = group * groupSize; channel < Math.min(channels, (group + 1) * groupSize); channel++) {
      for (const tap of keptTaps[channel]) {
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
    name: input.name,
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
