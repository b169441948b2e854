import { ShapeError } from '@deprune/errors';
import type { Tensor } from '@deprune/tensor';
import type { KernelRegistration } from '../registry';
import { convGeometry, type ConvAttrs } from './conv-params';
import { denseTapPairs, runDirectTaps, type DirectTapsSpec } from './dw-taps';
import { biasVector, emptyResult, float32Data } from './launch';
import type { DwDenseFn } from '@deprune/kernels';
export type { DwDenseAttrs, DwDenseFn } from '@deprune/kernels';



/**
 * The direct kernel's spec for a dense DW weight [C, 1, kh, kw]: every tap as a slot. Checks the
 * weight against x; `op` names the caller in errors (`dwDense`, `dsconv DW`).
 */
export function denseTapsSpec(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, attrs: ConvAttrs, op: string): DirectTapsSpec {
  if (weight.shape.length !== 4 || weight.shape[1] !== 1 || weight.shape[0] !== x.shape[1]) {
    throw new ShapeError(`${op} weight must be [C, 1, kh, kw] with C = ${x.shape[1]} (input [${x.shape.join(', ')}]), got [${weight.shape.join(', ')}]`);
  }
  const g = convGeometry(x.shape, weight.shape, { ...attrs, group: x.shape[1] });
  const weights = float32Data(weight);
  return {
    x,
    geometry: g,
    pairs: (paddedWidth) => denseTapPairs(weights, g, paddedWidth),
    slots: g.kernelH * g.kernelW,
    bias: biasVector(bias, g.outChannels, op),
    activation: attrs.activation,
    op,
  };
}

export const dwDenseKernel: KernelRegistration<DwDenseFn> = {
  name: 'dwDense',
  description: 'dense depth-wise conv (direct), any kh x kw, strides, asymmetric pads, dilations, fused bias + activation',
  modes: '*',
  create(_gpu, config) {
    return async (x, weight, bias, attrs = {}) => {
      // The same direct kernel as dwSparse, with every tap of the kernel as a slot (dw-taps.ts).
      const spec = denseTapsSpec(x, weight, bias, attrs, 'dwDense');
      if (spec.geometry.outputShape.some((dim) => dim === 0)) return emptyResult(spec.geometry.outputShape);
      return runDirectTaps(config, spec);
    };
  },
};
