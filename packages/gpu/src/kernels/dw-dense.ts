import { ShapeError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { KernelRegistration } from '../registry';
import { convGeometry, type ConvAttrs } from './conv-params';
import { denseTapPairs, runDirectTaps } from './dw-taps';
import { biasVector, emptyResult, float32Data } from './launch';

export type DwDenseAttrs = ConvAttrs;

/** Dense depth-wise conv: x [N, C, H, W], weight [C, 1, kh, kw], bias [C] or null -> [N, C, Ho, Wo]. */
export type DwDenseFn = (x: Tensor, weight: Tensor, bias?: Tensor | null, attrs?: DwDenseAttrs) => Promise<Tensor<Float32Array>>;

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
      const weights = float32Data(weight);
      // The same direct kernel as dwSparse, with every tap of the kernel as a slot (dw-taps.ts).
      return runDirectTaps(config, {
        x,
        geometry: g,
        pairs: (paddedWidth) => denseTapPairs(weights, g, paddedWidth),
        slots: g.kernelH * g.kernelW,
        bias: biasData,
        activation: attrs.activation,
        op: 'dwDense',
      });
    };
  },
};
