import { describe, expect, it } from 'vitest';
import { findStep, findStepDetail, fitStaircase, stairRise } from '../src/index';

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

  it('fitStaircase is a least-squares line in ceil(n / t)', () => {
    const fit = fitStaircase([0, 1, 2, 3, 4], [10, 12, 12, 14, 14], 2);
    expect(fit.intercept).toBeCloseTo(10, 10);
    expect(fit.perStair).toBeCloseTo(2, 10);
    expect(fit.rss).toBeCloseTo(0, 10);
  });
});
