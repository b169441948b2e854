import { balanceDw } from '@deprune/bwt';
import { disposeBackend, gpuKernelBackend } from '@deprune/gpu';
import { recalibrate, validateLatencyTable } from '@deprune/hsr';
import type { KernelBackend, KernelName, KernelSignatures } from '@deprune/kernels';
import type { DwLayer } from '@deprune/masks';
import { createWasmBackend, type WasmBackend } from '@deprune/wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultKeptGrid, measureInterleaved, measuredLatencyModel, measureMedian, median, medianStandardError, profileLayers, type ProfileProgress } from '../src/index';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** gpu.js's cpu mode through the kernel contract, freed after every layer as the CLI does. */
const cpu = { backend: gpuKernelBackend('cpu'), backendName: 'gpu.js-cpu', backendDetail: 'gpu.js', afterLayer: () => disposeBackend('cpu') };

afterAll(async () => {
  await disposeBackend();
});

describe('defaultKeptGrid', () => {
  it('has every count in the window, then stair tops, then full', () => {
    expect(defaultKeptGrid(40, 4, 10)).toEqual([...range(0, 10), 12, 16, 20, 24, 28, 32, 36, 40]);
    expect(defaultKeptGrid(40, 4, 10, 3)).toEqual([...range(0, 10), 12, 24, 36, 40]);
    expect(defaultKeptGrid(9, 4, 16)).toEqual(range(0, 9));
  });
});

describe('measureInterleaved', () => {
  it('median is the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('calls every function warmup + repeats times, rotating the order, and reports medians', async () => {
    const calls: string[] = [];
    const make = (name: string) => () => {
      calls.push(name);
    };
    const rounds: number[] = [];
    const results = await measureInterleaved([make('a'), make('b'), make('c')], { warmup: 1, repeats: 3, onRound: (round) => rounds.push(round) });
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    expect(rounds).toEqual([0, 1, 2, 3]);
    expect(results).toHaveLength(3);
    for (const result of results) {
      expect(result.samples).toHaveLength(3);
      expect(result.medianMs).toBeGreaterThanOrEqual(0);
      expect(result.spreadMs).toBeGreaterThanOrEqual(0);
    }
    await expect(measureInterleaved([make('a')], { repeats: 0 })).rejects.toThrow(/repeats/);
  });

  it('runs beforeCall before every timed call, never before a warm-up call', async () => {
    const events: string[] = [];
    const make = (name: string) => () => void events.push(name);
    await measureInterleaved([make('a'), make('b')], { warmup: 2, repeats: 2, beforeCall: () => events.push('gc') });
    expect(events).toEqual(['a', 'b', 'a', 'b', 'gc', 'a', 'gc', 'b', 'gc', 'b', 'gc', 'a']);
  });
});

describe('profileLayers on gpu.js (cpu mode)', () => {
  it('times small DW and PW layers into a valid hsr LatencyTable that HSR can use', async () => {
    const events: string[] = [];
    const table = await profileLayers(
      [
        { kind: 'dw', name: 'dw', inputShape: [1, 4, 6, 6], kernel: [3, 3], pads: [1, 1, 1, 1] },
        { kind: 'pw', name: 'pw', inputShape: [1, 10, 3, 3], outChannels: 6, tileRows: 4 },
        { kind: 'dw', name: 'dw-group', inputShape: [1, 3, 5, 5], kernel: [3, 3], unit: 'group', groupSize: 2 },
      ],
      { ...cpu, warmup: 0, repeats: 1, stepWindow: 6, machine: 'test machine', onProgress: (event) => events.push(`${event.layer}:${event.phase}`) },
    );
    validateLatencyTable(table);
    expect(table.backend).toBe('gpu.js-cpu');
    expect(table.meta).toMatchObject({ tool: '@deprune/profiler profileLayers', backend: 'gpu.js-cpu', backendDetail: 'gpu.js', machine: 'test machine', mode: 'cpu', kernelStep: 4, repeats: 1, warmup: 0, interleaved: true, skipped: [] });
    expect(table.mode).toBe('cpu');
    expect(table.layers.dw).toMatchObject({ kind: 'dw', unit: 'channel', full: 9, kernel: 'dwSparse', kept: range(0, 9) });
    expect(table.layers.pw).toMatchObject({ kind: 'pw', unit: 'tile', full: 10, unitSize: 4, kernel: 'pwSparse' });
    expect(table.layers.pw.kept.slice(0, 7)).toEqual(range(0, 6));
    expect(table.layers.pw.kept.at(-1)).toBe(10);
    expect(table.layers['dw-group']).toMatchObject({ unit: 'group', full: 18, unitSize: 2, kernel: 'dwDiagonal' });
    // The window (counts 0..6 here) is timed twice as often as the rest when it is a prefix.
    expect(table.layers.dw.resolution).toMatchObject({ windowCounts: 10, windowRepeats: 1 });
    expect(table.layers.pw.resolution).toMatchObject({ windowCounts: 7, windowRepeats: 2 });
    for (const entry of Object.values(table.layers)) {
      expect(entry.latencyUs.every((value) => Number.isFinite(value) && value > 0)).toBe(true);
      expect(entry.rawLatencyUs).toHaveLength(entry.kept.length);
      expect(Number.isInteger(entry.step) && entry.step >= 1).toBe(true);
      // The table's stairs never span one of the kernel's own padding edges.
      expect(4 % entry.step).toBe(0);
      expect(Number.isInteger(entry.foundStep) && entry.foundStep >= 1).toBe(true);
      // Pooled by stair, and strictly higher on every higher stair (noise never inverts them).
      entry.kept.forEach((count, index) => {
        if (index === 0) return;
        const sameStair = Math.ceil(count / entry.step) === Math.ceil(entry.kept[index - 1] / entry.step);
        if (sameStair) expect(entry.latencyUs[index]).toBe(entry.latencyUs[index - 1]);
        else expect(entry.latencyUs[index]).toBeGreaterThan(entry.latencyUs[index - 1]);
      });
      expect(entry.raisedStairs).toBeGreaterThanOrEqual(0);
    }
    expect(events.filter((event) => event.endsWith(':done'))).toEqual(['dw:done', 'pw:done', 'dw-group:done']);

    // HSR reads it through measuredLatencyModel: the DW layer is measured, others use the fallback.
    const weights = Float64Array.from({ length: 36 }, (_, index) => Math.sin(index * 1.7));
    const layer: DwLayer = { kind: 'dw', name: 'dw', channels: 4, kernel: [3, 3], weights };
    const plan = balanceDw(layer, 0.6, weights.map(Math.abs), { granularity: 'channel' });
    const result = recalibrate([plan], [layer], [weights.map(Math.abs)], measuredLatencyModel(table), { mode: 'recover' });
    expect(result.moves[0].measured).toBe(true);
    expect(result.moves[0].keptAfter).toBeGreaterThanOrEqual(result.moves[0].keptBefore);
    expect(result.unmeasured).toEqual([]);
  });

  it('takes explicit kept counts and refuses bad input', async () => {
    const table = await profileLayers([{ kind: 'pw', name: 'pw', inputShape: [1, 8, 2, 2], outChannels: 4 }], {
      ...cpu,
      warmup: 0,
      repeats: 1,
      keptCounts: { pw: [3, 5] },
    });
    expect(table.layers.pw.kept).toEqual([0, 3, 5, 8]);
    await expect(profileLayers([{ kind: 'pw', name: 'pw', inputShape: [1, 8, 2, 2], outChannels: 4 }], { ...cpu, keptCounts: { pw: [9] } })).rejects.toThrow(
      /outside 0\.\.8/,
    );
    await expect(profileLayers([{ kind: 'dw', name: 'x', inputShape: [1, 4, 6], kernel: [3, 3] }], cpu)).rejects.toThrow(/concrete NCHW/);
    await expect(
      profileLayers(
        [
          { kind: 'pw', name: 'same', inputShape: [1, 2, 2, 2], outChannels: 2 },
          { kind: 'pw', name: 'same', inputShape: [1, 2, 2, 2], outChannels: 2 },
        ],
        cpu,
      ),
    ).rejects.toThrow(/twice/);
    await expect(profileLayers([], { mode: 'cpu' } as never)).rejects.toThrow(/options\.backend: a kernel backend/);
  });
});

describe('profileLayers on the wasm backend', () => {
  let backend: WasmBackend | undefined;
  afterAll(() => backend?.dispose());

  it('times dwSparse and pwSparse through the kernel contract, and skips DR layers (no dwDiagonal) with the reason', async () => {
    backend = createWasmBackend();
    const wasm = backend;
    let calls = 0;
    let released = 0;
    // Any object of the kernel contract will do; this one counts calls and releases.
    const counting: KernelBackend = {
      name: wasm.name,
      has: (name) => wasm.has(name),
      kernel: <Name extends KernelName>(name: Name) => {
        const fn = wasm.kernel(name) as (...args: unknown[]) => unknown;
        return ((...args: unknown[]) => {
          calls++;
          return fn(...args);
        }) as KernelSignatures[Name];
      },
      release: (t) => {
        released++;
        wasm.release(t);
      },
    };
    const events: ProfileProgress[] = [];
    const started = performance.now();
    const table = await profileLayers(
      [
        { kind: 'dw', name: 'dw', inputShape: [1, 8, 8, 8], kernel: [3, 3], pads: [1, 1, 1, 1] },
        { kind: 'dw', name: 'dr', inputShape: [1, 8, 8, 8], kernel: [3, 3], unit: 'group', groupSize: 4 },
        { kind: 'pw', name: 'pw', inputShape: [1, 12, 4, 4], outChannels: 8, tileRows: 4 },
      ],
      { backend: counting, warmup: 1, repeats: 2, stepWindow: 6, onProgress: (event) => events.push(event) },
    );
    expect(performance.now() - started).toBeLessThan(5000);
    validateLatencyTable(table);
    expect(table).toMatchObject({ backend: 'wasm', mode: 'wasm', meta: { backend: 'wasm', mode: 'wasm', tool: '@deprune/profiler profileLayers' } });
    expect(Object.keys(table.layers)).toEqual(['dw', 'pw']);
    expect(table.layers.dw).toMatchObject({ kind: 'dw', unit: 'channel', full: 9, kernel: 'dwSparse', kept: range(0, 9) });
    expect(table.layers.pw).toMatchObject({ kind: 'pw', unit: 'tile', full: 12, unitSize: 4, kernel: 'pwSparse' });
    for (const entry of Object.values(table.layers)) {
      expect(entry.latencyUs.every((value) => Number.isFinite(value) && value > 0)).toBe(true);
      expect(4 % entry.step).toBe(0);
    }
    expect(table.meta.skipped).toEqual([{ layer: 'dr', kernel: 'dwDiagonal', reason: expect.stringMatching(/wasm backend has no dwDiagonal kernel \(the DR form\)/) }]);
    expect(events.filter((event) => event.phase === 'skipped' || event.phase === 'done').map((event) => `${event.layer}:${event.phase}`)).toEqual(['dw:done', 'dr:skipped', 'pw:done']);
    expect(events.find((event) => event.phase === 'skipped')?.reason).toMatch(/no dwDiagonal/);
    // Every result went back to the backend (the wasm backend keeps results in its memory until released).
    expect(calls).toBeGreaterThan(0);
    expect(released).toBe(calls);
  });
});

describe('timing helpers', () => {
  it('measureMedian runs warmup + repeats calls and reports median, spread and samples', async () => {
    let calls = 0;
    const result = await measureMedian(
      async () => {
        calls++;
      },
      { warmup: 1, repeats: 5 },
    );
    expect(calls).toBe(6);
    expect(result.samples).toHaveLength(5);
    expect(result.medianMs).toBeGreaterThanOrEqual(Math.min(...result.samples));
    expect(result.medianMs).toBeLessThanOrEqual(Math.max(...result.samples));
    expect(result.spreadMs).toBeCloseTo(Math.max(...result.samples) - Math.min(...result.samples));
    await expect(measureMedian(() => undefined, { repeats: 0 })).rejects.toThrow(/repeats must be an integer >= 1/);
  });

  it('medianStandardError is robust to the odd slow call', () => {
    expect(medianStandardError([1, 2])).toBe(0);
    const steady = medianStandardError([10, 11, 12, 13, 14]);
    expect(steady).toBeCloseTo((1.2533 * 1.4826 * 1) / Math.sqrt(5), 10);
    // One call 10x slower (a scheduler hiccup) barely moves it; max - min would grow 20-fold.
    expect(medianStandardError([10, 11, 12, 13, 140])).toBeCloseTo(steady, 10);
  });
});
