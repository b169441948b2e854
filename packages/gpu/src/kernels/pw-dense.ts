import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation, type Activation } from '../activation';
import type { KernelCreateConfig, KernelRegistration } from '../registry';
import { biasVector, emptyResult, float32Data, planeOutput, planesInput, readback, runStep, type KernelArg, type StepOutput } from './launch';
import type { PwDenseFn } from '@deprune/kernels';
import { pointwiseShape } from '@deprune/kernels';

export { pointwiseShape } from '@deprune/kernels';
export type { PwAttrs, PwDenseFn } from '@deprune/kernels';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface PwDenseConstants {
  inChannels: number;
  outChannels: number;
  quads: number;
  rest: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * The GEMM W[Cout x Cin] * X[Cin x HW], one thread per output element: an inner product over all
 * Cin input channels at the thread's pixel, four channels at a time written out (`quads`), then
 * the rest. As in dw-taps.ts: gpu.js cannot unroll loops, and in webasm four independent gathers
 * per iteration run about twice as fast per channel as a one-channel loop; pwSparse walks its
 * kept columns the same way, so the comparison is fair. x is read as planes [H*W, 1, N*Cin]
 * (`planesInput`, or a DW step's output in `dsconv`); the output is one row per plane
 * (`planeOutput`), so webasm's 4-wide SIMD steps seldom meet a row end.
 */
function pwDenseBody(this: IKernelFunctionThis<PwDenseConstants>, x: number[][][], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const image = Math.floor(plane / this.constants.outChannels);
  const row = plane - image * this.constants.outChannels;
  const base = image * this.constants.inChannels;
  const pixel = this.thread.x;
  const first = row * this.constants.inChannels;
  let sum = 0;
  for (let quad = 0; quad < this.constants.quads; quad++) {
    const column = quad * 4;
    sum +=
      weights[first + column] * x[base + column][0][pixel] +
      weights[first + column + 1] * x[base + column + 1][0][pixel] +
      weights[first + column + 2] * x[base + column + 2][0][pixel] +
      weights[first + column + 3] * x[base + column + 3][0][pixel];
  }
  for (let rest = 0; rest < this.constants.rest; rest++) {
    const column = this.constants.quads * 4 + rest;
    sum += weights[first + column] * x[base + column][0][pixel];
  }
  return fusedActivation(sum + bias[row], this.constants.activation, this.constants.alpha, this.constants.beta);
}


/** Sizes of a PW step: x is N planes groups of `inChannels`, each H x W. */
export interface PwStepShape {
  batch: number;
  inChannels: number;
  outChannels: number;
  height: number;
  width: number;
}

/**
 * The dense PW GEMM as one step over x as planes (`planesInput` of a host tensor, or a previous
 * step's output of dims [H*W, 1, N*Cin]); the raw output, dims [H*W, 1, N*Cout].
 */
export function pwDenseStep(config: KernelCreateConfig, x: KernelArg, shape: PwStepShape, weights: Float32Array, bias: Float32Array, activation?: Activation): Promise<StepOutput> {
  const act = encodeActivation(activation);
  return runStep(config, {
    label: 'gemm',
    body: pwDenseBody,
    output: planeOutput(shape.height, shape.width, shape.batch * shape.outChannels),
    constants: {
      inChannels: shape.inChannels,
      outChannels: shape.outChannels,
      quads: Math.floor(shape.inChannels / 4),
      rest: shape.inChannels % 4,
      activation: act.code,
      alpha: act.alpha,
      beta: act.beta,
    },
    args: [x, weights, bias],
  });
}

export const pwDenseKernel: KernelRegistration<PwDenseFn> = {
  name: 'pwDense',
  description: 'dense point-wise (1x1) conv as the GEMM W[Cout x Cin] * X[Cin x HW], fused bias + activation',
  modes: '*',
  create(_gpu, config) {
    return async (x, weight, bias, attrs = {}) => {
      const { outChannels, inChannels } = pointwiseShape(x.shape, weight.shape, 'pwDense');
      const [batch, , height, width] = x.shape;
      const shape = [batch, outChannels, height, width];
      const biasData = biasVector(bias, outChannels, 'pwDense');
      if (shape.some((dim) => dim === 0)) return emptyResult(shape);
      const out = await pwDenseStep(config, planesInput(x), { batch, inChannels, outChannels, height, width }, float32Data(weight), biasData, attrs.activation);
      return readback(out, shape);
    };
  },
};
