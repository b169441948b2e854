import { ShapeError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { convGeometry, geometryConstants, type ConvAttrs } from './conv-params';
import { activationInput, biasVector, emptyResult, float32Data, readback, runStep } from './launch';

/**
 * The fused epilogue inside kernel bodies. gpu.js transpiles a body from its source text, so the
 * body calls the helper by its bare name (an import would be rewritten by bundlers and test
 * transforms); launch.ts hands gpu.js its source, FUSED_ACTIVATION_SOURCE, under this name.
 */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;

export type DwDenseAttrs = ConvAttrs;

/** Dense depth-wise conv: x [N, C, H, W], weight [C, 1, kh, kw], bias [C] or null -> [N, C, Ho, Wo]. */
export type DwDenseFn = (x: Tensor, weight: Tensor, bias?: Tensor | null, attrs?: DwDenseAttrs) => Promise<Tensor<Float32Array>>;

interface DwDenseConstants {
  channels: number;
  kernelH: number;
  kernelW: number;
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
 * One thread per output element, output dims [Wo, Ho, N*C]. The tap loops have constant bounds
 * (kh, kw) so GLSL can unroll them; the bounds check replaces padding (no padded copy of x).
 */
function dwDenseBody(this: IKernelFunctionThis<DwDenseConstants>, x: number[][][], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const channel = plane - Math.floor(plane / this.constants.channels) * this.constants.channels;
  let sum = 0;
  for (let i = 0; i < this.constants.kernelH; i++) {
    const row = this.thread.y * this.constants.strideH + i * this.constants.dilationH - this.constants.padTop;
    if (row >= 0 && row < this.constants.height) {
      for (let j = 0; j < this.constants.kernelW; j++) {
        const column = this.thread.x * this.constants.strideW + j * this.constants.dilationW - this.constants.padLeft;
        if (column >= 0 && column < this.constants.width) {
          sum += weights[(channel * this.constants.kernelH + i) * this.constants.kernelW + j] * x[plane][row][column];
        }
      }
    }
  }
  return fusedActivation(sum + bias[channel], this.constants.activation, this.constants.alpha, this.constants.beta);
}

export const dwDenseKernel: KernelRegistration<DwDenseFn> = {
  name: 'dwDense',
  description: 'dense depth-wise conv (direct), any kh x kw, strides, asymmetric pads, dilations, fused bias + activation',
  modes: '*',
  create(_gpu, config) {
    return async (x, weight, bias, attrs = {}) => {
      if (weight.shape.length !== 4 || weight.shape[1] !== 1 || weight.shape[0] !== x.shape[1]) {
        throw new ShapeError(`dwDense weight must be [C, 1, kh, kw] with C = ${x.shape[1]} (input [${x.shape.join(', ')}]), got [${weight.shape.join(', ')}]`);
      }
      const g = convGeometry(x.shape, weight.shape, { ...attrs, group: x.shape[1] });
      const biasData = biasVector(bias, g.outChannels, 'dwDense');
      if (g.outputShape.some((dim) => dim === 0)) return emptyResult(g.outputShape);
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'direct',
        body: dwDenseBody,
        output: [g.outWidth, g.outHeight, g.batch * g.outChannels],
        constants: {
          channels: g.outChannels,
          kernelH: g.kernelH,
          kernelW: g.kernelW,
          ...geometryConstants(g),
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [activationInput(x), float32Data(weight), biasData],
      });
      return readback(out, g.outputShape);
    };
  },
};
