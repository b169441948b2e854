import { maskLayer, type DwLayer, type PwLayer } from '@deprune/masks';
import { balanceDw, balancePw, balanceReport } from '../src/index';

// 10 DW channels of 3x3 taps; scores are |effective w|.
const dwWeights = Float64Array.from({ length: 10 * 9 }, (_, index) => Math.sin(index * 1.3) * (1 + Math.floor(index / 9)));
const dw: DwLayer = { kind: 'dw', name: 'blocks.2.dw', channels: 10, kernel: [3, 3], weights: dwWeights };
const dwScores = dwWeights.map(Math.abs);

const dcp = maskLayer(dw, { strategy: 'dcp', ratio: 0.6, scores: dwScores });
const balanced = balanceDw(dw, 0.6, dwScores, { granularity: 'group', groupSize: 4 });
console.log(balanced.kept); // taps per channel; groups {0-3}, {4-7} keep n = 14, the partial {8, 9} round(14 * 2 / 4) = 7
console.log(balanceReport(dcp, balanced));

// PW: 40 output rows in tiles of 16 (the last tile has 8 rows); every tile keeps q = 24 - round(0.5 * 24) = 12 columns.
const pwWeights = Float64Array.from({ length: 40 * 24 }, (_, index) => Math.cos(index * 0.7) * (1 + (index % 24)));
const pw: PwLayer = { kind: 'pw', name: 'blocks.2.pw', outChannels: 40, inChannels: 24, weights: pwWeights };
const tiles = balancePw(pw, 0.5, pwWeights.map(Math.abs), { tileRows: 16 });
console.log(tiles.kept, tiles.granularity);
