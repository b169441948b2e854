import { buildDwPlan, buildPwPlan, maskFromPlanEntry, applyMask, type DwLayer, type LayerPlan, type PwLayer } from '@deprune/masks';
import { createRng, randomTensor, relativeL2Error, tensor, toFloat32, type Rng, type Tensor } from '@deprune/tensor';
import { expect } from 'vitest';
import { applyActivation, availableModes, type Activation, type GpuMode } from '../src/index';

/** The parity bound of the issue: relative L2 error against the float64 reference. */
export const TOLERANCE = 1e-4;

/** Every mode that works in this process (cpu and webasm always in Node; headlessgl under xvfb once `gl` is built). */
export const MODES: GpuMode[] = await availableModes();

/** Largest error seen per kernel and mode, printed at the end of each parity file. */
export const worstErrors = new Map<string, number>();

export function randomFloat32(shape: readonly number[], rng: Rng, scale = 1): Tensor<Float32Array> {
  return toFloat32(randomTensor(shape, rng, { scale })) as Tensor<Float32Array>;
}

/** Reference output with the fused activation applied, in float64. */
export function withActivation(reference: Tensor<Float64Array>, activation: Activation | undefined): Tensor<Float64Array> {
  return tensor(applyActivation(Float64Array.from(reference.data), activation), reference.shape);
}

export function expectParity(label: string, mode: GpuMode, actual: Tensor<Float32Array>, expected: Tensor<Float64Array>): number {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.data).toBeInstanceOf(Float32Array);
  const error = relativeL2Error(actual.data, expected.data);
  const key = `${label} [${mode}]`;
  worstErrors.set(key, Math.max(worstErrors.get(key) ?? 0, error));
  expect(error, `${key}: relative L2 error ${error}`).toBeLessThan(TOLERANCE);
  return error;
}

export function printWorstErrors(title: string): void {
  const lines = [...worstErrors.entries()].map(([key, error]) => `  ${key}: ${error.toExponential(2)}`);
  console.log(`${title}: worst relative L2 error per kernel and mode\n${lines.join('\n')}`);
}

export function dwLayer(name: string, weight: Tensor): DwLayer {
  const [channels, , kernelH, kernelW] = weight.shape;
  return { kind: 'dw', name, channels, kernel: [kernelH, kernelW], weights: Float64Array.from(weight.data) };
}

export function pwLayer(name: string, weight: Tensor): PwLayer {
  const [outChannels, inChannels] = weight.shape;
  return { kind: 'pw', name, outChannels, inChannels, weights: Float64Array.from(weight.data) };
}

/** `count` distinct values from [0, limit), ascending. */
export function pick(rng: Rng, limit: number, count: number): number[] {
  const all = Array.from({ length: limit }, (_, index) => index);
  for (let index = limit - 1; index > 0; index--) {
    const other = rng.int(index + 1);
    [all[index], all[other]] = [all[other], all[index]];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}

/** Every channel keeps m random taps (BWT 'channel' granularity). */
export function channelBalancedPlan(layer: DwLayer, m: number, rng: Rng, step: number | null = null): LayerPlan {
  const taps = layer.kernel[0] * layer.kernel[1];
  return buildDwPlan(layer, Array.from({ length: layer.channels }, () => pick(rng, taps, m)), { strategy: 'dcp', granularity: 'channel', groupSize: 1, step });
}

/** Every group of G channels keeps n taps in all (BWT 'group' granularity), unevenly spread over its channels. */
export function groupBalancedPlan(layer: DwLayer, groupSize: number, n: number, rng: Rng): LayerPlan {
  const taps = layer.kernel[0] * layer.kernel[1];
  const kept: number[][] = [];
  for (let first = 0; first < layer.channels; first += groupSize) {
    const size = Math.min(groupSize, layer.channels - first);
    const inGroup = pick(rng, size * taps, Math.round((n * size) / groupSize));
    for (let channel = 0; channel < size; channel++) {
      kept.push(inGroup.filter((flat) => Math.floor(flat / taps) === channel).map((flat) => flat % taps));
    }
  }
  return buildDwPlan(layer, kept, { strategy: 'dcp', granularity: 'group', groupSize });
}

/** Every channel keeps the same given taps (for kept 0 and full). */
export function uniformPlan(layer: DwLayer, keptTaps: number[]): LayerPlan {
  return buildDwPlan(layer, Array.from({ length: layer.channels }, () => keptTaps), { strategy: 'dcp', granularity: 'channel', groupSize: 1 });
}

/** Every row tile keeps the same given columns. */
export function uniformPwPlan(layer: PwLayer, tileRows: number, columns: number[]): LayerPlan {
  const tiles = Math.ceil(layer.outChannels / tileRows);
  return buildPwPlan(layer, Array.from({ length: tiles }, () => columns), { strategy: 'pcp', granularity: 'tile', tileRows });
}

/** The layer's weights with the plan's pruned weights zeroed, as a tensor of `shape` (the reference's input). */
export function maskedWeights(plan: LayerPlan, weight: Tensor): Tensor<Float64Array> {
  return tensor(applyMask(weight.data, maskFromPlanEntry(plan)), weight.shape);
}

export { createRng };
