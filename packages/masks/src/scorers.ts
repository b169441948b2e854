import type { ImportanceScorer, PrunableLayer } from './types';
import { validateLayer } from './validate';

/**
 * `|w|` of the effective (BN-folded) weight. Strategies that rank groups of weights (PCP column
 * segments, whole channels) aggregate these per weight scores with an L2 norm themselves.
 */
export const magnitudeScorer: ImportanceScorer = {
  name: 'magnitude',
  description: '|w| of the effective (BN-folded) weight',
  score(layer: PrunableLayer): Float64Array {
    validateLayer(layer);
    const scores = new Float64Array(layer.weights.length);
    for (let index = 0; index < scores.length; index++) scores[index] = Math.abs(layer.weights[index]);
    return scores;
  },
};
