import { UsageError } from '@deprune/errors';
import { unitsOf } from './shape';
import type { LatencyModel, LayerShape } from './types';

export interface AnalyticStaircaseOptions {
  /** Chunk size t of the inner dimension (vector width or tile depth). Default 4. */
  step?: number | ((layer: LayerShape) => number);
  /** Microseconds one chunk costs for the whole layer. Default: MACs of one chunk in every unit / macsPerMicrosecond. */
  costPerChunk?: number | ((layer: LayerShape) => number);
  /** Nominal throughput for the default cost. Default 1e6 (1 TMAC/s). */
  macsPerMicrosecond?: number;
}

function resolve(value: number | ((layer: LayerShape) => number), layer: LayerShape): number {
  return typeof value === 'function' ? value(layer) : value;
}

/**
 * The fallback latency model when no measured table exists: `ceil(n / t) * cost`, a staircase in
 * the kept count n per unit. Default cost of one chunk = t * (rows each inner element feeds: 1 for
 * DW, T for PW) * units * outputPixels (1 if unknown) MACs at `macsPerMicrosecond`, i.e. the
 * useful MACs of the layer, rounded up to whole chunks.
 */
export function analyticStaircase(options: AnalyticStaircaseOptions = {}): LatencyModel {
  const { step = 4, costPerChunk, macsPerMicrosecond = 1e6 } = options;
  if (typeof macsPerMicrosecond !== 'number' || !(macsPerMicrosecond > 0) || !Number.isFinite(macsPerMicrosecond)) {
    throw new UsageError(`macsPerMicrosecond must be a positive number, got ${String(macsPerMicrosecond)}`);
  }
  const stepOf = (layer: LayerShape): number => {
    const t = resolve(step, layer);
    if (!Number.isInteger(t) || t < 1) throw new UsageError(`analytic staircase step must be an integer >= 1, got ${String(t)}`, { node: layer.name });
    return t;
  };
  const costOf = (layer: LayerShape, t: number): number => {
    if (costPerChunk !== undefined) {
      const cost = resolve(costPerChunk, layer);
      if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
        throw new UsageError(`analytic staircase costPerChunk must be a finite number >= 0, got ${String(cost)}`, { node: layer.name });
      }
      return cost;
    }
    const { units, rowsPerElement } = unitsOf(layer);
    return (t * rowsPerElement * units * (layer.outputPixels ?? 1)) / macsPerMicrosecond;
  };
  const described = typeof step === 'number' ? `t=${step}` : 't per layer';
  return {
    name: `analytic-staircase(${described})`,
    latency(layer: LayerShape, kept: number): number {
      if (!Number.isInteger(kept) || kept < 0) throw new UsageError(`kept count must be an integer >= 0, got ${String(kept)}`, { node: layer.name });
      const t = stepOf(layer);
      return Math.ceil(kept / t) * costOf(layer, t);
    },
    step: stepOf,
    source: () => ({ measured: false, description: `analytic staircase ceil(n / t) (${described})` }),
  };
}
