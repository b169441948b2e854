import { balanceDw, balancePw } from '@deprune/bwt';
import type { DwLayer, PwLayer } from '@deprune/masks';
import { analyticStaircase, recalibrate, tableLatencyModel, type LatencyTable } from '../src/index';

const dwWeights = Float64Array.from({ length: 32 * 9 }, (_, index) => Math.sin(index * 1.3));
const dw: DwLayer = { kind: 'dw', name: 'blocks.3.dw', channels: 32, kernel: [3, 3], weights: dwWeights, outputPixels: 28 * 28 };
const pwWeights = Float64Array.from({ length: 64 * 32 }, (_, index) => Math.cos(index * 0.7));
const pw: PwLayer = { kind: 'pw', name: 'blocks.3.pw', outChannels: 64, inChannels: 32, weights: pwWeights, outputPixels: 28 * 28 };
const scores = [dwWeights.map(Math.abs), pwWeights.map(Math.abs)];

// DEPrune-B: every DW channel keeps round(0.5 * 9) = 5 taps, every 32-row PW tile 32 - round(0.6 * 32) = 13 columns.
const plans = [
  balanceDw(dw, 0.5, scores[0], { granularity: 'channel' }),
  balancePw(pw, 0.6, scores[1], { tileRows: 32 }),
];

// The GPU profiler's table (here: made up) timed the PW layer every 8 columns; the DW layer is not in it.
const table: LatencyTable = {
  backend: 'gpu.js-webgl',
  mode: 'pw-tiled',
  layers: { 'blocks.3.pw': { kept: [0, 8, 16, 24, 32], latencyUs: [4, 21, 38, 55, 72], step: 8 } },
};
const model = tableLatencyModel(table, { fallback: analyticStaircase({ step: 4 }) });

const recovered = recalibrate(plans, [dw, pw], scores, model, { mode: 'recover' });
for (const move of recovered.moves) console.log(move.layer, move.keptBefore, '->', move.keptAfter, `(step ${move.step}, ${move.latencyAfterUs} us)`);
console.log(recovered.unmeasured); // layers priced by the analytic fallback

const fast = recalibrate(plans, [dw, pw], scores, model, { mode: 'latency', budgetUs: 30 });
console.log(fast.moves.map((move) => move.keptAfter), fast.predictedLatencyUs, fast.budgetMet);
