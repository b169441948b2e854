/**
 * Input and reference helpers shared by the parity case lists (cases.ts, op-cases.ts). No vitest
 * and no Node APIs here: esbuild bundles these modules for the browser.
 */
import { randomTensor, tensor, toFloat32, type Rng, type Tensor } from '@deprune/tensor';
import { applyActivation, type Activation } from '../../src/index';

export function randomFloat32(shape: readonly number[], rng: Rng, scale = 1): Tensor<Float32Array> {
  return toFloat32(randomTensor(shape, rng, { scale })) as Tensor<Float32Array>;
}

/** Reference output with the fused activation applied, in float64. */
export function withActivation(reference: Tensor<Float64Array>, activation: Activation | undefined): Tensor<Float64Array> {
  return tensor(applyActivation(Float64Array.from(reference.data), activation), reference.shape);
}
