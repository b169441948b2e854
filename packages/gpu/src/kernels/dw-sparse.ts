import { ShapeError, UsageError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import type { TapTable } from '../tables';
import { convGeometry, geometryConstants, type ConvAttrs } from './conv-params';
import { activationInput, biasVector, emptyResult, nonEmpty, readback, runStep } from './launch';

/** See dw-dense.ts: the fused epilogue (FUSED_ACTIVATION_SOURCE), called by its bare name inside kernel bodies. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;

export type DwSparseAttrs = ConvAttrs;

/**
 * DEPrune-sparse depth-wise conv: x [N, C, H, W] and a tap table built from the layer's plan entry
 * and weights (`buildTapTable`) -> [N, C, Ho, Wo]. Only kept taps are read.
 */
export type DwSparseFn = (x: Tensor, table: TapTable, bias?: Tensor | null, attrs?: DwSparseAttrs) => Promise<Tensor<Float32Array>>;

interface DwSparseConstants {
  channels: number;
  slots: number;
  chunks: number;
  step: number;
  height: number;
  width: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * One thread per output element, output dims [Wo, Ho, N*C]. The thread walks its channel's slots
 * in `chunks` chunks of `step` taps: both bounds are compile-time constants, so the trip count is
 * slots = chunks * step whatever the channel, and the work is a staircase in the kept count.
 * Each slot is (dy, dx, weight); padding slots have weight 0.
 */
function dwSparseBody(this: IKernelFunctionThis<DwSparseConstants>, x: number[][][], taps: number[], bias: number[]): number {
  const plane = this.thread.z;
  const channel = plane - Math.floor(plane / this.constants.channels) * this.constants.channels;
  const first = channel * this.constants.slots;
  const rowOrigin = this.thread.y * this.constants.strideH - this.constants.padTop;
  const columnOrigin = this.thread.x * this.constants.strideW - this.constants.padLeft;
  let sum = 0;
  for (let chunk = 0; chunk < this.constants.chunks; chunk++) {
    for (let lane = 0; lane < this.constants.step; lane++) {
      const slot = (first + chunk * this.constants.step + lane) * 3;
      const row = rowOrigin + taps[slot] * this.constants.dilationH;
      const column = columnOrigin + taps[slot + 1] * this.constants.dilationW;
      if (row >= 0 && row < this.constants.height && column >= 0 && column < this.constants.width) {
        sum += taps[slot + 2] * x[plane][row][column];
      }
    }
  }
  return fusedActivation(sum + bias[channel], this.constants.activation, this.constants.alpha, this.constants.beta);
}

export function checkTapTable(table: TapTable, channels: number, op: string): void {
  if (table === null || typeof table !== 'object' || table.kind !== 'dw-taps') {
    throw new UsageError(`${op} needs a tap table from buildTapTable(entry, weights)`);
  }
  if (table.channels !== channels) {
    throw new ShapeError(`${op}: the tap table of '${table.name}' has ${table.channels} channels but the input has ${channels}`, { node: table.name });
  }
}

export const dwSparseKernel: KernelRegistration<DwSparseFn> = {
  name: 'dwSparse',
  description: 'DEPrune-sparse depth-wise conv over per-channel kept-tap tables (constant trip count: max kept rounded up to the step t)',
  modes: '*',
  create(_gpu, config) {
    return async (x, table, bias, attrs = {}) => {
      checkTapTable(table, x.shape[1], 'dwSparse');
      const [kernelH, kernelW] = table.kernel;
      const g = convGeometry(x.shape, [table.channels, 1, kernelH, kernelW], { ...attrs, group: table.channels });
      const biasData = biasVector(bias, g.outChannels, 'dwSparse');
      if (g.outputShape.some((dim) => dim === 0)) return emptyResult(g.outputShape);
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'taps',
        body: dwSparseBody,
        output: [g.outWidth, g.outHeight, g.batch * g.outChannels],
        constants: {
          channels: g.outChannels,
          slots: table.slots,
          chunks: table.slots / table.step,
          step: table.step,
          ...geometryConstants(g),
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [activationInput(x), nonEmpty(table.taps), biasData],
      });
      return readback(out, g.outputShape);
    };
  },
};
