import { describe, expect, it, vi } from 'vitest';
import { UnsupportedError, UsageError } from '@deprune/errors';
import { conv2d, createRng, depthwiseConv2d, randomTensor, relativeL2Error, toFloat32, type Tensor } from '@deprune/tensor';
import { pool2d as hostPool2d } from '../src/host';
import { createWasmBackend, packPanels } from '../src/index';
import { POOL_CASES, type PoolCase } from './pool-cases';

const random = (shape: number[], seed: number) => toFloat32(randomTensor(shape, createRng(seed))) as Tensor<Float32Array>;

describe('the wasm backend', () => {
  it('names itself, lists its kernels and refuses one it lacks, naming the fallback', () => {
    const backend = createWasmBackend();
    expect(backend.name).toBe('wasm');
    expect(backend.has('pwSparse')).toBe(true);
    expect(backend.has('dwDiagonal')).toBe(false);
    expect(backend.has('toString')).toBe(false);
    expect(() => backend.kernel('dwDiagonal')).toThrow(UnsupportedError);
    expect(() => backend.kernel('dwDiagonal')).toThrow(/webasm/);
    backend.dispose();
    expect(() => backend.kernel('pwDense')).toThrow(UsageError);
  });

  it('without SharedArrayBuffer (a page that is not cross-origin isolated) runs one thread and copies results out', async () => {
    const globals = globalThis as { crossOriginIsolated?: boolean };
    const before = globals.crossOriginIsolated;
    globals.crossOriginIsolated = false;
    try {
      const backend = createWasmBackend({ threads: 2 });
      expect(backend.threads).toBe(1);
      const x = random([1, 4, 6, 6], 7);
      const weight = random([4, 1, 3, 3], 8);
      const y = await backend.kernel('dwDense')(x, weight, null, { pads: [1, 1, 1, 1] });
      expect(backend.owns(y)).toBe(false);
      expect(relativeL2Error(y.data, depthwiseConv2d(x, weight, null, { pads: [1, 1, 1, 1] }).data)).toBeLessThan(1e-5);
      backend.dispose();
    } finally {
      if (before === undefined) delete globals.crossOriginIsolated;
      else globals.crossOriginIsolated = before;
    }
  });

  it('refuses an unknown simd level', () => {
    expect(() => createWasmBackend({ simd: 'avx' as never })).toThrow(UsageError);
  });

  it('keeps results in wasm memory for the next kernel and frees them on release', async () => {
    const backend = createWasmBackend();
    const weight = random([8, 1, 3, 3], 1);
    const x = random([1, 8, 12, 12], 2);
    const dw = backend.kernel('dwDense');
    const first = await dw(x, weight, null, { pads: [1, 1, 1, 1] });
    const before = backend.memoryUsage().liveBytes;
    expect(backend.owns(first)).toBe(true);
    // The resident result read in place by the next kernel gives the reference's answer.
    const second = await dw(first, weight, null, { pads: [1, 1, 1, 1] });
    const reference = depthwiseConv2d(depthwiseConv2d(x, weight, null, { pads: [1, 1, 1, 1] }), weight, null, { pads: [1, 1, 1, 1] });
    expect(relativeL2Error(second.data, reference.data)).toBeLessThan(1e-5);
    backend.release(first);
    backend.release(second);
    expect(backend.owns(first)).toBe(false);
    expect(backend.memoryUsage().liveBytes).toBeLessThan(before);
    // Releasing twice, or something not ours, does nothing.
    backend.release(first);
    backend.release(x);
    backend.dispose();
  });

  it('uploads a host tensor to wasm memory, where kernels read it in place until it is released', async () => {
    const backend = createWasmBackend();
    const x = random([1, 8, 12, 12], 5);
    const weight = random([8, 1, 3, 3], 6);
    // A first call packs the weight (resident constants count as live bytes).
    backend.release(await backend.kernel('dwDense')(x, weight, null, { pads: [1, 1, 1, 1] }));
    const before = backend.memoryUsage().liveBytes;
    const resident = backend.upload(x);
    expect(backend.owns(resident)).toBe(true);
    expect(resident.shape).toEqual([1, 8, 12, 12]);
    expect(Array.from(resident.data)).toEqual(Array.from(x.data));
    expect(backend.memoryUsage().liveBytes).toBe(before + x.data.byteLength);
    const y = await backend.kernel('dwDense')(resident, weight, null, { pads: [1, 1, 1, 1] });
    expect(relativeL2Error(y.data, depthwiseConv2d(x, weight, null, { pads: [1, 1, 1, 1] }).data)).toBeLessThan(1e-5);
    // A float64 host tensor arrives rounded to float32, as every kernel input is.
    const wide = backend.upload({ data: Float64Array.from([1.5, 1 / 3]), shape: [2] });
    expect(Array.from(wide.data)).toEqual([1.5, Math.fround(1 / 3)]);
    for (const t of [resident, y, wide]) backend.release(t);
    expect(backend.owns(resident)).toBe(false);
    expect(backend.memoryUsage().liveBytes).toBe(before);
    backend.dispose();
    expect(() => backend.upload(x)).toThrow(UsageError);
  });

  it('runs windowed max and average pools in wasm as the host kernel does: every case, NaN wins in max, windows inside the padding', async () => {
    const backend = createWasmBackend();
    const pool = backend.kernel('pool2d');
    const extra: (PoolCase & { nan?: boolean })[] = [
      { label: 'max 2x2 stride 2 with NaNs', input: [1, 2, 6, 6], params: { kind: 'max', kernel: [2, 2], strides: [2, 2] }, nan: true },
      { label: 'max, windows wholly in the padding', input: [1, 2, 2, 3], params: { kind: 'max', kernel: [2, 2], strides: [2, 2], pads: [2, 2, 2, 2] } },
      { label: 'average, windows wholly in the padding', input: [1, 2, 2, 3], params: { kind: 'average', kernel: [2, 2], strides: [2, 2], pads: [2, 2, 2, 2] } },
      { label: 'average, windows wholly in the padding, count_include_pad', input: [1, 2, 2, 3], params: { kind: 'average', kernel: [2, 2], strides: [2, 2], pads: [2, 2, 2, 2], countIncludePad: true } },
    ];
    const cases: readonly (PoolCase & { nan?: boolean })[] = [...POOL_CASES, ...extra];
    for (const [index, { label, input, params, activation, nan }] of cases.entries()) {
      const x = random([...input], 50 + index);
      if (nan === true) x.data[7] = x.data[30] = Number.NaN;
      const expected = (await hostPool2d(x, { ...params, activation })).data;
      const actual = await pool(x, { ...params, activation });
      expect(backend.owns(actual), label).toBe(true);
      const got = actual.data;
      expect(got.length, label).toBe(expected.length);
      for (let i = 0; i < got.length; i++) {
        const [a, e] = [got[i], expected[i]];
        if (Number.isNaN(e) || !Number.isFinite(e)) expect(a, `${label} [${i}]`).toBe(e);
        else expect(Math.abs(a - e), `${label} [${i}]: ${a} vs ${e}`).toBeLessThanOrEqual(1e-6 * (Math.abs(e) + 1e-6));
      }
      backend.release(actual);
    }
    backend.dispose();
  });

  it('gives the one-thread result on each of 300 small calls at 2 threads, whichever thread takes each part', async () => {
    // Small calls leave the worker asleep between them, so the caller often takes its part too
    // (see ThreadPool.run); a lost or doubly run part would change or zero some outputs.
    const one = createWasmBackend({ threads: 1 });
    const two = createWasmBackend({ threads: 2, minParallelWork: 0 });
    const x = random([1, 12, 6, 10], 21);
    const pw = random([20, 12], 22);
    const dw = random([12, 1, 3, 3], 23);
    const expectedPw = Array.from((await one.kernel('pwDense')(x, pw, null)).data);
    const expectedDw = Array.from((await one.kernel('dwDense')(x, dw, null, { pads: [1, 1, 1, 1] })).data);
    for (let call = 0; call < 150; call++) {
      const y = await two.kernel('pwDense')(x, pw, null);
      expect(Array.from(y.data), `pwDense call ${call}`).toEqual(expectedPw);
      two.release(y);
      const z = await two.kernel('dwDense')(x, dw, null, { pads: [1, 1, 1, 1] });
      expect(Array.from(z.data), `dwDense call ${call}`).toEqual(expectedDw);
      two.release(z);
    }
    one.dispose();
    two.dispose();
  });

  it('does not grow its memory over 1,000 calls of one layer', async () => {
    const backend = createWasmBackend();
    const pw = backend.kernel('pwDense');
    const x = random([1, 16, 10, 10], 3);
    const weight = random([24, 16], 4);
    for (let call = 0; call < 10; call++) backend.release(await pw(x, weight, null, { activation: 'relu' }));
    const settled = backend.memoryUsage();
    for (let call = 0; call < 1000; call++) backend.release(await pw(x, weight, null, { activation: 'relu' }));
    const after = backend.memoryUsage();
    expect(after.memoryBytes).toBe(settled.memoryBytes);
    expect(after.liveBytes).toBe(settled.liveBytes);
    backend.dispose();
  });

  it('runs a general conv whose im2col columns exceed the band budget in bands of output rows', async () => {
    // 16 channels x 3x3 = 144 rows of columns, 200 pixels per output row: 115 KB a row, so the
    // 8 MB budget takes 72 rows at a time and this 200-row output runs in three bands.
    const backend = createWasmBackend();
    const x = random([1, 16, 200, 200], 5);
    const weight = random([8, 16, 3, 3], 6);
    const attrs = { pads: [1, 1, 1, 1] as const, strides: [1, 1] as const };
    const actual = await backend.kernel('conv2d')(x, weight, null, attrs);
    expect(relativeL2Error(actual.data, conv2d(x, weight, null, attrs).data)).toBeLessThan(1e-5);
    backend.dispose();
  });

  it('runs PCP tables of every row tile on both paths (in place below 32 rows, gathered blocks from 32), on 1 and 2 threads', async () => {
    // 70 rows (a partial panel), 45 inputs, 37 pixels (a short last block of 8); tiles that split panels too.
    const [outChannels, inChannels, pixels] = [70, 45, 37];
    const x = random([1, inChannels, 1, pixels], 21);
    const rng = createRng(22);
    const bias = random([outChannels], 23);
    for (const tileRows of [1, 3, 4, 8, 32, 36, 70]) {
      const tiles = Math.ceil(outChannels / tileRows);
      const kept = Array.from({ length: tiles }, (_, tile) => Array.from({ length: inChannels }, (_, column) => column).filter(() => rng.next() < (tile % 3 === 0 ? 0.5 : 0.3)));
      const slots = Math.max(1, ...kept.map((list) => list.length));
      const columns = new Float32Array(tiles * slots);
      const weights = new Float32Array(outChannels * slots);
      kept.forEach((list, tile) => list.forEach((column, slot) => (columns[tile * slots + slot] = column)));
      for (let row = 0; row < outChannels; row++) for (let slot = 0; slot < kept[Math.floor(row / tileRows)].length; slot++) weights[row * slots + slot] = rng.next() - 0.5;
      const table = { kind: 'pw-columns', name: `t${tileRows}`, outChannels, inChannels, tileRows, tiles, step: 1, slots, kept: kept.map((list) => list.length), balance: 'none', columns, weights, efficiency: 1 } as const;
      const expected = new Float64Array(outChannels * pixels);
      for (let row = 0; row < outChannels; row++) {
        const tile = Math.floor(row / tileRows);
        for (let pixel = 0; pixel < pixels; pixel++) {
          let sum = bias.data[row];
          kept[tile].forEach((column, slot) => (sum += weights[row * slots + slot] * x.data[column * pixels + pixel]));
          expected[row * pixels + pixel] = Math.max(0, sum);
        }
      }
      for (const threads of [1, 2]) {
        // minParallelWork 0: these small calls still go to the worker (by default they stay here).
        const backend = createWasmBackend({ threads, minParallelWork: 0 });
        const y = await backend.kernel('pwSparse')(x, table, bias, { activation: 'relu' });
        expect(relativeL2Error(y.data, expected), `tileRows ${tileRows}, ${threads} thread(s)`).toBeLessThan(1e-6);
        backend.dispose();
      }
    }
  });

  it('keeps calls under minParallelWork multiply-adds on one thread, split the same way (same results)', async () => {
    const x = random([1, 32, 9, 9], 31);
    const weight = random([24, 32], 32);
    const calls: number[] = [];
    const results = [];
    for (const minParallelWork of [0, Number.POSITIVE_INFINITY]) {
      const backend = createWasmBackend({ threads: 2, minParallelWork });
      const parallel = vi.spyOn(backend.engine, 'parallel');
      const y = await backend.kernel('pwDense')(x, weight, null, {});
      results.push(Float32Array.from(y.data));
      calls.push(parallel.mock.calls.length);
      // The pool starts only when a call is handed to it.
      expect((backend.engine as unknown as { pool?: unknown }).pool === undefined).toBe(minParallelWork > 0);
      backend.dispose();
    }
    expect(calls).toEqual([1, 1]);
    expect(results[1]).toEqual(results[0]);
    expect(() => createWasmBackend({ minParallelWork: -1 })).toThrow(UsageError);
  });

  it('packs a weight matrix in panels of 4 rows, zero-padded', () => {
    const packed = packPanels(Float32Array.from([1, 2, 3, 4, 5, 6]), 3, 2);
    // Panel 0, column 0: rows 0..3 of column 0 (row 3 missing: 0), then column 1.
    expect([...packed]).toEqual([1, 3, 5, 0, 2, 4, 6, 0]);
  });

  it('refuses to start without WebAssembly SIMD, naming the modes to use instead', async () => {
    vi.resetModules();
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    try {
      const fresh = await import('../src/index');
      expect(fresh.wasmSupport()).toEqual({ simd: false, relaxedSimd: false });
      // (A fresh module graph has its own error classes: check the code, not the class.)
      const failure = (() => {
        try {
          fresh.createWasmBackend();
        } catch (error) {
          return error as { code?: string; message: string };
        }
        return undefined;
      })();
      expect(failure?.code).toBe('UNSUPPORTED');
      expect(failure?.message).toMatch(/WebAssembly SIMD .*'webasm' or 'cpu'/);
    } finally {
      validate.mockRestore();
      vi.resetModules();
    }
  });
});
