/** Shape rules of BatchNormalization, LayerNormalization and Dropout. */
import { DataType } from '../proto';
import { OpContext, type Rule, normalizeAxis } from './context';

export const batchNormalization: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  ctx.set(0, x);
  for (let i = 1; i < (ctx.node.output ?? []).length; i++) ctx.set(i, [x[1]]);
};

export const layerNormalization: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  const axis = normalizeAxis(ctx, ctx.int('axis', -1), x.length);
  ctx.set(0, x);
  const reduced = x.map((dim, i) => (i < axis ? dim : 1));
  ctx.set(1, reduced, undefined, DataType.FLOAT);
  ctx.set(2, reduced, undefined, DataType.FLOAT);
};

export const dropout: Rule = (ctx: OpContext) => {
  const x = ctx.shape(0);
  ctx.set(0, x, ctx.value(0));
  ctx.set(1, x, undefined, DataType.BOOL);
};
