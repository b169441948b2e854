// Public API of @deprune/wasm: the WebAssembly SIMD kernel backend.
export { WasmBackend, createWasmBackend } from './backend';
export type { WasmBackendOptions } from './backend';
export { DEFAULT_MIN_PARALLEL_WORK, wasmSupport } from './engine';
export type { SimdLevel, WasmSupport } from './engine';
export { packPanels, packColumnTable } from './kernels/conv';
export { WasmProducts } from './products';
export type { DepthwisePatchGeometry, DepthwiseMomentTargets } from './products';
