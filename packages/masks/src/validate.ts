import { ShapeError, UsageError } from '@deprune/errors';
import type { DwLayer, PrunableLayer, PwLayer } from './types';

/**
 * Counts from ratios: `round(x)` half up, after absorbing float error. `0.7 * 5` is
 * `3.4999999999999996` in binary floating point; the user meant 3.5, which rounds to 4. Every
 * "round(r * N)" in this package and in `@deprune/bwt` / `@deprune/hsr` goes through here so that
 * they agree to the weight.
 */
export function roundCount(value: number): number {
  return Math.floor(value + 0.5 + 1e-9 * Math.max(1, Math.abs(value)));
}

/** Number of weights `round(ratio * total)` a ratio removes from `total`. */
export function prunedCount(ratio: number, total: number): number {
  return Math.min(total, Math.max(0, roundCount(ratio * total)));
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** Ratio of weights to remove: a finite number in [0, 1). */
export function validateRatio(ratio: number, layerName?: string): void {
  const where = layerName === undefined ? {} : { node: layerName };
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) {
    throw new UsageError(`pruning ratio must be a finite number in [0, 1), got ${String(ratio)}`, where);
  }
  if (ratio < 0) {
    throw new UsageError(`pruning ratio must be in [0, 1), got ${ratio}`, where);
  }
  if (ratio >= 1) {
    throw new UsageError(`pruning ratio ${ratio} would remove every weight of the layer`, {
      ...where,
      hint: 'use a ratio below 1, or drop the layer from the graph instead',
    });
  }
}

export function assertPositiveInteger(what: string, value: unknown, layerName?: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`${what} must be an integer >= 1, got ${String(value)}`, layerName === undefined ? {} : { node: layerName });
  }
}

function isWeightArray(value: unknown): value is Float64Array {
  return value instanceof Float64Array || value instanceof Float32Array;
}

/** Checks the layer's shape fields against its weights; throws ShapeError naming the layer. */
export function validateLayer(layer: PrunableLayer): void {
  if (layer === null || typeof layer !== 'object') {
    throw new UsageError(`a prunable layer must be an object, got ${String(layer)}`);
  }
  if (typeof layer.name !== 'string') {
    throw new UsageError(`a prunable layer needs a string name, got ${String(layer.name)}`);
  }
  const where = { node: layer.name };
  if (!isWeightArray(layer.weights)) {
    throw new ShapeError(`layer weights must be a Float64Array (effective weights, row-major)`, where);
  }
  if (layer.outputPixels !== undefined) assertPositiveInteger('outputPixels', layer.outputPixels, layer.name);
  if (layer.kind === 'dw') {
    assertPositiveInteger('DW channels', layer.channels, layer.name);
    if (!Array.isArray(layer.kernel) || layer.kernel.length !== 2) {
      throw new ShapeError(`DW kernel must be [kh, kw], got ${JSON.stringify(layer.kernel)}`, where);
    }
    assertPositiveInteger('DW kernel height', layer.kernel[0], layer.name);
    assertPositiveInteger('DW kernel width', layer.kernel[1], layer.name);
    const expected = layer.channels * layer.kernel[0] * layer.kernel[1];
    if (layer.weights.length !== expected) {
      throw new ShapeError(
        `DW layer has ${layer.weights.length} weights but channels x kh x kw = ${layer.channels} x ${layer.kernel[0]} x ${layer.kernel[1]} = ${expected}`,
        where,
      );
    }
  } else if (layer.kind === 'pw') {
    assertPositiveInteger('PW outChannels', layer.outChannels, layer.name);
    assertPositiveInteger('PW inChannels', layer.inChannels, layer.name);
    const expected = layer.outChannels * layer.inChannels;
    if (layer.weights.length !== expected) {
      throw new ShapeError(
        `PW layer has ${layer.weights.length} weights but outChannels x inChannels = ${layer.outChannels} x ${layer.inChannels} = ${expected}`,
        where,
      );
    }
  } else {
    throw new UsageError(`layer kind must be 'dw' or 'pw', got '${String((layer as { kind: unknown }).kind)}'`, where);
  }
}

/** One score per weight, none NaN. */
export function validateScores(layer: PrunableLayer, scores: Float64Array): void {
  const where = { node: layer.name };
  if (!isWeightArray(scores)) {
    throw new UsageError('scores must be a Float64Array with one score per weight', where);
  }
  if (scores.length !== layer.weights.length) {
    throw new ShapeError(`scores have ${scores.length} values but the layer has ${layer.weights.length} weights`, where);
  }
  for (let index = 0; index < scores.length; index++) {
    if (Number.isNaN(scores[index])) {
      throw new UsageError(`scores[${index}] is NaN`, { ...where, hint: 'check the scorer and the calibration statistics' });
    }
  }
}

/** Taps per DW channel. */
export function kernelSize(layer: DwLayer): number {
  return layer.kernel[0] * layer.kernel[1];
}

/** Row tiles of a PW layer with `tileRows` rows each (the last one may be shorter). */
export function tileCount(outChannels: number, tileRows: number): number {
  return Math.ceil(outChannels / tileRows);
}

/** `tileRows` option: integer >= 1, clamped to Cout (T = Cout is plain input-channel pruning). */
export function resolveTileRows(layer: PwLayer, tileRows: unknown, fallback: number): number {
  const value = tileRows === undefined ? fallback : tileRows;
  assertPositiveInteger('tileRows', value, layer.name);
  return Math.min(value, layer.outChannels);
}

export function expectKind<K extends PrunableLayer['kind']>(
  layer: PrunableLayer,
  kinds: readonly K[],
  strategy: string,
): asserts layer is Extract<PrunableLayer, { kind: K }> {
  if (!(kinds as readonly string[]).includes(layer.kind)) {
    throw new UsageError(`strategy '${strategy}' applies to ${kinds.join(', ')} layers, not '${layer.kind}'`, { node: layer.name });
  }
}

/** Every built-in strategy starts here. */
export function validateInputs(layer: PrunableLayer, ratio: number, scores: Float64Array): void {
  validateLayer(layer);
  validateRatio(ratio, layer.name);
  validateScores(layer, scores);
}

/** Options must be an object or absent. */
export function optionsObject<O>(options: O | undefined, strategy: string, layerName: string): Partial<O> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new UsageError(`options of strategy '${strategy}' must be an object, got ${String(options)}`, { node: layerName });
  }
  return options;
}
