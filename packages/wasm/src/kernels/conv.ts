import { ShapeError, UsageError } from '@deprune/errors';
import {
  biasVector,
  checkColumnTable,
  checkTapTable,
  convGeometry,
  encodeActivation,
  float32Data,
  pointwiseShape,
  type Activation,
  type ColumnTable,
  type Conv2dFn,
  type ConvAttrs,
  type ConvGeometry,
  type DsconvFn,
  type DwDenseFn,
  type DwSparseFn,
  type PwDenseFn,
  type PwSparseFn,
  type TapTable,
} from '@deprune/kernels';
import type { Tensor } from '@deprune/tensor';
import type { WasmEngine } from '../engine';
import type { ResidentConstants } from '../resident';
import type { ResidentTensors } from '../resident-tensors';
import { gemmShares, splitRange } from './split';

/**
 * The conv kernels of the wasm backend: the TypeScript half that checks arguments, keeps packed
 * weights and tap lists resident in wasm memory, and calls the module (assembly/kernels.ts).
 *
 * Each kernel has a core that works on data already in wasm memory (`Activations`: an offset and
 * a shape) and a wrapper that finds the input there (in place when it is a resident result, else
 * copied in) and hands the result back as a resident view (see ResidentTensors). `dsconv` chains
 * two cores, so a DW result feeds its PW conv without leaving wasm memory.
 */

export interface KernelContext {
  engine: WasmEngine;
  constants: ResidentConstants;
  tensors: ResidentTensors;
}

/** An NCHW float32 tensor in wasm memory: a block from the engine's allocator, released by whoever allocated it. */
interface Activations {
  offset: number;
  shape: [number, number, number, number];
}

const FLOAT = 4;

function size(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

function checkImage(x: Tensor, op: string): [number, number, number, number] {
  if (x === null || typeof x !== 'object' || !Array.isArray(x.shape)) throw new UsageError(`${op} needs a tensor input`);
  if (x.shape.length !== 4) throw new ShapeError(`${op} input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
  return x.shape as [number, number, number, number];
}

/** Runs `core` on `x` in wasm memory (in place when it is a resident result) and hands back its result. */
async function withHostTensors(context: KernelContext, x: Tensor, shape: [number, number, number, number], core: (input: Activations) => Promise<Activations>): Promise<Tensor<Float32Array>> {
  const input = context.tensors.input(float32Data(x));
  try {
    const result = await core({ offset: input.offset, shape });
    return context.tensors.output(result.offset, result.shape);
  } finally {
    input.done();
  }
}

/** The bias as resident floats, zero-padded to `padded` values (GEMM panels read 4 rows at once). */
function residentBias(context: KernelContext, bias: Tensor | null | undefined, length: number, padded: number, op: string, owner: object): number {
  const values = biasVector(bias, length, op);
  const key = bias === null || bias === undefined ? owner : values;
  return context.constants.get(key, `bias:${length}:${padded}`, () => {
    const out = new Float32Array(Math.max(padded, 1));
    out.set(values);
    return out;
  });
}

/** The smallest normal float32. */
const MIN_NORMAL = 1.1754943508222875e-38;

/**
 * A weight as the kernels take it: subnormal values become 0. WebAssembly has no flush-to-zero
 * mode, and on x86 every multiply with a subnormal operand or result takes a microcode assist:
 * 13 subnormal weights (from BN folding) made one 480x480 point-wise layer of PP-OCRv4 rec four
 * times slower. They are below 1.2e-38, so dropping them changes no result that float32 can show.
 */
export function flushSubnormal(value: number): number {
  return Math.abs(value) < MIN_NORMAL ? 0 : value;
}

function panelsOf(rows: number): number {
  return Math.ceil(rows / 4);
}

/** gemmPanels over the engine's threads: Y[rows, pixels] = W * X + bias, then the epilogue. */
export async function gemmPanels(context: KernelContext, call: { weights: number; x: number; bias: number; y: number; inner: number; rows: number; pixels: number; xStride: number; yStride: number }, act: { code: number; alpha: number; beta: number }): Promise<void> {
  const shares = gemmShares({ ...call, panelBytes: call.inner * 16 }, context.engine.threads);
  await context.engine.parallel(
    'gemmPanels',
    shares.map((share) => [share.weights, share.x, share.bias, share.y, call.inner, share.rows, share.pixels, call.xStride, call.yStride, act.code, act.alpha, act.beta]),
    call.rows * call.pixels * call.inner,
  );
}

/**
 * W [M, K] (row-major, rows `rowStride` apart from `first`) in panels of 4 rows: panel p, column k
 * holds rows 4p..4p+3 side by side (zeros past M). This is the order gemmPanels reads.
 */
export function packPanels(weights: Float32Array, rows: number, columns: number, rowStride = columns, first = 0): Float32Array {
  const panels = panelsOf(rows);
  const packed = new Float32Array(Math.max(1, panels * columns * 4));
  for (let row = 0; row < rows; row++) {
    const panel = row >> 2;
    const lane = row & 3;
    const source = first + row * rowStride;
    const base = panel * columns * 4 + lane;
    for (let column = 0; column < columns; column++) packed[base + column * 4] = flushSubnormal(weights[source + column]);
  }
  return packed;
}

// ---- point-wise ----------------------------------------------------------------------------

async function pwCore(context: KernelContext, input: Activations, weights: Float32Array, owner: object, outChannels: number, bias: Tensor | null | undefined, activation: Activation | undefined, op: string): Promise<Activations> {
  const { engine, constants } = context;
  const [batch, inChannels, height, width] = input.shape;
  const pixels = height * width;
  const w = constants.get(owner, 'panels', () => packPanels(weights, outChannels, inChannels));
  const b = residentBias(context, bias, outChannels, panelsOf(outChannels) * 4, op, owner);
  const act = encodeActivation(activation);
  const output = engine.alloc(batch * outChannels * pixels * FLOAT);
  for (let n = 0; n < batch; n++) {
    await gemmPanels(context, { weights: w, x: input.offset + n * inChannels * pixels * FLOAT, bias: b, y: output + n * outChannels * pixels * FLOAT, inner: inChannels, rows: outChannels, pixels, xStride: pixels, yStride: pixels }, act);
  }
  return { offset: output, shape: [batch, outChannels, height, width] };
}

/**
 * A PCP column table whose tiles split panels of 4 rows, per panel: the input rows it reads (the
 * union of its rows' tiles' kept columns) and the 4 rows' weights at each (16 bytes per kept row:
 * the panel layout of gemmPanels), zero where a row's tile does not keep that column.
 */
export function packColumnTable(table: ColumnTable): { rows: Int32Array; rowStart: Int32Array; weights: Float32Array } {
  const panels = panelsOf(table.outChannels);
  const rowStart = new Int32Array(panels + 1);
  const lists: number[][] = [];
  for (let panel = 0; panel < panels; panel++) {
    const tiles = new Set<number>();
    for (let row = panel * 4; row < Math.min(table.outChannels, panel * 4 + 4); row++) tiles.add(Math.floor(row / table.tileRows));
    const columns = new Set<number>();
    for (const tile of tiles) for (let slot = 0; slot < table.kept[tile]; slot++) columns.add(table.columns[tile * table.slots + slot]);
    const list = [...columns].sort((a, b) => a - b);
    lists.push(list);
    rowStart[panel + 1] = rowStart[panel] + list.length;
  }
  const rows = new Int32Array(Math.max(1, rowStart[panels]));
  const weights = new Float32Array(Math.max(4, rowStart[panels] * 4));
  lists.forEach((list, panel) => {
    list.forEach((column, index) => {
      rows[rowStart[panel] + index] = column;
    });
    // One pass over each row's slots, each column found by a map: a search of the slots per
    // column was quadratic in the kept count (1.8 s to pack a 960-column layer).
    const indexOf = new Map(list.map((column, index) => [column, index]));
    for (let lane = 0; lane < 4; lane++) {
      const row = panel * 4 + lane;
      if (row >= table.outChannels) continue;
      const tile = Math.floor(row / table.tileRows);
      for (let slot = 0; slot < table.kept[tile]; slot++) {
        const at = rowStart[panel] + indexOf.get(table.columns[tile * table.slots + slot])!;
        weights[at * 4 + lane] = flushSubnormal(table.weights[row * table.slots + slot]);
      }
    }
  });
  return { rows, rowStart, weights };
}

/**
 * A PCP layer as blocks of output rows that share their kept input rows, for row tiles of
 * MIN_BLOCK_TILE_ROWS rows or more. When the tiles are whole panels of 4 rows, a block is a tile;
 * otherwise it is a panel over the union of its rows' kept columns (a row's weight is 0 at a
 * column its tile does not keep, see packColumnTable). Each block's kept input rows are gathered
 * into one contiguous block and its GEMM runs dense over them.
 */
interface GatherBlocks {
  /** Kept input rows of every block, one list after the other. */
  rows: Int32Array;
  /** Every block's rows' weights, packed in panels over its kept rows (gemmPanels' layout). */
  weights: Float32Array;
  blocks: { firstRow: number; rowCount: number; listStart: number; kept: number; weightStart: number }[];
}

function gatherBlocks(table: ColumnTable): GatherBlocks {
  if (table.tileRows % 4 !== 0) {
    const union = packColumnTable(table);
    const blocks = [];
    for (let panel = 0; panel + 1 < union.rowStart.length; panel++) {
      const listStart = union.rowStart[panel];
      blocks.push({ firstRow: panel * 4, rowCount: Math.min(4, table.outChannels - panel * 4), listStart, kept: union.rowStart[panel + 1] - listStart, weightStart: listStart * 4 });
    }
    return { rows: union.rows, weights: union.weights, blocks };
  }
  const blocks: GatherBlocks['blocks'] = [];
  const lists: number[] = [];
  const packs: Float32Array[] = [];
  let floats = 0;
  for (let tile = 0; tile < table.tiles; tile++) {
    const firstRow = tile * table.tileRows;
    const rowCount = Math.min(table.tileRows, table.outChannels - firstRow);
    const kept = table.kept[tile];
    blocks.push({ firstRow, rowCount, listStart: lists.length, kept, weightStart: floats });
    for (let slot = 0; slot < kept; slot++) lists.push(table.columns[tile * table.slots + slot]);
    const pack = packPanels(table.weights, rowCount, kept, table.slots, firstRow * table.slots);
    packs.push(pack);
    floats += pack.length;
  }
  const weights = new Float32Array(Math.max(1, floats));
  packs.forEach((pack, tile) => weights.set(pack, blocks[tile].weightStart));
  return { rows: Int32Array.from(lists.length > 0 ? lists : [0]), weights, blocks };
}

const gatherLayouts = new WeakMap<ColumnTable, GatherBlocks>();

/**
 * Row tiles of at least this many rows run as gathered blocks over the dense GEMM (gatherRows'
 * copy of a tile's kept rows is shared by the tile's panels); narrower ones, PCP's default of 4
 * rows included, run gemmGather in place, where one copy of each 8-pixel block serves every
 * panel. At q = 50%, one thread: in place 71-96% of the ideal C/q whatever the tile (4 to 32
 * rows); blocks 80-90% at 32 rows but 43-57% at 4 (README, "PCP").
 */
const MIN_BLOCK_TILE_ROWS = 32;

/** A PCP layer for gemmGather: per panel of 4 rows the union of its tiles' kept rows, as byte offsets in the 8-pixel pack. */
interface InPlaceLayout {
  offsets: Int32Array;
  rowStart: Int32Array;
  weights: Float32Array;
}

const inPlaceLayouts = new WeakMap<ColumnTable, InPlaceLayout>();

function inPlaceLayout(table: ColumnTable): InPlaceLayout {
  let layout = inPlaceLayouts.get(table);
  if (layout === undefined) {
    const union = packColumnTable(table);
    layout = { offsets: union.rows.map((row) => row * 32), rowStart: union.rowStart, weights: union.weights };
    inPlaceLayouts.set(table, layout);
  }
  return layout;
}

async function pwSparseInPlace(context: KernelContext, input: Activations, table: ColumnTable, bias: number, act: { code: number; alpha: number; beta: number }): Promise<Activations> {
  const { engine, constants } = context;
  const [batch, inChannels, height, width] = input.shape;
  const pixels = height * width;
  const layout = inPlaceLayout(table);
  const w = constants.get(table, 'inplace-weights', () => layout.weights);
  const offsets = constants.get(table, 'inplace-offsets', () => layout.offsets);
  const rowStart = constants.get(table, 'inplace-row-start', () => layout.rowStart);
  const output = engine.alloc(batch * table.outChannels * pixels * FLOAT);
  const packBytes = inChannels * 32 + 128;
  const shares = gemmShares({ weights: w, x: input.offset, bias, y: output, rows: table.outChannels, pixels, xStride: pixels, yStride: pixels }, engine.threads);
  const packs = engine.alloc(packBytes * shares.length);
  try {
    for (let n = 0; n < batch; n++) {
      const x = n * inChannels * pixels * FLOAT;
      const y = n * table.outChannels * pixels * FLOAT;
      await engine.parallel(
        'gemmGather',
        shares.map((share, part) => [w, offsets, rowStart + share.firstPanel * 4, share.x + x, packs + part * packBytes, share.bias, share.y + y, inChannels, share.rows, share.pixels, pixels, pixels, act.code, act.alpha, act.beta]),
        layout.rowStart[layout.rowStart.length - 1] * 4 * pixels,
      );
    }
  } finally {
    engine.release(packs, packBytes * shares.length);
  }
  return { offset: output, shape: [batch, table.outChannels, height, width] };
}

async function pwSparseCore(context: KernelContext, input: Activations, table: ColumnTable, bias: Tensor | null | undefined, activation: Activation | undefined, op: string): Promise<Activations> {
  const { engine, constants } = context;
  const [batch, inChannels, height, width] = input.shape;
  const pixels = height * width;
  const b = residentBias(context, bias, table.outChannels, panelsOf(table.outChannels) * 4, op, table);
  const act = encodeActivation(activation);
  if (table.tileRows < MIN_BLOCK_TILE_ROWS) return pwSparseInPlace(context, input, table, b, act);
  let found = gatherLayouts.get(table);
  if (found === undefined) {
    found = gatherBlocks(table);
    gatherLayouts.set(table, found);
  }
  const layout = found;
  const w = constants.get(table, 'gather-weights', () => layout.weights);
  const rows = constants.get(table, 'gather-rows', () => layout.rows);
  const gatheredBytes = Math.max(1, ...layout.blocks.map((block) => block.kept)) * pixels * FLOAT;
  const gathered = engine.alloc(gatheredBytes);
  const output = engine.alloc(batch * table.outChannels * pixels * FLOAT);
  try {
    for (let n = 0; n < batch; n++) {
      const x = input.offset + n * inChannels * pixels * FLOAT;
      const y = output + n * table.outChannels * pixels * FLOAT;
      for (const block of layout.blocks) {
        engine.exports.gatherRows(x, rows + block.listStart * 4, block.kept, pixels, pixels, gathered);
        await gemmPanels(
          context,
          { weights: w + block.weightStart * FLOAT, x: gathered, bias: b + block.firstRow * FLOAT, y: y + block.firstRow * pixels * FLOAT, inner: block.kept, rows: block.rowCount, pixels, xStride: pixels, yStride: pixels },
          act,
        );
      }
    }
  } finally {
    engine.release(gathered, gatheredBytes);
  }
  return { offset: output, shape: [batch, table.outChannels, height, width] };
}

// ---- depth-wise ----------------------------------------------------------------------------

/** Per channel, the taps to run: kernel row and column, and weight. Dense: every tap. */
interface TapSource {
  owner: object;
  channels: number;
  kernel: readonly [number, number];
  /** Taps of channel c: [row, column, weight] triples. */
  forEach(visit: (channel: number, row: number, column: number, weight: number) => void): void;
}

function denseTaps(weight: Tensor, op: string): TapSource {
  const data = float32Data(weight);
  const [channels, perGroup, kernelH, kernelW] = weight.shape;
  if (weight.shape.length !== 4 || perGroup !== 1) throw new ShapeError(`${op} weight must be [C, 1, kh, kw], got [${weight.shape.join(', ')}]`);
  return {
    owner: weight.data,
    channels,
    kernel: [kernelH, kernelW],
    forEach(visit) {
      for (let channel = 0; channel < channels; channel++) {
        for (let row = 0; row < kernelH; row++) for (let column = 0; column < kernelW; column++) visit(channel, row, column, data[(channel * kernelH + row) * kernelW + column]);
      }
    },
  };
}

function tableTaps(table: TapTable): TapSource {
  return {
    owner: table,
    channels: table.channels,
    kernel: table.kernel,
    forEach(visit) {
      for (let channel = 0; channel < table.channels; channel++) {
        for (let slot = 0; slot < table.kept[channel]; slot++) {
          const at = (channel * table.slots + slot) * 3;
          visit(channel, table.taps[at], table.taps[at + 1], table.taps[at + 2]);
        }
      }
    },
  };
}

const maxTapsCache = new WeakMap<object, number>();

/** The most taps any channel runs (dwTaps picks its path by it), counted once per tap source. */
function maxTapsOf(taps: TapSource): number {
  let most = maxTapsCache.get(taps.owner);
  if (most === undefined) {
    const counts = new Int32Array(taps.channels);
    taps.forEach((channel) => counts[channel]++);
    most = counts.reduce((a, b) => Math.max(a, b), 0);
    maxTapsCache.set(taps.owner, most);
  }
  return most;
}

/** The phase planes dwTaps reads: strideH * strideW planes of [Hq, Wq] (see fillPhasePlanes). */
function phaseLayout(g: ConvGeometry): { Hq: number; Wq: number } {
  return { Hq: Math.ceil((g.height + g.padTop + g.padBottom) / g.strideH), Wq: Math.ceil((g.width + g.padLeft + g.padRight) / g.strideW) };
}

async function dwCore(context: KernelContext, input: Activations, taps: TapSource, bias: Tensor | null | undefined, attrs: ConvAttrs, op: string): Promise<Activations> {
  const { engine, constants } = context;
  const [kernelH, kernelW] = taps.kernel;
  const g = convGeometry(input.shape, [taps.channels, 1, kernelH, kernelW], { ...attrs, group: taps.channels });
  const { Hq, Wq } = phaseLayout(g);
  const planeFloats = Hq * Wq;
  // Tap offsets depend on the phase planes' layout (so on the input size); weights do not.
  const layout = `${Hq}x${Wq}/${g.strideH}x${g.strideW}/${g.dilationH}x${g.dilationW}`;
  let lists: { offsets: Int32Array; weights: Float32Array; start: Int32Array } | undefined;
  const build = () => {
    if (lists !== undefined) return lists;
    const start = new Int32Array(taps.channels + 1);
    const offsets: number[] = [];
    const weights: number[] = [];
    let channelSeen = 0;
    taps.forEach((channel, row, column, weight) => {
      while (channelSeen < channel) start[++channelSeen] = offsets.length;
      const dy = row * g.dilationH;
      const dx = column * g.dilationW;
      const plane = (dy % g.strideH) * g.strideW + (dx % g.strideW);
      offsets.push(plane * planeFloats + Math.floor(dy / g.strideH) * Wq + Math.floor(dx / g.strideW));
      weights.push(flushSubnormal(weight));
    });
    while (channelSeen < taps.channels) start[++channelSeen] = offsets.length;
    lists = { offsets: Int32Array.from(offsets.length > 0 ? offsets : [0]), weights: Float32Array.from(weights.length > 0 ? weights : [0]), start };
    return lists;
  };
  const maxTaps = maxTapsOf(taps);
  const tapOffsets = constants.get(taps.owner, `taps:${layout}`, () => build().offsets);
  const tapWeights = constants.get(taps.owner, 'tap-weights', () => build().weights);
  const tapStart = constants.get(taps.owner, 'tap-start', () => build().start);
  const b = residentBias(context, bias, taps.channels, taps.channels, op, taps.owner);
  const act = encodeActivation(attrs.activation);
  const [batch, channels] = input.shape;
  const scratchBytes = engine.exports.dwScratchFloats(g.strideH, g.strideW, Hq, Wq, g.outHeight, g.outWidth, kernelH * kernelW) * FLOAT;
  // Channels split over the threads, each with its own phase planes.
  const shares = splitRange(channels, engine.threads, 1);
  const scratch = shares.map(() => engine.alloc(scratchBytes));
  const output = engine.alloc(batch * channels * g.outHeight * g.outWidth * FLOAT);
  const inPlane = g.height * g.width * FLOAT;
  const outPlane = g.outHeight * g.outWidth * FLOAT;
  try {
    for (let n = 0; n < batch; n++) {
      await engine.parallel(
        'dwTaps',
        shares.map(([first, end], part) => [
          input.offset + (n * channels + first) * inPlane,
          output + (n * channels + first) * outPlane,
          tapOffsets,
          tapWeights,
          tapStart + first * 4,
          b + first * FLOAT,
          scratch[part],
          1,
          end - first,
          g.height,
          g.width,
          g.outHeight,
          g.outWidth,
          g.strideH,
          g.strideW,
          g.padTop,
          g.padLeft,
          Hq,
          Wq,
          maxTaps,
          act.code,
          act.alpha,
          act.beta,
        ]),
        channels * g.outHeight * g.outWidth * taps.kernel[0] * taps.kernel[1],
      );
    }
  } finally {
    for (const block of scratch) engine.release(block, scratchBytes);
  }
  return { offset: output, shape: [batch, channels, g.outHeight, g.outWidth] };
}

// ---- general conv (stems, grouped, strided 1x1) ----------------------------------------------

/** The most bytes of im2col columns held at once (a stem at 640x640 needs about 44 MB whole). */
const COLUMN_BYTES = 8 * 1024 * 1024;

async function conv2dCore(context: KernelContext, input: Activations, weight: Tensor, bias: Tensor | null | undefined, attrs: ConvAttrs & { group?: number }, op: string): Promise<Activations> {
  const { engine, constants } = context;
  const group = attrs.group ?? 1;
  const g = convGeometry(input.shape, weight.shape, { ...attrs, group });
  const [batch, inChannels] = input.shape;
  const [outChannels, perGroup, kernelH, kernelW] = weight.shape;
  const outPerGroup = outChannels / group;
  const inner = perGroup * kernelH * kernelW;
  const pixels = g.outHeight * g.outWidth;
  const panels = panelsOf(outPerGroup);
  const data = float32Data(weight);
  // Every group's panels, one after the other; every group's bias padded to whole panels.
  const w = constants.get(weight.data, `conv-panels:${group}`, () => {
    const packed = new Float32Array(Math.max(1, group * panels * inner * 4));
    for (let each = 0; each < group; each++) packed.set(packPanels(data, outPerGroup, inner, inner, each * outPerGroup * inner).subarray(0, panels * inner * 4), each * panels * inner * 4);
    return packed;
  });
  const values = biasVector(bias, outChannels, op);
  const b = constants.get(bias === null || bias === undefined ? weight.data : values, `conv-bias:${group}`, () => {
    const padded = new Float32Array(Math.max(1, group * panels * 4));
    for (let each = 0; each < group; each++) padded.set(values.subarray(each * outPerGroup, (each + 1) * outPerGroup), each * panels * 4);
    return padded;
  });
  const act = encodeActivation(attrs.activation);
  const output = engine.alloc(batch * outChannels * pixels * FLOAT);
  // Output rows a band of im2col columns covers: the columns buffer stays under COLUMN_BYTES.
  const bandRows = Math.max(1, Math.min(g.outHeight, Math.floor(COLUMN_BYTES / (inner * g.outWidth * FLOAT))));
  const columnsBytes = inner * bandRows * g.outWidth * FLOAT;
  const columns = engine.alloc(columnsBytes);
  try {
    for (let n = 0; n < batch; n++) {
      const image = input.offset + n * inChannels * g.height * g.width * FLOAT;
      for (let each = 0; each < group; each++) {
        for (let oy0 = 0; oy0 < g.outHeight; oy0 += bandRows) {
          const oy1 = Math.min(g.outHeight, oy0 + bandRows);
          const bandPixels = (oy1 - oy0) * g.outWidth;
          engine.exports.im2col(image, columns, each * perGroup, perGroup, g.height, g.width, kernelH, kernelW, oy0, oy1, g.outWidth, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW);
          const target = output + ((n * outChannels + each * outPerGroup) * pixels + oy0 * g.outWidth) * FLOAT;
          await gemmPanels(context, { weights: w + each * panels * inner * 4 * FLOAT, x: columns, bias: b + each * panels * 4 * FLOAT, y: target, inner, rows: outPerGroup, pixels: bandPixels, xStride: bandPixels, yStride: pixels }, act);
        }
      }
    }
  } finally {
    engine.release(columns, columnsBytes);
  }
  return { offset: output, shape: [batch, outChannels, g.outHeight, g.outWidth] };
}

// ---- the kernels ---------------------------------------------------------------------------

function isTable<T extends { kind: string }>(value: unknown, kind: T['kind']): value is T {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === kind;
}

export function convKernels(context: KernelContext): { pwDense: PwDenseFn; pwSparse: PwSparseFn; dwDense: DwDenseFn; dwSparse: DwSparseFn; conv2d: Conv2dFn; dsconv: DsconvFn } {
  const pwDense: PwDenseFn = async (x, weight, bias, attrs = {}) => {
    const shape = checkImage(x, 'pwDense');
    const { outChannels } = pointwiseShape(shape, weight.shape, 'pwDense');
    return withHostTensors(context, x, shape, (input) => pwCore(context, input, float32Data(weight), weight.data, outChannels, bias, attrs.activation, 'pwDense'));
  };
  const pwSparse: PwSparseFn = async (x, table, bias, attrs = {}) => {
    const shape = checkImage(x, 'pwSparse');
    checkColumnTable(table, shape[1], 'pwSparse');
    return withHostTensors(context, x, shape, (input) => pwSparseCore(context, input, table, bias, attrs.activation, `pwSparse '${table.name}'`));
  };
  const dwDense: DwDenseFn = async (x, weight, bias, attrs = {}) => {
    const shape = checkImage(x, 'dwDense');
    const taps = denseTaps(weight, 'dwDense');
    return withHostTensors(context, x, shape, (input) => dwCore(context, input, taps, bias, attrs, 'dwDense'));
  };
  const dwSparse: DwSparseFn = async (x, table, bias, attrs = {}) => {
    const shape = checkImage(x, 'dwSparse');
    checkTapTable(table, shape[1], 'dwSparse');
    return withHostTensors(context, x, shape, (input) => dwCore(context, input, tableTaps(table), bias, attrs, `dwSparse '${table.name}'`));
  };
  const conv2d: Conv2dFn = async (x, weight, bias, attrs = {}) => {
    const shape = checkImage(x, 'conv2d');
    if (weight.shape.length !== 4) throw new ShapeError(`conv2d weight must be [M, C/group, kh, kw], got [${weight.shape.join(', ')}]`);
    const group = attrs.group ?? 1;
    // A depth-wise conv (one input channel per group, one output per group) runs the DW kernel.
    if (group === shape[1] && weight.shape[0] === group && weight.shape[1] === 1) {
      return withHostTensors(context, x, shape, (input) => dwCore(context, input, denseTaps(weight, 'conv2d'), bias, attrs, 'conv2d'));
    }
    return withHostTensors(context, x, shape, (input) => conv2dCore(context, input, weight, bias, attrs, 'conv2d'));
  };
  const dsconv: DsconvFn = async (x, layers, attrs = {}) => {
    const shape = checkImage(x, 'dsconv');
    if (layers === null || typeof layers !== 'object') throw new UsageError('dsconv needs { dw, pw } layers');
    const dwTaps = isTable<TapTable>(layers.dw, 'dw-taps') ? (checkTapTable(layers.dw, shape[1], 'dsconv DW'), tableTaps(layers.dw)) : denseTaps(layers.dw as Tensor, 'dsconv DW');
    const pw = layers.pw;
    return withHostTensors(context, x, shape, async (input) => {
      const middle = await dwCore(context, input, dwTaps, layers.dwBias, attrs.dw ?? {}, 'dsconv DW');
      try {
        if (isTable<ColumnTable>(pw, 'pw-columns')) {
          checkColumnTable(pw, middle.shape[1], 'dsconv PW');
          return await pwSparseCore(context, middle, pw, layers.pwBias, attrs.pw?.activation, 'dsconv PW');
        }
        const { outChannels } = pointwiseShape(middle.shape, (pw as Tensor).shape, 'dsconv PW');
        return await pwCore(context, middle, float32Data(pw as Tensor), (pw as Tensor).data, outChannels, layers.pwBias, attrs.pw?.activation, 'dsconv PW');
      } finally {
        context.engine.release(middle.offset, size(middle.shape) * FLOAT);
      }
    });
  };
  return { pwDense, pwSparse, dwDense, dwSparse, conv2d, dsconv };
}
