import type { KernelRegistration } from '../registry';
import { conv2dKernel } from './conv2d';
import { convTranspose2dKernel } from './conv-transpose';
import { dsconvKernel } from './dsconv';
import { dwDenseKernel } from './dw-dense';
import { dwDiagonalKernel } from './dw-diagonal';
import { dwSparseKernel } from './dw-sparse';
import { binaryKernel, unaryKernel } from './elementwise';
import { gemmKernel } from './gemm';
import { matmulKernel } from './matmul';
import { pool2dKernel } from './pool';
import { pwDenseKernel } from './pw-dense';
import { pwSparseKernel } from './pw-sparse';
import { reduceAxisKernel, softmaxKernel } from './reduce';
import { resize2dKernel } from './resize';

/** The built-in kernels, registered on the registry's first use. Their types are in `KernelSignatures` (registry.ts). */
export const BUILTIN_KERNELS: readonly KernelRegistration[] = Object.freeze([
  dwDenseKernel,
  dwSparseKernel,
  dwDiagonalKernel,
  pwDenseKernel,
  pwSparseKernel,
  dsconvKernel,
  conv2dKernel,
  gemmKernel,
  // The operators the runtime (@deprune/runtime) needs around the convs.
  convTranspose2dKernel,
  matmulKernel,
  unaryKernel,
  binaryKernel,
  pool2dKernel,
  resize2dKernel,
  reduceAxisKernel,
  softmaxKernel,
] as unknown as KernelRegistration[]);
