import { resolveConv2d, type Conv2dParams, type ConvSizes, type ResolvedConvParams } from '@deprune/tensor';
import type { Activation } from './activation';

/** Attributes of the conv kernels: ONNX `Conv` semantics as @deprune/tensor reads them (explicit pads only), less the group, which each kernel fixes. */
export interface ConvAttrs extends Omit<Conv2dParams, 'group'> {
  /** Fused epilogue after the bias. Default none. */
  activation?: Activation;
}

/** Everything a conv kernel bakes into its constants, plus the NCHW output shape. */
export interface ConvGeometry extends ConvSizes, Omit<ResolvedConvParams, 'group'> {
  outputShape: [number, number, number, number];
}

/**
 * Checks shapes and attributes with @deprune/tensor's reference rules (so the kernels and the
 * oracle agree on what is valid and on the output size) and returns the resolved numbers.
 */
export function convGeometry(inputShape: readonly number[], weightShape: readonly number[], attrs: ConvAttrs & { group?: number }): ConvGeometry {
  const { group: _group, outputShape, ...geometry } = resolveConv2d(inputShape, weightShape, {
    strides: attrs.strides,
    pads: attrs.pads,
    dilations: attrs.dilations,
    group: attrs.group,
  });
  const [batch, outChannels, outHeight, outWidth] = outputShape;
  return { ...geometry, outputShape: [batch, outChannels, outHeight, outWidth] };
}
