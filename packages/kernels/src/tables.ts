/**
 * The compact tables the sparse kernels of every backend read, built once per layer on the host
 * from the layer's kept indices (`DwKeptTaps`, `PwKeptColumns`) and weights (`buildTapTable`,
 * `buildColumnTable`, `buildDiagonalTable` in table-builders.ts).
 * Each unit (channel, group, row tile) is padded to the same number of slots, rounded up to the
 * chunk size t, because gpu.js loops need a compile-time trip count; padding slots carry weight 0.
 * A backend with run-time trip counts (the wasm backend) reads only each unit's kept entries.
 */

/**
 * What a DW layer's tap table (and its DR form) is built from: the layer's shape and, per channel,
 * the kept taps. Backends take kept indices, not plan entries, so that they know nothing of masks
 * or plan files; `@deprune/runtime`'s `keptTapsOf(entry)` converts a plan entry.
 */
export interface DwKeptTaps {
  /** The layer, for messages. */
  readonly name: string;
  readonly channels: number;
  readonly kernel: readonly [number, number];
  /** Per channel (length `channels`), its kept taps: row-major indices into kh x kw, strictly ascending. */
  readonly keptTaps: readonly (readonly number[])[];
  /** Chunk size t the plan was tuned for (HSR's step); null or absent: the backend's default. */
  readonly step?: number | null;
  /** Channels per balanced group (the DR form's default group size G); null or absent: none. */
  readonly groupSize?: number | null;
}

/** What a PW layer's column table is built from: its shape and, per tile of `tileRows` output rows, the kept input columns. */
export interface PwKeptColumns {
  readonly name: string;
  readonly outChannels: number;
  readonly inChannels: number;
  /** Output rows per tile; every row of a tile keeps the same columns (1: a column set per row). */
  readonly tileRows: number;
  /** Per tile (length ceil(outChannels / tileRows)), its kept input columns, strictly ascending. */
  readonly keptColumns: readonly (readonly number[])[];
  /** Chunk size t the plan was tuned for; null or absent: the backend's default. */
  readonly step?: number | null;
}

/** Per-channel tap table of a DW layer (DCP plan) for `dwSparse`. */
export interface TapTable {
  readonly kind: 'dw-taps';
  readonly name: string;
  readonly channels: number;
  readonly kernel: readonly [number, number];
  /** Chunk size t the slots are rounded to. */
  readonly step: number;
  /** Slots per channel (the kernel's trip count): roundUp(max kept, t). */
  readonly slots: number;
  /** Kept taps per channel, as in the plan. */
  readonly kept: readonly number[];
  /** 'channel' when every channel keeps the same count (no padding beyond the rounding to t). */
  readonly balance: 'channel' | 'none';
  /** C * slots * 3 floats: per slot (dy, dx, weight), dy/dx the tap's kernel row/column; padding (0, 0, 0). */
  readonly taps: Float32Array;
  /** Kept taps / slots: the useful fraction of the work the kernel does. */
  readonly efficiency: number;
}

/** Per-row-tile column table of a PW layer (PCP plan) for `pwSparse`. */
export interface ColumnTable {
  readonly kind: 'pw-columns';
  readonly name: string;
  readonly outChannels: number;
  readonly inChannels: number;
  readonly tileRows: number;
  readonly tiles: number;
  readonly step: number;
  /** Slots per tile (the kernel's trip count): roundUp(max kept, t). */
  readonly slots: number;
  /** Kept columns per tile, as in the plan. */
  readonly kept: readonly number[];
  /** 'tile' when every tile keeps the same count. */
  readonly balance: 'tile' | 'none';
  /** tiles * slots: the kept input-channel indices of each tile; padding 0. */
  readonly columns: Float32Array;
  /** outChannels * slots: row o's weights at its tile's kept columns, compacted; padding 0. */
  readonly weights: Float32Array;
  readonly efficiency: number;
}

/** DR (diagonal-wise refactorization) tables of a DW layer for `dwDiagonal`. */
export interface DiagonalTable {
  readonly kind: 'dw-diagonal';
  readonly name: string;
  readonly channels: number;
  readonly kernel: readonly [number, number];
  /** Channels per group G (the last group may be smaller). */
  readonly groupSize: number;
  readonly groups: number;
  readonly step: number;
  /** Kept columns per group after padding (the GEMM's inner dimension): roundUp(max n_g, t). */
  readonly slots: number;
  /** Kept columns n_g per group. */
  readonly kept: readonly number[];
  /** 'group' when every full group keeps the same n (a shorter last group may keep fewer). */
  readonly balance: 'group' | 'none';
  /** groups * slots * 4 floats: per kept column (channel, dy, dx, valid); padding (0, 0, 0, 0). */
  readonly columns: Float32Array;
  /** channels * slots: the compacted W_g rows; W_g[c, j] is non-zero only where column j belongs to channel c. */
  readonly weights: Float32Array;
  /** Non-zero MACs / MACs the GEMM does (G * slots per group): DR's diagonal waste included. */
  readonly efficiency: number;
}
