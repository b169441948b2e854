import type { ConvAttrs, TapTable } from '@deprune/kernels';
import type { Tensor } from '@deprune/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/index';

// The DW kernel's paths (assembly/kernels.ts, dwTaps): stride 1 with pads of at most 4 and rows of
// 20 outputs or more reads the input in place, with masked edge blocks (the direct path); stride 1
// with "same" padding on narrower rows, when no channel keeps more than 8 taps, reads the plane in
// place as one flat run, every load masked (the flat path); everything else goes through the
// phase planes, of which a stride-2 channel fills only those its taps read. These
// sweep the widths and heights around each path's blocks and thresholds, the pads on either side
// of its limit, unsorted and one-phase tap lists, against a float64 loop over the same taps.

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const out = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[index] = state / 2 ** 31 - 1;
  }
  return out;
}

type Pads = [number, number, number, number];

interface Layer {
  channels: number;
  height: number;
  width: number;
  kernel: [number, number];
  attrs: ConvAttrs;
  /** Per channel, kept taps as kernel indices (row * kw + column), in the order the table lists them. */
  taps: number[][];
}

function tapTable(layer: Layer, weights: Float32Array): TapTable {
  const [, kw] = layer.kernel;
  const slots = Math.max(1, ...layer.taps.map((list) => list.length));
  const taps = new Float32Array(layer.channels * slots * 3);
  layer.taps.forEach((list, channel) =>
    list.forEach((tap, slot) => {
      const at = (channel * slots + slot) * 3;
      taps.set([Math.floor(tap / kw), tap % kw, weights[channel * layer.kernel[0] * kw + tap]], at);
    }),
  );
  const kept = layer.taps.map((list) => list.length);
  return { kind: 'dw-taps', name: 'paths', channels: layer.channels, kernel: layer.kernel, step: 1, slots, kept, balance: 'none', taps, efficiency: 1 };
}

/** float64 DW conv over the kept taps; per output also the sum of |terms| (the error scale). */
function reference(layer: Layer, x: Float32Array, weights: Float32Array, bias: Float32Array): { y: Float64Array; scale: Float64Array; shape: number[] } {
  const { channels, height, width, kernel, attrs } = layer;
  const [kh, kw] = kernel;
  const [sh, sw] = attrs.strides ?? [1, 1];
  const [dh, dw] = attrs.dilations ?? [1, 1];
  const [pt, pl, pb, pr] = attrs.pads ?? [0, 0, 0, 0];
  const outH = Math.floor((height + pt + pb - (kh - 1) * dh - 1) / sh) + 1;
  const outW = Math.floor((width + pl + pr - (kw - 1) * dw - 1) / sw) + 1;
  const y = new Float64Array(channels * outH * outW);
  const scale = new Float64Array(y.length);
  for (let c = 0; c < channels; c++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let sum = bias[c];
        let size = Math.abs(bias[c]);
        for (const tap of layer.taps[c]) {
          const iy = oy * sh - pt + Math.floor(tap / kw) * dh;
          const ix = ox * sw - pl + (tap % kw) * dw;
          if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
          const term = weights[c * kh * kw + tap] * x[(c * height + iy) * width + ix];
          sum += term;
          size += Math.abs(term);
        }
        y[(c * outH + oy) * outW + ox] = sum;
        scale[(c * outH + oy) * outW + ox] = size;
      }
    }
  }
  return { y, scale, shape: [1, channels, outH, outW] };
}

/** Kept taps: every tap, none, one, or a seeded subset listed in a shuffled order (not row-sorted). */
function tapsOf(kind: 'all' | 'none' | 'one' | 'shuffled', channels: number, area: number, seed: number): number[][] {
  const rng = values(channels * area * 2, seed);
  return Array.from({ length: channels }, (_, channel) => {
    const all = Array.from({ length: area }, (_, tap) => tap);
    if (kind === 'all') return all;
    if (kind === 'none') return [];
    if (kind === 'one') return [Math.floor((rng[channel] + 1) * 0.5 * area) % area];
    const order = all.map((tap) => ({ tap, key: rng[channel * area + tap] })).sort((a, b) => a.key - b.key);
    return order.slice(0, Math.max(1, Math.ceil(area / 2))).map((entry) => entry.tap);
  });
}

/** Up to 8 taps (the flat path's limit) reaching every edge of the window: corners, centre, edge middles. */
function flatTaps([kh, kw]: [number, number]): number[] {
  const at = (row: number, column: number) => row * kw + column;
  const mid = [Math.floor(kh / 2), Math.floor(kw / 2)];
  const taps = [at(0, 0), at(0, kw - 1), at(kh - 1, 0), at(kh - 1, kw - 1), at(mid[0], mid[1]), at(0, mid[1]), at(mid[0], 0), at(kh - 1, mid[1])];
  return [...new Set(taps)].slice(0, 8);
}

/** Runs the layer dense (when every channel keeps every tap) or sparse and returns the worst error over the scale, or a message. */
async function check(backend: WasmBackend, layer: Layer, seed: number, x = values(layer.channels * layer.height * layer.width, seed)): Promise<string | null> {
  const area = layer.kernel[0] * layer.kernel[1];
  const weights = values(layer.channels * area, seed + 1);
  const bias = values(layer.channels, seed + 2);
  const expected = reference(layer, x, weights, bias);
  const input: Tensor = { data: x, shape: [1, layer.channels, layer.height, layer.width] };
  const biasTensor: Tensor = { data: bias, shape: [layer.channels] };
  const dense = layer.taps.every((list) => list.length === area && list.every((tap, index) => tap === index));
  const y = dense
    ? await backend.kernel('dwDense')(input, { data: weights, shape: [layer.channels, 1, ...layer.kernel] }, biasTensor, layer.attrs)
    : await backend.kernel('dwSparse')(input, tapTable(layer, weights), biasTensor, layer.attrs);
  try {
    if (y.shape.join() !== expected.shape.join()) return `shape ${y.shape.join('x')}, expected ${expected.shape.join('x')}`;
    const data = y.data as Float32Array;
    for (let index = 0; index < data.length; index++) {
      const want = expected.y[index];
      if (Number.isNaN(want) !== Number.isNaN(data[index])) return `output ${index}: ${data[index]}, expected ${want}`;
      if (Number.isNaN(want)) continue;
      if (Math.abs(data[index] - want) > 1e-6 * (expected.scale[index] + 1e-6)) return `output ${index}: ${data[index]}, expected ${want}`;
    }
    return null;
  } finally {
    backend.release(y);
  }
}

function label(layer: Layer): string {
  const { attrs } = layer;
  return `${layer.channels}x${layer.height}x${layer.width} k${layer.kernel.join('x')} s${(attrs.strides ?? [1, 1]).join(',')} p${(attrs.pads ?? [0, 0, 0, 0]).join(',')} d${(attrs.dilations ?? [1, 1]).join(',')} kept ${layer.taps.map((list) => list.length).join(',')}`;
}

describe.each(['simd', 'relaxed'] as const)('DW kernel paths (%s)', (simd) => {
  const backend = createWasmBackend({ simd });
  afterAll(() => backend.dispose());
  const failures = async (layers: Layer[]): Promise<string[]> => {
    const found: string[] = [];
    for (const [index, layer] of layers.entries()) {
      const failure = await check(backend, layer, 1000 + index);
      if (failure !== null) found.push(`${label(layer)}: ${failure}`);
    }
    return found;
  };

  it('stride 1, 3x3 pad 1: widths 1 to 40, heights 1 to 3 and 7, every tap kind', async () => {
    const layers: Layer[] = [];
    for (let width = 1; width <= 40; width++) {
      for (const height of [1, 2, 3, 7]) {
        for (const kind of ['all', 'none', 'one', 'shuffled'] as const) layers.push({ channels: 3, height, width, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1] }, taps: tapsOf(kind, 3, 9, width * 10 + height) });
      }
    }
    expect(await failures(layers)).toEqual([]);
  });

  it('stride 1: pads 0 to 5 on each side (5 is past the direct path), 5x5, 1x5, 5x1, dilation 2', async () => {
    const layers: Layer[] = [];
    const shapes: Array<{ kernel: [number, number]; dilations?: [number, number] }> = [{ kernel: [3, 3] }, { kernel: [5, 5] }, { kernel: [1, 5] }, { kernel: [5, 1] }, { kernel: [3, 3], dilations: [2, 2] }];
    for (const { kernel, dilations } of shapes) {
      for (const pads of [[0, 0, 0, 0], [2, 2, 2, 2], [0, 4, 1, 0], [1, 0, 0, 4], [4, 4, 4, 4], [0, 5, 0, 1], [1, 1, 5, 5], [3, 1, 2, 4]] as Pads[]) {
        for (const width of [19, 20, 21, 24, 33, 40]) {
          for (const kind of ['all', 'shuffled'] as const) {
            const layer: Layer = { channels: 2, height: 6, width, kernel, attrs: { pads, ...(dilations === undefined ? {} : { dilations }) }, taps: tapsOf(kind, 2, kernel[0] * kernel[1], width + pads[1]) };
            const outW = width + pads[1] + pads[3] - (kernel[1] - 1) * (dilations?.[1] ?? 1);
            const outH = 6 + pads[0] + pads[2] - (kernel[0] - 1) * (dilations?.[0] ?? 1);
            if (outW >= 1 && outH >= 1) layers.push(layer);
          }
        }
      }
    }
    expect(await failures(layers)).toEqual([]);
  });

  it('stride 2, (2,1), (1,2): dense, one phase, two phases, none', async () => {
    const layers: Layer[] = [];
    // 3x3 taps by phase (row % 2, column % 2): 0 (0,0): 0, 2, 6, 8; 1 (0,1): 1, 7; 2 (1,0): 3, 5; 3 (1,1): 4.
    const tapSets = [[0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 2, 6, 8], [4], [1, 7], [3, 5, 4], [8, 1], []];
    for (const strides of [[2, 2], [2, 1], [1, 2]] as Array<[number, number]>) {
      for (const pads of [[1, 1, 1, 1], [0, 1, 1, 0], [0, 0, 0, 0]] as Pads[]) {
        for (const [height, width] of [[1, 17], [5, 9], [12, 33], [13, 40]]) {
          // Inputs smaller than the window with no pads have no output: left out.
          if (height + pads[0] + pads[2] < 3 || width + pads[1] + pads[3] < 3) continue;
          for (const set of tapSets) layers.push({ channels: 3, height, width, kernel: [3, 3], attrs: { strides, pads }, taps: [set, [...set].reverse(), set.slice(0, 1)] });
        }
      }
    }
    expect(await failures(layers)).toEqual([]);
  });

  it('the direct path zeroes what its edge loads read outside the row: a NaN next to a row edge stays in its own windows', async () => {
    for (const [height, width, kernel, pads] of [
      [6, 24, [3, 3], [1, 1, 1, 1]],
      [7, 21, [5, 5], [2, 2, 2, 2]],
      [5, 30, [3, 3], [0, 4, 0, 4]],
    ] as Array<[number, number, [number, number], Pads]>) {
      const x = values(height * width, 7);
      // The last column of row 2 and the first of row 3: the loads for the other edge of the next
      // or previous row read them.
      x[2 * width + width - 1] = Number.NaN;
      x[3 * width] = Number.NaN;
      // The first and the last value of the plane: loads before and after it.
      x[0] = Number.NaN;
      x[height * width - 1] = Number.NaN;
      const layer: Layer = { channels: 1, height, width, kernel, attrs: { pads }, taps: tapsOf('all', 1, kernel[0] * kernel[1], 1) };
      expect(await check(backend, layer, 5, x), label(layer)).toBeNull();
    }
  });

  it('the flat path zeroes what its loads read outside the image: NaNs at row ends and plane edges stay in their own windows', async () => {
    for (const [height, width, kernel, pads] of [
      [6, 14, [3, 3], [1, 1, 1, 1]],
      [7, 7, [5, 5], [2, 2, 2, 2]],
      [4, 4, [3, 3], [1, 1, 1, 1]],
      [1, 17, [1, 3], [0, 1, 0, 1]],
      [5, 9, [3, 3], [2, 0, 0, 2]],
    ] as Array<[number, number, [number, number], Pads]>) {
      // Two channels: the loads of one read the other's plane, and the NaNs there must not leak.
      const x = values(2 * height * width, 9);
      for (const plane of [0, height * width]) {
        x[plane] = Number.NaN;
        x[plane + width - 1] = Number.NaN;
        x[plane + height * width - 1] = Number.NaN;
        if (height > 1) x[plane + width] = Number.NaN;
      }
      const layer: Layer = { channels: 2, height, width, kernel, attrs: { pads }, taps: [flatTaps(kernel), flatTaps(kernel).reverse()] };
      expect(await check(backend, layer, 6, x), label(layer)).toBeNull();
    }
  });

  it('every activation applies on every path (each common one has its own compiled loop)', async () => {
    const activations: Array<[ConvAttrs['activation'], (v: number) => number]> = [
      [undefined, (v) => v],
      ['relu', (v) => Math.max(0, v)],
      ['relu6', (v) => Math.min(6, Math.max(0, v))],
      [{ kind: 'clip', min: -0.5, max: 0.7 }, (v) => Math.min(0.7, Math.max(-0.5, v))],
      ['hardswish', (v) => (v * Math.min(6, Math.max(0, v + 3))) / 6],
      ['silu', (v) => v / (1 + Math.exp(-v))],
    ];
    for (const [activation, apply] of activations) {
      // 26 wide: the direct path; 14 wide, 8 taps kept: the flat path; 14 wide dense and 3 wide
      // (12 outputs): the phase planes.
      for (const [width, kept] of [[26, 9], [14, 8], [14, 9], [3, 9]]) {
        const taps = kept === 9 ? tapsOf('all', 2, 9, 3) : [flatTaps([3, 3]), flatTaps([3, 3])];
        const layer: Layer = { channels: 2, height: 4, width, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1], activation }, taps };
        const x = values(2 * 4 * width, 11).map((value) => value * 8);
        const weights = values(18, 12);
        const bias = values(2, 13);
        const expected = reference(layer, x, weights, bias);
        const input: Tensor = { data: x, shape: [1, 2, 4, width] };
        const y =
          kept === 9
            ? await backend.kernel('dwDense')(input, { data: weights, shape: [2, 1, 3, 3] }, { data: bias, shape: [2] }, layer.attrs)
            : await backend.kernel('dwSparse')(input, tapTable(layer, weights), { data: bias, shape: [2] }, layer.attrs);
        const data = y.data as Float32Array;
        let worst = 0;
        for (let index = 0; index < data.length; index++) worst = Math.max(worst, Math.abs(data[index] - apply(expected.y[index])) / (expected.scale[index] + 1e-6));
        backend.release(y);
        expect(worst, `${JSON.stringify(activation)} at width ${width}, ${kept} taps`).toBeLessThan(1e-5);
      }
    }
  });
});

describe('DW kernel paths: 2 threads give the 1-thread results', () => {
  const one = createWasmBackend({ simd: 'simd', threads: 1 });
  const two = createWasmBackend({ simd: 'simd', threads: 2, minParallelWork: 0 });
  afterAll(() => {
    one.dispose();
    two.dispose();
  });
  it('direct, phase-plane, flat and one-phase layers', async () => {
    const layers: Layer[] = [
      { channels: 7, height: 9, width: 30, kernel: [3, 3], attrs: { pads: [1, 1, 1, 1] }, taps: tapsOf('shuffled', 7, 9, 4) },
      { channels: 7, height: 9, width: 14, kernel: [5, 5], attrs: { pads: [2, 2, 2, 2] }, taps: tapsOf('all', 7, 25, 5) },
      { channels: 7, height: 9, width: 14, kernel: [5, 5], attrs: { pads: [2, 2, 2, 2] }, taps: Array.from({ length: 7 }, (_, channel) => flatTaps([5, 5]).slice(channel % 3)) },
      { channels: 7, height: 12, width: 33, kernel: [3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, taps: Array.from({ length: 7 }, (_, channel) => (channel % 2 === 0 ? [0, 2, 6, 8] : [4, 1])) },
    ];
    for (const [index, layer] of layers.entries()) {
      const x = values(layer.channels * layer.height * layer.width, index);
      const weights = values(layer.channels * layer.kernel[0] * layer.kernel[1], index + 1);
      const input: Tensor = { data: x, shape: [1, layer.channels, layer.height, layer.width] };
      const [a, b] = [await one.kernel('dwSparse')(input, tapTable(layer, weights), null, layer.attrs), await two.kernel('dwSparse')(input, tapTable(layer, weights), null, layer.attrs)];
      expect(Array.from(b.data as Float32Array), label(layer)).toEqual(Array.from(a.data as Float32Array));
      one.release(a);
      two.release(b);
    }
  });
});
