// The kernel contract shared by every backend (@deprune/gpu, @deprune/wasm) and the runtime that
// calls them: what a kernel is called, what it takes and returns, and the encodings it shares.
export { ACTIVATION_CODES, encodeActivation, activationValue, applyActivation } from './activation';
export type { Activation, ActivationName, EncodedActivation } from './activation';
export { convGeometry } from './conv';
export type { ConvAttrs, ConvGeometry } from './conv';
export { BINARY_OPS, UNARY_OPS, MAX_COLLAPSED_RANK, broadcastOutputShape, collapseBroadcast } from './elementwise';
export type { BinaryOp, UnaryOp, ElementwiseAttrs, UnaryAttrs, UnaryFn, BinaryFn, CollapsedBroadcast } from './elementwise';
export type { TapTable, ColumnTable, DiagonalTable, DwKeptTaps, PwKeptColumns } from './tables';
export { buildTapTable, buildColumnTable, buildDiagonalTable, DEFAULT_STEP, DEFAULT_DIAGONAL_GROUP_SIZE } from './table-builders';
export type { TableOptions, DiagonalTableOptions } from './table-builders';
export { REDUCE_KINDS } from './signatures';
export type {
  ReduceKernelKind,
  AxisView,
  ReduceAxisFn,
  SoftmaxFn,
  DwDenseAttrs,
  DwDenseFn,
  DwSparseAttrs,
  DwSparseFn,
  DwDiagonalAttrs,
  DwDiagonalFn,
  PwAttrs,
  PwDenseFn,
  PwSparseAttrs,
  PwSparseFn,
  DsconvLayers,
  DsconvAttrs,
  DsconvFn,
  Conv2dAttrs,
  Conv2dFn,
  GemmAttrs,
  GemmFn,
  MatmulAttrs,
  MatmulFn,
  Pool2dAttrs,
  Pool2dFn,
  Resize2dAttrs,
  Resize2dFn,
  ConvTranspose2dAttrs,
  ConvTranspose2dFn,
  KernelSignatures,
  KernelName,
  KernelBackend,
} from './signatures';
export { float32Data, biasVector, pointwiseShape, checkTapTable, checkColumnTable, matmulShapes } from './checks';
export type { MatmulShapes } from './checks';
