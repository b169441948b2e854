import { ShapeError } from '@deprune/errors';
import { convTranspose2dOutputShape } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { activationInput, biasVector, emptyResult, float32Data, readback, runStep } from './launch';
import type { ConvTranspose2dFn } from '@deprune/kernels';
export type { ConvTranspose2dAttrs, ConvTranspose2dFn } from '@deprune/kernels';

/** See dw-dense.ts: the fused epilogue (FUSED_ACTIVATION_SOURCE), called by its bare name inside kernel bodies. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface ConvTransposeConstants {
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

/**
 * The gather form (one thread per output element, no atomics): output (oy, ox) receives input
 * (iy, ix) through tap (i, j) when oy = iy * stride - pad + i * dilation, i.e. when
 * (oy + pad - i * dilation) is a non-negative multiple of the stride. Loops over C/group x kh x kw.
 * Integer quotients are taken as floor((n + 0.5) / d): GPUs divide through a reciprocal, and
 * floor(6 / 3) can come out as 1 there; half a unit of slack makes the floor exact.
 */
function convTransposeBody(this: IKernelFunctionThis<ConvTransposeConstants>, x: number[][][], weights: number[], bias: number[]): number {
  const plane = this.thread.z;
  const image = Math.floor((plane + 0.5) / this.constants.outChannels);
  const output = plane - image * this.constants.outChannels;
  const group = Math.floor((output + 0.5) / this.constants.outPerGroup);
  const outInGroup = output - group * this.constants.outPerGroup;
  let sum = 0;
  for (let channel = 0; channel < this.constants.inPerGroup; channel++) {
    const input = group * this.constants.inPerGroup + channel;
    for (let i = 0; i < this.constants.kernelH; i++) {
      const rowOffset = this.thread.y + this.constants.padTop - i * this.constants.dilationH;
      const row = Math.floor((rowOffset + 0.5) / this.constants.strideH);
      if (rowOffset >= 0 && row * this.constants.strideH === rowOffset && row < this.constants.height) {
        for (let j = 0; j < this.constants.kernelW; j++) {
          const columnOffset = this.thread.x + this.constants.padLeft - j * this.constants.dilationW;
          const column = Math.floor((columnOffset + 0.5) / this.constants.strideW);
          if (columnOffset >= 0 && column * this.constants.strideW === columnOffset && column < this.constants.width) {
            const weight = weights[((input * this.constants.outPerGroup + outInGroup) * this.constants.kernelH + i) * this.constants.kernelW + j];
            sum += weight * x[image * this.constants.inChannels + input][row][column];
          }
        }
      }
    }
  }
  return fusedActivation(sum + bias[output], this.constants.activation, this.constants.alpha, this.constants.beta);
}

export const convTranspose2dKernel: KernelRegistration<ConvTranspose2dFn> = {
  name: 'convTranspose2d',
  description: 'transposed conv (ONNX ConvTranspose: groups, strides, pads, dilations, output_padding) in gather form, fused bias + activation',
  modes: '*',
  create(_gpu, config) {
    return async (x, weight, bias, attrs = {}) => {
      const group = attrs.group ?? 1;
      if (x.shape.length !== 4 || weight.shape.length !== 4 || weight.shape[0] !== x.shape[1]) {
        throw new ShapeError(`convTranspose2d needs x [N, C, H, W] and weight [C, M/group, kh, kw] with C = x's channels, got x [${x.shape.join(', ')}] and weight [${weight.shape.join(', ')}]`);
      }
      const outputShape = convTranspose2dOutputShape(x.shape, weight.shape, attrs);
      const [batch, outChannels, outHeight, outWidth] = outputShape;
      const biasData = biasVector(bias, outChannels, 'convTranspose2d');
      if (outputShape.some((dim) => dim === 0)) return emptyResult(outputShape);
      const [strideH, strideW] = attrs.strides ?? [1, 1];
      const [padTop, padLeft] = attrs.pads ?? [0, 0, 0, 0];
      const [dilationH, dilationW] = attrs.dilations ?? [1, 1];
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: 'gather',
        body: convTransposeBody,
        output: [outWidth, outHeight, batch * outChannels],
        constants: {
          inChannels: x.shape[1],
          outChannels,
          inPerGroup: x.shape[1] / group,
          outPerGroup: outChannels / group,
          kernelH: weight.shape[2],
          kernelW: weight.shape[3],
          height: x.shape[2],
          width: x.shape[3],
          strideH,
          strideW,
          padTop,
          padLeft,
          dilationH,
          dilationW,
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [activationInput(x), float32Data(weight), biasData],
      });
      return readback(out, outputShape);
    };
  },
};
