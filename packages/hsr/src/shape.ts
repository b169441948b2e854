import { UsageError } from '@deprune/errors';
import type { LayerPlan, PrunableLayer } from '@deprune/masks';
import type { HsrUnit, LayerShape } from './types';

/** The latency model's view of a layer under a plan. */
export function layerShapeOf(plan: LayerPlan, layer: PrunableLayer): LayerShape {
  const shape: LayerShape = { name: layer.name, kind: layer.kind, granularity: plan.granularity };
  if (layer.kind === 'dw') {
    shape.channels = layer.channels;
    shape.kernel = [layer.kernel[0], layer.kernel[1]];
    if (plan.granularity === 'channel') shape.groupSize = 1;
    else if (plan.groupSize !== null) shape.groupSize = plan.groupSize;
  } else {
    shape.outChannels = layer.outChannels;
    shape.inChannels = layer.inChannels;
    if (plan.tileRows !== null) shape.tileRows = plan.tileRows;
  }
  if (layer.outputPixels !== undefined) shape.outputPixels = layer.outputPixels;
  return shape;
}

function positive(value: number | undefined, what: string, layer: LayerShape): number {
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`layer shape needs ${what} (an integer >= 1), got ${String(value)}`, { node: layer.name });
  }
  return value;
}

/**
 * The balanced unit of a layer shape: what it is, how many there are, how much a full one can keep
 * and how many output rows each kept inner element feeds (1 for a DW tap, T for a PW column).
 * Non-balanced DW shapes count channels, non-balanced PW shapes count their tiles (or all rows).
 */
export function unitsOf(shape: LayerShape): { unit: HsrUnit; units: number; full: number; rowsPerElement: number } {
  if (shape.kind === 'dw') {
    const channels = positive(shape.channels, 'channels', shape);
    const taps = positive(shape.kernel?.[0], 'kernel height', shape) * positive(shape.kernel?.[1], 'kernel width', shape);
    const groupSize = shape.granularity === 'group' ? Math.min(channels, positive(shape.groupSize, 'groupSize', shape)) : 1;
    return { unit: shape.granularity === 'group' ? 'group' : 'channel', units: Math.ceil(channels / groupSize), full: groupSize * taps, rowsPerElement: 1 };
  }
  const rows = positive(shape.outChannels, 'outChannels', shape);
  const columns = positive(shape.inChannels, 'inChannels', shape);
  const tileRows = Math.min(rows, shape.tileRows === undefined ? rows : positive(shape.tileRows, 'tileRows', shape));
  return { unit: 'tile', units: Math.ceil(rows / tileRows), full: columns, rowsPerElement: tileRows };
}
