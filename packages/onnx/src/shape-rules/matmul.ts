/** Shape rules of Gemm and MatMul. */
import { DataType } from '../proto';
import { broadcastShapes } from '../small-tensor';
import { OpContext, type Rule, formatShape } from './context';

export const gemm: Rule = (ctx: OpContext) => {
  const a = ctx.shape(0);
  const b = ctx.shape(1);
  if (a.length !== 2 || b.length !== 2) ctx.fail(`Gemm needs 2-D inputs, got ${formatShape(a)} and ${formatShape(b)}`);
  const [m, k] = ctx.int('transA', 0) ? [a[1], a[0]] : a;
  const [k2, n] = ctx.int('transB', 0) ? [b[1], b[0]] : b;
  if (k !== k2) ctx.fail(`inner dimensions differ: ${formatShape(a)} x ${formatShape(b)}`);
  ctx.set(0, [m, n]);
};

export const matmul: Rule = (ctx: OpContext) => {
  let a = ctx.shape(0);
  let b = ctx.shape(1);
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul of a scalar');
  const vectorA = a.length === 1;
  const vectorB = b.length === 1;
  if (vectorA) a = [1, a[0]];
  if (vectorB) b = [b[0], 1];
  if (a[a.length - 1] !== b[b.length - 2]) ctx.fail(`inner dimensions differ: ${formatShape(ctx.shape(0))} x ${formatShape(ctx.shape(1))}`);
  const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
  if (!batch) ctx.fail(`batch dimensions of ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
  const out = [...batch];
  if (!vectorA) out.push(a[a.length - 2]);
  if (!vectorB) out.push(b[b.length - 1]);
  ctx.set(0, out, undefined, ctx.node.opType === 'MatMulInteger' ? DataType.INT32 : undefined);
};
