// The wasm backend's host kernels: plain TypeScript over Float32Array, float64 accumulation.
export { unary, binary } from './elementwise';
export { pool2d } from './pool';
export { resize2d } from './resize';
export { reduceAxis, softmax } from './reduce';
export { convTranspose2d } from './conv-transpose';
export { matmul, gemm } from './matmul';
