import { ShapeError, UsageError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import type { ColumnTable } from '../tables';
import { biasVector, emptyResult, nonEmpty, planeInput, planeOutput, readback, runStep } from './launch';
import type { PwAttrs } from './pw-dense';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
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
  quads: number;
  rest: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * Thread (x, y, n*Cout + o) gathers the kept input rows of o's row tile: an inner product over
 * the tile's `slots` kept columns (constant: a multiple of the step t; padding slots have weight
 * 0 and column 0), four slots at a time written out, then the rest (0 when t is a multiple of 4):
 * the same loop shape as pwDense (see there), so only the trip count and the column lookup differ.
 */
function pwSparseBody(this: IKernelFunctionThis<PwSparseConstants>, x: number[][], columns: number[], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const image = Math.floor(plane / this.constants.outChannels);
  const row = plane - image * this.constants.outChannels;
  const tile = Math.floor(row / this.constants.tileRows);
  const base = image * this.constants.inChannels;
  const pixel = this.thread.x;
  const weightFirst = row * this.constants.slots;
  const columnFirst = tile * this.constants.slots;
  let sum = 0;
  for (let quad = 0; quad < this.constants.quads; quad++) {
    const slot = quad * 4;
    sum +=
      weights[weightFirst + slot] * x[base + columns[columnFirst + slot]][pixel] +
      weights[weightFirst + slot + 1] * x[base + columns[columnFirst + slot + 1]][pixel] +
      weights[weightFirst + slot + 2] * x[base + columns[columnFirst + slot + 2]][pixel] +
      weights[weightFirst + slot + 3] * x[base + columns[columnFirst + slot + 3]][pixel];
  }
  for (let rest = 0; rest < this.constants.rest; rest++) {
    const slot = this.constants.quads * 4 + rest;
    sum += weights[weightFirst + slot] * x[base + columns[columnFirst + slot]][pixel];
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
        output: planeOutput(height, width, shape[0] * shape[1]),
        constants: {
          outChannels: table.outChannels,
          inChannels: table.inChannels,
          tileRows: table.tileRows,
          slots: table.slots,
          quads: Math.floor(table.slots / 4),
          rest: table.slots % 4,
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [planeInput(x), nonEmpty(table.columns), nonEmpty(table.weights), biasData],
      });
      return readback(out, shape);
    };
  },
};
