/** Shape rules of the operators that make values: Constant, ConstantOfShape, Range, Shape, Size. */
import { floatsAttribute, hasAttribute, tensorAttribute } from '../attributes';
import { DataType } from '../proto';
import { decodeNumericTensor, tensorDims } from '../tensor-proto';
import { elementCount } from '../small-tensor';
import { MAX_VALUE_ELEMENTS, OpContext, type Rule } from './context';

export const shapeOp: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const rank = x.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(ctx.int('start', 0));
  const end = hasAttribute(ctx.node, 'end') ? clamp(ctx.int('end', rank)) : rank;
  const value = x.slice(start, Math.max(start, end));
  ctx.set(0, [value.length], value, DataType.INT64);
};

export const size: Rule = (ctx: OpContext) => {
  ctx.set(0, [], [elementCount(ctx.shape(0))], DataType.INT64);
};

export const constant: Rule = (ctx: OpContext) => {
  const tensorValue = tensorAttribute(ctx.node, 'value');
  if (tensorValue) {
    const dims = tensorDims(tensorValue);
    let value: number[] | undefined;
    if (elementCount(dims) <= MAX_VALUE_ELEMENTS) {
      try {
        value = decodeNumericTensor(tensorValue).values;
      } catch {
        value = undefined;
      }
    }
    ctx.set(0, dims, value, tensorValue.dataType ?? undefined);
    return;
  }
  if (hasAttribute(ctx.node, 'value_int')) return ctx.set(0, [], [ctx.int('value_int', 0)], DataType.INT64);
  if (hasAttribute(ctx.node, 'value_ints')) {
    const ints = ctx.ints('value_ints') ?? [];
    return ctx.set(0, [ints.length], ints, DataType.INT64);
  }
  if (hasAttribute(ctx.node, 'value_float')) return ctx.set(0, [], [ctx.float('value_float', 0)], DataType.FLOAT);
  if (hasAttribute(ctx.node, 'value_floats')) {
    const floats = floatsAttribute(ctx.node, 'value_floats') ?? [];
    return ctx.set(0, [floats.length], floats, DataType.FLOAT);
  }
  ctx.fail('a Constant without a value, value_int(s) or value_float(s) attribute (sparse or string constants are not supported)');
};

export const constantOfShape: Rule = (ctx: OpContext) => {
  const out = ctx.needValue(0, 'the shape');
  const fill = tensorAttribute(ctx.node, 'value');
  let fillValue = 0;
  let type: number = DataType.FLOAT;
  if (fill) {
    fillValue = decodeNumericTensor(fill).values[0] ?? 0;
    type = fill.dataType ?? DataType.FLOAT;
  }
  const count = elementCount(out);
  ctx.set(0, out, count <= MAX_VALUE_ELEMENTS ? new Array<number>(count).fill(fillValue) : undefined, type);
};

export const range: Rule = (ctx: OpContext) => {
  const [start] = ctx.needValue(0, 'start');
  const [limit] = ctx.needValue(1, 'limit');
  const [delta] = ctx.needValue(2, 'delta');
  if (delta === 0) ctx.fail('delta is 0');
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  const value = count <= MAX_VALUE_ELEMENTS ? Array.from({ length: count }, (_, i) => start + i * delta) : undefined;
  ctx.set(0, [count], value);
};
