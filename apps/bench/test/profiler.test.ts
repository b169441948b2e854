import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { recalibrate, validateLatencyTable } from '@deprune/hsr';
import { balanceDw } from '@deprune/bwt';
import type { DwLayer } from '@deprune/masks';
import {
  defaultKeptGrid,
  findStep,
  findStepDetail,
  fitStaircase,
  GPU_JS_VERSION,
  measureInterleaved,
  measuredLatencyModel,
  medianStandardError,
  profileLayers,
  stairRise,
} from '@deprune/gpu';
import { describe, expect, it } from 'vitest';

/** A staircase of step t with seeded, bounded noise. */
function staircase(counts: readonly number[], step: number, noise: number, seed = 7): number[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return counts.map((count) => 100 + 50 * Math.ceil(count / step) + noise * random());
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('findStep', () => {
  it('recovers the step of clean staircases', () => {
    for (const step of [1, 2, 3, 4, 5, 8]) {
      const counts = range(0, 4 * step + 3);
      expect(findStep(counts, staircase(counts, step, 0))).toBe(step);
    }
  });

  it('recovers the step through noise, from unsorted and uneven counts', () => {
    const counts = [...range(0, 16), 20, 24, 28, 32, 64, 96].reverse();
    expect(findStep(counts, staircase(counts, 4, 20))).toBe(4);
    const dw = range(0, 9);
    expect(findStep(dw, staircase(dw, 4, 15, 3))).toBe(4);
  });

  it('says 1 when no staircase shows (flat or falling curves), and explains itself', () => {
    const counts = range(0, 12);
    expect(findStep(counts, counts.map(() => 5))).toBe(1);
    const falling = findStepDetail(counts, counts.map((count) => 100 - count));
    expect(falling.detected).toBe(false);
    expect(falling.step).toBe(1);
    const rising = findStepDetail(counts, staircase(counts, 3, 0));
    expect(rising.detected).toBe(true);
    expect(rising.fit.r2).toBeCloseTo(1, 10);
    expect(rising.candidates.map((candidate) => candidate.step)).toEqual(range(1, 6));
    expect(() => findStep([0, 1], [1])).toThrow(/as many latencies/);
  });

  it('maxStep bounds the candidates; a rise below minJump per stair is not a staircase', () => {
    const counts = range(0, 20);
    const curve = staircase(counts, 4, 0);
    expect(findStepDetail(counts, curve, { maxStep: 5 }).candidates.map((candidate) => candidate.step)).toEqual(range(1, 5));
    expect(findStep(counts, curve, { minJump: 49 })).toBe(4);
    const lost = findStepDetail(counts, curve, { minJump: 51 });
    expect(lost).toMatchObject({ step: 1, detected: false });
  });

  it('a ramp with noise is not a staircase, whatever step fits it best; a long noisy staircase is', () => {
    const counts = range(0, 25);
    let state = 3;
    const noise = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648 - 0.5;
    };
    const ramp = counts.map((count) => 100 + 10 * count + 6 * noise());
    expect(findStepDetail(counts, ramp).step).toBe(1);
    // Fitted beside a ramp, the jumps at every fourth count are nothing: the ramp took the rise.
    const jumps = stairRise(counts, ramp, 4);
    expect(Math.abs(jumps.rise)).toBeLessThan(3 * jumps.standardError);
    // A 5x5 layer's staircase (7 stairs of 4 taps) with noise of half a stair is found; a straight
    // ramp fits it fairly well, which is why jumps are tested beside a ramp and not against one.
    const stairs = counts.map((count) => 100 + 40 * Math.ceil(count / 4) + 20 * noise());
    expect(findStepDetail(counts, stairs)).toMatchObject({ step: 4, detected: true });
    const found = stairRise(counts, stairs, 4);
    expect(found.rise).toBeGreaterThan(3 * found.standardError);
    expect(Math.abs(found.rise - 40)).toBeLessThan(3 * found.standardError);
    // A rise lost in the scatter of the curve itself is not one either.
    const flat = range(0, 16).map((count) => 100 + 0.2 * Math.ceil(count / 4) + 20 * noise());
    expect(findStepDetail(range(0, 16), flat).detected).toBe(false);
  });

  it('medianStandardError is robust to the odd slow call', () => {
    expect(medianStandardError([1, 2])).toBe(0);
    const steady = medianStandardError([10, 11, 12, 13, 14]);
    expect(steady).toBeCloseTo((1.2533 * 1.4826 * 1) / Math.sqrt(5), 10);
    // One call 10x slower (a scheduler hiccup) barely moves it; max - min would grow 20-fold.
    expect(medianStandardError([10, 11, 12, 13, 140])).toBeCloseTo(steady, 10);
  });

  it('fitStaircase is a least-squares line in ceil(n / t)', () => {
    const fit = fitStaircase([0, 1, 2, 3, 4], [10, 12, 12, 14, 14], 2);
    expect(fit.intercept).toBeCloseTo(10, 10);
    expect(fit.perStair).toBeCloseTo(2, 10);
    expect(fit.rss).toBeCloseTo(0, 10);
  });
});

describe('defaultKeptGrid', () => {
  it('has every count in the window, then stair tops, then full', () => {
    expect(defaultKeptGrid(40, 4, 10)).toEqual([...range(0, 10), 12, 16, 20, 24, 28, 32, 36, 40]);
    expect(defaultKeptGrid(40, 4, 10, 3)).toEqual([...range(0, 10), 12, 24, 36, 40]);
    expect(defaultKeptGrid(9, 4, 16)).toEqual(range(0, 9));
  });
});

describe('measureInterleaved', () => {
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

describe('profileLayers', () => {
  it('GPU_JS_VERSION is the installed gpu.js', () => {
    const gpuEntry = createRequire(import.meta.url).resolve('@deprune/gpu');
    const manifest = createRequire(gpuEntry).resolve('gpu.js/package.json');
    expect(JSON.parse(readFileSync(manifest, 'utf8')).version).toBe(GPU_JS_VERSION);
  });

  it('times small DW and PW layers into a valid hsr LatencyTable that HSR can use', async () => {
    const events: string[] = [];
    const table = await profileLayers(
      [
        { kind: 'dw', name: 'dw', inputShape: [1, 4, 6, 6], kernel: [3, 3], pads: [1, 1, 1, 1] },
        { kind: 'pw', name: 'pw', inputShape: [1, 10, 3, 3], outChannels: 6, tileRows: 4 },
        { kind: 'dw', name: 'dw-group', inputShape: [1, 3, 5, 5], kernel: [3, 3], unit: 'group', groupSize: 2 },
      ],
      { mode: 'cpu', warmup: 0, repeats: 1, stepWindow: 6, machine: 'test machine', onProgress: (event) => events.push(`${event.layer}:${event.phase}`) },
    );
    validateLatencyTable(table);
    expect(table.backend).toBe('gpu.js-cpu');
    expect(table.meta).toMatchObject({ machine: 'test machine', gpuJs: GPU_JS_VERSION, mode: 'cpu', kernelStep: 4, repeats: 1, warmup: 0, interleaved: true });
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
      mode: 'cpu',
      warmup: 0,
      repeats: 1,
      keptCounts: { pw: [3, 5] },
    });
    expect(table.layers.pw.kept).toEqual([0, 3, 5, 8]);
    await expect(profileLayers([{ kind: 'pw', name: 'pw', inputShape: [1, 8, 2, 2], outChannels: 4 }], { mode: 'cpu', keptCounts: { pw: [9] } })).rejects.toThrow(
      /outside 0\.\.8/,
    );
    await expect(profileLayers([{ kind: 'dw', name: 'x', inputShape: [1, 4, 6], kernel: [3, 3] }], { mode: 'cpu' })).rejects.toThrow(/concrete NCHW/);
    await expect(
      profileLayers(
        [
          { kind: 'pw', name: 'same', inputShape: [1, 2, 2, 2], outChannels: 2 },
          { kind: 'pw', name: 'same', inputShape: [1, 2, 2, 2], outChannels: 2 },
        ],
        { mode: 'cpu' },
      ),
    ).rejects.toThrow(/twice/);
    await expect(profileLayers([], { mode: 'nope' as never })).rejects.toThrow(/gpu mode/);
  });
});
