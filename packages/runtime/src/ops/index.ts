import { convOp, convTransposeOp } from './conv';
import { batchNormOp, binaryOps, unaryOps, variadicOps } from './elementwise';
import { castOp, concatOp, constantOfShapeOp, depthToSpaceOp, expandTileOps, gatherOp, padOp, reshapeOps, sliceOp, splitOp, transposeOp } from './layout';
import { gemmOp, matmulOp, poolOps, reduceOps, resizeOps, softmaxOps } from './nn';
import type { OpCompiler } from './step';

/** The built-in operators, registered on the registry's first use (see registry.ts). */
export const BUILTIN_OPS: readonly OpCompiler[] = Object.freeze([
  convOp,
  convTransposeOp,
  batchNormOp,
  unaryOps,
  binaryOps,
  variadicOps,
  poolOps,
  resizeOps,
  gemmOp,
  matmulOp,
  reduceOps,
  softmaxOps,
  reshapeOps,
  castOp,
  transposeOp,
  concatOp,
  sliceOp,
  gatherOp,
  padOp,
  expandTileOps,
  splitOp,
  depthToSpaceOp,
  constantOfShapeOp,
]);
