import type { ConvTranspose2dParams, Pool2dParams, Resize2dParams, Tensor } from '@deprune/tensor';
import type { Activation } from './activation';
import type { ConvAttrs } from './conv';
import type { BinaryFn, UnaryFn } from './elementwise';
import type { ColumnTable, DiagonalTable, TapTable } from './tables';

/**
 * Reductions and softmax over one contiguous run of axes. The caller describes the input as a
 * 3-D view [outer, length, inner] (the reduced axes merged into `length`): ReduceMean over the
 * last axis is [rows, C, 1], a global pool is [N*C, H*W, 1], softmax over axis 1 of [N, C, H, W]
 * is [N, C, H*W]. One thread per output element loops over `length` (a compile-time constant).
 */

export const REDUCE_KINDS = Object.freeze({ sum: 0, mean: 1, max: 2, min: 3, prod: 4, sumSquare: 5, l1: 6, l2: 7, logSumExp: 8 });

export type ReduceKernelKind = keyof typeof REDUCE_KINDS;

export interface AxisView {
  outer: number;
  length: number;
  inner: number;
}

/** x viewed as [outer, length, inner] -> [outer, inner] (flat, outer-major). */
export type ReduceAxisFn = (x: Tensor, view: AxisView, kind: ReduceKernelKind) => Promise<Tensor<Float32Array>>;

/** Softmax (or log-softmax) along the middle axis of the view; same shape as x. */
export type SoftmaxFn = (x: Tensor, view: AxisView, attrs?: { log?: boolean }) => Promise<Tensor<Float32Array>>;

export type DwDenseAttrs = ConvAttrs;

/** Dense depth-wise conv: x [N, C, H, W], weight [C, 1, kh, kw], bias [C] or null -> [N, C, Ho, Wo]. */
export type DwDenseFn = (x: Tensor, weight: Tensor, bias?: Tensor | null, attrs?: DwDenseAttrs) => Promise<Tensor<Float32Array>>;

export type DwSparseAttrs = ConvAttrs;

/**
 * DEPrune-sparse depth-wise conv: x [N, C, H, W] and a tap table built from the layer's kept taps
 * and weights (`buildTapTable`) -> [N, C, Ho, Wo]. Only kept taps are read.
 */
export type DwSparseFn = (x: Tensor, table: TapTable, bias?: Tensor | null, attrs?: DwSparseAttrs) => Promise<Tensor<Float32Array>>;

export type DwDiagonalAttrs = ConvAttrs;

/**
 * Depth-wise conv in the DR sub-GEMM form (method.md section 1), the paper's compute model: per
 * group g of G channels, Y_g = W_g * im2col(X_g) with the inner dimension compacted to the group's
 * kept columns. Kept as the benchmark's reference point; `dwSparse` is the direct form.
 */
export type DwDiagonalFn = (x: Tensor, table: DiagonalTable, bias?: Tensor | null, attrs?: DwDiagonalAttrs) => Promise<Tensor<Float32Array>>;

export interface PwAttrs {
  /** Fused epilogue after the bias. Default none. */
  activation?: Activation;
}

/** Dense point-wise conv: x [N, Cin, H, W], weight [Cout, Cin] or [Cout, Cin, 1, 1], bias [Cout] -> [N, Cout, H, W]. */
export type PwDenseFn = (x: Tensor, weight: Tensor, bias?: Tensor | null, attrs?: PwAttrs) => Promise<Tensor<Float32Array>>;

export type PwSparseAttrs = PwAttrs;

/**
 * Column-sparse point-wise conv (PCP): x [N, Cin, H, W] and a column table built from the layer's
 * kept columns and weights (`buildColumnTable`) -> [N, Cout, H, W]. Only kept input rows are read.
 */
export type PwSparseFn = (x: Tensor, table: ColumnTable, bias?: Tensor | null, attrs?: PwSparseAttrs) => Promise<Tensor<Float32Array>>;

/**
 * A depth-wise separable block, DW then PW, as two kernel steps whose intermediate never comes
 * back to the host: the DW step's result stays where the mode computes (a GL texture, a WebGPU
 * buffer, gpu.js `pipeline: true`) and the PW step reads it as its input planes. In the GL and
 * WebGPU modes that saves the intermediate's readback and its upload, the costs a chain of
 * separate kernel calls pays per layer; in webasm and cpu the data is on the host anyway and the
 * intermediate is handed over as gpu.js returned it, so the block costs what the two calls cost.
 *
 * Each half is the kernel it would be alone, dense or sparse: a tensor runs `dwDense` / `pwDense`,
 * a table `dwSparse` / `pwSparse` (same bodies, same trip counts, same padded copy of x).
 */
export interface DsconvLayers {
  /** The DW half: its weight [C, 1, kh, kw], or its tap table (`buildTapTable`). */
  dw: Tensor | TapTable;
  dwBias?: Tensor | null;
  /** The PW half: its weight [Cout, C] or [Cout, C, 1, 1], or its column table (`buildColumnTable`). */
  pw: Tensor | ColumnTable;
  pwBias?: Tensor | null;
}

export interface DsconvAttrs {
  /** The DW conv: strides, pads, dilations and its fused activation. */
  dw?: ConvAttrs;
  /** The PW conv's fused activation. */
  pw?: PwAttrs;
}

/** x [N, C, H, W] -> DW -> PW -> [N, Cout, Ho, Wo], the intermediate kept on the device. */
export type DsconvFn = (x: Tensor, layers: DsconvLayers, attrs?: DsconvAttrs) => Promise<Tensor<Float32Array>>;

export interface Conv2dAttrs extends ConvAttrs {
  /** Default 1. */
  group?: number;
}

/** General conv (stems, grouped convs): x [N, C, H, W], weight [M, C/group, kh, kw], bias [M] -> [N, M, Ho, Wo]. */
export type Conv2dFn = (x: Tensor, weight: Tensor, bias?: Tensor | null, attrs?: Conv2dAttrs) => Promise<Tensor<Float32Array>>;

/** ONNX `Gemm` attributes. */
export interface GemmAttrs {
  /** A is [K, M] when set. Default false. */
  transA?: boolean;
  /** B is [N, K] when set (a classifier's weight). Default false. */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 1. */
  beta?: number;
  /** Fused epilogue. Default none. */
  activation?: Activation;
}

/** ONNX Gemm: Y = alpha * op(A) * op(B) + beta * C, C broadcast unidirectionally -> [M, N]. */
export type GemmFn = (a: Tensor, b: Tensor, c?: Tensor | null, attrs?: GemmAttrs) => Promise<Tensor<Float32Array>>;

export interface MatmulAttrs {
  /** Fused epilogue after the optional bias. Default none. */
  activation?: Activation;
}

/**
 * ONNX MatMul (numpy semantics): batched, batch dims broadcast, 1-D operands promoted and their
 * axis removed again; plus an optional bias [N] added to every row (MatMul -> Add, fused).
 */
export type MatmulFn = (a: Tensor, b: Tensor, bias?: Tensor | null, attrs?: MatmulAttrs) => Promise<Tensor<Float32Array>>;

/** ONNX MaxPool / AveragePool / Global*Pool attributes (@deprune/tensor's Pool2dParams), plus a fused epilogue. */
export interface Pool2dAttrs extends Pool2dParams {
  activation?: Activation;
}

/** 2-D pooling of x [N, C, H, W] -> [N, C, Ho, Wo] (output size by @deprune/tensor's pool2dOutputShape). */
export type Pool2dFn = (x: Tensor, attrs: Pool2dAttrs) => Promise<Tensor<Float32Array>>;

/** ONNX Resize over H and W of an NCHW tensor (@deprune/tensor's Resize2dParams: sizes, the scales of the coordinate transform, modes). */
export type Resize2dAttrs = Resize2dParams;

/** x [N, C, H, W] -> [N, C, outHeight, outWidth], nearest or (bi)linear. */
export type Resize2dFn = (x: Tensor, attrs: Resize2dAttrs) => Promise<Tensor<Float32Array>>;

/** ONNX ConvTranspose attributes with explicit pads (@deprune/tensor's ConvTranspose2dParams), plus a fused epilogue. */
export interface ConvTranspose2dAttrs extends ConvTranspose2dParams {
  activation?: Activation;
}

/** x [N, C, H, W], weight [C, M/group, kh, kw], bias [M] or null -> [N, M, Ho, Wo]. */
export type ConvTranspose2dFn = (x: Tensor, weight: Tensor, bias?: Tensor | null, attrs?: ConvTranspose2dAttrs) => Promise<Tensor<Float32Array>>;

/**
 * The kernels' function types, by name: every backend's kernels are typed from this, and the
 * runtime asks a backend for them by these names. A contributed kernel adds its own by
 * declaration merging: `declare module '@deprune/kernels' { interface KernelSignatures { myKernel: MyKernelFn } }`.
 */
export interface KernelSignatures {
  dwDense: DwDenseFn;
  dwSparse: DwSparseFn;
  dwDiagonal: DwDiagonalFn;
  pwDense: PwDenseFn;
  pwSparse: PwSparseFn;
  dsconv: DsconvFn;
  conv2d: Conv2dFn;
  gemm: GemmFn;
  convTranspose2d: ConvTranspose2dFn;
  matmul: MatmulFn;
  unary: UnaryFn;
  binary: BinaryFn;
  pool2d: Pool2dFn;
  resize2d: Resize2dFn;
  reduceAxis: ReduceAxisFn;
  softmax: SoftmaxFn;
}

export type KernelName = keyof KernelSignatures;

/**
 * One kernel backend as the runtime sees it (tfjs's backends, onnxruntime's execution providers):
 * a name and its kernels by name. `@deprune/gpu` is one per gpu.js mode, `@deprune/wasm` the
 * WebAssembly SIMD one. Kernels are plain async functions of host tensors and attributes.
 */
export interface KernelBackend {
  /** The mode name sessions report: 'wasm', 'webasm', 'webgl2', ... */
  readonly name: string;
  /** True when the backend implements kernel `name`. */
  has(name: string): boolean;
  /** The kernel `name`; an UnsupportedError naming the backend when it has none. */
  kernel<Name extends KernelName>(name: Name): KernelSignatures[Name];
  /**
   * True when `t` is a kernel result whose data still lives in the backend's own memory (the
   * wasm backend returns views of its memory so the next kernel reads them in place). Such data
   * is the backend's: copy it before handing it to anyone outside the run.
   */
  owns?(t: Tensor): boolean;
  /** The caller is done with `t` (every alias of its data): the backend may reuse its memory. */
  release?(t: Tensor): void;
  /**
   * A copy of host tensor `t` in the backend's own memory, held like a kernel result (`owns` is
   * true; `release` it when done), so kernels read it in place, as they read the previous
   * kernel's result inside a model. Benchmarks use it to time a layer without the copy-in of a
   * host input that a model only pays once, for its first layer.
   */
  upload?(t: Tensor): Tensor;
}
