import { encodeActivation, float32Data, type Pool2dFn, type ReduceAxisFn } from '@deprune/kernels';
import { shapeSize } from '@deprune/tensor';
import * as host from '../host';
import { poolWindows } from '../host/pool';
import type { KernelContext } from './conv';

/**
 * Reductions in WebAssembly: global pools (one plane per row), windowed max and average pools
 * (pool2dWindows, over the host kernel's tables of taps), and reductions over the innermost axis
 * (sum, mean, max, min). Other reduction kinds and axes with an inner stride run on the host
 * kernels; so do inputs that are not NCHW, whose error the host kernel gives.
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

  /** A windowed pool, its geometry and taps per axis as the host kernel computes them (poolWindows). */
  const windows: Pool2dFn = async (x, attrs) => {
    if (x?.shape?.length !== 4 || attrs === null || typeof attrs !== 'object' || (attrs.kind !== 'max' && attrs.kind !== 'average')) return host.pool2d(x, attrs);
    const { outputShape, strides, dilations, padTop, padLeft, rows, cols } = poolWindows(x.shape, attrs);
    if (shapeSize(outputShape) === 0) return host.pool2d(x, attrs);
    const [batch, channels, outHeight, outWidth] = outputShape;
    const [, , height, width] = x.shape;
    const tableValues = new Int32Array(3 * (outHeight + outWidth));
    tableValues.set(rows.first, 0);
    tableValues.set(rows.end, outHeight);
    tableValues.set(rows.padded, 2 * outHeight);
    tableValues.set(cols.first, 3 * outHeight);
    tableValues.set(cols.end, 3 * outHeight + outWidth);
    tableValues.set(cols.padded, 3 * outHeight + 2 * outWidth);
    const act = encodeActivation(attrs.activation);
    const input = tensors.input(float32Data(x));
    const tables = engine.put(tableValues);
    try {
      const out = engine.alloc(shapeSize(outputShape) * FLOAT);
      engine.exports.pool2dWindows(
        input.offset, out, batch * channels, height, width, outHeight, outWidth, strides[0], strides[1], dilations[0], dilations[1], padTop, padLeft,
        tables, attrs.kind === 'max' ? 1 : 0, attrs.countIncludePad === true ? 1 : 0, act.code, act.alpha, act.beta,
      );
      return tensors.output(out, outputShape);
    } finally {
      engine.release(tables, tableValues.byteLength);
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
    if (!global) return windows(x, attrs);
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
