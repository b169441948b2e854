import { createRng } from '@deprune/tensor';
import fc from 'fast-check';
import type { DwLayer, PwLayer } from '@deprune/masks';

export function randomWeights(size: number, seed: number, levels = 0): Float64Array {
  const rng = createRng(seed);
  const weights = new Float64Array(size);
  for (let index = 0; index < size; index++) {
    const value = rng.normal();
    weights[index] = levels > 0 ? Math.round(value * levels) / levels : value;
  }
  return weights;
}

export function dwLayer(channels: number, kernel: [number, number], weights: ArrayLike<number>, name = 'dw'): DwLayer {
  return { kind: 'dw', name, channels, kernel, weights: Float64Array.from(weights) };
}

export function pwLayer(outChannels: number, inChannels: number, weights: ArrayLike<number>, name = 'pw'): PwLayer {
  return { kind: 'pw', name, outChannels, inChannels, weights: Float64Array.from(weights) };
}

export const ratioArb = fc.oneof(fc.constantFrom(0, 0.5, 0.95, 0.99), fc.double({ min: 0, max: 0.999, noNaN: true }));

export const dwLayerArb = fc
  .record({
    channels: fc.integer({ min: 1, max: 90 }),
    kernel: fc.constantFrom<[number, number]>([3, 3], [5, 5]),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    levels: fc.constantFrom(0, 0, 2),
  })
  .map(({ channels, kernel, seed, levels }) => dwLayer(channels, kernel, randomWeights(channels * kernel[0] * kernel[1], seed, levels), `dw_${channels}`));

export const pwLayerArb = fc
  .record({
    outChannels: fc.integer({ min: 1, max: 100 }),
    inChannels: fc.integer({ min: 1, max: 48 }),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    levels: fc.constantFrom(0, 0, 2),
  })
  .map(({ outChannels, inChannels, seed, levels }) => pwLayer(outChannels, inChannels, randomWeights(outChannels * inChannels, seed, levels), `pw_${outChannels}x${inChannels}`));

export const fcOptions = { seed: 20240607, numRuns: 80 } as const;

export const abs = (values: Float64Array): Float64Array => values.map(Math.abs);

export function ones(mask: ArrayLike<number>): number {
  let count = 0;
  for (let index = 0; index < mask.length; index++) count += mask[index];
  return count;
}
