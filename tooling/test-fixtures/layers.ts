/**
 * Random prunable layers for the tests of @deprune/masks, @deprune/bwt and @deprune/hsr.
 * The layer shapes are written out structurally (not imported from @deprune/masks) so that
 * masks' own tests can use them without a package cycle.
 */
import { createRng } from '@deprune/tensor';
import fc from 'fast-check';

export interface FixtureDwLayer {
  kind: 'dw';
  name: string;
  channels: number;
  kernel: readonly [number, number];
  weights: Float64Array;
}

export interface FixturePwLayer {
  kind: 'pw';
  name: string;
  outChannels: number;
  inChannels: number;
  weights: Float64Array;
}

/** Weights from a seed; `levels > 0` quantizes them so that ties are common. */
export function randomWeights(size: number, seed: number, levels = 0): Float64Array {
  const rng = createRng(seed);
  const weights = new Float64Array(size);
  for (let index = 0; index < size; index++) {
    const value = rng.normal();
    weights[index] = levels > 0 ? Math.round(value * levels) / levels : value;
  }
  return weights;
}

export function dwLayer(channels: number, kernel: [number, number], weights: ArrayLike<number>, name = 'dw'): FixtureDwLayer {
  return { kind: 'dw', name, channels, kernel, weights: Float64Array.from(weights) };
}

export function pwLayer(outChannels: number, inChannels: number, weights: ArrayLike<number>, name = 'pw'): FixturePwLayer {
  return { kind: 'pw', name, outChannels, inChannels, weights: Float64Array.from(weights) };
}

/** Ratios with the edges that break rounding (0, near 1) drawn often. */
export const ratioArb = fc.oneof(fc.constantFrom(0, 0.5, 0.95, 0.99), fc.double({ min: 0, max: 0.999, noNaN: true }));

export function dwLayerArb(options: { maxChannels?: number; kernels?: [number, number][] } = {}): fc.Arbitrary<FixtureDwLayer> {
  const { maxChannels = 90, kernels = [[3, 3], [5, 5]] } = options;
  return fc
    .record({
      channels: fc.integer({ min: 1, max: maxChannels }),
      kernel: fc.constantFrom(...kernels),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      levels: fc.constantFrom(0, 0, 2),
    })
    .map(({ channels, kernel, seed, levels }) =>
      dwLayer(channels, kernel, randomWeights(channels * kernel[0] * kernel[1], seed, levels), `dw_${channels}x${kernel.join('x')}`),
    );
}

export function pwLayerArb(options: { maxOutChannels?: number; maxInChannels?: number } = {}): fc.Arbitrary<FixturePwLayer> {
  const { maxOutChannels = 100, maxInChannels = 48 } = options;
  return fc
    .record({
      outChannels: fc.integer({ min: 1, max: maxOutChannels }),
      inChannels: fc.integer({ min: 1, max: maxInChannels }),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      levels: fc.constantFrom(0, 0, 2),
    })
    .map(({ outChannels, inChannels, seed, levels }) =>
      pwLayer(outChannels, inChannels, randomWeights(outChannels * inChannels, seed, levels), `pw_${outChannels}x${inChannels}`),
    );
}

/** fast-check settings: a fixed seed so failures replay, a bounded run count for 2 cores. */
export function fcOptions(numRuns = 80): { seed: number; numRuns: number } {
  return { seed: 20240607, numRuns };
}

export function abs(values: Float64Array): Float64Array {
  return values.map(Math.abs);
}

/** Number of kept weights in a 0/1 mask. */
export function ones(mask: ArrayLike<number>): number {
  let count = 0;
  for (let index = 0; index < mask.length; index++) count += mask[index];
  return count;
}
