/** Shape rules of the reductions (ReduceX, ArgMax/ArgMin) and TopK. */
import { DataType } from '../proto';
import { OpContext, type Rule, normalizeAxis } from './context';

function reduceAxes(ctx: OpContext, rank: number): number[] | undefined {
  // ReduceSum moved axes to an input at opset 13, the other reductions at 18; accept either form.
  let axes: number[] | undefined;
  if (ctx.has(1)) axes = ctx.needValue(1, 'axes');
  else axes = ctx.ints('axes');
  if (!axes || axes.length === 0) {
    if (ctx.int('noop_with_empty_axes', 0) === 1) return [];
    return undefined;
  }
  return axes.map((axis) => normalizeAxis(ctx, axis, rank));
}

const reduceValueFns: Partial<Record<string, (xs: number[]) => number>> = {
  ReduceSum: (xs) => xs.reduce((s, x) => s + x, 0),
  ReduceProd: (xs) => xs.reduce((s, x) => s * x, 1),
  ReduceMax: (xs) => Math.max(...xs),
  ReduceMin: (xs) => Math.min(...xs),
};

export function reduceRule(op: string): Rule {
  return (ctx: OpContext) => {
    const x = ctx.shape(0);
    const axes = reduceAxes(ctx, x.length) ?? x.map((_, i) => i);
    const keep = ctx.int('keepdims', 1) === 1;
    const out: number[] = [];
    x.forEach((dim, i) => {
      if (!axes.includes(i)) out.push(dim);
      else if (keep) out.push(1);
    });
    // Values only for whole-tensor reductions of 1-D shape vectors (ReduceProd of a Shape).
    const input = ctx.value(0);
    const fn = reduceValueFns[op];
    const value = fn && input && x.length <= 1 && axes.length === x.length ? [fn(input)] : undefined;
    ctx.set(0, out, value);
  };
}

export const argReduce: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', 0), x.length);
  const keep = ctx.int('keepdims', 1) === 1;
  const out = keep ? x.map((dim, i) => (i === axis ? 1 : dim)) : x.filter((_, i) => i !== axis);
  ctx.set(0, out, undefined, DataType.INT64);
};

export const topK: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', -1), x.length);
  const k = ctx.opset < 10 ? ctx.int('k', 0) : ctx.needValue(1, 'k')[0];
  const out = x.map((dim, i) => (i === axis ? k : dim));
  ctx.set(0, out);
  ctx.set(1, out, undefined, DataType.INT64);
};
