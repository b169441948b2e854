import type { LayerPlan } from '../src/index';

export { abs, dwLayer, ones, pwLayer, randomWeights, ratioArb } from '@deprune/test-fixtures';
import { dwLayerArb as makeDwLayerArb, fcOptions as makeFcOptions, pwLayerArb as makePwLayerArb } from '@deprune/test-fixtures';

// Masks' properties also cover 1x3 kernels; slightly smaller layers keep the run quick.
export const dwLayerArb = makeDwLayerArb({ maxChannels: 70, kernels: [[3, 3], [5, 5], [1, 3]] });
export const pwLayerArb = makePwLayerArb({ maxOutChannels: 80 });
export const fcOptions = makeFcOptions(60);

/** Kept weights implied by `kept` alone: DW sum of kept taps; PW kept columns times the rows of each tile. */
export function keptFromCounts(plan: LayerPlan): number {
  if (plan.kind === 'dw') return plan.kept.reduce((a, b) => a + b, 0);
  const rows = plan.shape.outChannels!;
  const tileRows = plan.tileRows!;
  return plan.kept.reduce((sum, count, tile) => sum + count * (Math.min(rows, (tile + 1) * tileRows) - tile * tileRows), 0);
}
