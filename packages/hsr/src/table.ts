import { UsageError } from '@deprune/errors';
import { analyticStaircase } from './analytic';
import type { LatencyModel, LatencyTable, LayerShape } from './types';

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
  }
}

/**
 * A latency model from a measured table. For a kept count n the layer's latency is the one measured
 * at the smallest measured count >= n (a step-wise, monotone interpolation: the kernel pads n up to
 * the next count it was timed at). Beyond the largest measured count, the largest count's latency
 * (the profiler measures up to full, so this only happens for a table of another shape). Layers
 * missing from the table use `fallback`, and `source()` says so.
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
    entries.set(name, { kept, latencyUs, ...(entry.step === undefined ? {} : { step: entry.step }) });
  }
  const label = `${table.backend}/${table.mode}`;
  return {
    name: `table:${label}`,
    latency(layer: LayerShape, n: number): number {
      const entry = entries.get(layer.name);
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
      const entry = entries.get(layer.name);
      return entry === undefined ? fallback.step?.(layer) : entry.step;
    },
    source(layer: LayerShape) {
      if (entries.has(layer.name)) return { measured: true, description: `latency table ${label}` };
      const inner = fallback.source?.(layer).description ?? fallback.name;
      return { measured: false, description: `${inner}: layer '${layer.name}' is not in latency table ${label}` };
    },
  };
}
