import { ShapeError, UsageError } from '@deprune/errors';
import type { DwLayer, Granularity, LayerPlan, LayerPlanEntry, LayerPlanShape, PrunableLayer, PwLayer } from './types';
import { kernelSize, tileCount, validateLayer } from './validate';

/**
 * A value from a plan entry for a one-line message: primitives as they print (long strings cut),
 * arrays and objects by their kind. A plan file is input: a 20,000-element array where a number
 * belongs must not become a 100 KB message.
 */
function printable(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `${value.slice(0, 60)}... (${value.length} characters)` : value;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
}

/** What a strategy says about its plan besides the kept indices. */
export interface PlanMeta {
  strategy: string;
  granularity: Granularity;
  /** DW only; default null. */
  groupSize?: number | null;
  /** Default null. */
  step?: number | null;
  removedChannels?: number[];
}

export interface PwPlanMeta extends PlanMeta {
  /** Output rows per tile; every row of a tile keeps the same columns. */
  tileRows: number;
}

/** Every granularity a plan entry may name; a plan file's reader checks against this list. */
export const GRANULARITIES: readonly Granularity[] = ['none', 'channel', 'group', 'tile', 'nm', 'structured'];

function sortedIndices(indices: ArrayLike<number>, limit: number, what: string, layerName: string): number[] {
  const sorted = Array.from(indices).sort((a, b) => a - b);
  for (let position = 0; position < sorted.length; position++) {
    const value = sorted[position];
    if (!Number.isInteger(value) || value < 0 || value >= limit) {
      throw new ShapeError(`${what}: kept index ${printable(value)} is outside [0, ${limit - 1}]`, { node: layerName });
    }
    if (position > 0 && sorted[position - 1] === value) {
      throw new ShapeError(`${what}: kept index ${value} is listed twice`, { node: layerName });
    }
  }
  return sorted;
}

export function layerPlanShape(layer: PrunableLayer): LayerPlanShape {
  return layer.kind === 'dw'
    ? { channels: layer.channels, kernel: [layer.kernel[0], layer.kernel[1]] }
    : { outChannels: layer.outChannels, inChannels: layer.inChannels };
}

function sparsityOf(mask: Uint8Array): number {
  if (mask.length === 0) return 0;
  let kept = 0;
  for (let index = 0; index < mask.length; index++) kept += mask[index];
  return (mask.length - kept) / mask.length;
}

/** Builds a DW plan from the kept taps of each channel (any order; stored ascending). */
export function buildDwPlan(layer: DwLayer, keptTapsPerChannel: ArrayLike<ArrayLike<number>>, meta: PlanMeta): LayerPlan {
  const taps = kernelSize(layer);
  if (keptTapsPerChannel.length !== layer.channels) {
    throw new ShapeError(`DW plan needs kept taps for ${layer.channels} channels, got ${keptTapsPerChannel.length}`, { node: layer.name });
  }
  const mask = new Uint8Array(layer.weights.length);
  const keptIndices: number[][] = [];
  for (let channel = 0; channel < layer.channels; channel++) {
    const sorted = sortedIndices(keptTapsPerChannel[channel], taps, `channel ${channel}`, layer.name);
    for (const tap of sorted) mask[channel * taps + tap] = 1;
    keptIndices.push(sorted);
  }
  return {
    name: layer.name,
    kind: 'dw',
    strategy: meta.strategy,
    granularity: meta.granularity,
    groupSize: meta.groupSize ?? null,
    tileRows: null,
    step: meta.step ?? null,
    shape: layerPlanShape(layer),
    kept: keptIndices.map((list) => list.length),
    keptIndices,
    mask,
    sparsity: sparsityOf(mask),
    ...(meta.removedChannels === undefined ? {} : { removedChannels: [...meta.removedChannels].sort((a, b) => a - b) }),
  };
}

/** Builds a PW plan from the kept input columns of each row tile (any order; stored ascending). */
export function buildPwPlan(layer: PwLayer, keptColumnsPerTile: ArrayLike<ArrayLike<number>>, meta: PwPlanMeta): LayerPlan {
  const { tileRows } = meta;
  if (!Number.isInteger(tileRows) || tileRows < 1 || tileRows > layer.outChannels) {
    throw new UsageError(`tileRows must be an integer in [1, ${layer.outChannels}], got ${printable(tileRows)}`, { node: layer.name });
  }
  const tiles = tileCount(layer.outChannels, tileRows);
  if (keptColumnsPerTile.length !== tiles) {
    throw new ShapeError(`PW plan needs kept columns for ${tiles} tiles of ${tileRows} rows, got ${keptColumnsPerTile.length}`, { node: layer.name });
  }
  const columns = layer.inChannels;
  const mask = new Uint8Array(layer.weights.length);
  const keptIndices: number[][] = [];
  for (let tile = 0; tile < tiles; tile++) {
    const sorted = sortedIndices(keptColumnsPerTile[tile], columns, `tile ${tile}`, layer.name);
    const rowEnd = Math.min(layer.outChannels, (tile + 1) * tileRows);
    for (let row = tile * tileRows; row < rowEnd; row++) {
      for (const column of sorted) mask[row * columns + column] = 1;
    }
    keptIndices.push(sorted);
  }
  return {
    name: layer.name,
    kind: 'pw',
    strategy: meta.strategy,
    granularity: meta.granularity,
    groupSize: null,
    tileRows,
    step: meta.step ?? null,
    shape: layerPlanShape(layer),
    kept: keptIndices.map((list) => list.length),
    keptIndices,
    mask,
    sparsity: sparsityOf(mask),
    ...(meta.removedChannels === undefined ? {} : { removedChannels: [...meta.removedChannels].sort((a, b) => a - b) }),
  };
}

/**
 * Builds a plan from a per-weight mask: the easy way for a contributed strategy. DW: any mask.
 * PW: every row of a tile of `tileRows` rows (default 1, i.e. any mask) must keep the same columns.
 */
export function planFromMask(layer: PrunableLayer, mask: ArrayLike<number>, meta: PlanMeta & { tileRows?: number }): LayerPlan {
  validateLayer(layer);
  if (mask.length !== layer.weights.length) {
    throw new ShapeError(`mask has ${mask.length} entries but the layer has ${layer.weights.length} weights`, { node: layer.name });
  }
  if (layer.kind === 'dw') {
    const taps = kernelSize(layer);
    const kept: number[][] = [];
    for (let channel = 0; channel < layer.channels; channel++) {
      const list: number[] = [];
      for (let tap = 0; tap < taps; tap++) if (mask[channel * taps + tap]) list.push(tap);
      kept.push(list);
    }
    return buildDwPlan(layer, kept, meta);
  }
  const tileRows = meta.tileRows ?? 1;
  if (!Number.isInteger(tileRows) || tileRows < 1) {
    throw new UsageError(`tileRows must be an integer >= 1, got ${printable(tileRows)}`, { node: layer.name });
  }
  const rowsPerTile = Math.min(tileRows, layer.outChannels);
  const columns = layer.inChannels;
  const kept: number[][] = [];
  for (let tile = 0; tile < tileCount(layer.outChannels, rowsPerTile); tile++) {
    const firstRow = tile * rowsPerTile;
    const list: number[] = [];
    for (let column = 0; column < columns; column++) if (mask[firstRow * columns + column]) list.push(column);
    const rowEnd = Math.min(layer.outChannels, firstRow + rowsPerTile);
    for (let row = firstRow + 1; row < rowEnd; row++) {
      for (let column = 0; column < columns; column++) {
        if (Boolean(mask[row * columns + column]) !== Boolean(mask[firstRow * columns + column])) {
          throw new ShapeError(
            `mask row ${row} differs from row ${firstRow} at column ${column}, but rows of a ${rowsPerTile}-row tile must keep the same columns`,
            { node: layer.name, hint: 'pass tileRows: 1 for a mask without tile structure' },
          );
        }
      }
    }
    kept.push(list);
  }
  return buildPwPlan(layer, kept, { ...meta, tileRows: rowsPerTile });
}

/** The plan entry as stored in the plan file: everything but the mask, as plain arrays. */
export function planEntryToJson(plan: LayerPlanEntry): LayerPlanEntry {
  const shape: LayerPlanShape = {};
  if (plan.shape.channels !== undefined) shape.channels = plan.shape.channels;
  if (plan.shape.kernel !== undefined) shape.kernel = [plan.shape.kernel[0], plan.shape.kernel[1]];
  if (plan.shape.outChannels !== undefined) shape.outChannels = plan.shape.outChannels;
  if (plan.shape.inChannels !== undefined) shape.inChannels = plan.shape.inChannels;
  return {
    name: plan.name,
    kind: plan.kind,
    strategy: plan.strategy,
    granularity: plan.granularity,
    groupSize: plan.groupSize,
    tileRows: plan.tileRows,
    step: plan.step,
    shape,
    kept: Array.from(plan.kept),
    keptIndices: plan.keptIndices.map((list) => Array.from(list)),
    sparsity: plan.sparsity,
    ...(plan.removedChannels === undefined ? {} : { removedChannels: Array.from(plan.removedChannels) }),
  };
}

function shapeOf(shape: LayerPlanShape | PrunableLayer): LayerPlanShape {
  return 'weights' in shape ? layerPlanShape(shape) : shape;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/**
 * Rebuilds the per-weight mask of a plan entry (e.g. read from a plan file). `shape` (a layer or
 * the entry's shape) defaults to `entry.shape`; when given it must agree with it. Checks the entry
 * thoroughly, since it may come from a file: throws ShapeError naming the layer.
 */
export function maskFromPlanEntry(entry: LayerPlanEntry, shape: LayerPlanShape | PrunableLayer = entry.shape): Uint8Array {
  if (entry === null || typeof entry !== 'object') throw new UsageError(`a plan entry must be an object, got ${printable(entry)}`);
  const where = { node: printable(entry.name) };
  const fail = (message: string): never => {
    throw new ShapeError(`plan entry: ${message}`, where);
  };
  const given = shapeOf(shape);
  const own = entry.shape ?? {};
  for (const key of ['channels', 'outChannels', 'inChannels'] as const) {
    if (given[key] !== undefined && own[key] !== undefined && given[key] !== own[key]) {
      fail(`shape.${key} is ${own[key]} but the layer has ${given[key]}`);
    }
  }
  if (given.kernel !== undefined && own.kernel !== undefined && (given.kernel[0] !== own.kernel[0] || given.kernel[1] !== own.kernel[1])) {
    fail(`shape.kernel is [${own.kernel.join(', ')}] but the layer has [${given.kernel.join(', ')}]`);
  }
  if (!GRANULARITIES.includes(entry.granularity)) fail(`unknown granularity '${printable(entry.granularity)}'`);
  if (!Array.isArray(entry.kept) || !Array.isArray(entry.keptIndices)) fail('kept and keptIndices must be arrays');
  let units: number;
  let unitSize: number;
  let rowsPerTile = 0;
  let rows = 0;
  if (entry.kind === 'dw') {
    const channels = given.channels ?? own.channels;
    const kernel = given.kernel ?? own.kernel;
    if (!isPositiveInteger(channels) || !Array.isArray(kernel) || !isPositiveInteger(kernel[0]) || !isPositiveInteger(kernel[1])) {
      return fail('a DW entry needs shape.channels and shape.kernel [kh, kw]');
    }
    if (entry.tileRows !== null && entry.tileRows !== undefined) fail('a DW entry has tileRows null');
    if (entry.groupSize !== null && entry.groupSize !== undefined && !isPositiveInteger(entry.groupSize)) {
      fail(`groupSize must be null or an integer >= 1, got ${printable(entry.groupSize)}`);
    }
    units = channels;
    unitSize = kernel[0] * kernel[1];
  } else if (entry.kind === 'pw') {
    const outChannels = given.outChannels ?? own.outChannels;
    const inChannels = given.inChannels ?? own.inChannels;
    if (!isPositiveInteger(outChannels) || !isPositiveInteger(inChannels)) {
      return fail('a PW entry needs shape.outChannels and shape.inChannels');
    }
    if (!isPositiveInteger(entry.tileRows) || entry.tileRows > outChannels) {
      return fail(`tileRows must be an integer in [1, ${outChannels}], got ${printable(entry.tileRows)}`);
    }
    rowsPerTile = entry.tileRows;
    rows = outChannels;
    units = tileCount(outChannels, rowsPerTile);
    unitSize = inChannels;
  } else {
    return fail(`kind must be 'dw' or 'pw', got '${printable((entry as { kind: unknown }).kind)}'`);
  }
  if (entry.keptIndices.length !== units || entry.kept.length !== units) {
    fail(`expected ${units} ${entry.kind === 'dw' ? 'channels' : 'tiles'} in kept and keptIndices, got ${entry.kept.length} and ${entry.keptIndices.length}`);
  }
  const mask = new Uint8Array((entry.kind === 'dw' ? units : rows) * unitSize);
  for (let unit = 0; unit < units; unit++) {
    const list = entry.keptIndices[unit];
    if (!Array.isArray(list)) fail(`keptIndices[${unit}] must be an array`);
    if (entry.kept[unit] !== list.length) fail(`kept[${unit}] is ${printable(entry.kept[unit])} but keptIndices[${unit}] lists ${list.length}`);
    for (let position = 0; position < list.length; position++) {
      const index = list[position];
      if (!Number.isInteger(index) || index < 0 || index >= unitSize) fail(`keptIndices[${unit}][${position}] = ${printable(index)} is outside [0, ${unitSize - 1}]`);
      if (position > 0 && list[position - 1] >= index) fail(`keptIndices[${unit}] must be strictly ascending`);
      if (entry.kind === 'dw') {
        mask[unit * unitSize + index] = 1;
      } else {
        const rowEnd = Math.min(rows, (unit + 1) * rowsPerTile);
        for (let row = unit * rowsPerTile; row < rowEnd; row++) mask[row * unitSize + index] = 1;
      }
    }
  }
  return mask;
}

/** A full plan (with mask) from a stored plan entry. */
export function planFromJson(entry: LayerPlanEntry, shape?: LayerPlanShape | PrunableLayer): LayerPlan {
  const mask = maskFromPlanEntry(entry, shape);
  return { ...planEntryToJson(entry), mask };
}

/**
 * Checks that a plan is self-consistent and fits the layer: the entry rebuilds exactly `plan.mask`,
 * and `sparsity` is the mask's zero fraction. `maskLayer` runs this on every strategy's output.
 */
export function validatePlan(plan: LayerPlan, layer: PrunableLayer): void {
  const where = { node: layer.name };
  if (plan.name !== layer.name) throw new ShapeError(`plan is for layer '${plan.name}'`, where);
  if (plan.kind !== layer.kind) throw new ShapeError(`plan is for a ${plan.kind} layer but the layer is ${layer.kind}`, where);
  const rebuilt = maskFromPlanEntry(plan, layer);
  if (!(plan.mask instanceof Uint8Array) || plan.mask.length !== rebuilt.length) {
    throw new ShapeError(`plan mask must be a Uint8Array of ${rebuilt.length} entries`, where);
  }
  for (let index = 0; index < rebuilt.length; index++) {
    if (plan.mask[index] !== rebuilt[index]) {
      throw new ShapeError(`plan mask disagrees with keptIndices at weight ${index} (mask ${plan.mask[index]}, keptIndices ${rebuilt[index]})`, where);
    }
  }
  const expected = sparsityOf(rebuilt);
  if (typeof plan.sparsity !== 'number' || Math.abs(plan.sparsity - expected) > 1e-12) {
    throw new ShapeError(`plan sparsity ${printable(plan.sparsity)} disagrees with its mask (${expected})`, where);
  }
}

/** Number of weights a plan keeps (ones in its mask). */
export function keptWeightCount(plan: Pick<LayerPlan, 'mask'>): number {
  let kept = 0;
  for (let index = 0; index < plan.mask.length; index++) kept += plan.mask[index];
  return kept;
}

/** `weights * mask` as a new array: the pruned weights. */
export function applyMask(weights: ArrayLike<number>, mask: Uint8Array): Float64Array {
  if (weights.length !== mask.length) {
    throw new ShapeError(`applyMask: ${weights.length} weights but ${mask.length} mask entries`);
  }
  const out = new Float64Array(weights.length);
  for (let index = 0; index < weights.length; index++) out[index] = mask[index] ? weights[index] : 0;
  return out;
}
