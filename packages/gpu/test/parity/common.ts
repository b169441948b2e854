/**
 * Input and reference helpers shared by the parity case lists (cases.ts, op-cases.ts). No vitest
 * and no Node APIs here: esbuild bundles these modules for the browser.
 */
import { randomTensor, tensor, toFloat32, type Rng, type Tensor } from '@deprune/tensor';
import type { KernelBackend, KernelName, KernelSignatures } from '@deprune/kernels';
import { applyActivation, getKernel, type Activation, type GpuMode } from '../../src/index';

/**
 * Where a case gets its kernels: a gpu.js mode of @deprune/gpu, or any other backend of the
 * kernel contract (@deprune/wasm), so every backend runs the same cases.
 */
export type KernelSource = GpuMode | KernelBackend;

export function kernelFrom<Name extends KernelName>(source: KernelSource, name: Name): KernelSignatures[Name] {
  return typeof source === 'string' ? getKernel(name, source) : source.kernel(name);
}

/** The name a result reports: the gpu mode, or the backend's name. */
export function sourceName(source: KernelSource): string {
  return typeof source === 'string' ? source : source.name;
}

export function randomFloat32(shape: readonly number[], rng: Rng, scale = 1): Tensor<Float32Array> {
  return toFloat32(randomTensor(shape, rng, { scale })) as Tensor<Float32Array>;
}

/** Reference output with the fused activation applied, in float64. */
export function withActivation(reference: Tensor<Float64Array>, activation: Activation | undefined): Tensor<Float64Array> {
  return tensor(applyActivation(Float64Array.from(reference.data), activation), reference.shape);
}
