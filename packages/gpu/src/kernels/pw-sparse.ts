import { ShapeError } from '@deprune/errors';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation, type Activation } from '../activation';
import type { KernelCreateConfig, KernelRegistration } from '../registry';
import type { ColumnTable } from '@deprune/kernels';
import { biasVector, emptyResult, nonEmpty, planeOutput, planesInput, readback, runStep, type KernelArg, type StepOutput } from './launch';
import type { PwStepShape } from './pw-dense';
import type { PwSparseFn } from '@deprune/kernels';
import { checkColumnTable } from '@deprune/kernels';

export { checkColumnTable } from '@deprune/kernels';
export type { PwSparseAttrs, PwSparseFn } from '@deprune/kernels';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



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
function pwSparseBody(this: IKernelFunctionThis<PwSparseConstants>, x: number[][][], columns: number[], weights: number[], bias: number[]): number {
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
      weights[weightFirst + slot] * x[base + columns[columnFirst + slot]][0][pixel] +
      weights[weightFirst + slot + 1] * x[base + columns[columnFirst + slot + 1]][0][pixel] +
      weights[weightFirst + slot + 2] * x[base + columns[columnFirst + slot + 2]][0][pixel] +
      weights[weightFirst + slot + 3] * x[base + columns[columnFirst + slot + 3]][0][pixel];
  }
  for (let rest = 0; rest < this.constants.rest; rest++) {
    const slot = this.constants.quads * 4 + rest;
    sum += weights[weightFirst + slot] * x[base + columns[columnFirst + slot]][0][pixel];
  }
  return fusedActivation(sum + bias[row], this.constants.activation, this.constants.alpha, this.constants.beta);
}


/**
 * The column-sparse PW as one step over x as planes (`planesInput` of a host tensor, or a
 * previous step's output of dims [H*W, 1, N*Cin]); the raw output, dims [H*W, 1, N*Cout].
 */
export function pwSparseStep(config: KernelCreateConfig, x: KernelArg, shape: Omit<PwStepShape, 'inChannels' | 'outChannels'>, table: ColumnTable, bias: Float32Array, activation?: Activation): Promise<StepOutput> {
  const act = encodeActivation(activation);
  return runStep(config, {
    label: 'gather-gemm',
    body: pwSparseBody,
    output: planeOutput(shape.height, shape.width, shape.batch * table.outChannels),
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
    args: [x, nonEmpty(table.columns), nonEmpty(table.weights), bias],
  });
}

export const pwSparseKernel: KernelRegistration<PwSparseFn> = {
  name: 'pwSparse',
  description: 'column-sparse point-wise conv (PCP): per row tile, an inner product over its kept input channels only',
  modes: '*',
  create(_gpu, config) {
    return async (x, table, bias, attrs = {}) => {
      if (x.shape.length !== 4) throw new ShapeError(`pwSparse input must be [N, C, H, W], got [${x.shape.join(', ')}]`);
      checkColumnTable(table, x.shape[1], 'pwSparse');
      const [batch, , height, width] = x.shape;
      const shape = [batch, table.outChannels, height, width];
      const biasData = biasVector(bias, table.outChannels, 'pwSparse');
      if (shape.some((dim) => dim === 0)) return emptyResult(shape);
      const out = await pwSparseStep(config, planesInput(x), { batch, height, width }, table, biasData, attrs.activation);
      return readback(out, shape);
    };
  },
};
