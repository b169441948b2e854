import { DeprunError, UsageError, type DeprunErrorDetails } from '@deprune/errors';
import { analyticStaircase } from './analytic';
import { unitsOf } from './shape';
import type { HsrUnit, LatencyModel, LatencyTable, LayerShape } from './types';

const UNITS: readonly HsrUnit[] = ['channel', 'group', 'tile'];

/** A balanced unit with its size: channels per group, rows per tile, 1 for a channel. */
export interface SizedUnit {
  unit: HsrUnit;
  size: number;
}

/**
 * A latency table measured for another balanced unit than the layer's plan uses (a 'channel' table
 * for a 'group' plan, groups of 16 for groups of 32, tiles of 8 rows for tiles of 32): its counts
 * mean something else, so pricing the plan with it would be wrong. Code BAD_CONFIG (exit 2); names
 * the layer (`node`) and says what to pass.
 */
export class LatencyTableMismatchError extends DeprunError {
  readonly layer: string;
  readonly tableUnit: SizedUnit;
  readonly planUnit: SizedUnit;

  constructor(message: string, details: DeprunErrorDetails & { layer: string; tableUnit: SizedUnit; planUnit: SizedUnit }) {
    super('BAD_CONFIG', message, details);
    this.layer = details.layer;
    this.tableUnit = details.tableUnit;
    this.planUnit = details.planUnit;
  }
}

export interface TableLatencyModelOptions {
  /** Model for layers the table lacks. Default `analyticStaircase()`. */
  fallback?: LatencyModel;
  /**
   * Make each layer's measured curve non-decreasing in n (running maximum over increasing n), so
   * timing noise never makes more work look cheaper. Default true.
   */
  monotone?: boolean;
}

interface PreparedEntry {
  kept: number[];
  latencyUs: number[];
  step?: number;
  unit?: SizedUnit;
}

/** Checks a latency table (e.g. parsed from the profiler's JSON); throws UsageError naming the layer. */
export function validateLatencyTable(table: LatencyTable): void {
  if (table === null || typeof table !== 'object') throw new UsageError('a latency table must be an object { backend, mode, layers }');
  if (typeof table.backend !== 'string' || typeof table.mode !== 'string') {
    throw new UsageError('a latency table needs string fields backend and mode');
  }
  if (table.layers === null || typeof table.layers !== 'object' || Array.isArray(table.layers)) {
    throw new UsageError('a latency table needs layers: { [layerName]: { kept, latencyUs, step? } }');
  }
  for (const [name, entry] of Object.entries(table.layers)) {
    const where = { node: name };
    if (!Array.isArray(entry?.kept) || !Array.isArray(entry?.latencyUs) || entry.kept.length === 0 || entry.kept.length !== entry.latencyUs.length) {
      throw new UsageError('latency table entry needs kept and latencyUs arrays of the same non-zero length', where);
    }
    const seen = new Set<number>();
    entry.kept.forEach((kept, index) => {
      if (!Number.isInteger(kept) || kept < 0) throw new UsageError(`latency table kept[${index}] must be an integer >= 0, got ${String(kept)}`, where);
      if (seen.has(kept)) throw new UsageError(`latency table lists kept ${kept} twice`, where);
      seen.add(kept);
      const latency = entry.latencyUs[index];
      if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
        throw new UsageError(`latency table latencyUs[${index}] must be a finite number >= 0, got ${String(latency)}`, where);
      }
    });
    if (entry.step !== undefined && (!Number.isInteger(entry.step) || entry.step < 1)) {
      throw new UsageError(`latency table step must be an integer >= 1, got ${String(entry.step)}`, where);
    }
    if (entry.unit !== undefined && !UNITS.includes(entry.unit)) {
      throw new UsageError(`latency table unit must be one of ${UNITS.join(', ')}, got ${JSON.stringify(entry.unit)}`, where);
    }
    if (entry.unitSize !== undefined && (!Number.isInteger(entry.unitSize) || entry.unitSize < 1)) {
      throw new UsageError(`latency table unitSize must be an integer >= 1, got ${String(entry.unitSize)}`, where);
    }
  }
}

/**
 * The BWT units a table was measured for, read off its entries' `unit` / `unitSize` (what the
 * profiler writes): `dw` is 'channel' or 'group' with G, `pw` is 'tile' with T; null where no
 * entry of that kind says. G and T are the largest sizes listed (a layer smaller than G or T is
 * recorded clamped, as BWT clamps it). A table whose DW entries mix units is refused: no single
 * BWT setting fits it. The pruner takes these as its `bwt` settings (`deprune prune --hsr-table`).
 */
export function latencyTableUnits(table: LatencyTable): { dw: SizedUnit | null; pw: SizedUnit | null } {
  validateLatencyTable(table);
  const found = { dw: null as SizedUnit | null, pw: null as SizedUnit | null };
  for (const [name, entry] of Object.entries(table.layers)) {
    if (entry.unit === undefined) continue;
    const kind = entry.unit === 'tile' ? 'pw' : 'dw';
    const size = entry.unit === 'channel' ? 1 : (entry.unitSize ?? 0);
    const seen = found[kind];
    if (seen !== null && seen.unit !== entry.unit) {
      throw new UsageError(`latency table ${table.backend}/${table.mode} mixes DW units: '${seen.unit}' and '${entry.unit}' (layer '${name}'); one prune run balances DW layers one way`, {
        node: name,
        hint: 'profile every DW layer with the same --dw-unit',
      });
    }
    found[kind] = { unit: entry.unit, size: Math.max(seen?.size ?? 0, size) };
  }
  return found;
}

/** The unit a layer's plan balances, with its size as BWT clamps it (a group never exceeds C, a tile never Cout). */
export function planUnitOf(layer: LayerShape): SizedUnit {
  const { unit, full, rowsPerElement } = unitsOf(layer);
  if (unit === 'group') return { unit, size: full / (layer.kernel![0] * layer.kernel![1]) };
  if (unit === 'tile') return { unit, size: rowsPerElement };
  return { unit, size: 1 };
}

/** 'per channel (...)', 'per group of G channels (...)', 'per tile of T output rows (...)'. */
export function describeUnit({ unit, size }: SizedUnit): string {
  if (unit === 'channel') return "per channel (unit 'channel')";
  if (unit === 'group') return `per group of ${size} channels (unit 'group', G = ${size})`;
  return `per tile of ${size} output rows (unit 'tile', T = ${size})`;
}

/** What to pass so that the plan and the table agree: the table's unit to the pruner, or the plan's to the profiler. */
function mismatchHint(table: SizedUnit, plan: SizedUnit): string {
  if (table.unit === 'tile' || plan.unit === 'tile') {
    return `prune with BWT tileRows ${table.size} (config bwt.tileRows, or deprune prune --tile-rows ${table.size}), or profile with --tile-rows ${plan.size}`;
  }
  const prune = table.unit === 'channel' ? "BWT granularity 'channel' (config bwt.granularity, or deprune prune --bwt-granularity channel)" : `BWT granularity 'group' with groupSize ${table.size} (config bwt, or deprune prune --bwt-granularity group --group-size ${table.size})`;
  const profile = plan.unit === 'channel' ? '--dw-unit channel' : `--dw-unit group --group-size ${plan.size}`;
  return `prune with ${prune}, or profile the layer with ${profile}`;
}


/**
 * A latency model from a measured table. For a kept count n the layer's latency is the one measured
 * at the smallest measured count >= n (a step-wise, monotone interpolation: the kernel pads n up to
 * the next count it was timed at). Beyond the largest measured count, the largest count's latency
 * (the profiler measures up to full, so this only happens for a table of another shape). Layers
 * missing from the table use `fallback`, and `source()` says so. An entry that says which unit it
 * counts (`unit`, `unitSize`: the profiler's tables do) must match the layer's plan (granularity,
 * G, T), else `latency` and `step` throw a `LatencyTableMismatchError` naming the layer.
 */
export function tableLatencyModel(table: LatencyTable, options: TableLatencyModelOptions = {}): LatencyModel {
  validateLatencyTable(table);
  const fallback = options.fallback ?? analyticStaircase();
  const monotone = options.monotone ?? true;
  const entries = new Map<string, PreparedEntry>();
  for (const [name, entry] of Object.entries(table.layers)) {
    const order = entry.kept.map((_, index) => index).sort((a, b) => entry.kept[a] - entry.kept[b]);
    const kept = order.map((index) => entry.kept[index]);
    const latencyUs = order.map((index) => entry.latencyUs[index]);
    if (monotone) for (let index = 1; index < latencyUs.length; index++) latencyUs[index] = Math.max(latencyUs[index], latencyUs[index - 1]);
    entries.set(name, {
      kept,
      latencyUs,
      ...(entry.step === undefined ? {} : { step: entry.step }),
      ...(entry.unit === undefined ? {} : { unit: { unit: entry.unit, size: entry.unit === 'channel' ? 1 : (entry.unitSize ?? 0) } }),
    });
  }
  const label = `${table.backend}/${table.mode}`;
  /** The layer's entry, after checking that it counts the unit the layer's plan balances. */
  const entryFor = (layer: LayerShape): PreparedEntry | undefined => {
    const entry = entries.get(layer.name);
    if (entry === undefined || entry.unit === undefined) return entry;
    const planUnit = planUnitOf(layer);
    // A size of 0 means the table gave no unitSize: only the unit is compared.
    if (entry.unit.unit !== planUnit.unit || (entry.unit.size !== 0 && entry.unit.size !== planUnit.size)) {
      throw new LatencyTableMismatchError(
        `latency table ${label} measured this layer ${describeUnit(entry.unit)}, but its plan balances work ${describeUnit(planUnit)}: the table's kept counts mean something else for this plan`,
        { node: layer.name, layer: layer.name, tableUnit: entry.unit, planUnit, hint: mismatchHint(entry.unit, planUnit) },
      );
    }
    return entry;
  };
  return {
    name: `table:${label}`,
    latency(layer: LayerShape, n: number): number {
      const entry = entryFor(layer);
      if (entry === undefined) return fallback.latency(layer, n);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`kept count must be an integer >= 0, got ${String(n)}`, { node: layer.name });
      // Smallest measured count >= n, by binary search.
      let low = 0;
      let high = entry.kept.length - 1;
      if (n > entry.kept[high]) return entry.latencyUs[high];
      while (low < high) {
        const middle = (low + high) >> 1;
        if (entry.kept[middle] >= n) high = middle;
        else low = middle + 1;
      }
      return entry.latencyUs[low];
    },
    step(layer: LayerShape): number | undefined {
      const entry = entryFor(layer);
      return entry === undefined ? fallback.step?.(layer) : entry.step;
    },
    source(layer: LayerShape) {
      if (entries.has(layer.name)) return { measured: true, description: `latency table ${label}` };
      const inner = fallback.source?.(layer).description ?? fallback.name;
      return { measured: false, description: `${inner}: layer '${layer.name}' is not in latency table ${label}` };
    },
  };
}
