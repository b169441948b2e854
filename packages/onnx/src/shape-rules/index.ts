/**
 * Per-operator shape rules for static shape inference (see shapes.ts). Each rule reads
 * its inputs' shapes (and, for shape operands, their known values) from an OpContext
 * and sets its outputs; anything it cannot decide ends in `ctx.fail(reason)`, which the
 * engine records as unresolved without stopping the rest of the graph.
 */
import { OpContext, type Rule } from './context';
import { BROADCAST_OPS, UNARY_OPS, broadcastRule, castLike, castRule, unaryRule } from './elementwise';
import { conv, convTranspose, globalPool, poolRule } from './window';
import { batchNormalization, dropout, layerNormalization } from './normalization';
import { argReduce, reduceRule, topK } from './reduce';
import { concat, depthToSpace, expand, flatten, gather, gatherElements, pad, reshape, resize, slice, spaceToDepth, split, squeeze, tile, transpose, unsqueeze } from './layout';
import { constant, constantOfShape, range, shapeOp, size } from './values';
import { gemm, matmul } from './matmul';

export { MAX_INFERRED_ELEMENTS, MAX_VALUE_ELEMENTS, OpContext, Unresolvable, isIntegerType, type ShapeState } from './context';
export { resolveAutoPads, windowGeometry, windowOutputSize, type WindowGeometry } from './window';

const dataDependent: Rule = (ctx: OpContext) => ctx.fail(`the output shape of ${ctx.node.opType} depends on the input data`);
const controlFlow: Rule = (ctx: OpContext) => ctx.fail(`control flow (${ctx.node.opType}) is not supported by static shape inference`);

export const shapeRules: Readonly<Record<string, Rule>> = {
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, unaryRule(op)])),
  ...Object.fromEntries(BROADCAST_OPS.map((op) => [op, broadcastRule(op)])),
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: poolRule(true),
  AveragePool: poolRule(false),
  LpPool: poolRule(false),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Dropout: dropout,
  Cast: castRule,
  CastLike: castLike,
  ReduceMean: reduceRule('ReduceMean'),
  ReduceSum: reduceRule('ReduceSum'),
  ReduceMax: reduceRule('ReduceMax'),
  ReduceMin: reduceRule('ReduceMin'),
  ReduceProd: reduceRule('ReduceProd'),
  ReduceL1: reduceRule('ReduceL1'),
  ReduceL2: reduceRule('ReduceL2'),
  ReduceLogSum: reduceRule('ReduceLogSum'),
  ReduceLogSumExp: reduceRule('ReduceLogSumExp'),
  ReduceSumSquare: reduceRule('ReduceSumSquare'),
  ArgMax: argReduce,
  ArgMin: argReduce,
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: gatherElements,
  Shape: shapeOp,
  Size: size,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  Expand: expand,
  Tile: tile,
  Resize: resize,
  Upsample: resize,
  Gemm: gemm,
  MatMul: matmul,
  MatMulInteger: matmul,
  Pad: pad,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  TopK: topK,
  NonZero: dataDependent,
  Unique: dataDependent,
  NonMaxSuppression: dataDependent,
  Compress: dataDependent,
  If: controlFlow,
  Loop: controlFlow,
  Scan: controlFlow,
};
