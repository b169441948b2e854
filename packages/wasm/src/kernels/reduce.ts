import { encodeActivation, float32Data, type Pool2dFn, type ReduceAxisFn } from '@deprune/kernels';
import { shapeSize } from '@deprune/tensor';
import * as host from '../host';
import type { KernelContext } from './conv';

/**
 * Reductions over contiguous rows in WebAssembly: global pools (one plane per row) and reductions
 * over the innermost axis (sum, mean, max, min). Windows that are not the whole plane, other
 * reduction kinds and axes with an inner stride run on the host kernels, which also make every
 * argument check.
 */

const FLOAT = 4;
const ROW_KINDS: Record<string, number> = { sum: 0, mean: 1, max: 2, min: 3 };

export function reduceKernels(context: KernelContext): { pool2d: Pool2dFn; reduceAxis: ReduceAxisFn } {
  const { engine, tensors } = context;

  /** `rows` rows of `length` values of x, one result each, in wasm; the result has `shape`. */
  const rowsOf = (x: Parameters<Pool2dFn>[0], rows: number, length: number, kind: number, shape: readonly number[], activation: Parameters<typeof encodeActivation>[0]) => {
    const act = encodeActivation(activation);
    const input = tensors.input(float32Data(x));
    try {
      const out = engine.alloc(rows * FLOAT);
      engine.exports.reduceRows(input.offset, out, rows, length, kind, act.code, act.alpha, act.beta);
      return tensors.output(out, shape);
    } finally {
      input.done();
    }
  };

  const pool2d: Pool2dFn = async (x, attrs) => {
    const shape = x?.shape;
    const global =
      shape?.length === 4 &&
      attrs !== null &&
      typeof attrs === 'object' &&
      (attrs.kind === 'average' || attrs.kind === 'max') &&
      attrs.kernel?.[0] === shape[2] &&
      attrs.kernel?.[1] === shape[3] &&
      (attrs.pads ?? [0, 0, 0, 0]).every((pad) => pad === 0) &&
      (attrs.dilations ?? [1, 1]).every((dilation) => dilation === 1) &&
      shapeSize(shape) > 0;
    if (!global) return host.pool2d(x, attrs);
    const [batch, channels, height, width] = shape;
    return rowsOf(x, batch * channels, height * width, attrs.kind === 'average' ? ROW_KINDS.mean : ROW_KINDS.max, [batch, channels, 1, 1], attrs.activation);
  };

  const reduceAxis: ReduceAxisFn = async (x, view, kind) => {
    const rowKind = Object.hasOwn(ROW_KINDS, kind) ? ROW_KINDS[kind] : undefined;
    const valid = view !== null && typeof view === 'object' && view.inner === 1 && Number.isInteger(view.outer) && view.outer > 0 && Number.isInteger(view.length) && view.length > 0;
    if (rowKind === undefined || !valid || x?.shape === undefined || shapeSize(x.shape) !== view.outer * view.length) return host.reduceAxis(x, view, kind);
    return rowsOf(x, view.outer, view.length, rowKind, [view.outer, 1], undefined);
  };

  return { pool2d, reduceAxis };
}
