import type { BinaryOp, UnaryOp } from '@deprune/kernels';
import { batchNormProblem, readBatchNormParams } from '@deprune/onnx';
import { effectiveScale, mapElementwise, tensor, toFloat32 } from '@deprune/tensor';
import type { NodeContext } from '../context';
import { broadcastFitsKernel, nodeActivation } from '../fusion';
import type { HostTensor } from '../types';
import { makeStep, type OpCompiler } from './step';

/**
 * Element-wise operators on @deprune/gpu's `unary` and `binary` kernels (numpy broadcasting,
 * fused epilogue), and an inference BatchNormalization that no conv absorbed, which runs as a
 * 1x1 depth-wise conv (per-channel scale as the weight, shift as the bias): one kernel call.
 */

const UNARY_OP_TYPES: Readonly<Record<string, UnaryOp>> = {
  Exp: 'exp',
  Log: 'log',
  Sqrt: 'sqrt',
  Abs: 'abs',
  Neg: 'neg',
  Reciprocal: 'reciprocal',
  Tanh: 'tanh',
  LeakyRelu: 'leakyRelu',
  Elu: 'elu',
  Softplus: 'softplus',
  Floor: 'floor',
  Ceil: 'ceil',
  Erf: 'erf',
  Sign: 'sign',
  Not: 'not',
};

export const unaryOps: OpCompiler = {
  opTypes: ['Relu', 'Sigmoid', 'HardSwish', 'HardSigmoid', 'Clip', ...Object.keys(UNARY_OP_TYPES)],
  placement: 'device',
  compile(ctx) {
    // Activation-like operators: the unary kernel's identity with the epilogue doing the work.
    const own = nodeActivation(ctx.node, ctx.opset, (name) => ctx.constantNamed(name));
    if (ctx.opType === 'Clip' && own === undefined) return clipWithTensorBounds(ctx);
    const op: UnaryOp = own !== undefined ? 'identity' : UNARY_OP_TYPES[ctx.opType];
    const alpha = ctx.opType === 'LeakyRelu' ? ctx.float('alpha', 0.01) : ctx.opType === 'Elu' ? ctx.float('alpha', 1) : undefined;
    const run = ctx.kernel('unary');
    const attrs = { activation: own, ...(alpha !== undefined ? { alpha } : {}) };
    return makeStep(ctx, {
      kernel: `unary:${own !== undefined ? ctx.opType.toLowerCase() : op}`,
      placement: 'device',
      operands: [ctx.operand(0)],
      run: async ([x]) => [await run(x, op, attrs)],
    });
  },
};

/** Clip(x, min, max) with bounds only known at run time: max(x, min), then min(., max), on the binary kernel. */
function clipWithTensorBounds(ctx: NodeContext) {
  const run = ctx.kernel('binary');
  const operands = [ctx.operand(0), ...(ctx.has(1) ? [ctx.operand(1)] : []), ...(ctx.has(2) ? [ctx.operand(2)] : [])];
  const hasMin = ctx.has(1);
  return makeStep(ctx, {
    kernel: 'binary:max+min',
    placement: 'device',
    operands,
    detail: 'bounds computed at run time',
    run: async ([x, first, second]) => {
      let y = x;
      if (hasMin) y = await run(y, first, 'max');
      const upper = hasMin ? second : first;
      if (upper !== undefined) y = await run(y, upper, 'min');
      return [y];
    },
  });
}

const BINARY_OP_TYPES: Readonly<Record<string, BinaryOp>> = {
  Add: 'add',
  Sub: 'sub',
  Mul: 'mul',
  Div: 'div',
  Pow: 'pow',
  PRelu: 'prelu',
  Equal: 'equal',
  Less: 'less',
  Greater: 'greater',
  LessOrEqual: 'lessOrEqual',
  GreaterOrEqual: 'greaterOrEqual',
};

/** The binary operators in float64, for broadcasts the kernel cannot index (more than 4 alternating axes). */
const HOST_BINARY: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  max: Math.max,
  min: Math.min,
  prelu: (a, b) => (a < 0 ? a * b : a),
  equal: (a, b) => (a === b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  lessOrEqual: (a, b) => (a <= b ? 1 : 0),
  greaterOrEqual: (a, b) => (a >= b ? 1 : 0),
};

export const binaryOps: OpCompiler = {
  opTypes: Object.keys(BINARY_OP_TYPES),
  placement: 'device',
  compile(ctx) {
    const op = BINARY_OP_TYPES[ctx.opType];
    const fusion = ctx.fusion();
    const operands = [ctx.operand(0), ctx.operand(1)];
    if (!broadcastFitsKernel([ctx.shape(0), ctx.shape(1)])) {
      if (fusion !== undefined) throw ctx.error('cannot take a fused activation on the host path', 'this is a bug in deprune; please report it');
      const reference = HOST_BINARY[op];
      return makeStep(ctx, {
        kernel: `host:${op}`,
        placement: 'host',
        operands,
        detail: 'a broadcast over more than 4 alternating axes runs on the host',
        run: ([a, b]) => [toFloat32(mapElementwise([a, b], reference)) as HostTensor],
      });
    }
    const run = ctx.kernel('binary');
    return makeStep(ctx, {
      kernel: `binary:${op}`,
      placement: 'device',
      operands,
      ...(fusion ? { detail: fusion.absorbed.map((node) => node.opType).join('+') } : {}),
      run: async ([a, b]) => [await run(a, b, op, { activation: fusion?.activation })],
    });
  },
};

/** Max, Min, Sum, Mean of any number of inputs: a chain of binary kernels (Mean scales at the end). */
export const variadicOps: OpCompiler = {
  opTypes: ['Max', 'Min', 'Sum', 'Mean'],
  placement: 'device',
  compile(ctx) {
    const op: BinaryOp = ctx.opType === 'Max' ? 'max' : ctx.opType === 'Min' ? 'min' : 'add';
    const operands = Array.from({ length: ctx.inputCount }, (_, index) => ctx.operand(index));
    if (operands.length === 0) throw ctx.error('has no inputs');
    const run = ctx.kernel('binary');
    const count = tensor(Float32Array.of(1 / operands.length), []);
    return makeStep(ctx, {
      kernel: `binary:${op}`,
      placement: 'device',
      operands,
      detail: `${operands.length} inputs`,
      run: async (inputs) => {
        // One input: the op is the identity (a copy, so no step ever aliases a constant it was given).
        if (inputs.length === 1) return [tensor(Float32Array.from(inputs[0].data), inputs[0].shape)];
        let result = inputs[0];
        for (let index = 1; index < inputs.length; index++) result = await run(result, inputs[index], op);
        if (ctx.opType === 'Mean') result = await run(result, count, 'mul');
        return [result];
      },
    });
  },
};

export const batchNormOp: OpCompiler = {
  opTypes: ['BatchNormalization'],
  placement: 'device',
  compile(ctx) {
    const problem = batchNormProblem(ctx.graph.index, ctx.node);
    if (problem !== undefined) throw ctx.unsupported(`cannot run: ${problem}`, 'the runtime runs inference-mode BatchNormalization with constant parameters');
    const params = readBatchNormParams(ctx.graph.index, ctx.node);
    const scale = effectiveScale(params);
    const channels = scale.length;
    const weight = tensor(Float32Array.from(scale), [channels, 1, 1, 1]);
    const bias = tensor(Float32Array.from(scale, (s, c) => params.bias.data[c] - params.mean.data[c] * s), [channels]);
    const shape = ctx.shape(0);
    if (shape.length < 2 || shape[1] !== channels) throw ctx.error(`input [${shape.join(', ')}] does not have ${channels} channels on axis 1`);
    const image = [shape[0], channels, shape.length > 2 ? shape[2] : 1, shape.slice(3).reduce((a, b) => a * b, 1)];
    const run = ctx.kernel('dwDense');
    const activation = ctx.fusion()?.activation;
    return makeStep(ctx, {
      kernel: 'dwDense',
      placement: 'device',
      operands: [ctx.operand(0)],
      detail: 'per-channel affine as a 1x1 depth-wise conv',
      run: async ([x]) => {
        const y = await run(tensor(x.data, image), weight, bias, { activation });
        return [tensor(y.data, shape)];
      },
    });
  },
};
