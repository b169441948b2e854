import type { DwLayer, PwLayer } from './types';
import { kernelSize, tileCount } from './validate';

/**
 * PCP's column-segment scores: for each row tile t and input column i, the L2 norm of the scores
 * of rows `t*T .. min(Cout, (t+1)*T) - 1` in column i. Layout `[tile * Cin + column]`.
 * With magnitude scores this is the L2 norm of the weight segment a gather kernel would skip.
 */
export function segmentNorms(layer: PwLayer, scores: Float64Array, tileRows: number): Float64Array {
  const columns = layer.inChannels;
  const tiles = tileCount(layer.outChannels, tileRows);
  const norms = new Float64Array(tiles * columns);
  for (let row = 0; row < layer.outChannels; row++) {
    const offset = Math.floor(row / tileRows) * columns;
    for (let column = 0; column < columns; column++) {
      const score = scores[row * columns + column];
      norms[offset + column] += score * score;
    }
  }
  for (let index = 0; index < norms.length; index++) norms[index] = Math.sqrt(norms[index]);
  return norms;
}

/** L2 norm of each DW channel's scores (the 'channel' strategy's ranking). */
export function channelNorms(layer: DwLayer, scores: Float64Array): Float64Array {
  const taps = kernelSize(layer);
  const norms = new Float64Array(layer.channels);
  for (let channel = 0; channel < layer.channels; channel++) {
    let sum = 0;
    for (let tap = 0; tap < taps; tap++) sum += scores[channel * taps + tap] ** 2;
    norms[channel] = Math.sqrt(sum);
  }
  return norms;
}

/** L2 norm of each PW input column's scores over all rows (the 'channel' strategy on PW). */
export function columnNorms(layer: PwLayer, scores: Float64Array): Float64Array {
  return segmentNorms(layer, scores, layer.outChannels);
}
