import { UsageError } from '@deprune/errors';
import { topKIndices } from '@deprune/tensor';
import { buildPwPlan } from '../plan';
import { segmentNorms } from '../segments';
import type { LayerPlan, MaskStrategy, PrunableLayer, PwLayer } from '../types';
import { expectKind, optionsObject, prunedCount, resolveTileRows, tileCount, validateInputs } from '../validate';

export type PcpOptions = {
  /** Output rows per tile T (the backend's output tile). Default DEFAULT_TILE_ROWS (4), clamped to Cout; T = Cout is plain input-channel pruning. */
  tileRows?: number;
  /** Every tile keeps the same q = Cin - round(r * Cin) columns (what BWT uses). Default false. */
  balanced?: boolean;
};

/**
 * PCP's default row tile: 4 output rows, the register tile of the wasm backend's GEMM (one panel),
 * which reads a tile's kept input rows in place at no cost over wider tiles. Narrow tiles keep
 * what each few rows need: on PP-OCRv4 rec at 50% DSConv sparsity (one-shot, held-out text) tiles
 * of 32 rows read 89% of lines, 16: 92%, 8: 96%, 4: 97.5% (dense 98.5%).
 */
export const DEFAULT_TILE_ROWS = 4;

/** Columns each tile keeps under balanced PCP: q = Cin - round(r * Cin). */
export function balancedColumnsPerTile(inChannels: number, ratio: number): number {
  return inChannels - prunedCount(ratio, inChannels);
}

/**
 * Keeps, in every tile, the `columnsPerTile` columns with the largest segment norms (ties: lower
 * column). Shared with `@deprune/bwt`.
 */
export function selectColumnsPerTile(layer: PwLayer, scores: Float64Array, tileRows: number, columnsPerTile: number): number[][] {
  const norms = segmentNorms(layer, scores, tileRows);
  const columns = layer.inChannels;
  const kept: number[][] = [];
  for (let tile = 0; tile < tileCount(layer.outChannels, tileRows); tile++) {
    kept.push(Array.from(topKIndices(norms.subarray(tile * columns, (tile + 1) * columns), columnsPerTile)));
  }
  return kept;
}

/**
 * PCP (method section 3): prune PW columns per row tile, scored by the L2 norm of each
 * (tile, column) segment. Plain PCP prunes the lowest round(r * tiles * Cin) segments globally
 * across tiles, so tiles may keep different counts (the imbalance BWT removes). A shorter last
 * tile has smaller segment norms and tends to lose more columns; that is the magnitude criterion
 * at work (it holds fewer weights), not a bug. `balanced: true` keeps q columns in every tile.
 */
export const pcpStrategy: MaskStrategy<PcpOptions> = {
  name: 'pcp',
  description: 'Point-wise column pruning per row tile of T rows, by segment L2 norm (global across tiles, or balanced: q per tile)',
  appliesTo: ['pw'],
  mask(layer: PrunableLayer, ratio: number, scores: Float64Array, options?: PcpOptions): LayerPlan {
    expectKind(layer, ['pw'], 'pcp');
    validateInputs(layer, ratio, scores);
    const opts = optionsObject(options, 'pcp', layer.name);
    const tileRows = resolveTileRows(layer, opts.tileRows, DEFAULT_TILE_ROWS);
    if (opts.balanced !== undefined && typeof opts.balanced !== 'boolean') {
      throw new UsageError(`pcp option balanced must be a boolean, got ${String(opts.balanced)}`, { node: layer.name });
    }
    if (opts.balanced) {
      const kept = selectColumnsPerTile(layer, scores, tileRows, balancedColumnsPerTile(layer.inChannels, ratio));
      return buildPwPlan(layer, kept, { strategy: 'pcp', granularity: 'tile', tileRows });
    }
    const columns = layer.inChannels;
    const tiles = tileCount(layer.outChannels, tileRows);
    const segments = tiles * columns;
    const keep = topKIndices(segmentNorms(layer, scores, tileRows), segments - prunedCount(ratio, segments));
    const kept: number[][] = Array.from({ length: tiles }, () => []);
    for (const index of keep) kept[Math.floor(index / columns)].push(index % columns);
    return buildPwPlan(layer, kept, { strategy: 'pcp', granularity: 'none', tileRows });
  },
};
