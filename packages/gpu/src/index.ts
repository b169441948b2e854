// Public API of @deprune/gpu: gpu.js kernels for dense and DEPrune-sparse DSConv layers.
export { GPU_MODES, availableModes, probeModes, resetModeProbes, resolveMode, isGpuMode } from './modes';
export type { GpuMode, ModeProbe, ResolvedMode } from './modes';
export { disposeBackend, getBackend, GpuBackend } from './backend';
export { describeModeDevice } from './device';
export { registerKernel, unregisterKernel, getKernel, getKernelRegistration, listKernels, gpuKernelBackend } from './registry';
export type { AnyKernelFn, KernelCreateConfig, KernelRegistration, KernelSignatures, RegisterKernelOptions } from './registry';
export { ACTIVATION_CODES, activationValue, applyActivation, encodeActivation, FUSED_ACTIVATION_SOURCE } from './activation';
export type { Activation, ActivationName, EncodedActivation } from './activation';
// The table builders belong to the kernel contract (every backend reads the tables); re-exported
// so that users of this package alone find them where they call the kernels.
export { buildTapTable, buildColumnTable, buildDiagonalTable, DEFAULT_STEP, DEFAULT_DIAGONAL_GROUP_SIZE } from '@deprune/kernels';
export type { TapTable, ColumnTable, DiagonalTable, DwKeptTaps, PwKeptColumns, TableOptions, DiagonalTableOptions } from '@deprune/kernels';
export { GPU_JS_VERSION } from './version';
export { BUILTIN_KERNELS } from './kernels';
export { runStep, readback, activationInput, float32Data, signatureOf } from './kernels/launch';
export { PADDED_POOL_MODES, releasePaddedBuffers } from './kernels/dw-taps';
export type { KernelBody, KernelArg, StepOutput, StepSpec } from './kernels/launch';
export type { ConvAttrs } from './kernels/conv-params';
export type { DwDenseFn, DwDenseAttrs } from './kernels/dw-dense';
export type { DwSparseFn, DwSparseAttrs } from './kernels/dw-sparse';
export type { DwDiagonalFn, DwDiagonalAttrs } from './kernels/dw-diagonal';
export type { PwDenseFn, PwAttrs } from './kernels/pw-dense';
export type { PwSparseFn, PwSparseAttrs } from './kernels/pw-sparse';
export type { DsconvFn, DsconvLayers, DsconvAttrs } from './kernels/dsconv';
export type { Conv2dFn, Conv2dAttrs } from './kernels/conv2d';
export type { GemmFn, GemmAttrs } from './kernels/gemm';
export { BINARY_OPS, UNARY_OPS, MAX_COLLAPSED_RANK, broadcastOutputShape, collapseBroadcast } from './kernels/elementwise';
export type { BinaryFn, BinaryOp, UnaryFn, UnaryOp, UnaryAttrs, ElementwiseAttrs, CollapsedBroadcast } from './kernels/elementwise';
export type { ConvTranspose2dFn, ConvTranspose2dAttrs } from './kernels/conv-transpose';
export type { MatmulFn, MatmulAttrs } from './kernels/matmul';
export type { Pool2dFn, Pool2dAttrs } from './kernels/pool';
export type { Resize2dFn, Resize2dAttrs } from './kernels/resize';
export { REDUCE_KINDS } from './kernels/reduce';
export type { ReduceAxisFn, ReduceKernelKind, SoftmaxFn, AxisView } from './kernels/reduce';
export type { KernelBackend, KernelName } from '@deprune/kernels';
