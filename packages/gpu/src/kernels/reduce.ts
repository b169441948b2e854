import { ShapeError, UsageError } from '@deprune/errors';
import { shapeSize, type Tensor } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import type { KernelRegistration } from '../registry';
import { emptyResult, float32Data, readback, runStep, type StepOutput } from './launch';
import { REDUCE_KINDS } from '@deprune/kernels';
import type { AxisView, ReduceAxisFn, SoftmaxFn } from '@deprune/kernels';
export { REDUCE_KINDS } from '@deprune/kernels';
export type { ReduceKernelKind, AxisView, ReduceAxisFn, SoftmaxFn } from '@deprune/kernels';




interface ReduceConstants {
  kind: number;
  length: number;
  inner: number;
}

/** Output dims [inner, outer]. logSumExp and softmax subtract the row's max first (no overflow). */
function reduceBody(this: IKernelFunctionThis<ReduceConstants>, x: number[]): number {
  const start = this.thread.y * this.constants.length * this.constants.inner + this.thread.x;
  const kind = this.constants.kind;
  let best = -3.4e38;
  let least = 3.4e38;
  let sum = 0;
  let squares = 0;
  let absolute = 0;
  let product = 1;
  for (let k = 0; k < this.constants.length; k++) {
    const value = x[start + k * this.constants.inner];
    best = Math.max(best, value);
    least = Math.min(least, value);
    sum += value;
    squares += value * value;
    absolute += Math.abs(value);
    product *= value;
  }
  let result = sum;
  if (kind === 1) result = sum / this.constants.length;
  if (kind === 2) result = best;
  if (kind === 3) result = least;
  if (kind === 4) result = product;
  if (kind === 5) result = squares;
  if (kind === 6) result = absolute;
  if (kind === 7) result = Math.sqrt(squares);
  if (kind === 8) {
    let shifted = 0;
    for (let k = 0; k < this.constants.length; k++) shifted += Math.exp(x[start + k * this.constants.inner] - best);
    result = best + Math.log(shifted);
  }
  return result;
}

interface SoftmaxConstants {
  length: number;
  inner: number;
  log: number;
}

/** Output dims [inner, length, outer]: thread (i, k, o) normalises x[o, k, i] by its row's max and sum of exponentials. */
function softmaxBody(this: IKernelFunctionThis<SoftmaxConstants>, x: number[], rowMax: number[], rowLogSum: number[]): number {
  const row = this.thread.z * this.constants.inner + this.thread.x;
  const value = x[(this.thread.z * this.constants.length + this.thread.y) * this.constants.inner + this.thread.x] - rowMax[row];
  if (this.constants.log === 1) return value - rowLogSum[row];
  return Math.exp(value - rowLogSum[row]);
}

interface ShiftedSumConstants {
  length: number;
  inner: number;
}

/** Output dims [inner, outer]: log of sum_k exp(x[o, k, i] - max) for each row. */
function logSumShiftedBody(this: IKernelFunctionThis<ShiftedSumConstants>, x: number[], rowMax: number[]): number {
  const start = this.thread.y * this.constants.length * this.constants.inner + this.thread.x;
  const shift = rowMax[this.thread.y * this.constants.inner + this.thread.x];
  let sum = 0;
  for (let k = 0; k < this.constants.length; k++) sum += Math.exp(x[start + k * this.constants.inner] - shift);
  return Math.log(sum);
}

function checkView(x: Tensor, view: AxisView, op: string): void {
  const { outer, length, inner } = view;
  for (const [name, value] of Object.entries({ outer, length, inner })) {
    if (!Number.isInteger(value) || value < 0) throw new UsageError(`${op}: view.${name} must be a non-negative integer, got ${String(value)}`);
  }
  if (outer * length * inner !== shapeSize(x.shape)) {
    throw new ShapeError(`${op}: the view [${outer}, ${length}, ${inner}] does not cover the input [${x.shape.join(', ')}] (${shapeSize(x.shape)} values)`);
  }
}

async function reduceStep(config: Parameters<KernelRegistration['create']>[1], data: Float32Array, view: AxisView, kind: number): Promise<StepOutput> {
  return runStep(config, {
    label: 'reduce',
    body: reduceBody,
    output: [view.inner, view.outer],
    constants: { kind, length: view.length, inner: view.inner },
    args: [data],
  });
}

export const reduceAxisKernel: KernelRegistration<ReduceAxisFn> = {
  name: 'reduceAxis',
  description: 'reduction (sum, mean, max, min, prod, sumSquare, l1, l2, logSumExp) over the middle axis of an [outer, length, inner] view',
  modes: '*',
  create(_gpu, config) {
    return async (x, view, kind) => {
      checkView(x, view, 'reduceAxis');
      const code = REDUCE_KINDS[kind];
      if (code === undefined) throw new UsageError(`reduceAxis: unknown kind '${String(kind)}' (known: ${Object.keys(REDUCE_KINDS).join(', ')})`);
      if (view.length === 0) throw new ShapeError('reduceAxis: cannot reduce an empty axis');
      const shape = [view.outer, view.inner];
      if (view.outer === 0 || view.inner === 0) return emptyResult(shape);
      return readback(await reduceStep(config, float32Data(x), view, code), shape);
    };
  },
};

export const softmaxKernel: KernelRegistration<SoftmaxFn> = {
  name: 'softmax',
  description: 'numerically stable softmax / log-softmax along the middle axis of an [outer, length, inner] view (row max, log-sum, normalise: three steps)',
  modes: '*',
  create(_gpu, config) {
    return async (x, view, attrs = {}) => {
      checkView(x, view, 'softmax');
      if (shapeSize(x.shape) === 0) return emptyResult(x.shape);
      const data = float32Data(x);
      // Row statistics are read back between steps: they are small ([outer, inner]) and a step's
      // raw output is only a valid argument in the mode that made it in some gpu.js backends.
      const rowMax = (await readback(await reduceStep(config, data, view, REDUCE_KINDS.max), [view.outer * view.inner])).data;
      const logSum = await runStep(config, {
        label: 'log-sum',
        body: logSumShiftedBody,
        output: [view.inner, view.outer],
        constants: { length: view.length, inner: view.inner },
        args: [data, rowMax],
      });
      const rowLogSum = (await readback(logSum, [view.outer * view.inner])).data;
      const out = await runStep(config, {
        label: 'normalise',
        body: softmaxBody,
        output: [view.inner, view.length, view.outer],
        constants: { length: view.length, inner: view.inner, log: attrs.log ? 1 : 0 },
        args: [data, rowMax, rowLogSum],
      });
      return readback(out, x.shape);
    };
  },
};
