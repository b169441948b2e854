import { ShapeError } from '@deprune/errors';
import { pool2dOutputShape } from '@deprune/tensor';
import type { IKernelFunctionThis } from 'gpu.js';
import { encodeActivation } from '../activation';
import type { KernelRegistration } from '../registry';
import { activationInput, emptyResult, readback, runStep } from './launch';
import type { Pool2dFn } from '@deprune/kernels';
export type { Pool2dAttrs, Pool2dFn } from '@deprune/kernels';

/** See dw-dense.ts: the fused epilogue (FUSED_ACTIVATION_SOURCE), called by its bare name inside kernel bodies. */
declare function fusedActivation(value: number, code: number, alpha: number, beta: number): number;



interface PoolConstants {
  isMax: number;
  countIncludePad: number;
  kernelH: number;
  kernelW: number;
  height: number;
  width: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  dilationH: number;
  dilationW: number;
  activation: number;
  alpha: number;
  beta: number;
}

/**
 * One thread per output element, dims [Wo, Ho, N*C]; the window loops are constant-bounded.
 * Padding never contributes a value; with count_include_pad an average divides by the window's
 * positions inside the padded extent (ONNX), else by the positions inside the image.
 */
function poolBody(this: IKernelFunctionThis<PoolConstants>, x: number[][][]): number {
  const plane = this.thread.z;
  let best = -3.4e38;
  let sum = 0;
  let inside = 0;
  let padded = 0;
  for (let i = 0; i < this.constants.kernelH; i++) {
    const row = this.thread.y * this.constants.strideH + i * this.constants.dilationH - this.constants.padTop;
    for (let j = 0; j < this.constants.kernelW; j++) {
      const column = this.thread.x * this.constants.strideW + j * this.constants.dilationW - this.constants.padLeft;
      if (row < this.constants.height + this.constants.padBottom && column < this.constants.width + this.constants.padRight) padded += 1;
      if (row >= 0 && row < this.constants.height && column >= 0 && column < this.constants.width) {
        const value = x[plane][row][column];
        best = Math.max(best, value);
        sum += value;
        inside += 1;
      }
    }
  }
  let result = best;
  if (this.constants.isMax === 0) {
    const count = this.constants.countIncludePad === 1 ? padded : inside;
    result = count > 0 ? sum / count : 0;
  }
  return fusedActivation(result, this.constants.activation, this.constants.alpha, this.constants.beta);
}

export const pool2dKernel: KernelRegistration<Pool2dFn> = {
  name: 'pool2d',
  description: 'max / average pooling (strides, asymmetric pads, dilations, ceil mode, count_include_pad; global pooling as a full-size window)',
  modes: '*',
  create(_gpu, config) {
    return async (x, attrs) => {
      if (x.shape.length !== 4) throw new ShapeError(`pool2d input must be NCHW [N, C, H, W], got [${x.shape.join(', ')}]`);
      const outputShape = pool2dOutputShape(x.shape, attrs);
      if (outputShape.some((dim) => dim === 0)) return emptyResult(outputShape);
      const [batch, channels, outHeight, outWidth] = outputShape;
      const [kernelH, kernelW] = attrs.kernel;
      const [strideH, strideW] = attrs.strides ?? [1, 1];
      const [padTop, padLeft, padBottom, padRight] = attrs.pads ?? [0, 0, 0, 0];
      const [dilationH, dilationW] = attrs.dilations ?? [1, 1];
      const act = encodeActivation(attrs.activation);
      const out = await runStep(config, {
        label: attrs.kind,
        body: poolBody,
        output: [outWidth, outHeight, batch * channels],
        constants: {
          isMax: attrs.kind === 'max' ? 1 : 0,
          countIncludePad: attrs.countIncludePad ? 1 : 0,
          kernelH,
          kernelW,
          height: x.shape[2],
          width: x.shape[3],
          strideH,
          strideW,
          padTop,
          padLeft,
          padBottom,
          padRight,
          dilationH,
          dilationW,
          activation: act.code,
          alpha: act.alpha,
          beta: act.beta,
        },
        args: [activationInput(x)],
      });
      return readback(out, outputShape);
    };
  },
};
