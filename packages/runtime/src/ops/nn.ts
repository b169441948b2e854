import type { ReduceKernelKind } from '@deprune/kernels';
import type { ResizeCoordinateMode, ResizeNearestMode } from '@deprune/tensor';
import { shapeSize, tensor } from '@deprune/tensor';
import type { NodeContext } from '../context';
import type { HostTensor } from '../types';
import { makeStep, type OpCompiler } from './step';
import { poolGeometry } from './window';

/**
 * Pooling, Resize, Gemm / MatMul, reductions and softmax, each on its @deprune/gpu kernel. Shapes
 * are static per compile, so every kernel attribute (windows, views, scales) is worked out here.
 */

/** A rank-3 [N, C, L] value runs as [N, C, 1, L]. */
function image(x: HostTensor): HostTensor {
  return x.shape.length === 3 ? tensor(x.data, [x.shape[0], x.shape[1], 1, x.shape[2]]) : x;
}

export const poolOps: OpCompiler = {
  opTypes: ['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool'],
  placement: 'device',
  compile(ctx) {
    if (ctx.opType === 'MaxPool' && ctx.output(1) !== '') throw ctx.unsupported("with its Indices output: only the pooled values are computed here");
    if (ctx.opType === 'MaxPool' && ctx.int('storage_order', 0) !== 0) throw ctx.unsupported('with storage_order 1');
    const inputShape = ctx.shape(0);
    if (inputShape.length !== 3 && inputShape.length !== 4) throw ctx.unsupported(`on a rank-${inputShape.length} input: only 1-D and 2-D pooling runs here`);
    const kind = ctx.opType.includes('Max') ? ('max' as const) : ('average' as const);
    const global = ctx.opType.startsWith('Global');
    const spatial = inputShape.length === 4 ? [inputShape[2], inputShape[3]] : [1, inputShape[2]];
    const attrs = global
      ? { kind, kernel: [spatial[0], spatial[1]] as [number, number] }
      : { kind, ...poolGeometry(ctx) };
    const fusion = ctx.fusion();
    const outputShape = ctx.shape(fusion?.output ?? ctx.output(0));
    const run = ctx.kernel('pool2d');
    return makeStep(ctx, {
      kernel: `pool2d:${kind}`,
      placement: 'device',
      operands: [ctx.operand(0)],
      detail: `${attrs.kernel.join('x')} window${fusion ? ` + ${fusion.absorbed.map((node) => node.opType).join('+')}` : ''}`,
      run: async ([x]) => {
        const y = await run(image(x), { ...attrs, activation: fusion?.activation });
        return [tensor(y.data, outputShape)];
      },
    });
  },
};

const COORDINATE_MODES: readonly ResizeCoordinateMode[] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'];
const NEAREST_MODES: readonly ResizeNearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

export const resizeOps: OpCompiler = {
  opTypes: ['Resize', 'Upsample'],
  placement: 'device',
  compile(ctx) {
    const inputShape = ctx.shape(0);
    const outputShape = ctx.outputShape();
    if (inputShape.length !== 4) throw ctx.unsupported(`on a rank-${inputShape.length} input: only NCHW resizing runs here`);
    if (inputShape[0] !== outputShape[0] || inputShape[1] !== outputShape[1]) throw ctx.unsupported('along N or C: only H and W are resized here');
    const mode = ctx.str('mode', 'nearest');
    if (mode !== 'nearest' && mode !== 'linear') throw ctx.unsupported(`mode '${mode}': nearest and linear run here`);
    if (ctx.str('keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw ctx.unsupported('with keep_aspect_ratio_policy other than stretch');
    if (ctx.ints('axes') !== undefined) throw ctx.unsupported('with the axes attribute');
    // Upsample and Resize-10 have no coordinate attributes: onnxruntime maps them to asymmetric.
    const legacy = ctx.opType === 'Upsample' || ctx.opset < 11;
    const coordinate = (legacy ? 'asymmetric' : ctx.str('coordinate_transformation_mode', 'half_pixel')) as ResizeCoordinateMode;
    if (!COORDINATE_MODES.includes(coordinate)) throw ctx.unsupported(`coordinate_transformation_mode '${coordinate}'`);
    // The coordinate transform uses the given scales; with sizes instead, out / in.
    const scalesIndex = legacy ? 1 : 2;
    const scales = ctx.value(scalesIndex);
    const given = scales !== undefined && scales.length === 4 ? scales : undefined;
    const scaleH = Math.fround(given ? given[2] : outputShape[2] / inputShape[2]);
    const scaleW = Math.fround(given ? given[3] : outputShape[3] / inputShape[3]);
    // onnxruntime's legacy rounding ('simple'): per axis, floor when upsampling, ceil when downsampling.
    const legacyMode = (scale: number): ResizeNearestMode => (scale < 1 ? 'ceil' : 'floor');
    const nearest = (legacy ? 'floor' : ctx.str('nearest_mode', 'round_prefer_floor')) as ResizeNearestMode;
    if (!NEAREST_MODES.includes(nearest)) throw ctx.unsupported(`nearest_mode '${nearest}'`);
    const perAxis = legacy ? { nearestModePerAxis: [legacyMode(scaleH), legacyMode(scaleW)] as const } : {};
    const attrs = { outHeight: outputShape[2], outWidth: outputShape[3], scaleH, scaleW, mode, coordinateTransformationMode: coordinate, nearestMode: nearest, ...perAxis } as const;
    const run = ctx.kernel('resize2d');
    return makeStep(ctx, {
      kernel: `resize2d:${mode}`,
      placement: 'device',
      operands: [ctx.operand(0)],
      detail: `${coordinate}${mode === 'nearest' ? `, ${legacy ? 'per-axis floor/ceil' : nearest}` : ''}, to ${outputShape[2]}x${outputShape[3]}`,
      run: async ([x]) => [await run(x, attrs)],
    });
  },
};

export const gemmOp: OpCompiler = {
  opTypes: ['Gemm'],
  placement: 'device',
  compile(ctx) {
    const attrs = {
      transA: ctx.int('transA', 0) === 1,
      transB: ctx.int('transB', 0) === 1,
      alpha: ctx.float('alpha', 1),
      beta: ctx.float('beta', 1),
      activation: ctx.fusion()?.activation,
    };
    const run = ctx.kernel('gemm');
    const operands = [ctx.operand(0), ctx.operand(1), ...(ctx.has(2) ? [ctx.operand(2)] : [])];
    return makeStep(ctx, {
      kernel: 'gemm',
      placement: 'device',
      operands,
      run: async ([a, b, c]) => [await run(a, b, c ?? null, attrs)],
    });
  },
};

export const matmulOp: OpCompiler = {
  opTypes: ['MatMul'],
  placement: 'device',
  compile(ctx) {
    const fusion = ctx.fusion();
    const bias = fusion?.bias !== undefined ? tensor(Float32Array.from(fusion.bias), [fusion.bias.length]) : null;
    const outputShape = ctx.shape(fusion?.output ?? ctx.output(0));
    const run = ctx.kernel('matmul');
    return makeStep(ctx, {
      kernel: 'matmul',
      placement: 'device',
      operands: [ctx.operand(0), ctx.operand(1)],
      ...(fusion ? { detail: fusion.absorbed.map((node) => node.opType).join('+') } : {}),
      // A bias [N] against a 1-D B adds to a vector output: the shapes from inference say how it broadcast.
      run: async ([a, b]) => {
        const y = await run(a, b, bias, { activation: fusion?.activation });
        return [shapeSize(y.shape) === shapeSize(outputShape) ? tensor(y.data, outputShape) : y];
      },
    });
  },
};

const REDUCE_OP_KINDS: Readonly<Record<string, ReduceKernelKind>> = {
  ReduceMean: 'mean',
  ReduceSum: 'sum',
  ReduceMax: 'max',
  ReduceMin: 'min',
  ReduceProd: 'prod',
  ReduceSumSquare: 'sumSquare',
  ReduceL1: 'l1',
  ReduceL2: 'l2',
  ReduceLogSumExp: 'logSumExp',
};

/** Reductions whose axes became an input (ReduceSum at opset 13, the rest at 18). */
function axesAsInput(ctx: NodeContext): boolean {
  return ctx.opType === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
}

/**
 * [outer, length, inner] for reducing `axes` of `shape` when the reduced axes are one contiguous
 * run once axes of size 1 are ignored; undefined otherwise.
 */
export function reductionView(shape: readonly number[], axes: readonly number[]): { outer: number; length: number; inner: number } | undefined {
  const reduced = new Set(axes);
  const live = shape.map((dim, axis) => ({ dim, axis })).filter(({ dim }) => dim !== 1);
  const positions = live.map(({ axis }, position) => (reduced.has(axis) ? position : -1)).filter((position) => position >= 0);
  if (positions.length > 0 && positions[positions.length - 1] - positions[0] !== positions.length - 1) return undefined;
  const product = (items: { dim: number }[]) => items.reduce((total, { dim }) => total * dim, 1);
  if (positions.length === 0) return { outer: product(live), length: 1, inner: 1 };
  return {
    outer: product(live.slice(0, positions[0])),
    length: product(live.slice(positions[0], positions[positions.length - 1] + 1)),
    inner: product(live.slice(positions[positions.length - 1] + 1)),
  };
}

export const reduceOps: OpCompiler = {
  opTypes: Object.keys(REDUCE_OP_KINDS),
  placement: 'device',
  compile(ctx) {
    const shape = ctx.shape(0);
    const given = axesAsInput(ctx) ? ctx.value(1) : ctx.ints('axes');
    if (axesAsInput(ctx) && ctx.has(1) && given === undefined) throw ctx.unsupported(`with axes computed at run time ('${ctx.input(1)}')`);
    const noopWithEmpty = ctx.int('noop_with_empty_axes', 0) === 1;
    const axes = given === undefined || given.length === 0 ? (noopWithEmpty ? [] : shape.map((_, axis) => axis)) : given.map((axis) => (axis < 0 ? axis + shape.length : axis));
    const view = reductionView(shape, axes);
    if (view === undefined) throw ctx.unsupported(`over the non-adjacent axes [${axes.join(', ')}] of [${shape.join(', ')}]`, 'only one contiguous run of axes is reduced on the device');
    const outputShape = ctx.outputShape();
    const kind = REDUCE_OP_KINDS[ctx.opType];
    const run = ctx.kernel('reduceAxis');
    return makeStep(ctx, {
      kernel: `reduceAxis:${kind}`,
      placement: 'device',
      operands: [ctx.operand(0)],
      detail: `[${view.outer}, ${view.length}, ${view.inner}] view`,
      // No axes with noop_with_empty_axes: the identity, still through the kernel (length 1).
      run: async ([x]) => [tensor((await run(x, view, kind)).data, outputShape)],
    });
  },
};

export const softmaxOps: OpCompiler = {
  opTypes: ['Softmax', 'LogSoftmax'],
  placement: 'device',
  compile(ctx) {
    const shape = ctx.shape(0);
    const rank = shape.length;
    const legacy = ctx.opset < 13;
    const rawAxis = ctx.int('axis', legacy ? 1 : -1);
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    if (axis < 0 || axis >= Math.max(rank, 1)) throw ctx.error(`axis ${rawAxis} is out of range for rank ${rank}`);
    const product = (dims: readonly number[]) => dims.reduce((total, dim) => total * dim, 1);
    // Before opset 13 the input is coerced to 2-D at `axis`: softmax over everything from `axis` on.
    const view = legacy
      ? { outer: product(shape.slice(0, axis)), length: product(shape.slice(axis)), inner: 1 }
      : { outer: product(shape.slice(0, axis)), length: shape[axis], inner: product(shape.slice(axis + 1)) };
    const log = ctx.opType === 'LogSoftmax';
    const run = ctx.kernel('softmax');
    return makeStep(ctx, {
      kernel: log ? 'softmax:log' : 'softmax',
      placement: 'device',
      operands: [ctx.operand(0)],
      detail: `[${view.outer}, ${view.length}, ${view.inner}] view`,
      run: async ([x]) => [await run(x, view, { log })],
    });
  },
};
