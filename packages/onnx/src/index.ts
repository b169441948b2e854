export { AttributeType, DataLocation, DataType, WireFormatError, dataTypeName, decodeModel, decodeTensor, encodeModel, encodeTensor, toNumber } from './proto';
export type {
  AttributeProto,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetIdProto,
  StringStringEntryProto,
  TensorProto,
  TensorShapeProto,
  TensorShapeProtoDimension,
  TypeProto,
  TypeProtoTensor,
  ValueInfoProto,
} from './proto';
export {
  decodeFloatTensor,
  decodeNumericTensor,
  encodeFloatTensor,
  encodeInt64Tensor,
  isFloatTensor,
  tensorDims,
} from './tensor-proto';
export type { ExternalDataReader, ExternalDataRequest, TensorDecodeContext } from './tensor-proto';
export {
  parseModel,
  serializeModel,
  graphOf,
  nodesOf,
  opsetVersion,
  indexGraph,
  readFloatConstant,
  readNumericConstant,
  constantDims,
  replaceConstants,
  withGraph,
} from './model';
export type { OnnxModel, ParseOptions, GraphIndex, ConstantEntry } from './model';
export {
  hasAttribute,
  intAttribute,
  floatAttribute,
  intsAttribute,
  floatsAttribute,
  stringAttribute,
  tensorAttribute,
  makeAttribute,
  NodeReader,
} from './attributes';
export type { AttributeValue } from './attributes';
export { GraphBuilder } from './builder';
export { checkGraphStructure, checkConvGroups, MAX_IR_VERSION, MAX_OPSET } from './graph-checks';
export type { Dim, GraphBuilderOptions } from './builder';
export { inferShapes } from './shapes';
export type { ShapeInference, InferShapesOptions, UnresolvedNode } from './shapes';
export { listLayers, classifyConv, constantSource } from './layers';
export type { LayerInfo, LayerKind, LayerShapes } from './layers';
export { findDsconvBlocks } from './blocks';
export type { DsconvBlock, SqueezeExcitation } from './blocks';
export { foldBatchNormalization } from './fold-batchnorm';
export type { BatchNormFoldResult } from './fold-batchnorm';
export { effectiveConvWeights, followingBatchNorm, batchNormProblem, readBatchNormParams, consumersOf, isGraphOutput } from './effective';
export { windowGeometry, resolveAutoPads } from './shape-rules';
export type { WindowGeometry } from './shape-rules';
export type { EffectiveConvWeights } from './effective';
export { convGemmParameters } from './params';
export { matchesGlob, matchesPattern } from './glob';
