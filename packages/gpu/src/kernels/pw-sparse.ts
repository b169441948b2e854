import { ShapeError, UsageError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import type { ColumnTable } from '../tables';
import { activationInput, biasVector, emptyResult, nonEmpty, readback, runStep } from './launch';
import type { PwAttrs } from './pw-dense';

/** See dw-dense.ts: the fused epilogue (FUSED_ACTIVATION_SOURCE), called by its bare name inside kernel bodies. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;

export type PwSparseAttrs = PwAttrs;

/**
 * Column-sparse point-wise conv (PCP): x [N, Cin, H, W] and a column table built from the layer's
 * plan entry and weights (`buildColumnTable`) -> [N, Cout, H, W]. Only kept input rows are read.
 */
export type PwSparseFn = (x: Tensor, table: ColumnTable, bias?: Tensor | null, attrs?: PwSparseAttrs) => Promise<Tensor<Float32Array>>;

interface PwSparseConstants {
  outChannels: number;
  inChannels: number;
  tileRows: number;
  slots: number;
  chunks: number;
  step: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * Thread (x, y, n*Cout + o) gathers the kept input rows of o's row tile: an inner product over
 * `slots` = chunks * step kept columns (constant; padding slots have weight 0 and column 0).
 */
function pwSparseBody(this: IKernelFunctionThis<PwSparseConstants>, x: number[][][], columns: number[], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const image = Math.floor(plane / this.constants.outChannels);
  const row = plane - image * this.constants.outChannels;
  const tile = Math.floor(row / this.constants.tileRows);
  const base = image * this.constants.inChannels;
  let sum = 0;
  for (let chunk = 0; chunk < this.constants.chunks; chunk++) {
    for (let lane = 0; lane < this.constants.step; lane++) {
      const slot = chunk * this.constants.step + lane;
      sum += weights[row * this.constants.slots + slot] * x[base + columns[tile * this.constants.slots + slot]][this.thread.y][this.thread.x];
    }
  }
  return fusedActivation(sum + bias[row], this.constants.activation, this.constants.alpha, this.constants.beta);
}

export const pwSparseKernel: KernelRegistration<PwSparseFn> = {
  name: 'pwSparse',
  description: 'column-sparse point-wise conv (PCP): per row tile, an inner product over its kept input channels only',
  modes: '*',
  create(_gpu, config) {
    return async (x, table, bias, attrs = {}) => {
      if (table === null || typeof table !== 'object' || table.kind !== 'pw-columns') {
        throw new UsageError('pwSparse needs a column table from buildColumnTable(entry, weights)');
      }
      if (x.shape.length !== 4 || x.shape[1] !== table.inChannels) {
        throw new ShapeError(`pwSparse: the column table of '${table.name}' expects input [N, ${table.inChannels}, H, W], got [${x.shape.join(', ')}]`, { node: table.name });
      }
      const [batch, , height, width] = x.shape;
      const shape = [batch, table.outChannels, height, width];
      const biasData = biasVector(bias, table.outChannels, 'pwSparse');
      if (shape.some((dim) => dim === 0)) return emptyResult(shape);
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'gather-gemm',
        body: pwSparseBody,
        output: [width, height, batch * table.outChannels],
        constants: {
          outChannels: table.outChannels,
          inChannels: table.inChannels,
          tileRows: table.tileRows,
          slots: table.slots,
          chunks: table.slots / table.step,
          step: table.step,
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [activationInput(x), nonEmpty(table.columns), nonEmpty(table.weights), biasData],
      });
      return readback(out, shape);
    };
  },
};
