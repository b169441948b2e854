import { ShapeError, UsageError } from '@deprune/errors';
import { Input, type IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import type { DiagonalTable } from '@deprune/kernels';
import { convGeometry, geometryConstants } from './conv-params';
import { activationInput, biasVector, emptyResult, nonEmpty, readback, runStep, type KernelArg } from './launch';
import type { DwDiagonalFn } from '@deprune/kernels';
export type { DwDiagonalAttrs, DwDiagonalFn } from '@deprune/kernels';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface GatherConstants {
  channels: number;
  groups: number;
  slots: number;
  outWidth: number;
  height: number;
  width: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
}

/**
 * Step 1, the compacted im2col: output dims [Ho*Wo, slots, N*groups], i.e. for each image and
 * group an (n_g padded) x (Ho*Wo) matrix whose row j is the input pixel that kept column j (a tap
 * of one channel) multiplies at every output position. Padding rows are zero.
 */
function gatherBody(this: IKernelFunctionThis<GatherConstants>, x: number[][][], columns: number[]): number {
  const matrix = this.thread.z;
  const image = Math.floor(matrix / this.constants.groups);
  const group = matrix - image * this.constants.groups;
  const at = (group * this.constants.slots + this.thread.y) * 4;
  const outRow = Math.floor(this.thread.x / this.constants.outWidth);
  const outColumn = this.thread.x - outRow * this.constants.outWidth;
  const row = outRow * this.constants.strideH + columns[at + 1] * this.constants.dilationH - this.constants.padTop;
  const column = outColumn * this.constants.strideW + columns[at + 2] * this.constants.dilationW - this.constants.padLeft;
  let value = 0;
  if (columns[at + 3] > 0 && row >= 0 && row < this.constants.height && column >= 0 && column < this.constants.width) {
    value = x[image * this.constants.channels + columns[at]][row][column];
  }
  return value;
}

interface GemmConstants {
  channels: number;
  groupSize: number;
  groups: number;
  slots: number;
  chunks: number;
  step: number;
  outWidth: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * Step 2, the sub-GEMMs: output dims [Wo, Ho, N*C]; thread (x, y, n*C + c) is row c - g*G of
 * Y_g at position y*Wo + x, an inner product over all `slots` columns of the group, zeros of the
 * diagonal structure included (that waste is what DR costs next to the direct kernel).
 */
function diagonalGemmBody(this: IKernelFunctionThis<GemmConstants>, columns: number[][][], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const image = Math.floor(plane / this.constants.channels);
  const channel = plane - image * this.constants.channels;
  const matrix = image * this.constants.groups + Math.floor(channel / this.constants.groupSize);
  const position = this.thread.y * this.constants.outWidth + this.thread.x;
  let sum = 0;
  for (let chunk = 0; chunk < this.constants.chunks; chunk++) {
    for (let lane = 0; lane < this.constants.step; lane++) {
      const column = chunk * this.constants.step + lane;
      sum += weights[channel * this.constants.slots + column] * columns[matrix][column][position];
    }
  }
  return fusedActivation(sum + bias[channel], this.constants.activation, this.constants.alpha, this.constants.beta);
}

function checkDiagonalTable(table: DiagonalTable, channels: number): void {
  if (table === null || typeof table !== 'object' || table.kind !== 'dw-diagonal') {
    throw new UsageError('dwDiagonal needs a DR table from buildDiagonalTable(keptTaps, weights)');
  }
  if (table.channels !== channels) {
    throw new ShapeError(`dwDiagonal: the DR table of '${table.name}' has ${table.channels} channels but the input has ${channels}`, { node: table.name });
  }
}

export const dwDiagonalKernel: KernelRegistration<DwDiagonalFn> = {
  name: 'dwDiagonal',
  description: 'depth-wise conv as DR sub-GEMMs over compacted kept columns (gather + GEMM), the paper compute model',
  modes: '*',
  create(_gpu, config) {
    return async (x, table, bias, attrs = {}) => {
      checkDiagonalTable(table, x.shape[1]);
      const [kernelH, kernelW] = table.kernel;
      const g = convGeometry(x.shape, [table.channels, 1, kernelH, kernelW], { ...attrs, group: table.channels });
      const biasData = biasVector(bias, g.outChannels, 'dwDiagonal');
      if (g.outputShape.some((dim) => dim === 0)) return emptyResult(g.outputShape);
      const positions = g.outHeight * g.outWidth;
      let columns: KernelArg = new Input(new Float32Array(1) as unknown as number[], [1, 1, 1]);
      if (table.slots > 0) {
        columns = await runStep(config, {
          label: 'gather',
          body: gatherBody,
          output: [positions, table.slots, g.batch * table.groups],
          constants: { channels: g.outChannels, groups: table.groups, slots: table.slots, outWidth: g.outWidth, ...geometryConstants(g) },
          args: [activationInput(x), nonEmpty(table.columns)],
          pipeline: true,
        });
      }
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'gemm',
        body: diagonalGemmBody,
        output: [g.outWidth, g.outHeight, g.batch * g.outChannels],
        constants: {
          channels: g.outChannels,
          groupSize: table.groupSize,
          groups: table.groups,
          slots: table.slots,
          chunks: table.slots / table.step,
          step: table.step,
          outWidth: g.outWidth,
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [columns, nonEmpty(table.weights), biasData],
      });
      return readback(out, g.outputShape);
    };
  },
};
