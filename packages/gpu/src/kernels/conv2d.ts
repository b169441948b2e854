import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { convGeometry, geometryConstants } from './conv-params';
import { activationInput, biasVector, emptyResult, float32Data, readback, runStep } from './launch';
import type { Conv2dFn } from '@deprune/kernels';
export type { Conv2dAttrs, Conv2dFn } from '@deprune/kernels';

/** The fused epilogue, called by its bare name inside kernel bodies: see `runStep` in launch.ts. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface Conv2dConstants {
  inChannels: number;
  outChannels: number;
  inPerGroup: number;
  outPerGroup: number;
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

/** Direct conv, one thread per output element (dims [Wo, Ho, N*M]); loops over C/group x kh x kw, all constant. */
function conv2dBody(this: IKernelFunctionThis<Conv2dConstants>, x: number[][][], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const image = Math.floor(plane / this.constants.outChannels);
  const output = plane - image * this.constants.outChannels;
  const firstInput = image * this.constants.inChannels + Math.floor(output / this.constants.outPerGroup) * this.constants.inPerGroup;
  let sum = 0;
  for (let channel = 0; channel < this.constants.inPerGroup; channel++) {
    for (let i = 0; i < this.constants.kernelH; i++) {
      const row = this.thread.y * this.constants.strideH + i * this.constants.dilationH - this.constants.padTop;
      if (row >= 0 && row < this.constants.height) {
        for (let j = 0; j < this.constants.kernelW; j++) {
          const column = this.thread.x * this.constants.strideW + j * this.constants.dilationW - this.constants.padLeft;
          if (column >= 0 && column < this.constants.width) {
            const weight = weights[((output * this.constants.inPerGroup + channel) * this.constants.kernelH + i) * this.constants.kernelW + j];
            sum += weight * x[firstInput + channel][row][column];
          }
        }
      }
    }
  }
  return fusedActivation(sum + bias[output], this.constants.activation, this.constants.alpha, this.constants.beta);
}

export const conv2dKernel: KernelRegistration<Conv2dFn> = {
  name: 'conv2d',
  description: 'general direct conv (groups, strides, asymmetric pads, dilations) for stems and grouped convs, fused bias + activation',
  modes: '*',
  create(_gpu, config) {
    return async (x, weight, bias, attrs = {}) => {
      const group = attrs.group ?? 1;
      const g = convGeometry(x.shape, weight.shape, { ...attrs, group });
      const biasData = biasVector(bias, g.outChannels, 'conv2d');
      if (g.outputShape.some((dim) => dim === 0)) return emptyResult(g.outputShape);
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'direct',
        body: conv2dBody,
        output: [g.outWidth, g.outHeight, g.batch * g.outChannels],
        constants: {
          inChannels: g.inChannels,
          outChannels: g.outChannels,
          inPerGroup: g.inChannels / group,
          outPerGroup: g.outChannels / group,
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
