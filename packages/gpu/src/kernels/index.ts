import type { KernelRegistration } from '../registry';
import { conv2dKernel } from './conv2d';
import { dwDenseKernel } from './dw-dense';
import { dwDiagonalKernel } from './dw-diagonal';
import { dwSparseKernel } from './dw-sparse';
import { gemmKernel } from './gemm';
import { pwDenseKernel } from './pw-dense';
import { pwSparseKernel } from './pw-sparse';

/** The built-in kernels, registered on the registry's first use. Their types are in `KernelSignatures` (registry.ts). */
export const BUILTIN_KERNELS: readonly KernelRegistration[] = Object.freeze([
  dwDenseKernel,
  dwSparseKernel,
  dwDiagonalKernel,
  pwDenseKernel,
  pwSparseKernel,
  conv2dKernel,
  gemmKernel,
] as unknown as KernelRegistration[]);
