/** Shape rules of the element-wise operators (unary, broadcasting binary, casts), with their values where known (shape operands). */
import { DataType } from '../proto';
import { broadcastShapes, elementCount, mapBroadcast } from '../small-tensor';
import { MAX_VALUE_ELEMENTS, isIntegerType, OpContext, type Rule, formatShape } from './context';

const unaryValueFns: Partial<Record<string, (x: number) => number>> = {
  Identity: (x) => x,
  Neg: (x) => -x,
  Abs: (x) => Math.abs(x),
  Floor: (x) => Math.floor(x),
  Ceil: (x) => Math.ceil(x),
  Sqrt: (x) => Math.sqrt(x),
  Reciprocal: (x) => 1 / x,
  Relu: (x) => Math.max(0, x),
  Sign: (x) => Math.sign(x),
  Not: (x) => (x ? 0 : 1),
  Exp: (x) => Math.exp(x),
  Log: (x) => Math.log(x),
  // ONNX Round is round-half-to-even.
  Round: (x) => {
    const floor = Math.floor(x);
    const diff = x - floor;
    if (diff !== 0.5) return Math.round(x);
    return floor % 2 === 0 ? floor : floor + 1;
  },
};

export const UNARY_OPS = [
  'Relu', 'Clip', 'HardSigmoid', 'HardSwish', 'Sigmoid', 'Tanh', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Erf', 'Identity',
  'Softmax', 'LogSoftmax', 'Hardmax', 'LeakyRelu', 'Floor', 'Ceil', 'Reciprocal', 'Round', 'Sign', 'Not', 'Elu', 'Selu',
  'Celu', 'Softplus', 'Softsign', 'Mish', 'Gelu', 'ThresholdedRelu', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh',
  'Cosh', 'Asinh', 'Acosh', 'Atanh', 'IsNaN', 'IsInf', 'Shrink', 'CumSum', 'Trilu', 'LpNormalization',
  'InstanceNormalization', 'MeanVarianceNormalization', 'QuantizeLinear', 'DequantizeLinear', 'LRN',
  'ScatterND', 'ScatterElements', 'Scatter', 'BitwiseNot',
];

const BOOL_RESULT_OPS = new Set(['IsNaN', 'IsInf', 'Not', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

export function unaryRule(op: string): Rule {
  const fn = unaryValueFns[op];
  return (ctx: OpContext) => {
    const shape = ctx.shape(0);
    const input = ctx.value(0);
    const value = fn && input ? input.map(fn) : undefined;
    ctx.set(0, shape, value, BOOL_RESULT_OPS.has(op) ? DataType.BOOL : undefined);
  };
}

function truncDiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

function binaryValueFn(op: string, integer: boolean, ctx: OpContext): ((...xs: number[]) => number) | undefined {
  switch (op) {
    case 'Add': return (a, b) => a + b;
    case 'Sub': return (a, b) => a - b;
    case 'Mul': return (a, b) => a * b;
    case 'Div': return integer ? truncDiv : (a, b) => a / b;
    case 'Pow': return (a, b) => a ** b;
    case 'Mod':
      return ctx.int('fmod', 0) ? (a, b) => a % b : (a, b) => ((a % b) + b) % b;
    case 'Max': return (...xs) => Math.max(...xs);
    case 'Min': return (...xs) => Math.min(...xs);
    case 'Sum': return (...xs) => xs.reduce((s, x) => s + x, 0);
    case 'Mean': return (...xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
    case 'Equal': return (a, b) => (a === b ? 1 : 0);
    case 'Less': return (a, b) => (a < b ? 1 : 0);
    case 'Greater': return (a, b) => (a > b ? 1 : 0);
    case 'LessOrEqual': return (a, b) => (a <= b ? 1 : 0);
    case 'GreaterOrEqual': return (a, b) => (a >= b ? 1 : 0);
    case 'And': return (a, b) => (a && b ? 1 : 0);
    case 'Or': return (a, b) => (a || b ? 1 : 0);
    case 'Xor': return (a, b) => (!a !== !b ? 1 : 0);
    case 'Where': return (c, x, y) => (c ? x : y);
    default: return undefined;
  }
}

export const BROADCAST_OPS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater', 'LessOrEqual',
  'GreaterOrEqual', 'And', 'Or', 'Xor', 'PRelu', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'Where',
];

export function broadcastRule(op: string): Rule {
  return (ctx: OpContext) => {
    const inputs = (ctx.node.input ?? []).map((_, i) => i).filter((i) => ctx.has(i));
    const shapes = inputs.map((i) => ctx.shape(i));
    const out = broadcastShapes(shapes);
    if (!out) ctx.fail(`input shapes ${shapes.map(formatShape).join(' and ')} do not broadcast`);
    // Where's result type is its x/y type; every other op's is its first input's (or bool).
    const type = BOOL_RESULT_OPS.has(op) ? DataType.BOOL : op === 'Where' ? ctx.type(1) : ctx.type(0);
    const fn = binaryValueFn(op, isIntegerType(type), ctx);
    let value: number[] | undefined;
    const values = inputs.map((i) => ctx.value(i));
    if (fn && values.every((v) => v !== undefined) && elementCount(out) <= MAX_VALUE_ELEMENTS) {
      value = mapBroadcast(out, inputs.map((_, k) => ({ shape: shapes[k], values: values[k]! })), fn);
    }
    ctx.set(0, out, value, type);
  };
}

export const castRule: Rule = (ctx: OpContext) => {
  const to = ctx.int('to', DataType.FLOAT);
  const input = ctx.value(0);
  const value = input
    ? input.map((v) => (to === DataType.BOOL ? (v ? 1 : 0) : isIntegerType(to) ? Math.trunc(v) : v))
    : undefined;
  ctx.set(0, ctx.shape(0), value, to);
};

export const castLike: Rule = (ctx: OpContext) => {
  const to = ctx.type(1);
  const input = ctx.value(0);
  const value = input && to !== undefined && isIntegerType(to) ? input.map(Math.trunc) : input;
  ctx.set(0, ctx.shape(0), value, to);
};
